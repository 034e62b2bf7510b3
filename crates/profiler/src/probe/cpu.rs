//! CPU profile of the measured window with pprof-rs: a flamegraph, a pprof protobuf and the
//! functions where the time goes.
//!
//! pprof samples every thread on `SIGPROF` (process CPU time). Its signal handler walks the stack
//! with the system unwinder, which is not async-signal-safe when the interrupted code is itself
//! inside libc, libgcc or the vDSO; samples whose innermost frame lies there are dropped
//! (pprof's blocklist). That was robust here (no crash or hang over the project's test and
//! benchmark runs) and needs no special build flags; the cost is that time spent inside libc
//! (memcpy, futex) is under-counted in the profile. Frame-pointer unwinding would avoid that but
//! needs every crate rebuilt with `-C force-frame-pointers=yes`, which an application's own
//! `RUSTFLAGS` silently overrides.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use pprof::protos::Message;

/// Libraries whose frames are not unwound from inside the signal handler.
const BLOCKLIST: [&str; 4] = ["libc", "libgcc", "pthread", "vdso"];

/// The loops that call the pipeline's stages, the feeder's source and the subscribers. In a
/// sample that passes through one, only the functions it called (innermost) enter the inclusive
/// ranking: everything rootward of it is the runtime's and perfgate's plumbing.
const BOUNDARIES: &[&str] = &[
    "perfgate_profiler::pipeline::worker::",
    "perfgate_profiler::pipeline::inline::",
    "<perfgate_profiler::pipeline::inline::",
    "perfgate_profiler::driver::",
];

/// In samples that pass through no boundary (runtime internals, probes), frames with these
/// prefixes are plumbing: they sit under every sample, so they are left out of the inclusive
/// ranking (they still count in every total).
const PLUMBING_PREFIXES: &[&str] = &[
    "std::",
    "<std::",
    "core::panic::",
    "<core::panic::",
    "core::ops::function::",
    "core::future::",
    "core::pin::",
    "<core::pin::",
    "<core::future::",
    "alloc::boxed::",
    "<alloc::boxed::",
    "tokio::runtime::",
    "<tokio::runtime::",
    "tokio::task::",
    "<tokio::task::",
    "tokio::loom::",
    "perfgate_profiler::pipeline::worker::",
    "perfgate_profiler::driver::",
    "<perfgate_profiler::probe::lag::Instrumented",
    "__rust_",
];

/// Thread entry points and unresolved frames, matched whole.
const PLUMBING_NAMES: &[&str] = &[
    "main",
    "_start",
    "start_thread",
    "clone",
    "clone3",
    "__clone",
    "__clone3",
    "__libc_start_main",
    "__libc_start_call_main",
    "Unknown",
];

fn is_boundary(function: &str) -> bool {
    BOUNDARIES.iter().any(|prefix| function.starts_with(prefix))
}

fn is_plumbing(function: &str) -> bool {
    PLUMBING_NAMES.contains(&function)
        || PLUMBING_PREFIXES
            .iter()
            .any(|prefix| function.starts_with(prefix))
}

/// How many functions each ranking keeps.
pub(crate) const TOP_FUNCTIONS: usize = 20;

/// One function's share of the samples.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FunctionShare {
    pub(crate) function: String,
    pub(crate) self_samples: u64,
    pub(crate) inclusive_samples: u64,
}

/// What the CPU probe produced.
#[derive(Debug, Clone)]
pub(crate) struct CpuOutcome {
    pub(crate) sample_rate_hz: i32,
    pub(crate) samples: u64,
    pub(crate) window: Duration,
    pub(crate) user: Duration,
    pub(crate) system: Duration,
    /// By inclusive samples, plumbing left out.
    pub(crate) top_inclusive: Vec<FunctionShare>,
    /// By self samples.
    pub(crate) top_self: Vec<FunctionShare>,
    /// Samples per thread name.
    pub(crate) threads: Vec<(String, u64)>,
    pub(crate) flamegraph_svg: Option<Vec<u8>>,
    pub(crate) pprof: Option<Vec<u8>>,
}

/// A running profile.
pub(crate) struct CpuProbe {
    hz: i32,
    title: String,
    guard: Option<pprof::ProfilerGuard<'static>>,
    started: Option<(Instant, Duration, Duration)>,
    /// Raw samples of the window with its wall, user and system time, awaiting symbolization.
    unresolved: Option<(pprof::UnresolvedReport, Duration, Duration, Duration)>,
    warnings: Vec<String>,
}

impl std::fmt::Debug for CpuProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuProbe")
            .field("hz", &self.hz)
            .finish_non_exhaustive()
    }
}

/// User and system CPU time of the whole process.
pub(crate) fn process_cpu_times() -> (Duration, Duration) {
    #[cfg(unix)]
    {
        // SAFETY: getrusage writes into the zeroed struct we own.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            let duration = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
            return (duration(usage.ru_utime), duration(usage.ru_stime));
        }
    }
    (Duration::ZERO, Duration::ZERO)
}

/// Memory the CPU profiler keeps for the rest of the process once it has run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct ProfilerFootprint {
    /// Live heap bytes it holds (sample table, symbol cache).
    pub(crate) heap_bytes: i64,
    /// Resident memory it added.
    pub(crate) rss_bytes: i64,
}

/// Starts and stops the profiler once per process, so that its one-time allocations (a sample
/// table of about 85 MiB and the binary's symbol tables) happen before any measurement, and
/// measures them. The heap probe leaves this footprint out of the pipeline's heap figures. Later
/// calls return the first measurement: the tables stay for the life of the process (each stop
/// replaces the sample table with a new one of the same size).
pub(crate) fn prepare(hz: i32) -> ProfilerFootprint {
    static FOOTPRINT: std::sync::OnceLock<ProfilerFootprint> = std::sync::OnceLock::new();
    *FOOTPRINT.get_or_init(|| measure_first_start(hz))
}

fn measure_first_start(hz: i32) -> ProfilerFootprint {
    let heap_before = crate::alloc::heap_counters().map(|c| c.live_bytes);
    let rss_before = super::process::read().map(|r| r.rss_bytes as i64);
    if let Ok(guard) = pprof::ProfilerGuardBuilder::default()
        .frequency(hz)
        .blocklist(&BLOCKLIST)
        .build()
    {
        drop(guard);
    }
    let heap_after = crate::alloc::heap_counters().map(|c| c.live_bytes);
    let rss_after = super::process::read().map(|r| r.rss_bytes as i64);
    ProfilerFootprint {
        heap_bytes: heap_after
            .zip(heap_before)
            .map_or(0, |(after, before)| after - before),
        rss_bytes: rss_after
            .zip(rss_before)
            .map_or(0, |(after, before)| after - before),
    }
}

impl CpuProbe {
    pub(crate) fn new(hz: i32, title: String) -> Self {
        Self {
            hz,
            title,
            guard: None,
            started: None,
            unresolved: None,
            warnings: Vec::new(),
        }
    }

    pub(crate) fn start(&mut self) {
        match pprof::ProfilerGuardBuilder::default()
            .frequency(self.hz)
            .blocklist(&BLOCKLIST)
            .build()
        {
            Ok(guard) => {
                let (user, system) = process_cpu_times();
                self.started = Some((Instant::now(), user, system));
                self.guard = Some(guard);
            }
            Err(error) => self
                .warnings
                .push(format!("cpu: the profiler could not start: {error}")),
        }
    }

    /// Stops sampling and keeps the raw samples. Symbolizing them is left to [`CpuProbe::finish`],
    /// after the phase: done here it would compete with the pipeline's last measured messages.
    pub(crate) fn end(&mut self) {
        let (Some(guard), Some((started, user0, system0))) = (self.guard.take(), self.started) else {
            return;
        };
        let unresolved = guard.report().build_unresolved();
        drop(guard);
        let (user1, system1) = process_cpu_times();
        match unresolved {
            Ok(unresolved) => {
                self.unresolved = Some((
                    unresolved,
                    started.elapsed(),
                    user1.saturating_sub(user0),
                    system1.saturating_sub(system0),
                ))
            }
            Err(error) => self
                .warnings
                .push(format!("cpu: reading the samples failed: {error}")),
        }
    }

    /// Symbolizes the samples and renders the flamegraph and pprof profile.
    pub(crate) fn finish(mut self) -> (Option<CpuOutcome>, Vec<String>) {
        if self.guard.is_some() {
            self.end();
        }
        let Some((unresolved, window, user, system)) = self.unresolved.take() else {
            return (None, self.warnings);
        };
        let mut data: HashMap<pprof::Frames, isize> = HashMap::new();
        for (frames, count) in unresolved.data {
            let mut frames = pprof::Frames::from(frames);
            strip_profiler_frames(&mut frames);
            // Stacks that differed only in the profiler's own frames become one.
            *data.entry(frames).or_default() += count;
        }
        let report = pprof::Report {
            data,
            timing: unresolved.timing,
        };
        let (samples, top_inclusive, top_self, threads) = rank(&report);
        let mut svg = Vec::new();
        let mut options = pprof::flamegraph::Options::default();
        options.title = self.title.clone();
        options.count_name = "samples".to_owned();
        let flamegraph_svg = match report.flamegraph_with_options(&mut svg, &mut options) {
            Ok(()) if !svg.is_empty() => Some(svg),
            Ok(()) => None,
            Err(error) => {
                self.warnings
                    .push(format!("cpu: writing the flamegraph failed: {error}"));
                None
            }
        };
        let pprof = match report.pprof() {
            Ok(profile) => Some(profile.encode_to_vec()),
            Err(error) => {
                self.warnings
                    .push(format!("cpu: encoding the pprof profile failed: {error}"));
                None
            }
        };
        let outcome = CpuOutcome {
            sample_rate_hz: self.hz,
            samples,
            window,
            user,
            system,
            top_inclusive,
            top_self,
            threads,
            flamegraph_svg,
            pprof,
        };
        (Some(outcome), self.warnings)
    }
}

/// Removes the profiler's own frames from the leaf end of a stack. pprof drops its signal handler
/// frame, but without inlining (debug builds) the unwinder's frames inside it remain and would
/// pose as the hottest code.
fn strip_profiler_frames(frames: &mut pprof::Frames) {
    let own = frames
        .frames
        .iter()
        .take_while(|frame| frame.iter().any(|symbol| is_profiler_symbol(&symbol.name())))
        .count();
    frames.frames.drain(..own);
}

fn is_profiler_symbol(name: &str) -> bool {
    ["pprof::", "<pprof::", "backtrace::", "<backtrace::"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
        || name.contains("perf_signal_handler")
}

/// The function a symbol belongs to, without the compiler's hash suffix.
pub(crate) fn function_name(symbol: &pprof::Symbol) -> String {
    strip_hash(&symbol.name()).to_owned()
}

/// `path::to::fn::h0123456789abcdef` → `path::to::fn`.
fn strip_hash(name: &str) -> &str {
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => head,
        _ => name,
    }
}

type Ranking = (u64, Vec<FunctionShare>, Vec<FunctionShare>, Vec<(String, u64)>);

/// Counts self samples (innermost function, inlined frames included) and inclusive samples (any
/// function on the stack, once per sample).
fn rank(report: &pprof::Report) -> Ranking {
    let mut shares: HashMap<String, (u64, u64)> = HashMap::new();
    let mut threads: HashMap<String, u64> = HashMap::new();
    let mut total = 0u64;
    let mut on_stack: Vec<String> = Vec::new();
    for (frames, &count) in &report.data {
        let count = count.max(0) as u64;
        total += count;
        *threads.entry(frames.thread_name_or_id()).or_default() += count;
        // Innermost first: frames are leaf-first, each frame's inline chain innermost-first.
        let names: Vec<String> = frames.frames.iter().flatten().map(function_name).collect();
        if let Some(leaf) = names.first() {
            shares.entry(leaf.clone()).or_default().0 += count;
        }
        let boundary = names.iter().position(|name| is_boundary(name));
        on_stack.clear();
        for (depth, name) in names.into_iter().enumerate() {
            let inside = match boundary {
                Some(boundary) => depth < boundary,
                None => !is_plumbing(&name),
            };
            if inside && !on_stack.contains(&name) {
                on_stack.push(name);
            }
        }
        for name in on_stack.drain(..) {
            shares.entry(name).or_default().1 += count;
        }
    }
    let all: Vec<FunctionShare> = shares
        .into_iter()
        .map(|(function, (self_samples, inclusive_samples))| FunctionShare {
            function,
            self_samples,
            inclusive_samples,
        })
        .collect();
    let mut by_inclusive: Vec<FunctionShare> =
        all.iter().filter(|f| f.inclusive_samples > 0).cloned().collect();
    by_inclusive.sort_by(|a, b| {
        b.inclusive_samples
            .cmp(&a.inclusive_samples)
            .then(a.function.cmp(&b.function))
    });
    by_inclusive.truncate(TOP_FUNCTIONS);
    let mut by_self: Vec<FunctionShare> = all.into_iter().filter(|f| f.self_samples > 0).collect();
    by_self.sort_by(|a, b| {
        b.self_samples
            .cmp(&a.self_samples)
            .then(a.function.cmp(&b.function))
    });
    by_self.truncate(TOP_FUNCTIONS);
    let mut threads: Vec<(String, u64)> = threads.into_iter().collect();
    threads.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    (total, by_inclusive, by_self, threads)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_suffixes_are_stripped_and_other_names_kept() {
        assert_eq!(strip_hash("a::b::c::h0123456789abcdef"), "a::b::c");
        assert_eq!(strip_hash("a::b::hello"), "a::b::hello");
        assert_eq!(strip_hash("a::h0123"), "a::h0123");
    }

    #[test]
    fn plumbing_is_recognised() {
        assert!(is_plumbing(
            "tokio::runtime::scheduler::multi_thread::worker::run"
        ));
        assert!(is_plumbing("std::thread::Builder::spawn_unchecked_::{{closure}}"));
        assert!(is_plumbing(
            "perfgate_profiler::pipeline::worker::run_worker::{{closure}}"
        ));
        assert!(!is_plumbing("perfgate_profiler::market::decode::Decode::decode"));
        assert!(!is_plumbing("serde_json::de::from_slice"));
        assert!(!is_plumbing("tokio::sync::mpsc::chan::Tx<T,S>::send"));
        assert!(is_plumbing("main"));
        assert!(is_boundary(
            "perfgate_profiler::pipeline::worker::run_worker::{{closure}}"
        ));
        assert!(!is_boundary("perfgate_profiler::market::decode::Decode::decode"));
        assert!(!is_plumbing("maintenance::run"));
    }
}

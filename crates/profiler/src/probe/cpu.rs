//! CPU profile of the measured windows with pprof-rs: a flamegraph, a pprof protobuf and the
//! functions where the time goes, each in CPU seconds that add up to the measured CPU time.
//!
//! pprof samples every thread on `SIGPROF` from `ITIMER_PROF` (process CPU time). The kernel
//! checks that timer on its scheduler tick and sends at most one signal per tick and busy core,
//! so it delivers at most `CONFIG_HZ` samples per CPU-second: measured on a 2-core VM with
//! `CONFIG_HZ=250`, 99 Hz gave 99–101 signals per CPU-second, 250 Hz 233–256, 500 and 1000 Hz
//! both 248–265 (the tick's cap). Beyond the tick a sample stands for more CPU than its period,
//! so the default rate is 250 Hz, the highest that common kernels (`CONFIG_HZ` 250 or 1000)
//! deliver in full; `coverage` (sampled CPU / measured CPU) says when a kernel did not.
//!
//! pprof's signal handler unwinds with the system unwinder, which is not async-signal-safe when
//! the interrupted code is itself in libc, libgcc or the vDSO (the unwinder's own locks and
//! hand-written assembly without unwind tables): pprof drops samples whose innermost frame lies
//! there (its blocklist). Dropping them silently under-counted libc and the kernel and, once
//! shares were scaled to the measured CPU, inflated every other function (a function that burnt
//! 1.006 CPU-s was reported at 1.16–1.31 s). Unwinding from there is not an option, and
//! pprof's `frame-pointer` feature does not help: it still drops a blocklisted innermost frame
//! before tracing, its tracer starts from the interrupted function's return address (the running
//! function never appears), and it needs every crate built with frame pointers, which an
//! application's own `RUSTFLAGS` silently undo. So a small handler of our own runs in front of
//! pprof's: it counts every `SIGPROF`, and for a sample pprof would drop it records which
//! library the thread was in, and whether it was returning from a system call (the instruction
//! before the interrupted one is `syscall` / `svc`, which is how time in the kernel reaches a
//! `SIGPROF`: the signal is delivered on the way back to user space). Those samples are kept as
//! caller-less `[kernel]`, `[libc]`, `[vdso]` and `[libgcc]` frames of their thread, so each
//! sample stands for one sampling period of CPU and per-function CPU seconds are samples × period.
//! Signals that came while pprof was still busy with another sample are counted as lost.
//!
//! The throughput window alone is too short for a profile to rank functions (the default bench's
//! saturation window is about 2.5 CPU-s: about 600 samples at the tick's cap), so every measured
//! window is profiled and the profiles are merged (see `merge`).

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use pprof::protos::Message;

/// Libraries whose frames are not unwound from inside the signal handler.
const BLOCKLIST: [&str; 4] = ["libc", "libgcc", "pthread", "vdso"];

/// The loops that call the pipeline's stages, the feeder's source and the subscribers. In a
/// sample that passes through one, only the functions it called (innermost) enter the inclusive
/// ranking: everything rootward of it is the runtime's and perfgate's plumbing.
const BOUNDARIES: &[&str] = &[
    "perfgate_profiler::pipeline::worker::",
    // The worker's catch of a panicking stage wraps every call to `process` (a stage's own
    // `catch_unwind` would move the boundary into it, leaving its callers out: rare, and they
    // would be the stage's own wrapping).
    "<futures_util::future::future::catch_unwind::CatchUnwind",
    "<core::panic::unwind_safe::AssertUnwindSafe",
    "std::panicking::catch_unwind",
    "std::panic::catch_unwind",
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

/// Where a sample that pprof does not unwind was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outside {
    /// Returning from a system call: the CPU time was the kernel's, on the thread's behalf.
    Kernel,
    Libc,
    Vdso,
    Libgcc,
}

impl Outside {
    const ALL: [Outside; 4] = [Outside::Kernel, Outside::Libc, Outside::Vdso, Outside::Libgcc];

    /// The frame the samples are kept as.
    fn frame(self) -> &'static str {
        match self {
            Outside::Kernel => "[kernel]",
            Outside::Libc => "[libc]",
            Outside::Vdso => "[vdso]",
            Outside::Libgcc => "[libgcc]",
        }
    }

    /// Which blocklisted library a shared object's name is, as pprof matches it (substring).
    fn of_library(name: &str) -> Option<Outside> {
        let blocked = BLOCKLIST.iter().find(|blocked| name.contains(**blocked))?;
        Some(match *blocked {
            "vdso" => Outside::Vdso,
            "libgcc" => Outside::Libgcc,
            // "pthread": folded into libc since glibc 2.34.
            _ => Outside::Libc,
        })
    }
}

/// Samples pprof would drop, per kind, in [`Outside::ALL`]'s order.
pub(crate) type OutsideCounts = [u64; 4];

/// One profiled window, symbolized: the samples pprof unwound plus the ones it would have
/// dropped, as caller-less frames.
#[derive(Debug)]
pub(crate) struct CpuWindow {
    pub(crate) phase: String,
    pub(crate) sample_rate_hz: i32,
    /// What one sample stands for: the timer's interval, as pprof sets it (whole microseconds).
    pub(crate) period: Duration,
    /// Stacks (leaf first) and how many samples each got, thread included, and pprof's timing
    /// (the rate, which the pprof file records as the period).
    report: pprof::Report,
    /// Samples pprof unwound.
    pub(crate) unwound: u64,
    /// Samples in the kernel, libc, the vDSO, libgcc, not unwound.
    pub(crate) outside: OutsideCounts,
    /// `SIGPROF`s that pprof did not record (it was busy with another sample).
    pub(crate) lost: u64,
    pub(crate) window: Duration,
    pub(crate) user: Duration,
    pub(crate) system: Duration,
}

impl CpuWindow {
    /// Samples recorded: the unwound ones and the ones kept as `[kernel]` etc.
    pub(crate) fn samples(&self) -> u64 {
        self.unwound + self.outside.iter().sum::<u64>()
    }
}

/// The profile of the measured windows, merged and ranked.
#[derive(Debug, Clone)]
pub(crate) struct CpuOutcome {
    /// The phases profiled, in order.
    pub(crate) phases: Vec<String>,
    pub(crate) sample_rate_hz: i32,
    pub(crate) period: Duration,
    /// Samples recorded (unwound + not unwound).
    pub(crate) samples: u64,
    /// Of which not unwound (kernel, libc, vDSO, libgcc).
    pub(crate) not_unwound: u64,
    pub(crate) lost: u64,
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
    phase: String,
    guard: Option<pprof::ProfilerGuard<'static>>,
    started: Option<(Instant, Duration, Duration)>,
    /// Raw samples of the window with the signal counts, wall, user and system time, awaiting
    /// symbolization.
    unresolved: Option<(
        pprof::UnresolvedReport,
        signals::Counts,
        Duration,
        Duration,
        Duration,
    )>,
    warnings: Vec<String>,
}

impl std::fmt::Debug for CpuProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuProbe")
            .field("hz", &self.hz)
            .finish_non_exhaustive()
    }
}

/// User plus system CPU time of the calling thread, counted as [`process_cpu_times`] counts the
/// process's (`getrusage`), so that the two compare; `None` where the system has no per-thread
/// figure.
pub(crate) fn thread_cpu_time() -> Option<Duration> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getrusage writes into the zeroed struct we own.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) } == 0 {
            let duration = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
            return Some(duration(usage.ru_utime) + duration(usage.ru_stime));
        }
    }
    None
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
    signals::prepare();
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

/// The timer interval pprof sets for `hz`: whole microseconds.
fn period_of(hz: i32) -> Duration {
    Duration::from_micros(1_000_000 / hz.max(1) as u64)
}

impl CpuProbe {
    pub(crate) fn new(hz: i32, phase: String) -> Self {
        Self {
            hz,
            phase,
            guard: None,
            started: None,
            unresolved: None,
            warnings: Vec::new(),
        }
    }

    pub(crate) fn start(&mut self) {
        signals::prepare();
        signals::reset();
        match pprof::ProfilerGuardBuilder::default()
            .frequency(self.hz)
            .blocklist(&BLOCKLIST)
            .build()
        {
            Ok(guard) => {
                // pprof has installed its handler and started the timer; ours goes in front.
                // The few microseconds between them may lose a signal from the count, which
                // the lost-sample figure would then under-state by one.
                if !signals::install() {
                    self.warnings.push(
                        "cpu: the sample counter could not be installed: samples in libc and the kernel are \
                         not counted"
                            .to_owned(),
                    );
                }
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
        // The timer stops first, so that the window's CPU time, the signal counts and pprof's
        // samples all end at the same moment (building the report below takes the profiler's
        // lock: signals meanwhile would be lost, and its CPU is not the window's).
        signals::stop_timer();
        let window = started.elapsed();
        let (user1, system1) = process_cpu_times();
        let counts = signals::read();
        let unresolved = guard.report().build_unresolved();
        drop(guard);
        match unresolved {
            Ok(unresolved) => {
                self.unresolved = Some((
                    unresolved,
                    counts,
                    window,
                    user1.saturating_sub(user0),
                    system1.saturating_sub(system0),
                ))
            }
            Err(error) => self
                .warnings
                .push(format!("cpu: reading the samples failed: {error}")),
        }
    }

    /// Symbolizes the samples and adds the ones pprof did not unwind as frames of their own.
    pub(crate) fn finish(mut self) -> (Option<CpuWindow>, Vec<String>) {
        if self.guard.is_some() {
            self.end();
        }
        let Some((unresolved, counts, window, user, system)) = self.unresolved.take() else {
            return (None, self.warnings);
        };
        let mut data: HashMap<pprof::Frames, isize> = HashMap::new();
        let mut unwound = 0u64;
        for (frames, count) in unresolved.data {
            unwound += count.max(0) as u64;
            let mut frames = pprof::Frames::from(frames);
            strip_profiler_frames(&mut frames);
            // Stacks that differed only in the profiler's own frames become one.
            *data.entry(frames).or_default() += count;
        }
        let mut outside = [0u64; 4];
        for thread in &counts.threads {
            for (kind, &count) in Outside::ALL.iter().zip(&thread.outside) {
                if count == 0 {
                    continue;
                }
                outside[*kind as usize] += count;
                let frames = pprof::Frames {
                    frames: vec![vec![pprof::Symbol {
                        name: Some(kind.frame().as_bytes().to_vec()),
                        addr: None,
                        lineno: None,
                        filename: None,
                    }]],
                    thread_name: thread.name.clone(),
                    thread_id: thread.id,
                    sample_timestamp: SystemTime::UNIX_EPOCH,
                };
                *data.entry(frames).or_default() += count as isize;
            }
        }
        let recorded = unwound + outside.iter().sum::<u64>();
        let profile = CpuWindow {
            phase: self.phase,
            sample_rate_hz: self.hz,
            period: period_of(self.hz),
            report: pprof::Report {
                data,
                timing: unresolved.timing,
            },
            unwound,
            outside,
            lost: counts.signals.saturating_sub(recorded),
            window,
            user,
            system,
        };
        (Some(profile), self.warnings)
    }
}

/// Merges the windows' profiles into one, ranks its functions and renders the flamegraph and
/// the pprof profile. The windows run the same code (at saturation and at a fixed rate), so
/// their samples add up; a sample stands for one period of CPU in each.
pub(crate) fn merge(windows: &[&CpuWindow]) -> Option<(CpuOutcome, Vec<String>)> {
    let first = windows.first()?;
    let mut warnings = Vec::new();
    let mut report = pprof::Report {
        data: HashMap::new(),
        timing: first.report.timing.clone(),
    };
    for window in windows {
        for (frames, count) in &window.report.data {
            *report.data.entry(frames.clone()).or_default() += count;
        }
    }
    let sum = |get: fn(&CpuWindow) -> Duration| windows.iter().map(|w| get(w)).sum::<Duration>();
    let phases: Vec<String> = windows.iter().map(|w| w.phase.clone()).collect();
    let (samples, top_inclusive, top_self, threads) = rank(&report);
    debug_assert_eq!(samples, windows.iter().map(|w| w.samples()).sum::<u64>());
    let mut svg = Vec::new();
    let mut options = pprof::flamegraph::Options::default();
    options.title = format!(
        "perfgate: CPU profile of the {} measured windows",
        phases.join(" and ")
    );
    options.count_name = "samples".to_owned();
    let flamegraph_svg = match report.flamegraph_with_options(&mut svg, &mut options) {
        Ok(()) if !svg.is_empty() => Some(svg),
        Ok(()) => None,
        Err(error) => {
            warnings.push(format!("cpu: writing the flamegraph failed: {error}"));
            None
        }
    };
    let pprof = match report.pprof() {
        Ok(profile) => Some(profile.encode_to_vec()),
        Err(error) => {
            warnings.push(format!("cpu: encoding the pprof profile failed: {error}"));
            None
        }
    };
    let outcome = CpuOutcome {
        phases,
        sample_rate_hz: first.sample_rate_hz,
        period: first.period,
        samples,
        not_unwound: windows.iter().map(|w| w.outside.iter().sum::<u64>()).sum(),
        lost: windows.iter().map(|w| w.lost).sum(),
        window: sum(|w| w.window),
        user: sum(|w| w.user),
        system: sum(|w| w.system),
        top_inclusive,
        top_self,
        threads,
        flamegraph_svg,
        pprof,
    };
    Some((outcome, warnings))
}

/// A `SIGPROF` handler that runs in front of pprof's: it counts every signal, and takes the
/// samples pprof would drop (innermost frame in a blocklisted library) itself, by thread and by
/// where the thread was. Everything it touches is atomics and memory mapped for the process's
/// life, so it is async-signal-safe.
mod signals {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};

    // Named from the crate root: this module sits inside `probe::cpu`.
    use crate::probe::cpu::Outside;

    /// Threads tracked by name; more than this share one slot (thread id 0, no name).
    const SLOTS: usize = 64;

    struct Slot {
        /// `pthread_self()` of the thread, 0 while free.
        thread: AtomicU64,
        /// Its name, set once by the first sample, then `named`.
        name: [AtomicU8; 16],
        named: AtomicBool,
        outside: [AtomicU64; 4],
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const FREE: Slot = Slot {
        thread: AtomicU64::new(0),
        name: [const { AtomicU8::new(0) }; 16],
        named: AtomicBool::new(false),
        outside: [const { AtomicU64::new(0) }; 4],
    };

    static SLOT_TABLE: [Slot; SLOTS] = [FREE; SLOTS];
    /// Every `SIGPROF` seen since the last reset.
    static SIGNALS: AtomicU64 = AtomicU64::new(0);
    /// The handler the counter hands unwindable samples to (pprof's), as an address.
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    /// The blocklisted libraries' address ranges, as pprof computes them.
    static SEGMENTS: OnceLock<Vec<(usize, usize, Outside)>> = OnceLock::new();

    /// One thread's samples outside the unwindable code.
    #[derive(Debug, Clone)]
    pub(super) struct ThreadCounts {
        pub(super) id: u64,
        pub(super) name: String,
        pub(super) outside: [u64; 4],
    }

    #[derive(Debug, Clone, Default)]
    pub(super) struct Counts {
        pub(super) signals: u64,
        pub(super) threads: Vec<ThreadCounts>,
    }

    /// Finds the blocklisted libraries (once: libc, libgcc and the vDSO do not move).
    pub(super) fn prepare() {
        SEGMENTS.get_or_init(|| {
            let mut segments = Vec::new();
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            {
                use findshlibs::{Segment, SharedLibrary, TargetSharedLibrary};
                TargetSharedLibrary::each(|library| {
                    let Some(kind) = library.name().to_str().and_then(Outside::of_library) else {
                        return;
                    };
                    for segment in library.segments() {
                        let start = segment.actual_virtual_memory_address(library).0;
                        segments.push((start, start + segment.len(), kind));
                    }
                });
            }
            segments
        });
    }

    /// Zeroes the counts; only while no timer runs.
    pub(super) fn reset() {
        SIGNALS.store(0, Ordering::Relaxed);
        for slot in &SLOT_TABLE {
            slot.thread.store(0, Ordering::Relaxed);
            slot.named.store(false, Ordering::Relaxed);
            for count in &slot.outside {
                count.store(0, Ordering::Relaxed);
            }
        }
    }

    /// Puts the counter in front of the `SIGPROF` handler installed now (pprof's).
    pub(super) fn install() -> bool {
        #[cfg(target_os = "linux")]
        // SAFETY: sigaction reads and writes structs we own; the handler we install is
        // async-signal-safe and hands on to the one it replaces with the same arguments.
        unsafe {
            let mut current: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGPROF, std::ptr::null(), &mut current) != 0 {
                return false;
            }
            let ours = count_then_sample
                as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void)
                as usize;
            if current.sa_sigaction == ours {
                return true;
            }
            if current.sa_flags & libc::SA_SIGINFO == 0
                || current.sa_sigaction == libc::SIG_IGN
                || current.sa_sigaction == libc::SIG_DFL
            {
                return false;
            }
            NEXT.store(current.sa_sigaction, Ordering::Release);
            let mut replacement = current;
            replacement.sa_sigaction = ours;
            libc::sigaction(libc::SIGPROF, &replacement, std::ptr::null_mut()) == 0
        }
        #[cfg(not(target_os = "linux"))]
        false
    }

    /// Stops `ITIMER_PROF` (pprof's timer; pprof stops it again when its guard drops).
    pub(super) fn stop_timer() {
        let zero = libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        };
        let off = libc::itimerval {
            it_interval: zero,
            it_value: zero,
        };
        // SAFETY: setitimer reads the struct we own.
        unsafe { libc::setitimer(libc::ITIMER_PROF, &off, std::ptr::null_mut()) };
    }

    pub(super) fn read() -> Counts {
        let threads = SLOT_TABLE
            .iter()
            .filter(|slot| slot.outside.iter().any(|c| c.load(Ordering::Relaxed) > 0))
            .map(|slot| {
                let name: Vec<u8> = slot
                    .name
                    .iter()
                    .map(|b| b.load(Ordering::Relaxed))
                    .take_while(|&b| b != 0)
                    .collect();
                ThreadCounts {
                    id: slot.thread.load(Ordering::Relaxed),
                    name: if slot.named.load(Ordering::Acquire) {
                        String::from_utf8_lossy(&name).into_owned()
                    } else {
                        String::new()
                    },
                    outside: std::array::from_fn(|i| slot.outside[i].load(Ordering::Relaxed)),
                }
            })
            .collect();
        Counts {
            signals: SIGNALS.load(Ordering::Relaxed),
            threads,
        }
    }

    /// Where the interrupted thread was, if pprof would drop the sample: the same test as
    /// pprof's (`start < pc < end` of a blocklisted library's segment).
    fn outside(pc: usize) -> Option<Outside> {
        let segments = SEGMENTS.get()?;
        let &(start, end, kind) = segments.iter().find(|(start, end, _)| pc > *start && pc < *end)?;
        // The signal reaches a thread on its way back to user space; from a system call the
        // interrupted instruction is the one after it (or the call itself, rewound to restart).
        let after_syscall = |at: usize| {
            #[cfg(target_arch = "x86_64")]
            {
                const SYSCALL: [u8; 2] = [0x0f, 0x05];
                // SAFETY: both bytes lie inside the library's mapped segment.
                at >= start + 2 && at + 2 <= end && {
                    let before = unsafe { std::ptr::read_unaligned((at - 2) as *const [u8; 2]) };
                    let at_pc = unsafe { std::ptr::read_unaligned(at as *const [u8; 2]) };
                    before == SYSCALL || at_pc == SYSCALL
                }
            }
            #[cfg(target_arch = "aarch64")]
            {
                const SVC_0: u32 = 0xd400_0001;
                // SAFETY: both words lie inside the library's mapped segment.
                at >= start + 4 && at + 4 <= end && {
                    let before = unsafe { std::ptr::read_unaligned((at - 4) as *const u32) };
                    let at_pc = unsafe { std::ptr::read_unaligned(at as *const u32) };
                    before == SVC_0 || at_pc == SVC_0
                }
            }
            #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
            {
                let _ = (at, start, end);
                false
            }
        };
        Some(if after_syscall(pc) { Outside::Kernel } else { kind })
    }

    #[cfg(target_os = "linux")]
    fn program_counter(context: *mut libc::c_void) -> Option<usize> {
        if context.is_null() {
            return None;
        }
        let context = context as *const libc::ucontext_t;
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the kernel passes the interrupted context to an SA_SIGINFO handler.
        return Some(unsafe { (*context).uc_mcontext.gregs[libc::REG_RIP as usize] as usize });
        #[cfg(target_arch = "aarch64")]
        // SAFETY: as above.
        return Some(unsafe { (*context).uc_mcontext.pc as usize });
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        None
    }

    /// The slot of the calling thread, claimed on its first sample.
    fn slot_of_current_thread() -> &'static Slot {
        // SAFETY: pthread_self has no preconditions.
        let me = unsafe { libc::pthread_self() } as u64;
        for slot in &SLOT_TABLE {
            let owner = slot.thread.load(Ordering::Acquire);
            if owner == me {
                return slot;
            }
            if owner == 0
                && slot
                    .thread
                    .compare_exchange(0, me, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                let mut name = [0u8; 16];
                // SAFETY: PR_GET_NAME writes at most 16 bytes into the buffer we own.
                #[cfg(target_os = "linux")]
                unsafe {
                    libc::prctl(libc::PR_GET_NAME, name.as_mut_ptr());
                }
                for (to, from) in slot.name.iter().zip(name) {
                    to.store(from, Ordering::Relaxed);
                }
                slot.named.store(true, Ordering::Release);
                return slot;
            }
        }
        // Table full: the last slot collects the rest under its first owner's name.
        &SLOT_TABLE[SLOTS - 1]
    }

    #[cfg(target_os = "linux")]
    extern "C" fn count_then_sample(
        signal: libc::c_int,
        info: *mut libc::siginfo_t,
        context: *mut libc::c_void,
    ) {
        SIGNALS.fetch_add(1, Ordering::Relaxed);
        if let Some(kind) = program_counter(context).and_then(outside) {
            // SAFETY: errno is thread-local; prctl above may change it, the interrupted code
            // must not see that.
            let errno = unsafe { *libc::__errno_location() };
            slot_of_current_thread().outside[kind as usize].fetch_add(1, Ordering::Relaxed);
            unsafe { *libc::__errno_location() = errno };
            // pprof would return without a sample: nothing to hand on.
            return;
        }
        let next = NEXT.load(Ordering::Acquire);
        if next != 0 {
            // SAFETY: `next` is the SA_SIGINFO handler that was installed before ours (checked
            // in `install`), called with the arguments the kernel gave us.
            let next: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(next) };
            next(signal, info, context);
        }
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
        // The sample counter in front of pprof's handler: pprof skips the frame after its
        // handler (it expects the signal trampoline there), so with the counter in between the
        // counter's frame goes and the trampoline, `__restore_rt`, stays.
        || name.contains("signals::count_then_sample")
        || name == "__restore_rt"
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

/// The leaf of a stack with no frame left after the profiler's own were removed.
const UNKNOWN: &str = "[unknown]";

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
        let mut names: Vec<String> = frames.frames.iter().flatten().map(function_name).collect();
        if names.is_empty() {
            // Every frame was the profiler's own: the sample still stands for a period of CPU.
            names.push(UNKNOWN.to_owned());
        }
        shares.entry(names[0].clone()).or_default().0 += count;
        let boundary = names.iter().position(|name| is_boundary(name));
        on_stack.clear();
        for (depth, name) in names.into_iter().enumerate() {
            // The innermost function always counts: a function's inclusive samples include its
            // self samples, plumbing or not (a boundary loop's own code showed 8.5 % self and
            // 0.0 % inclusive when the leaf was filtered like the frames rootward of it).
            let inside = depth == 0
                || match boundary {
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

    fn stack(thread: &str, leaf_first: &[&str]) -> pprof::Frames {
        pprof::Frames {
            frames: leaf_first
                .iter()
                .map(|name| {
                    vec![pprof::Symbol {
                        name: Some(name.as_bytes().to_vec()),
                        addr: None,
                        lineno: None,
                        filename: None,
                    }]
                })
                .collect(),
            thread_name: thread.to_owned(),
            thread_id: 1,
            sample_timestamp: SystemTime::UNIX_EPOCH,
        }
    }

    /// Issue 14: `run_worker::{{closure}}` showed 8.5 % self and 0.0 % inclusive. Every function
    /// with self samples, a boundary loop or plumbing included, has at least as many inclusive
    /// ones; and every sample has exactly one innermost function, so self samples add up to all.
    #[test]
    fn inclusive_is_never_below_self_and_self_samples_add_up() {
        let worker = "perfgate_profiler::pipeline::worker::run_worker::{{closure}}";
        let tokio = "tokio::runtime::scheduler::multi_thread::worker::run";
        let mut data = HashMap::new();
        data.insert(stack("pg-worker-0", &[worker, tokio, "std::thread::start"]), 7);
        data.insert(stack("pg-worker-0", &["user::decode", worker, tokio]), 30);
        data.insert(stack("pg-worker-1", &[tokio, "std::thread::start"]), 5);
        data.insert(stack("pg-worker-1", &["[kernel]"]), 4);
        data.insert(stack("pg-feeder", &[]), 2);
        let report = pprof::Report {
            data,
            timing: Default::default(),
        };
        let (total, inclusive, by_self, threads) = rank(&report);
        assert_eq!(total, 48);
        assert_eq!(by_self.iter().map(|f| f.self_samples).sum::<u64>(), total);
        assert_eq!(threads.iter().map(|(_, n)| n).sum::<u64>(), total);
        for function in inclusive.iter().chain(&by_self) {
            assert!(
                function.inclusive_samples >= function.self_samples,
                "{function:?}"
            );
        }
        let find = |name: &str| by_self.iter().find(|f| f.function == name).unwrap().clone();
        // The boundary loop's own samples count; the 30 samples of the stage it called do not.
        assert_eq!(find(worker).inclusive_samples, 7);
        assert_eq!(find(tokio).inclusive_samples, 5);
        assert_eq!(find("[kernel]").inclusive_samples, 4);
        assert_eq!(find(UNKNOWN).self_samples, 2);
        assert_eq!(inclusive[0].function, "user::decode");
    }

    #[test]
    fn blocklisted_libraries_are_told_apart() {
        assert_eq!(
            Outside::of_library("/lib/x86_64-linux-gnu/libc.so.6"),
            Some(Outside::Libc)
        );
        assert_eq!(Outside::of_library("linux-vdso.so.1"), Some(Outside::Vdso));
        assert_eq!(
            Outside::of_library("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
            Some(Outside::Libgcc)
        );
        assert_eq!(Outside::of_library("/lib/libpthread.so.0"), Some(Outside::Libc));
        assert_eq!(
            Outside::of_library("/work/target/release/perfgate-profiler"),
            None
        );
        assert_eq!(period_of(250), Duration::from_millis(4));
        assert_eq!(period_of(99), Duration::from_micros(10_101));
    }

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

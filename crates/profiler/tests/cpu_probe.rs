//! The CPU probe against ground truth, through the public pipeline API as a user would drive it:
//! a function made hot on purpose must top the profile, a function's CPU seconds must match what
//! its thread's own CPU clock measured, and time in libc and the kernel must be kept so that the
//! profile adds up to the process's measured CPU time. pprof allows one profiler per process:
//! the tests of this file take turns.

use std::sync::Mutex;

use perfgate_profiler::alloc::TrackingAllocator;
use perfgate_profiler::{Length, Pipeline, Probes, Results, RunConfig, Silent, Source, Stage, StageError};
use tikv_jemallocator::Jemalloc;

#[global_allocator]
static GLOBAL: TrackingAllocator<Jemalloc> = TrackingAllocator::new(Jemalloc);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Counts up from 0.
struct Sequence(u64);

impl Source for Sequence {
    type Item = u64;
    fn next_item(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

fn run<S: Stage<u64, Out = u64>>(
    stage: impl Fn() -> S + Send + Sync + 'static,
    config: RunConfig,
) -> Results {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let pipeline = Pipeline::builder(|_| Sequence(0))
        .stage("under_test", move |_| stage())
        .build();
    perfgate_profiler::run(&pipeline, &config, &Silent, serde_json::Value::Null).unwrap()
}

/// Burns CPU in a function no other code calls. A `while` loop rather than `for _ in 0..n`:
/// in a debug build the range iterator's `next` is a real function that takes a large, variable
/// share of the self samples, which made "first by self samples" flaky.
#[inline(never)]
fn perfgate_test_hot_spin(rounds: u64, seed: u64) -> u64 {
    let mut state = seed | 1;
    let mut round = 0;
    while round < rounds {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state = std::hint::black_box(state);
        round += 1;
    }
    state
}

struct Hot;

impl Stage<u64> for Hot {
    type Out = u64;
    async fn process(&mut self, value: u64) -> Result<u64, StageError> {
        Ok(perfgate_test_hot_spin(8_000, value))
    }
}

/// pprof allows one profiler per process: the tests of this file take turns.
static ONE_PROFILER_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn issue_3_cpu_profile_names_the_hot_function() {
    let _turn = ONE_PROFILER_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let config = RunConfig {
        fixed_rate: false,
        length: Length::Messages(20_000),
        warmup: Length::Messages(1_000),
        probes: Probes {
            cpu: true,
            ..Probes::NONE
        },
        cpu_hz: 250,
        ..RunConfig::smoke()
    };
    let results = run(|| Hot, config);
    let cpu = &results.cpu;
    let samples = cpu.samples.unwrap();
    assert!(samples >= 50, "{samples} samples");
    let rank = cpu
        .top_functions
        .iter()
        .position(|f| f.function.ends_with("perfgate_test_hot_spin"))
        .unwrap_or_else(|| panic!("not in top functions: {:#?}", cpu.top_functions));
    assert!(
        rank <= 1,
        "ranked {} by inclusive samples: {:#?}",
        rank + 1,
        &cpu.top_functions[..3]
    );
    let hot = &cpu.top_functions[rank];
    assert!(
        hot.inclusive_percent >= 40.0,
        "{} % inclusive",
        hot.inclusive_percent
    );
    assert!(
        cpu.hot_functions[0].function.ends_with("perfgate_test_hot_spin"),
        "first by self samples: {:#?}",
        &cpu.hot_functions[..3]
    );
    assert!(hot.cumtime > 0.0 && hot.cumtime <= cpu.user_time_s.unwrap() + cpu.system_time_s.unwrap());
    assert_eq!(
        results.files.get("flamegraph").map(String::as_str),
        Some("flamegraph.svg")
    );
    let svg = &results
        .artifacts
        .iter()
        .find(|a| a.file_name == "flamegraph.svg")
        .unwrap()
        .bytes;
    assert!(String::from_utf8_lossy(svg).contains("perfgate_test_hot_spin"));
    assert!(
        results
            .artifacts
            .iter()
            .any(|a| a.file_name == "profile.pb" && a.bytes.len() > 100)
    );
}

/// Issue 14: a profile too short to rank functions says so in the results' warnings, and lag
/// measured at saturation only is labelled as load.
#[test]
fn a_profile_of_few_samples_is_flagged_in_the_warnings() {
    let _turn = ONE_PROFILER_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let market = perfgate_profiler::market::MarketConfig::default();
    let pipeline = perfgate_profiler::market::market_data_pipeline(&market).unwrap();
    let config = perfgate_profiler::RunConfig {
        probes: perfgate_profiler::Probes::parse("cpu,lag").unwrap(),
        fixed_rate: false,
        ..perfgate_profiler::RunConfig::smoke()
    };
    let results =
        perfgate_profiler::run(&pipeline, &config, &perfgate_profiler::Silent, market.to_json()).unwrap();
    let samples = results.cpu.samples.expect("the CPU probe ran");
    let warned = results
        .warnings
        .iter()
        .any(|w| w.contains("the CPU profile holds only"));
    assert_eq!(
        warned,
        samples < 200,
        "{samples} samples, warnings {:?}",
        results.warnings
    );
    // Without the fixed-rate phase the lag probe watched saturation: labelled as load.
    assert_eq!(
        results.asyncio.as_ref().map(|a| a.phase.as_str()),
        Some("saturation")
    );
    assert!(
        results
            .warnings
            .iter()
            .any(|w| w.starts_with("event-loop lag was measured at saturation only")),
        "{:?}",
        results.warnings
    );
}

/// Every listed function's inclusive time covers its self time.
fn assert_inclusive_covers_self(cpu: &perfgate_results::CpuSection) {
    for function in cpu.top_functions.iter().chain(&cpu.hot_functions) {
        assert!(
            function.inclusive_samples >= function.self_samples && function.cumtime >= function.selftime,
            "inclusive below self: {function:#?}"
        );
    }
}

/// This thread's CPU time so far (user + system).
fn thread_cpu() -> std::time::Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the struct we own.
    assert_eq!(
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) },
        0
    );
    std::time::Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The first message after the warm-up: messages are numbered from 1 by `Sequence`.
const WARMUP: u64 = 200;

/// CPU burnt in `perfgate_test_measured_burn` by measured messages, ns, by its own thread clock.
static BURNT_NS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Burns about `rounds` xorshift steps and adds the CPU time it took, measured on its thread's
/// clock, to `BURNT_NS`. Warm-up messages pass through: only measured messages, all inside the
/// profiled window, burn.
#[inline(never)]
fn perfgate_test_measured_burn(value: u64, rounds: u64) -> u64 {
    if value <= WARMUP {
        return value;
    }
    let before = thread_cpu();
    let state = perfgate_test_hot_spin(rounds, value);
    BURNT_NS.fetch_add(
        (thread_cpu() - before).as_nanos() as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    state
}

struct MeasuredBurn;

impl Stage<u64> for MeasuredBurn {
    type Out = u64;
    async fn process(&mut self, value: u64) -> Result<u64, StageError> {
        Ok(perfgate_test_measured_burn(value, 100_000))
    }
}

/// Issue 14: a function that burnt 1.006 CPU-s was reported at 1.16–1.31 s, because samples in
/// libc and the kernel were dropped and the measured CPU was spread over the rest. A function's
/// CPU seconds (its share of the samples × the measured CPU) must be within 10 % of what its
/// thread's CPU clock measured.
/// Most of the process's CPU is in the function, so the count of its samples varies little
/// (binomial spread of about 2 % at 400 samples), even on two noisy cores in a debug build.
#[test]
fn a_function_is_reported_within_10_percent_of_its_own_cpu_seconds() {
    let _turn = ONE_PROFILER_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    BURNT_NS.store(0, std::sync::atomic::Ordering::Relaxed);
    let config = RunConfig {
        fixed_rate: false,
        // Enough for about 2 CPU-s of burning in a debug build, 0.2 s in a release one.
        length: Length::Messages(if cfg!(debug_assertions) { 2_000 } else { 10_000 }),
        warmup: Length::Messages(WARMUP),
        probes: Probes {
            cpu: true,
            ..Probes::NONE
        },
        ..RunConfig::smoke()
    };
    let results = run(|| MeasuredBurn, config);
    let cpu = &results.cpu;
    let burnt = BURNT_NS.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e9;
    let burn = cpu
        .top_functions
        .iter()
        .find(|f| f.function.ends_with("perfgate_test_measured_burn"))
        .unwrap_or_else(|| panic!("not in top functions: {:#?}", cpu.top_functions));
    let measured = cpu.user_time_s.unwrap() + cpu.system_time_s.unwrap();
    let per_sample = measured / cpu.samples.unwrap() as f64;
    assert!((burn.cumtime - burn.inclusive_samples as f64 * per_sample).abs() < 1e-9);
    let error = burn.cumtime / burnt - 1.0;
    assert!(
        error.abs() <= 0.10,
        "reported {:.3} CPU-s ({} samples at {} Hz), its thread clock measured {burnt:.3} CPU-s: {:+.1} %; \
         {} samples in all, coverage {:?} %, warnings {:?}",
        burn.cumtime,
        burn.inclusive_samples,
        cpu.sample_rate_hz.unwrap(),
        error * 100.0,
        cpu.samples.unwrap(),
        cpu.profile_coverage_percent,
        results.warnings
    );
    eprintln!(
        "measured burn: reported {:.3} CPU-s ({} samples), thread clock {burnt:.3} CPU-s: {:+.1} %; coverage {:?} %",
        burn.cumtime,
        burn.inclusive_samples,
        error * 100.0,
        cpu.profile_coverage_percent
    );
    assert_inclusive_covers_self(cpu);
}

/// How many bytes each measured message copies, and how many system calls it makes.
const COPY_BYTES: usize = 1 << 20;
const SYSCALLS: usize = 2_000;

/// Copies a big buffer (memcpy in libc) and makes cheap system calls, so that most of its CPU
/// time is spent where pprof does not unwind: in libc and in the kernel.
#[inline(never)]
fn perfgate_test_in_libc(value: u64, from: &[u8], to: &mut [u8]) -> u64 {
    to.copy_from_slice(from);
    let mut sum = value ^ u64::from(to[value as usize % to.len()]);
    for _ in 0..SYSCALLS {
        // SAFETY: getppid has no preconditions.
        sum = sum.wrapping_add(unsafe { libc::getppid() } as u64);
    }
    std::hint::black_box(sum)
}

struct InLibc {
    from: Vec<u8>,
    to: Vec<u8>,
}

impl Stage<u64> for InLibc {
    type Out = u64;
    async fn process(&mut self, value: u64) -> Result<u64, StageError> {
        Ok(perfgate_test_in_libc(value, &self.from, &mut self.to))
    }
}

/// Issue 14: samples in libc and the kernel are kept (as `[libc]` and `[kernel]`): every sample
/// is in the profile's threads, and the kernel's share matches the system CPU time getrusage
/// measured.
#[test]
fn time_in_libc_and_the_kernel_is_kept_and_the_profile_adds_up() {
    let _turn = ONE_PROFILER_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let config = RunConfig {
        fixed_rate: false,
        // About 1.3 CPU-s in a debug build: 300 samples or more at the ~250 per CPU-second the kernel sends.
        length: Length::Messages(if cfg!(debug_assertions) { 2_500 } else { 4_000 }),
        warmup: Length::Messages(100),
        probes: Probes {
            cpu: true,
            ..Probes::NONE
        },
        ..RunConfig::smoke()
    };
    let results = run(
        || InLibc {
            from: vec![7; COPY_BYTES],
            to: vec![0; COPY_BYTES],
        },
        config,
    );
    let cpu = &results.cpu;
    let samples = cpu.samples.unwrap();
    let measured = cpu.user_time_s.unwrap() + cpu.system_time_s.unwrap();
    let sampled = cpu.sampled_cpu_s.unwrap();
    let context = format!(
        "{samples} samples ({} not unwound, {} lost) = {sampled:.3} CPU-s, measured {measured:.3} CPU-s \
         (system {:.3}); hottest {:#?}",
        cpu.not_unwound_samples.unwrap(),
        cpu.lost_samples.unwrap(),
        cpu.system_time_s.unwrap(),
        &cpu.hot_functions[..cpu.hot_functions.len().min(6)]
    );
    assert!(samples >= 200, "{context}");
    assert_eq!(cpu.threads.values().sum::<u64>(), samples, "{context}");
    // The functions' CPU seconds add up to the measured CPU: every sample is in some function.
    let functions: f64 = cpu.hot_functions.iter().map(|f| f.selftime).sum();
    assert!(functions <= measured * 1.001, "{context}");
    let selftime = |name: &str| {
        cpu.hot_functions
            .iter()
            .find(|f| f.function == name)
            .map_or(0.0, |f| f.selftime)
    };
    // The kernel's time is kept: `[kernel]` holds at least the system time getrusage measured
    // (less 10 % for sampling). It holds more (0.84–0.88 s against 0.67–0.73 s in debug runs):
    // it also has the samples taken at the first user-mode instruction after a system call,
    // which the kernel's tick accounting counts as user time (our reading: the cost of
    // returning to user space, e.g. TLB refills after page-table isolation, lands there).
    let system = cpu.system_time_s.unwrap();
    assert!(
        selftime("[kernel]") >= 0.9 * system,
        "[kernel] {:.3} s vs system time {system:.3} s; {context}",
        selftime("[kernel]")
    );
    eprintln!(
        "[kernel] {:.3} s vs system time {system:.3} s; {context}",
        selftime("[kernel]")
    );
    let outside = cpu.not_unwound_samples.unwrap() as f64 / samples as f64;
    assert!(
        outside >= 0.5,
        "{:.0} % in libc and the kernel; {context}",
        outside * 100.0
    );
    assert!(selftime("[libc]") > 0.0, "{context}");
    assert_inclusive_covers_self(cpu);
}

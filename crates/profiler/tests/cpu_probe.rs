//! The CPU probe against ground truth, through the public pipeline API as a user would drive it:
//! a function made hot on purpose must top the profile. One profiler runs per process, so this
//! file holds only this test.

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

//! perfgate's profiler: pushes a message workload through a tokio pipeline and measures, in the
//! same run, how fast it goes and where the time goes.
//!
//! A run has up to three phases, each on a freshly built pipeline:
//! 1. **saturation** — the source runs flat out; gives throughput (`cpu.messages_per_second`).
//! 2. **limit** (optional) — the same source and stage functions in a plain loop per thread, no
//!    channels or tasks; gives the ceiling the pipeline is compared with (`pipeline.efficiency`).
//! 3. **fixed rate** — open loop at a set rate (default: half the saturation throughput);
//!    latency is measured from each message's intended send time, so stalls cannot hide the
//!    messages they delay.
//!
//! The default workload is a synthetic market-data pipeline ([`market`]); your own pipeline is
//! built the same way, from a [`Source`], [`Stage`]s and optional [`Subscriber`]s:
//!
//! ```no_run
//! use perfgate_profiler::{Pipeline, RunConfig, Silent, Source, StageError, stage_fn};
//!
//! struct Orders(u64);
//! impl Source for Orders {
//!     type Item = u64;
//!     fn next_item(&mut self) -> u64 { self.0 += 1; self.0 }
//! }
//!
//! let pipeline = Pipeline::builder(|_| Orders(0))
//!     .stage("risk", |_| stage_fn(|order: u64| async move { Ok::<_, StageError>(order) }))
//!     .build();
//! let results = perfgate_profiler::run(&pipeline, &RunConfig::smoke(), &Silent, serde_json::Value::Null)?;
//! println!("{:.0} msg/s", results.cpu.messages_per_second);
//! # Ok::<(), perfgate_profiler::ProfilerError>(())
//! ```

pub mod alloc;
mod attach;
pub mod capacity;
pub mod chaos;
mod clock;
mod config;
pub mod database;
mod driver;
mod environment;
mod error;
mod faults;
mod host_steal;
mod length;
pub mod live;
mod live_sink;
pub mod market;
mod observer;
mod output;
mod overhead;
mod pipeline;
mod probe;
mod results;
mod sampler;
pub mod scaling;
mod sections;
mod stats;
pub mod sweep;
mod window;

pub use attach::{AttachOptions, MessageCounter, Profiler};
pub use config::{
    MAX_PHASE_DURATION, MAX_PHASE_MESSAGES, MAX_QUEUE, MAX_RATE, MAX_SUBSCRIBERS, MAX_THREADS, MIN_RATE,
    Probes, RunConfig, available_cores,
};
pub use driver::PlainLoopCounts;
pub use error::{ProfilerError, Result};
pub use length::Length;
pub use live_sink::LiveSink;
pub use observer::{Observer, PhaseStart, Silent};
pub use output::{ResultsFiles, write_atomic};
pub use perfgate_results::{DepthSummary, LatencySummary, ServiceTimeSummary};
pub use pipeline::{
    AsyncSource, Counter, FnStage, Pipeline, PipelineBuilder, Source, SourceFn, Stage, StageError,
    Subscriber, WorkerInfo, source_fn, stage_fn,
};
pub use probe::{Instrumented, PollHooks, TimeSeries};
pub use results::{
    Artifact, AsyncioSection, CacheSection, CpuSection, Environment, ErrorsSection, FanoutSection,
    FunctionShare, LatencySection, LeakSection, LimitSection, MemorySection, OverheadPair, OverheadSection,
    PhaseSection, PipelineSection, ProcessSection, ProfilerSection, RepetitionsSection, Results,
    RuntimeSection, SCHEMA_VERSION, SlowPollSite, Spread, StageSection, SubscriberSection, TaskPollsSection,
    ToolInfo, WorkerSection,
};
#[doc(hidden)]
pub use stats::record_latencies;

/// Measures what the probes in `config.probes` cost: `pairs` pairs of runs with no probe and with
/// those probes, interleaved (ABBA), each a saturation and a fixed-rate phase at one shared rate.
/// Attach the answer to results as `results.profiler.overhead`.
pub fn measure_overhead<Src>(
    pipeline: &Pipeline<Src>,
    config: &RunConfig,
    pairs: usize,
    observer: &dyn Observer,
) -> Result<OverheadSection>
where
    Src: AsyncSource,
    Src::Item: Sync,
{
    config.validate(pipeline.stage_names(), pipeline.subscribers())?;
    if pairs == 0 {
        return Err(ProfilerError::InvalidConfig(
            "overhead needs at least one pair of runs".into(),
        ));
    }
    overhead::measure_overhead(pipeline, config, pairs, observer)
}

/// Runs `config.warmup` and then `config.length` messages (both counts) through `pipeline`'s
/// stage functions in a plain loop on the calling thread — limit mode with one thread, no
/// probes, no other thread — and returns the counts. It exists to be counted instruction by
/// instruction under Valgrind (`cargo xtask instructions`, docs/performance.md): only the
/// measured messages run inside a function named `measured_window`.
pub fn run_plain_loop<Src>(pipeline: &Pipeline<Src>, config: &RunConfig) -> Result<PlainLoopCounts>
where
    Src: AsyncSource,
    Src::Item: Sync,
{
    config.validate(pipeline.stage_names(), pipeline.subscribers())?;
    driver::run_plain_loop(pipeline, config)
}

/// Runs `pipeline` as `config` says and returns its results. `workload` describes the workload's
/// own settings for `environment.workload` (use `Value::Null` if there are none).
pub fn run<Src>(
    pipeline: &Pipeline<Src>,
    config: &RunConfig,
    observer: &dyn Observer,
    workload: serde_json::Value,
) -> Result<Results>
where
    Src: AsyncSource,
    Src::Item: Sync,
{
    let environment = environment::capture(config.to_json(), workload);
    // The server's statement statistics are reset before the run, so that its count of the
    // stage's statement afterwards is the run's.
    if let Some(database) = &config.database {
        database.begin_run();
    }
    let outcome = driver::drive(pipeline, config, observer)?;
    let mut results = results::assemble(
        &outcome,
        environment,
        pipeline.stage_names(),
        config.subscriber_lag_threshold.as_secs_f64() * 1e3,
        &config.probes.names(),
    );
    if let Some(database) = &config.database {
        let section = database.finish();
        if section.server.is_none() {
            results.warnings.push(format!(
                "database: the server's own count of the queries could not be read from {} (neither pg_stat_statements nor pg_stat_database)",
                section.endpoint
            ));
        }
        results.database = Some(section);
    }
    Ok(results)
}

/// Runs `pipeline` `repeat` times (at least once) and returns the first run's results with every
/// repetition's key figures and their spread in `repetitions` (left `None` for one run).
///
/// Each repetition is a fresh pipeline with its own warm-up, as a single run is. The latency
/// phase of every repetition runs at the rate the first one used, so their latencies are
/// comparable; the CPU profile and the other probe sections are the first run's.
pub fn run_repeated<Src>(
    pipeline: &Pipeline<Src>,
    config: &RunConfig,
    observer: &dyn Observer,
    workload: serde_json::Value,
    repeat: usize,
) -> Result<Results>
where
    Src: AsyncSource,
    Src::Item: Sync,
{
    let mut first = run(pipeline, config, observer, workload.clone())?;
    if repeat <= 1 {
        return Ok(first);
    }
    let mut again = config.clone();
    if let Some(rate) = first.latency.as_ref().and_then(|latency| latency.rate_per_second) {
        again.rate = Some(rate);
    }
    let mut runs = vec![results::key_figures(&first)];
    for _ in 1..repeat {
        let results = run(pipeline, &again, observer, workload.clone())?;
        runs.push(results::key_figures(&results));
    }
    let warmup = match config.warmup {
        Length::Messages(messages) => format!("{messages} messages"),
        Length::Duration(duration) => format!("{:.3} s", duration.as_secs_f64()),
    };
    let policy = format!(
        "{repeat} repetitions, each on a fresh pipeline with its own warm-up ({warmup}); the latency phase of \
         every repetition at the first one's rate; probe sections and profiles are the first repetition's"
    );
    first.repetitions = Some(results::summarise_repetitions(runs, policy));
    Ok(first)
}

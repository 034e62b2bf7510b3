//! Chaos runs on the public API: a fault injected into a fixed-rate phase at a set time for a
//! set duration ([`Fault`], [`FaultKind`]), and what the pipeline did — the steady-state band
//! before it, the degraded ratio during it, the time to recover after it, errors by kind,
//! deliveries dropped, the backlog's peak and drain, and the message accounting — for the
//! default workload (`--chaos`, `cargo xtask chaos`) and a user's own pipeline alike
//! ([`run_chaos`]).
//!
//! Each scenario is one fixed-rate phase on a fresh pipeline with the probes off (they would be
//! part of what is measured): `before` of steady state, the fault for `fault`, then `after` to
//! recover. The timeline is read in windows of [`WINDOW`] aligned to the measured window's
//! start: throughput and p99 of the messages finished in each (from a latency recorder on the
//! terminals), and the open-loop backlog at its end (messages due by the feeder's schedule, not
//! yet finished). The same seed gives the same fault times, strengths and injected errors.

mod analysis;
mod recorder;

use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use perfgate_results::chaos::CHAOS_SCENARIOS;
use perfgate_results::{ChaosScenario, ChaosSection, ChaosTimeline};

pub use crate::faults::{Fault, FaultKind};

use crate::config::{Probes, RunConfig};
use crate::driver::{FAULT_SAMPLE, PhaseOutcome, drive};
use crate::error::{ProfilerError, Result};
use crate::length::Length;
use crate::observer::Observer;
use crate::pipeline::{AsyncSource, Pipeline};
use recorder::{LatencySlices, Recorder};

/// The window the timeline is read in.
pub const WINDOW: Duration = FAULT_SAMPLE;

/// How a chaos run is timed, and its seed.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    /// Steady state before the fault (default 3 s): the band is read from it.
    pub before: Duration,
    /// The fault's duration (default 2 s).
    pub fault: Duration,
    /// Time after the fault to recover in (default 5 s); a pipeline not back in its band by then
    /// "did not recover".
    pub after: Duration,
    /// The fixed rate offered, messages/s; default [`ChaosOptions::rate_fraction`] of the
    /// saturation throughput, measured first.
    pub rate: Option<f64>,
    /// The share of saturation offered when no rate is given (default 0.3). Far enough below
    /// the limit to be a steady state for the whole phase: the default workload at half its
    /// saturation builds a backlog within 10 s with no fault at all (p50 0.6 ms, p99 12 ms over
    /// 10 s, against 0.11 ms and 1.4 ms at 30 %), and a steady state that is not steady has no
    /// band to recover to.
    pub rate_fraction: f64,
    /// Seeds the faults' choices (default 42).
    pub seed: u64,
}

impl Default for ChaosOptions {
    fn default() -> Self {
        Self {
            before: Duration::from_secs(3),
            fault: Duration::from_secs(2),
            after: Duration::from_secs(5),
            rate: None,
            rate_fraction: 0.3,
            seed: 42,
        }
    }
}

impl ChaosOptions {
    /// Shorter phases, for CI and a first look: 1.5 s, 1 s, 3 s.
    pub fn quick() -> Self {
        Self {
            before: Duration::from_millis(1_500),
            fault: Duration::from_secs(1),
            after: Duration::from_secs(3),
            ..Self::default()
        }
    }
}

/// A named fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// One of [`CHAOS_SCENARIOS`]' names, or the caller's own.
    pub name: String,
    /// What is injected, and when.
    pub fault: Fault,
}

/// The names of the scenarios [`scenario`] knows.
pub fn scenario_names() -> impl Iterator<Item = &'static str> {
    CHAOS_SCENARIOS.iter().map(|(name, _)| *name)
}

/// The scenario `name` for a pipeline with `stages` and `subscribers`, timed by `options`; `None`
/// for an unknown name or one the pipeline cannot take (a subscriber stall without subscribers).
///
/// Which stage a fault hits: the dependency that slows is the one a lookup stage calls
/// (`enrich` if there is one, else the middle stage); the error burst hits the first stage (a
/// parser rejecting input); the panic the last (`aggregate`'s kind of state is what a restart
/// loses).
pub fn scenario(
    name: &str,
    stages: &[String],
    subscribers: usize,
    options: &ChaosOptions,
) -> Option<Scenario> {
    let named = |wanted: &str, fallback: usize| {
        stages
            .iter()
            .find(|stage| *stage == wanted)
            .or_else(|| stages.get(fallback))
            .cloned()
    };
    let last = stages.len().checked_sub(1)?;
    let kind = match name {
        "slow_dependency" => FaultKind::SlowStage {
            stage: named("enrich", stages.len() / 2)?,
            factor: 10.0,
        },
        "error_burst" => FaultKind::ErrorBurst {
            stage: named("decode", 0)?,
            share: 0.2,
        },
        "subscriber_stall" if subscribers > 0 => FaultKind::SubscriberStall { subscriber: 0 },
        "blocked_worker" => FaultKind::BlockedWorker,
        "stage_panic" => FaultKind::StagePanic {
            stage: named("aggregate", last)?,
        },
        "load_burst" => FaultKind::LoadBurst { factor: 3.0 },
        _ => return None,
    };
    Some(Scenario {
        name: name.to_owned(),
        fault: Fault {
            kind,
            start: options.before,
            duration: options.fault,
            seed: options.seed,
        },
    })
}

/// Every known scenario the pipeline can take.
pub fn all_scenarios(stages: &[String], subscribers: usize, options: &ChaosOptions) -> Vec<Scenario> {
    scenario_names()
        .filter_map(|name| scenario(name, stages, subscribers, options))
        .collect()
}

/// Runs each scenario on `pipeline`: a fixed-rate phase with its fault, analysed. `config`
/// supplies the pipeline's settings (batch size, workers, queues); the phases, probes, length
/// and rate are the chaos run's own. `on_scenario` hears each result as it comes.
pub fn run_chaos<Src>(
    pipeline: &Pipeline<Src>,
    config: &RunConfig,
    scenarios: &[Scenario],
    options: &ChaosOptions,
    observer: &dyn Observer,
    on_scenario: &mut dyn FnMut(&str, &ChaosScenario),
) -> Result<ChaosSection>
where
    Src: AsyncSource,
    Src::Item: Sync,
{
    let mut base = config.clone();
    base.limit = false;
    base.lag_comparison = false;
    base.heap_profile = false;
    base.probes = Probes::NONE;
    base.fault = None;
    let rate = match options.rate {
        Some(rate) if rate.is_finite() && rate > 0.0 => rate,
        Some(rate) => {
            return Err(ProfilerError::InvalidConfig(format!(
                "chaos: rate {rate}: give a rate above 0 msg/s"
            )));
        }
        None => {
            let mut flat_out = base.clone();
            flat_out.saturation = true;
            flat_out.fixed_rate = false;
            let saturation = drive(pipeline, &flat_out, observer)?
                .saturation
                .map_or(0.0, |phase| phase.messages_per_second());
            (saturation * options.rate_fraction.clamp(0.01, 1.0)).max(crate::config::MIN_RATE)
        }
    };
    let window_s = options.before + options.fault + options.after;
    base.saturation = false;
    base.fixed_rate = true;
    base.rate = Some(rate);
    base.length = Length::Duration(window_s);
    base.warmup = Length::Duration(Duration::from_millis(500));
    // Every scenario checked before the first runs.
    for scenario in scenarios {
        let mut check = base.clone();
        check.fault = Some(scenario.fault.clone());
        check.validate(pipeline.stage_names(), pipeline.subscribers())?;
    }
    let mut section = ChaosSection {
        seed: options.seed,
        window_ms: WINDOW.as_secs_f64() * 1e3,
        scenarios: IndexMap::new(),
    };
    for scenario in scenarios {
        let recorder = Arc::new(Recorder {
            // The phase's run clock: warm-up, window, drain and some room.
            slices: LatencySlices::new((window_s + Duration::from_secs(15)).as_nanos() as u64),
            next: config.live.clone(),
        });
        let mut run = base.clone();
        run.fault = Some(scenario.fault.clone());
        run.live = Some(recorder.clone());
        let phase = drive(pipeline, &run, observer)?.fixed_rate.ok_or_else(|| {
            ProfilerError::InvalidConfig("chaos: the fixed-rate phase did not run".to_owned())
        })?;
        let result = measure(scenario, &phase, &recorder.slices, rate, window_s);
        on_scenario(&scenario.name, &result);
        section.scenarios.insert(scenario.name.clone(), result);
    }
    Ok(section)
}

/// The scenario's figures from its phase.
fn measure(
    scenario: &Scenario,
    phase: &PhaseOutcome,
    slices: &LatencySlices,
    rate: f64,
    window: Duration,
) -> ChaosScenario {
    let fault = &scenario.fault;
    let record = phase.faults.clone().unwrap_or_default();
    let timeline = timeline(&record, slices, phase.last_measured_ns);
    let (start_s, end_s) = (
        fault.start.as_secs_f64(),
        (fault.start + fault.duration).as_secs_f64(),
    );
    let verdict = analysis::analyse(
        &timeline,
        WINDOW.as_secs_f64(),
        (start_s, end_s),
        window.as_secs_f64(),
    );
    let errors = phase.errors();
    let lost: u64 = phase.subscribers.iter().map(|subscriber| subscriber.lost).sum();
    let (target, strength) = match &fault.kind {
        FaultKind::SlowStage { stage, factor } => (Some(stage.clone()), *factor),
        FaultKind::ErrorBurst { stage, share } => (Some(stage.clone()), *share),
        FaultKind::SubscriberStall { subscriber } => (Some(format!("subscriber {subscriber}")), 1.0),
        FaultKind::BlockedWorker => (None, 1.0),
        FaultKind::StagePanic { stage } => (Some(stage.clone()), 1.0),
        FaultKind::LoadBurst { factor } => (None, *factor),
    };
    let description = CHAOS_SCENARIOS
        .iter()
        .find(|(name, _)| *name == scenario.name)
        .map_or_else(|| format!("{:?}", fault.kind), |(_, what)| (*what).to_owned());
    let mut result = ChaosScenario {
        fault: description,
        target,
        strength,
        offered_per_second: rate,
        fault_start_s: start_s,
        fault_end_s: end_s,
        window_s: window.as_secs_f64(),
        errors_by_kind: errors
            .iter()
            .map(|(kind, count)| (kind.to_owned(), count))
            .collect(),
        dropped_deliveries: phase.dropped.iter().sum::<u64>() + lost,
        generated: phase.feed.generated(),
        processed: phase.processed,
        errors: errors.total(),
        timeline,
        ..ChaosScenario::default()
    };
    if let Some(verdict) = verdict {
        result.band = verdict.band;
        result.degraded_throughput_ratio = verdict.degraded_throughput_ratio;
        result.degraded_p99_ratio = verdict.degraded_p99_ratio;
        result.recovered = verdict.recovery_s.is_some();
        result.recovery_s = verdict.recovery_s;
        result.backlog_peak = verdict.backlog_peak;
        result.backlog_drain_s = verdict.backlog_drain_s;
    }
    result
}

/// The phase in windows of [`WINDOW`] from the measured window's start until its last message
/// finished.
fn timeline(record: &crate::driver::FaultRecord, slices: &LatencySlices, last_ns: u64) -> ChaosTimeline {
    let mut out = ChaosTimeline::default();
    let start = record.window_start_ns;
    if start == 0 {
        return out;
    }
    let step = WINDOW.as_nanos() as u64;
    let mut end = start + step;
    while end <= last_ns + step {
        let merged = slices.merged(end - step, end);
        out.t_s.push((end - start) as f64 / 1e9);
        out.throughput.push(merged.count() as f64 / WINDOW.as_secs_f64());
        out.p99_ms
            .push(merged.quantile_ns(0.99).map(|ns| ns as f64 / 1e6));
        // The backlog sample nearest the window's end.
        let backlog = record
            .backlog
            .iter()
            .min_by_key(|(at, _)| at.abs_diff(end))
            .map_or(0, |(_, left)| *left);
        out.backlog.push(backlog as f64);
        end += step;
    }
    out
}

//! Drives a pipeline through a run: the saturation phase (throughput), `limit` mode (the
//! physical reference) and the fixed-rate phase (latency), in that order, each on a fresh
//! pipeline. Knows nothing of any particular workload.

mod feed;
mod limit;
mod overhead;
mod phase;
mod sampler;

use std::time::Duration;

pub(crate) use feed::{FEED_TICK_NS, Pacing};
pub(crate) use limit::LimitOutcome;
pub(crate) use overhead::measure_overhead;
pub(crate) use phase::{PhaseOutcome, StageOutcome};

use crate::config::{Length, RunConfig};
use crate::error::Result;
use crate::pipeline::{Pipeline, Source};

/// Told what a run is doing, e.g. to draw a progress bar. Called from the driver's threads.
pub trait Observer: Sync {
    /// A phase (`saturation`, `limit`, `fixed_rate`) begins.
    fn phase_started(&self, _phase: &PhaseStart) {}
    /// Messages finished so far in the current phase (warm-up included), about every 100 ms.
    fn progress(&self, _finished: u64, _elapsed: Duration) {}
    /// The phase has ended.
    fn phase_finished(&self, _name: &str) {}
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {}

/// Describes a phase that is starting.
#[derive(Debug, Clone, Copy)]
pub struct PhaseStart {
    /// `saturation`, `limit` or `fixed_rate`.
    pub name: &'static str,
    /// Its measured length.
    pub length: Length,
    /// Its warm-up.
    pub warmup: Length,
    /// The fixed rate, messages/s, for the fixed-rate phase.
    pub rate: Option<f64>,
}

/// Everything a run measured.
#[derive(Debug)]
pub(crate) struct RunOutcome {
    pub(crate) saturation: Option<PhaseOutcome>,
    pub(crate) limit: Option<LimitOutcome>,
    pub(crate) fixed_rate: Option<PhaseOutcome>,
    /// What the CPU profiler keeps for itself, when it ran.
    pub(crate) footprint: Option<crate::probe::cpu::ProfilerFootprint>,
}

pub(crate) fn drive<Src>(
    pipeline: &Pipeline<Src>,
    config: &RunConfig,
    observer: &dyn Observer,
) -> Result<RunOutcome>
where
    Src: Source,
    Src::Item: Sync,
{
    config.validate(pipeline.stage_names(), pipeline.subscribers())?;
    let footprint = config
        .probes
        .cpu
        .then(|| crate::probe::cpu::prepare(config.cpu_hz));
    let excluded = footprint.unwrap_or_default();
    let saturation = match config.saturation {
        true => Some(phase::run_phase(
            pipeline,
            config,
            Pacing::Saturation,
            true,
            excluded,
            observer,
        )?),
        false => None,
    };
    let limit = match config.limit {
        true => Some(limit::run_limit(pipeline, config, observer)?),
        false => None,
    };
    let fixed_rate = match config.fixed_rate {
        true => {
            let rate = config.rate.unwrap_or_else(|| {
                let measured = saturation.as_ref().map_or(0.0, PhaseOutcome::messages_per_second);
                // Validation guarantees a saturation phase ran when no rate was given.
                (measured * config.rate_fraction).max(1.0)
            });
            // The CPU profile covers the throughput phase; it falls to this one only if that
            // did not run.
            let profile_cpu = saturation.is_none();
            Some(phase::run_phase(
                pipeline,
                config,
                Pacing::Rate(rate),
                profile_cpu,
                excluded,
                observer,
            )?)
        }
        false => None,
    };
    Ok(RunOutcome {
        saturation,
        limit,
        fixed_rate,
        footprint,
    })
}

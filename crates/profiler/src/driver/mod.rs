//! Drives a pipeline through a run: the saturation phase (throughput), `limit` mode (the
//! physical reference) and the fixed-rate phase (latency), in that order, each on a fresh
//! pipeline. Knows nothing of any particular workload, nor of what reads its figures: the live
//! sink, if the run has one, is handed down to the pipeline's terminals and the lag sampler.

mod fault_control;
mod feed;
mod limit;
mod phase;

pub(crate) use fault_control::FaultRecord;
pub(crate) use feed::{FEED_TICK_NS, Pacing};
pub use limit::PlainLoopCounts;
pub(crate) use limit::{LimitOutcome, run_plain_loop};

pub(crate) use phase::{FAULT_SAMPLE, PhaseOutcome, StageOutcome};

use crate::config::RunConfig;
use crate::error::Result;
use crate::observer::{Both, Observer};
use crate::pipeline::{AsyncSource, Pipeline};

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
    Src: AsyncSource,
    Src::Item: Sync,
{
    config.validate(pipeline.stage_names(), pipeline.subscribers())?;
    // The live sink hears the phases and the progress as the caller does, so that it can tell
    // which phase the latencies it gets belong to.
    let both;
    let observer: &dyn Observer = match &config.live {
        Some(live) => {
            both = Both(observer, &**live);
            &both
        }
        None => observer,
    };
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
        true => {
            // The limit threads' pools, sampled as one timeline.
            let _database = config
                .database
                .as_ref()
                .map(|database| database.begin_phase("limit"));
            Some(limit::run_limit(pipeline, config, observer)?)
        }
        false => None,
    };
    let fixed_rate = match config.fixed_rate {
        true => {
            let rate = config.rate.unwrap_or_else(|| {
                let measured = saturation.as_ref().map_or(0.0, PhaseOutcome::messages_per_second);
                // Validation guarantees a saturation phase ran when no rate was given.
                (measured * config.rate_fraction).max(1.0)
            });
            // The heap profile covers the throughput phase; it falls to this one only if that
            // did not run. (The CPU profile covers both phases, see `phase::run_phase`.)
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

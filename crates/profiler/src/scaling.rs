//! Throughput at several runtime worker counts, on the public API so that a user's own pipeline
//! can be measured the way `cargo xtask scaling` measures the default one: each point a
//! saturation phase on a fresh pipeline with the probes off, the worker counts run in the
//! interleaved order of [`perfgate_stats::interleave`] so that the machine's drift costs every
//! count alike. Fit the answer with [`perfgate_stats::fit_usl`] and
//! [`perfgate_stats::usl_intervals`] (docs/statistics.md, docs/capacity.md).

use crate::config::{Probes, RunConfig};
use crate::driver::drive;
use crate::error::{ProfilerError, Result};
use crate::observer::Observer;
use crate::pipeline::{AsyncSource, Pipeline};

/// One measured point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScalingPoint {
    /// Runtime worker threads.
    pub workers: usize,
    /// Which repeat, from 0.
    pub repeat: usize,
    /// Saturation throughput, messages per second.
    pub messages_per_second: f64,
}

impl ScalingPoint {
    /// `(workers, throughput)`, as the USL fit takes it.
    pub fn as_pair(&self) -> (f64, f64) {
        (self.workers as f64, self.messages_per_second)
    }
}

/// Measures `pipeline`'s saturation throughput at each of `workers` runtime worker counts,
/// `repeat` times, interleaved. `config` supplies everything else (its length, batch size, stage
/// workers); its phases, probes and runtime workers are this measurement's own. `on_point` hears
/// each point and how many are left; returning `false` stops after it, keeping what was measured.
pub fn measure_scaling<Src>(
    pipeline: &Pipeline<Src>,
    config: &RunConfig,
    workers: &[usize],
    repeat: usize,
    observer: &dyn Observer,
    on_point: &mut dyn FnMut(&ScalingPoint, usize) -> bool,
) -> Result<Vec<ScalingPoint>>
where
    Src: AsyncSource,
    Src::Item: Sync,
{
    if workers.is_empty() || repeat == 0 {
        return Err(ProfilerError::InvalidConfig(
            "scaling: give at least one worker count and one repeat".to_owned(),
        ));
    }
    let mut base = config.clone();
    base.saturation = true;
    base.fixed_rate = false;
    base.limit = false;
    base.lag_comparison = false;
    base.heap_profile = false;
    base.probes = Probes::NONE;
    // Every count is checked before the first runs, so a bad one costs no measurement.
    for &count in workers {
        let mut point = base.clone();
        point.runtime_workers = count;
        point.validate(pipeline.stage_names(), pipeline.subscribers())?;
    }
    let order = perfgate_stats::interleave(workers, repeat);
    let mut points = Vec::with_capacity(order.len());
    for (index, &(count, repeat)) in order.iter().enumerate() {
        let mut point_config = base.clone();
        point_config.runtime_workers = count;
        let throughput = drive(pipeline, &point_config, observer)?
            .saturation
            .map_or(0.0, |phase| phase.messages_per_second());
        let point = ScalingPoint {
            workers: count,
            repeat,
            messages_per_second: throughput,
        };
        points.push(point);
        if !on_point(&point, order.len() - index - 1) {
            break;
        }
    }
    Ok(points)
}

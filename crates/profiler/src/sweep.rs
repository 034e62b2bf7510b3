//! A sweep over a user's own pipeline, on the public API: the figures `cargo xtask sweep` measures
//! for the default workload (saturation throughput and CPU time per message, p50 and p99 at one
//! shared fixed rate), at every point of a grid of knob values, each point repeated in the
//! interleaved order of [`perfgate_stats::interleave`], and the best value by throughput or "no
//! clear winner" — judged by [`perfgate_results::sweep::analyse`], the same rule as the command.
//!
//! The knobs are the caller's: `build` gets each point's values (and a copy of the run settings
//! to change, for knobs such as the batch size or a stage's workers) and returns that point's
//! pipeline. Every point is built and its settings checked before the first run, so a bad value
//! costs no measurement. Each run is a fresh run of the point's pipeline with the probes off.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use perfgate_results::sweep::{SWEEP_METRICS, SweepMeasurement, SweepSettings, analyse, grid, label};
use perfgate_results::{SweepParam, SweepSection};

use crate::config::{Probes, RunConfig};
use crate::driver::{PhaseOutcome, drive};
use crate::error::{ProfilerError, Result};
use crate::observer::Observer;
use crate::pipeline::{AsyncSource, Pipeline};

/// The most points a grid may have (as `cargo xtask sweep`): a larger grid is more often a typo
/// than a plan.
pub const MAX_POINTS: usize = 64;

/// How the sweep runs.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Runs per point (default 3), interleaved.
    pub repeat: usize,
    /// The fixed rate every point's latency is measured at, messages/s; default half the lowest
    /// saturation throughput of a first, saturation-only pass over the points (latency depends
    /// on the offered load, so the points' p99s compare only at one rate, and half the slowest
    /// point's limit leaves every point headroom).
    pub fixed_rate: Option<f64>,
    /// Confidence asked of each median's interval (default 0.95).
    pub confidence: f64,
    /// Set it to stop after the run in progress, keeping what was measured (Ctrl-C).
    pub stop: Arc<AtomicBool>,
}

impl Default for SweepOptions {
    fn default() -> Self {
        Self {
            repeat: 3,
            fixed_rate: None,
            confidence: 0.95,
            stop: Arc::default(),
        }
    }
}

/// One finished run, for progress.
#[derive(Debug, Clone)]
pub struct SweepProgress {
    /// The point's label, `batch=64 workers=2`.
    pub point: String,
    /// `None` for a run of the calibration pass, else the repeat, from 1.
    pub repeat: Option<usize>,
    /// Its saturation throughput, messages/s.
    pub messages_per_second: f64,
    /// Its p99 at the fixed rate, ms (`None` in the calibration pass).
    pub p99_ms: Option<f64>,
    /// Runs left after this one.
    pub left: usize,
    /// Time since the sweep started.
    pub elapsed: Duration,
}

/// Sweeps `params` (every combination of their values, the first varying slowest): `build`
/// makes each point's pipeline from its knob values and may change its copy of `config`; the
/// error it returns (a value it cannot take) stops the sweep before anything runs.
/// `on_run` hears each finished run. The section is what `cargo xtask sweep` writes (put it in a
/// run's results as `results.sweep` to report it); a run that fails stops the sweep, its
/// measured runs kept and the failure in `stopped`.
pub fn sweep<Src, F>(
    params: &[SweepParam],
    config: &RunConfig,
    options: &SweepOptions,
    observer: &dyn Observer,
    mut build: F,
    on_run: &mut dyn FnMut(&SweepProgress),
) -> Result<SweepSection>
where
    Src: AsyncSource,
    Src::Item: Sync,
    F: FnMut(&IndexMap<String, String>, &mut RunConfig) -> std::result::Result<Pipeline<Src>, String>,
{
    fn invalid<T>(why: String) -> Result<T> {
        Err(ProfilerError::InvalidConfig(format!("sweep: {why}")))
    }
    if params.is_empty() || params.iter().any(|param| param.values.is_empty()) {
        return invalid("give at least one knob, each with at least one value".to_owned());
    }
    for (index, param) in params.iter().enumerate() {
        if params[..index].iter().any(|other| other.knob == param.knob) {
            return invalid(format!("the knob {:?} is given twice", param.knob));
        }
    }
    let count: usize = params.iter().map(|param| param.values.len()).product();
    if count > MAX_POINTS {
        return invalid(format!("a grid of {count} points is more than {MAX_POINTS}"));
    }
    if options.repeat == 0 {
        return invalid("give at least one repeat".to_owned());
    }
    if !(options.confidence > 0.0 && options.confidence < 1.0) {
        return invalid(format!(
            "confidence {} is not between 0 and 1",
            options.confidence
        ));
    }
    if let Some(rate) = options.fixed_rate
        && !(rate.is_finite() && rate > 0.0)
    {
        return invalid(format!("fixed rate {rate}: give a rate above 0 msg/s"));
    }
    // Every point built and checked before the first run.
    let mut points = Vec::with_capacity(count);
    for knobs in grid(params) {
        let label = label(&knobs);
        let mut point_config = config.clone();
        point_config.probes = Probes::NONE;
        point_config.limit = false;
        point_config.lag_comparison = false;
        point_config.heap_profile = false;
        let pipeline =
            build(&knobs, &mut point_config).or_else(|why| invalid(format!("point {label}: {why}")))?;
        let mut check = point_config.clone();
        check.saturation = true;
        check.fixed_rate = true;
        check.validate(pipeline.stage_names(), pipeline.subscribers())?;
        points.push((label, point_config, pipeline));
    }

    let started = Instant::now();
    let stopped_by_caller = || options.stop.load(Ordering::Relaxed);
    let order = perfgate_stats::interleave(&(0..points.len()).collect::<Vec<_>>(), options.repeat);
    let calibration_runs = if options.fixed_rate.is_none() {
        points.len()
    } else {
        0
    };
    let total = calibration_runs + order.len();
    let mut done = 0;
    let mut stopped: Option<String> = None;

    let mut calibration = Vec::new();
    if options.fixed_rate.is_none() {
        for (label, point_config, pipeline) in &points {
            if stopped_by_caller() {
                stopped = Some("interrupted".to_owned());
                break;
            }
            let mut run = point_config.clone();
            run.saturation = true;
            run.fixed_rate = false;
            match drive(pipeline, &run, observer) {
                Ok(outcome) => {
                    let throughput = outcome
                        .saturation
                        .as_ref()
                        .map_or(0.0, PhaseOutcome::messages_per_second);
                    calibration.push(throughput);
                    done += 1;
                    on_run(&SweepProgress {
                        point: label.clone(),
                        repeat: None,
                        messages_per_second: throughput,
                        p99_ms: None,
                        left: total - done,
                        elapsed: started.elapsed(),
                    });
                }
                Err(error) => {
                    stopped = Some(format!("calibration of {label}: {error}"));
                    break;
                }
            }
        }
    }
    let fixed_rate = options.fixed_rate.or_else(|| {
        let lowest = calibration.iter().copied().fold(f64::INFINITY, f64::min);
        (calibration.len() == points.len() && lowest.is_finite() && lowest > 0.0)
            .then(|| (lowest * 0.5).round().max(crate::config::MIN_RATE))
    });
    if fixed_rate.is_none() && stopped.is_none() {
        stopped = Some("the calibration pass measured no throughput".to_owned());
    }

    let mut runs = Vec::new();
    if let (Some(rate), None) = (fixed_rate, &stopped) {
        for (position, &(point, repeat)) in order.iter().enumerate() {
            if stopped_by_caller() {
                stopped = Some("interrupted".to_owned());
                break;
            }
            let (label, point_config, pipeline) = &points[point];
            let mut run = point_config.clone();
            run.saturation = true;
            run.fixed_rate = true;
            run.rate = Some(rate);
            let run_started = Instant::now();
            let outcome = match drive(pipeline, &run, observer) {
                Ok(outcome) => outcome,
                Err(error) => {
                    stopped = Some(format!("{label} (repeat {}): {error}", repeat + 1));
                    break;
                }
            };
            let figures = figures(outcome.saturation.as_ref(), outcome.fixed_rate.as_ref());
            runs.push(SweepMeasurement {
                point,
                repeat,
                position,
                seconds: run_started.elapsed().as_secs_f64(),
                results: None,
                figures,
            });
            done += 1;
            on_run(&SweepProgress {
                point: label.clone(),
                repeat: Some(repeat + 1),
                messages_per_second: figures[0],
                p99_ms: figures[2].is_finite().then_some(figures[2]),
                left: total - done,
                elapsed: started.elapsed(),
            });
        }
    }
    let rate_source = match (options.fixed_rate, fixed_rate) {
        (Some(_), _) => "given",
        (None, Some(_)) => "half the lowest saturation throughput of a calibration pass",
        (None, None) => "none: the calibration pass did not finish",
    };
    Ok(analyse(
        SweepSettings {
            params: params.to_vec(),
            repeat: options.repeat,
            fixed_rate_per_second: fixed_rate,
            rate_source: rate_source.to_owned(),
            confidence: options.confidence,
            stopped,
            duration_seconds: started.elapsed().as_secs_f64(),
        },
        &runs,
    ))
}

/// [`SWEEP_METRICS`]' values from a run's two phases; NaN where a phase did not measure one.
fn figures(saturation: Option<&PhaseOutcome>, fixed_rate: Option<&PhaseOutcome>) -> [f64; 4] {
    let throughput = saturation.map_or(f64::NAN, PhaseOutcome::messages_per_second);
    let latency_ms = |quantile: f64| {
        fixed_rate
            .filter(|phase| !phase.latency.is_empty())
            .map_or(f64::NAN, |phase| {
                phase.latency.value_at_quantile(quantile) as f64 / 1e6
            })
    };
    let cpu_ns_per_message = saturation
        .and_then(|phase| phase.probes.window_cpu)
        .filter(|(_, messages)| *messages > 0)
        .map_or(f64::NAN, |(cpu, messages)| {
            cpu.as_nanos() as f64 / messages as f64
        });
    let figures = [throughput, latency_ms(0.5), latency_ms(0.99), cpu_ns_per_message];
    debug_assert_eq!(figures.len(), SWEEP_METRICS.len());
    figures
}

//! Capacity at a service-level objective: the highest offered rate a pipeline sustains while
//! its latency meets the objective, found by an open-loop rate search on the pipeline itself
//! ([`find_capacity`], `--capacity SLO` on the command line).
//!
//! Each step is a fixed-rate phase on a fresh pipeline, probes off (they would cost the pipeline
//! what the search measures), long enough to reach a steady state. A step passes when every term
//! of the objective holds for the end-to-end latency (from each message's intended send time, so
//! a backlog shows up in full), the pipeline finished at least [`CapacityOptions::min_achieved_ratio`]
//! of the offered rate over the window — a backlog that grows over the window is exactly the
//! shortfall, `(offered − achieved) × window` messages — and it rejected at most
//! [`CapacityOptions::max_error_rate_percent`] of its messages.

mod search;
mod slo;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use perfgate_results::{CapacitySection, CapacityStep};

use crate::config::{Probes, RunConfig};
use crate::driver::{PhaseOutcome, drive};
use crate::error::Result;
use crate::length::Length;
use crate::observer::Observer;
use crate::pipeline::{AsyncSource, Pipeline};
use search::{Plan, Purpose, search};
pub use slo::{Percentile, Slo, SloTerm};

/// Each step measures at least this many messages.
pub const MIN_STEP_MESSAGES: f64 = 2_000.0;

/// How the search runs and what "sustained" means.
#[derive(Debug, Clone)]
pub struct CapacityOptions {
    /// The latency objective.
    pub slo: Slo,
    /// Each step's measured window (default 1 s).
    pub step: Duration,
    /// Each step's warm-up before it (default 250 ms): the pipeline reaches its steady state at
    /// the step's rate before anything is measured.
    pub warmup: Duration,
    /// A step is sustained only if the pipeline finished at least this share of the offered
    /// rate (default 0.99).
    pub min_achieved_ratio: f64,
    /// ... and rejected at most this percentage of its messages (default 1 %).
    pub max_error_rate_percent: f64,
    /// Bisect until the bracket is this narrow, relative (default 0.02).
    pub resolution: f64,
    /// Runs of each end of the final bracket beyond the first (default 2).
    pub repeats: usize,
    /// The first rate tried; default a quarter of the saturation throughput.
    pub start_rate: Option<f64>,
    /// The saturation throughput, when the caller measured it already (a run's saturation
    /// phase): the search then skips its own.
    pub saturation: Option<f64>,
    /// Set it to stop after the current step, keeping what was found (Ctrl-C).
    pub stop: Arc<AtomicBool>,
}

impl CapacityOptions {
    /// The defaults for `slo`.
    pub fn new(slo: Slo) -> Self {
        Self {
            slo,
            step: Duration::from_secs(1),
            warmup: Duration::from_millis(250),
            min_achieved_ratio: 0.99,
            max_error_rate_percent: 1.0,
            resolution: 0.02,
            repeats: 2,
            start_rate: None,
            saturation: None,
            stop: Arc::default(),
        }
    }
}

/// Finds the capacity of `pipeline` at `options.slo`: a saturation phase for the ceiling, then
/// the rate search. `config` supplies everything else (batch size, workers, queues); its phases,
/// lengths, rate and probes are the search's own. `on_step` hears each step as it ends (for
/// progress, with an estimate of the steps still to come). Interrupted through `options.stop`,
/// it returns what it found so far.
pub fn find_capacity<Src>(
    pipeline: &Pipeline<Src>,
    config: &RunConfig,
    options: &CapacityOptions,
    observer: &dyn Observer,
    on_step: &mut dyn FnMut(&CapacityStep, usize),
) -> Result<CapacitySection>
where
    Src: AsyncSource,
    Src::Item: Sync,
{
    let started = Instant::now();
    let mut base = config.clone();
    base.probes = Probes::NONE;
    base.limit = false;
    base.lag_comparison = false;
    base.heap_profile = false;
    base.warmup = Length::Duration(options.warmup);
    base.length = Length::Duration(options.step);
    let saturation = match options.saturation {
        Some(measured) => measured,
        None => {
            let mut flat_out = base.clone();
            flat_out.length = Length::Duration(options.step.max(Duration::from_secs(2)));
            flat_out.saturation = true;
            flat_out.fixed_rate = false;
            drive(pipeline, &flat_out, observer)?
                .saturation
                .map_or(0.0, |phase| phase.messages_per_second())
        }
    };
    // Below a thousandth of saturation a latency objective that fails is not about the rate.
    let floor = crate::config::MIN_RATE.max(saturation / 1_000.0);
    let plan = Plan {
        start: options.start_rate.unwrap_or(saturation / 4.0).max(floor),
        // Above saturation nothing can be sustained, but a short saturation window understates
        // a slow pipeline (it includes draining the warm-up's backlog: with 1,024 messages
        // queued at 2,000 msg/s, half a second): twice it leaves room.
        ceiling: (saturation * 2.0)
            .max(options.start_rate.unwrap_or(0.0))
            .max(floor),
        floor,
        growth: 1.5,
        resolution: options.resolution,
        max_bisections: 12,
        repeats: options.repeats,
        max_moves: 3,
    };
    let mut steps = Vec::new();
    let bracket = search(&plan, |rate, purpose, left| {
        if options.stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let mut fixed = base.clone();
        fixed.saturation = false;
        fixed.fixed_rate = true;
        fixed.rate = Some(rate);
        // A percentile needs samples: at least MIN_STEP_MESSAGES per step (a p99 of fifty
        // messages is their second largest), so slow rates get longer steps, up to a minute.
        let needed = Duration::from_secs_f64((MIN_STEP_MESSAGES / rate).min(60.0));
        fixed.length = Length::Duration(options.step.max(needed));
        let phase = drive(pipeline, &fixed, observer)?.fixed_rate;
        let step = judge(rate, purpose, phase.as_ref(), options);
        on_step(&step, left);
        let passed = step.passed;
        steps.push(step);
        Ok(Some(passed))
    })?;
    Ok(CapacitySection {
        slo: options.slo.to_string(),
        max_rate_per_second: bracket.map_or(0.0, |bracket| bracket.sustained),
        failed_rate_per_second: bracket.and_then(|bracket| bracket.failed),
        saturation_messages_per_second: saturation,
        min_achieved_ratio: options.min_achieved_ratio,
        max_error_rate_percent: options.max_error_rate_percent,
        step_seconds: options.step.as_secs_f64(),
        resolution_percent: options.resolution * 100.0,
        steps,
        duration_seconds: started.elapsed().as_secs_f64(),
    })
}

/// One step's figures, and whether they meet the objective and were sustained.
fn judge(
    rate: f64,
    purpose: Purpose,
    phase: Option<&PhaseOutcome>,
    options: &CapacityOptions,
) -> CapacityStep {
    let Some(phase) = phase else {
        return CapacityStep {
            purpose: purpose.name().to_owned(),
            offered_per_second: rate,
            missed: vec!["the phase did not run".to_owned()],
            ..CapacityStep::default()
        };
    };
    let ms = |quantile: f64| phase.latency.value_at_quantile(quantile) as f64 / 1e6;
    let achieved = phase.messages_per_second();
    let generated = phase.feed.generated().max(1) as f64;
    let error_rate_percent = phase.errors().total() as f64 / generated * 100.0;
    let mut missed = Vec::new();
    if phase.latency.is_empty() {
        missed.push("no message was measured".to_owned());
    }
    for term in &options.slo.terms {
        let value = match term.percentile {
            Percentile::Quantile(q) => ms(q / 100.0),
            Percentile::Max => phase.latency.max() as f64 / 1e6,
        };
        if value > term.limit_ms {
            missed.push(format!(
                "{} {value:.3} ms > {} ms",
                term.percentile, term.limit_ms
            ));
        }
    }
    if achieved < rate * options.min_achieved_ratio {
        missed.push(format!(
            "achieved {:.1} % of the offered rate (a growing backlog)",
            achieved / rate * 100.0
        ));
    }
    if error_rate_percent > options.max_error_rate_percent {
        missed.push(format!("{error_rate_percent:.2} % of messages rejected"));
    }
    if phase.feed.disconnected || phase.feed.source_ended {
        missed.push("the pipeline or its source ended early".to_owned());
    }
    CapacityStep {
        purpose: purpose.name().to_owned(),
        offered_per_second: rate,
        achieved_per_second: achieved,
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
        p999_ms: ms(0.999),
        max_ms: phase.latency.max() as f64 / 1e6,
        error_rate_percent,
        passed: missed.is_empty(),
        missed,
    }
}

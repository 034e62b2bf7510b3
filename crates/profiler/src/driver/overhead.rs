//! The probes' own cost: the same pipeline run with every probe off and with the configured
//! probes on, interleaved in ABBA order (off-on, on-off, ...) so that drift of a shared machine
//! hits both sides alike, each side at the same fixed rate. Per pair the effect is a ratio; the
//! median over pairs is reported.

use super::{Observer, PhaseOutcome, drive};
use crate::alloc;
use crate::config::{Probes, RunConfig};
use crate::error::Result;
use crate::pipeline::{Pipeline, Source};
use crate::results::{OverheadPair, OverheadSection};
use crate::stats::LatencySummary;

/// Throughput and fixed-rate p99 of one run.
fn measure<Src>(pipeline: &Pipeline<Src>, config: &RunConfig, observer: &dyn Observer) -> Result<(f64, f64)>
where
    Src: Source,
    Src::Item: Sync,
{
    // Counting allocations is part of the heap probe's cost, so it is switched off with it.
    let tracking = alloc::tracking();
    alloc::set_tracking(config.probes.heap);
    let outcome = drive(pipeline, config, observer);
    alloc::set_tracking(tracking);
    let outcome = outcome?;
    let throughput = outcome
        .saturation
        .as_ref()
        .map_or(0.0, PhaseOutcome::messages_per_second);
    let p99 = outcome
        .fixed_rate
        .as_ref()
        .and_then(|phase| LatencySummary::from_ns(&phase.latency))
        .map_or(0.0, |latency| latency.p99_ms);
    Ok((throughput, p99))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

/// Runs `pairs` pairs and reports the probes' cost. `config.probes` is the "on" side; the fixed
/// rate is `config.rate`, or half the first probe-free saturation throughput.
pub(crate) fn measure_overhead<Src>(
    pipeline: &Pipeline<Src>,
    config: &RunConfig,
    pairs: usize,
    observer: &dyn Observer,
) -> Result<OverheadSection>
where
    Src: Source,
    Src::Item: Sync,
{
    let off_config = RunConfig {
        probes: Probes::NONE,
        saturation: true,
        fixed_rate: true,
        limit: false,
        ..config.clone()
    };
    let rate = match config.rate {
        Some(rate) => rate,
        None => {
            let probe_run = RunConfig {
                fixed_rate: false,
                ..off_config.clone()
            };
            let (throughput, _) = measure(pipeline, &probe_run, observer)?;
            (throughput * config.rate_fraction).max(1.0)
        }
    };
    let off_config = RunConfig {
        rate: Some(rate),
        ..off_config
    };
    let on_config = RunConfig {
        probes: config.probes,
        ..off_config.clone()
    };
    let mut runs = Vec::with_capacity(pairs);
    for pair in 0..pairs {
        // ABBA: even pairs run off first, odd pairs on first.
        let (off, on) = if pair % 2 == 0 {
            let off = measure(pipeline, &off_config, observer)?;
            (off, measure(pipeline, &on_config, observer)?)
        } else {
            let on = measure(pipeline, &on_config, observer)?;
            (measure(pipeline, &off_config, observer)?, on)
        };
        runs.push(OverheadPair {
            throughput_off: off.0,
            throughput_on: on.0,
            p99_off_ms: off.1,
            p99_on_ms: on.1,
        });
    }
    let mut throughput_ratios: Vec<f64> = runs
        .iter()
        .map(|run| run.throughput_on / run.throughput_off.max(f64::MIN_POSITIVE))
        .collect();
    let mut p99_ratios: Vec<f64> = runs
        .iter()
        .map(|run| run.p99_on_ms / run.p99_off_ms.max(f64::MIN_POSITIVE))
        .collect();
    Ok(OverheadSection {
        pairs,
        order: "ABBA (pair 1: off, on; pair 2: on, off; ...)".to_owned(),
        throughput_ratio: median(&mut throughput_ratios),
        p99_ratio: median(&mut p99_ratios),
        rate_per_second: rate,
        probes: config.probes.names(),
        runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_is_robust_to_one_outlier() {
        assert_eq!(median(&mut [1.0, 1.02, 0.98, 5.0, 1.01]), 1.01);
        assert_eq!(median(&mut [1.0, 2.0]), 1.5);
    }
}

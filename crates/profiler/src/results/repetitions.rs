//! `--repeat N`: the measured windows run again on fresh pipelines, and each repetition's key
//! figures kept with their spread, so that a comparison can use several samples per side and a
//! reader can see how much a single run's figure can be trusted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Results;
use crate::stats::median;

/// Every repetition's key figures and their spread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepetitionsSection {
    /// Repetitions, the first (the full run whose sections fill the rest of the file) included.
    pub count: usize,
    /// How the repetitions were run (fresh pipelines, warm-up, fixed rate).
    pub policy: String,
    /// Each repetition's key figures by metric id (`cpu.messages_per_second`, `latency.p99_ms`, ...).
    pub runs: Vec<BTreeMap<String, f64>>,
    /// Per metric id, the spread over the repetitions.
    pub summary: BTreeMap<String, Spread>,
}

/// The spread of one figure over the repetitions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Median.
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Median absolute deviation from the median.
    pub mad: f64,
    /// `1.4826 · MAD / median` in percent: a robust coefficient of variation.
    pub robust_cv_percent: f64,
}

/// The figures kept per repetition, by the metric ids the report uses.
pub(crate) fn key_figures(results: &Results) -> BTreeMap<String, f64> {
    let mut figures = BTreeMap::new();
    let mut put = |id: &str, value: Option<f64>| {
        if let Some(value) = value.filter(|v| v.is_finite()) {
            figures.insert(id.to_owned(), value);
        }
    };
    let saturation_ran = results.phases.contains_key("saturation");
    put(
        "cpu.messages_per_second",
        saturation_ran.then_some(results.cpu.messages_per_second),
    );
    put("cpu.cpu_ns_per_message", results.cpu.cpu_ns_per_message);
    if let Some(latency) = &results.latency {
        put("latency.p50_ms", Some(latency.summary.p50_ms));
        put("latency.p99_ms", Some(latency.summary.p99_ms));
        put("latency.p999_ms", Some(latency.summary.p999_ms));
    }
    if let Some(memory) = &results.memory {
        put("memory.peak_mb", Some(memory.peak_mb));
        put(
            "memory.allocations_per_message",
            Some(memory.allocations_per_message),
        );
        put(
            "memory.bytes_allocated_per_message",
            Some(memory.bytes_allocated_per_message),
        );
    }
    if let Some(asyncio) = &results.asyncio {
        put("asyncio.event_loop_lag_ms", Some(asyncio.event_loop_lag_ms));
    }
    put("errors.total", Some(results.errors.total as f64));
    figures
}

/// The section for these repetitions' figures.
pub(crate) fn summarise(runs: Vec<BTreeMap<String, f64>>, policy: String) -> RepetitionsSection {
    let mut by_metric: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for run in &runs {
        for (id, value) in run {
            by_metric.entry(id.clone()).or_default().push(*value);
        }
    }
    let summary = by_metric
        .into_iter()
        .map(|(id, mut values)| {
            let middle = median(&mut values);
            let mut deviations: Vec<f64> = values.iter().map(|v| (v - middle).abs()).collect();
            let mad = median(&mut deviations);
            let spread = Spread {
                median: middle,
                min: values[0],
                max: values[values.len() - 1],
                mad,
                robust_cv_percent: if middle == 0.0 {
                    0.0
                } else {
                    1.4826 * mad / middle.abs() * 100.0
                },
            };
            (id, spread)
        })
        .collect();
    RepetitionsSection {
        count: runs.len(),
        policy,
        runs,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_robust() {
        let runs = [100.0, 102.0, 98.0, 101.0, 250.0]
            .iter()
            .map(|v| BTreeMap::from([("cpu.messages_per_second".to_owned(), *v)]))
            .collect();
        let section = summarise(runs, String::new());
        let spread = section.summary["cpu.messages_per_second"];
        assert_eq!(section.count, 5);
        assert_eq!(spread.median, 101.0);
        assert_eq!((spread.min, spread.max), (98.0, 250.0));
        assert_eq!(spread.mad, 1.0);
        assert!((spread.robust_cv_percent - 1.4826 / 101.0 * 100.0).abs() < 1e-9);
    }
}

//! Distributions recorded during a run. Every latency and service time goes into an
//! HdrHistogram (fixed memory, 3 significant digits); nothing keeps a vector of samples.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest recordable value: one hour in nanoseconds. Larger values are clamped, not lost.
const MAX_NS: u64 = 3_600 * 1_000_000_000;

/// A nanosecond histogram with a fixed range and 3 significant digits.
pub(crate) fn ns_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_NS, 3).expect("static histogram bounds are valid")
}

/// A histogram of counts (queue depths), exact up to 2048 and 3 significant digits above.
pub(crate) fn count_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 1 << 40, 3).expect("static histogram bounds are valid")
}

/// Adds `from` into `into`. Both come from the same constructor, so ranges always fit.
pub(crate) fn merge_into(into: &mut Histogram<u64>, from: &Histogram<u64>) {
    into.add(from)
        .expect("histograms built by the same constructor have the same range");
}

/// Latency percentiles in milliseconds, the unit the older tool's thresholds use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Messages recorded.
    pub count: u64,
    /// Smallest latency, ms.
    pub min_ms: f64,
    /// Arithmetic mean, ms.
    pub mean_ms: f64,
    /// Standard deviation, ms.
    pub stddev_ms: f64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// 99.9th percentile, ms.
    pub p999_ms: f64,
    /// Largest latency, ms.
    pub max_ms: f64,
}

/// Per-message service time of a stage, in microseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceTimeSummary {
    /// Messages recorded.
    pub count: u64,
    /// Mean, µs.
    pub mean_us: f64,
    /// Median, µs.
    pub p50_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// Largest, µs.
    pub max_us: f64,
}

/// Distribution of a sampled count, such as messages waiting in a queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepthSummary {
    /// Samples taken.
    pub samples: u64,
    /// Mean depth.
    pub mean: f64,
    /// Median depth.
    pub p50: u64,
    /// 99th percentile depth.
    pub p99: u64,
    /// Largest depth seen.
    pub max: u64,
}

const NS_PER_MS: f64 = 1e6;
const NS_PER_US: f64 = 1e3;

impl LatencySummary {
    /// Summarises a nanosecond histogram; `None` when it is empty.
    pub(crate) fn from_ns(h: &Histogram<u64>) -> Option<Self> {
        if h.is_empty() {
            return None;
        }
        let ms = |ns: u64| ns as f64 / NS_PER_MS;
        Some(Self {
            count: h.len(),
            min_ms: ms(h.min()),
            mean_ms: h.mean() / NS_PER_MS,
            stddev_ms: h.stdev() / NS_PER_MS,
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        })
    }
}

impl ServiceTimeSummary {
    /// Summarises a nanosecond histogram; `None` when it is empty.
    pub(crate) fn from_ns(h: &Histogram<u64>) -> Option<Self> {
        if h.is_empty() {
            return None;
        }
        let us = |ns: u64| ns as f64 / NS_PER_US;
        Some(Self {
            count: h.len(),
            mean_us: h.mean() / NS_PER_US,
            p50_us: us(h.value_at_quantile(0.50)),
            p99_us: us(h.value_at_quantile(0.99)),
            max_us: us(h.max()),
        })
    }
}

impl DepthSummary {
    /// Summarises a count histogram; `None` when no sample was taken.
    pub(crate) fn from_counts(h: &Histogram<u64>) -> Option<Self> {
        if h.is_empty() {
            return None;
        }
        Some(Self {
            samples: h.len(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.50),
            p99: h.value_at_quantile(0.99),
            max: h.max(),
        })
    }
}

/// Median of `values` (sorted in place; not empty). Shared by the overhead measurement and the
/// repetitions' spread.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_summary_converts_ns_to_ms_within_histogram_precision() {
        let mut h = ns_histogram();
        for value_us in 1..=1000u64 {
            h.record(value_us * 1_000).unwrap();
        }
        let s = LatencySummary::from_ns(&h).unwrap();
        assert_eq!(s.count, 1000);
        assert!((s.min_ms - 0.001).abs() < 1e-6, "{}", s.min_ms);
        assert!((s.p50_ms - 0.5).abs() < 0.001, "{}", s.p50_ms);
        assert!((s.p99_ms - 0.99).abs() < 0.001, "{}", s.p99_ms);
        assert!((s.max_ms - 1.0).abs() < 0.001, "{}", s.max_ms);
        assert!((s.mean_ms - 0.5005).abs() < 0.001, "{}", s.mean_ms);
    }

    #[test]
    fn empty_histograms_have_no_summary() {
        assert!(LatencySummary::from_ns(&ns_histogram()).is_none());
        assert!(ServiceTimeSummary::from_ns(&ns_histogram()).is_none());
        assert!(DepthSummary::from_counts(&count_histogram()).is_none());
    }

    #[test]
    fn out_of_range_values_saturate_instead_of_failing() {
        let mut h = ns_histogram();
        h.saturating_record(u64::MAX);
        assert_eq!(h.len(), 1);
        assert!(h.max() >= MAX_NS - MAX_NS / 1000);
    }

    #[test]
    fn merge_adds_counts() {
        let mut a = ns_histogram();
        let mut b = ns_histogram();
        a.record(10).unwrap();
        b.record_n(20, 3).unwrap();
        merge_into(&mut a, &b);
        assert_eq!(a.len(), 4);
    }
}

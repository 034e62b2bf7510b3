//! Distributions recorded during a run. Every latency and service time goes into an
//! HdrHistogram (fixed memory, 3 significant digits); nothing keeps a vector of samples. The
//! summaries written to results (`perfgate-results`) are made from them here.

use hdrhistogram::Histogram;
use perfgate_results::{DepthSummary, LatencySummary, ServiceTimeSummary};

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

const NS_PER_MS: f64 = 1e6;
const NS_PER_US: f64 = 1e3;

/// The summaries written to results, from the histograms a run records.
pub(crate) trait FromHistogram: Sized {
    /// Summarises a histogram; `None` when it is empty.
    fn from_histogram(h: &Histogram<u64>) -> Option<Self>;
}

impl FromHistogram for LatencySummary {
    /// From nanoseconds, in milliseconds.
    fn from_histogram(h: &Histogram<u64>) -> Option<Self> {
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

impl FromHistogram for ServiceTimeSummary {
    /// From nanoseconds, in microseconds.
    fn from_histogram(h: &Histogram<u64>) -> Option<Self> {
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

impl FromHistogram for DepthSummary {
    /// From counts.
    fn from_histogram(h: &Histogram<u64>) -> Option<Self> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_summary_converts_ns_to_ms_within_histogram_precision() {
        let mut h = ns_histogram();
        for value_us in 1..=1000u64 {
            h.record(value_us * 1_000).unwrap();
        }
        let s = LatencySummary::from_histogram(&h).unwrap();
        assert_eq!(s.count, 1000);
        assert!((s.min_ms - 0.001).abs() < 1e-6, "{}", s.min_ms);
        assert!((s.p50_ms - 0.5).abs() < 0.001, "{}", s.p50_ms);
        assert!((s.p99_ms - 0.99).abs() < 0.001, "{}", s.p99_ms);
        assert!((s.max_ms - 1.0).abs() < 0.001, "{}", s.max_ms);
        assert!((s.mean_ms - 0.5005).abs() < 0.001, "{}", s.mean_ms);
    }

    #[test]
    fn empty_histograms_have_no_summary() {
        assert!(LatencySummary::from_histogram(&ns_histogram()).is_none());
        assert!(ServiceTimeSummary::from_histogram(&ns_histogram()).is_none());
        assert!(DepthSummary::from_histogram(&count_histogram()).is_none());
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

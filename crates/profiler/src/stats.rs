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
/// Records the latency `done_ns - start` of every start in `starts` (ns, the same clock), as one
/// `saturating_record` per start would, but one `record_n` per run of equal starts: at saturation
/// a whole batch shares its start, so a batch costs one histogram update instead of one per
/// message. The histogram comes out identical either way.
pub fn record_latencies(histogram: &mut Histogram<u64>, done_ns: u64, starts: &[u64]) {
    let mut rest = starts;
    while let Some(&start) = rest.first() {
        let run = rest.iter().take_while(|&&other| other == start).count();
        histogram.saturating_record_n(done_ns.saturating_sub(start), run as u64);
        rest = &rest[run..];
    }
}

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
    fn latencies_recorded_by_runs_equal_latencies_recorded_one_by_one() {
        let starts = [100, 100, 100, 250, 250, 100, 900, 1_200];
        let mut by_runs = ns_histogram();
        record_latencies(&mut by_runs, 1_000, &starts);
        let mut one_by_one = ns_histogram();
        for start in starts {
            one_by_one.saturating_record(1_000u64.saturating_sub(start));
        }
        assert_eq!(by_runs, one_by_one);
        assert_eq!(by_runs.len(), 8);
        assert_eq!(by_runs.count_at(900), 4);
        assert_eq!(by_runs.count_at(750), 2);
        assert_eq!(
            by_runs.count_at(0),
            1,
            "a start after the end counts as 0, as before"
        );
        record_latencies(&mut by_runs, 1_000, &[]);
        assert_eq!(by_runs.len(), 8);
    }

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

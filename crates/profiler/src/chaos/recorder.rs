//! The chaos run's latency recorder: a [`LiveSink`] that files every finished message's
//! end-to-end latency into a histogram per 10 ms slice of the run clock, with relaxed atomic
//! adds only (it runs on the pipeline's hot path). The analysis merges the slices into windows
//! aligned to the measured window's start, so a window's edges are off by at most one slice.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::live_sink::LiveSink;
use crate::observer::Observer;

/// The slice of the run clock one histogram covers, ns.
pub(crate) const SLICE_NS: u64 = 10_000_000;
/// Sub-buckets per power of two: a value is known to within 1/16 (6 %).
const SUB: u32 = 16;
/// The smallest latency told apart, as a power of two of ns (1 µs).
const LOW_BITS: u32 = 10;
/// The largest, as a power of two of ns (about 69 s); anything above counts in the last bucket.
const HIGH_BITS: u32 = 36;
/// Buckets per slice.
const BUCKETS: usize = ((HIGH_BITS - LOW_BITS + 1) * SUB) as usize;

/// Latency histograms per slice of the run clock.
pub(crate) struct LatencySlices {
    /// `slices × BUCKETS` counts.
    counts: Vec<AtomicU32>,
    slices: usize,
}

impl fmt::Debug for LatencySlices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LatencySlices")
            .field("slices", &self.slices)
            .finish_non_exhaustive()
    }
}

impl LatencySlices {
    /// Room for a phase of `span_ns` of run clock; later finishes count in the last slice.
    pub(crate) fn new(span_ns: u64) -> Self {
        let slices = (span_ns / SLICE_NS + 1) as usize;
        Self {
            counts: (0..slices * BUCKETS).map(|_| AtomicU32::new(0)).collect(),
            slices,
        }
    }

    fn record(&self, finished_ns: u64, latency_ns: u64) {
        let slice = ((finished_ns / SLICE_NS) as usize).min(self.slices - 1);
        self.counts[slice * BUCKETS + bucket(latency_ns)].fetch_add(1, Ordering::Relaxed);
    }

    /// The latencies of messages finished in `[from_ns, to_ns)` of the run clock (whole slices:
    /// those starting in the span), as bucket counts.
    pub(crate) fn merged(&self, from_ns: u64, to_ns: u64) -> Merged {
        let first = (from_ns.div_ceil(SLICE_NS) as usize).min(self.slices);
        let last = (to_ns.div_ceil(SLICE_NS) as usize).min(self.slices);
        let mut counts = vec![0u64; BUCKETS];
        for slice in first..last {
            for (total, count) in counts
                .iter_mut()
                .zip(&self.counts[slice * BUCKETS..(slice + 1) * BUCKETS])
            {
                *total += u64::from(count.load(Ordering::Relaxed));
            }
        }
        Merged { counts }
    }
}

/// A window's merged latency histogram.
#[derive(Debug, Clone)]
pub(crate) struct Merged {
    counts: Vec<u64>,
}

impl Merged {
    /// Messages in it.
    pub(crate) fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The `q` quantile, ns (the upper edge of its bucket); `None` when empty.
    pub(crate) fn quantile_ns(&self, q: f64) -> Option<u64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(upper_edge(index));
            }
        }
        Some(upper_edge(BUCKETS - 1))
    }
}

/// The bucket of `ns`: 16 per power of two from 1 µs.
fn bucket(ns: u64) -> usize {
    let ns = ns.max(1 << LOW_BITS);
    let octave = 63 - ns.leading_zeros();
    if octave > HIGH_BITS {
        return BUCKETS - 1;
    }
    let sub = ((ns >> (octave - 4)) & u64::from(SUB - 1)) as u32;
    ((octave - LOW_BITS) * SUB + sub) as usize
}

/// The largest value of bucket `index`, ns.
fn upper_edge(index: usize) -> u64 {
    let octave = index as u32 / SUB + LOW_BITS;
    let sub = u64::from(index as u32 % SUB);
    ((u64::from(SUB) + sub + 1) << (octave - 4)) - 1
}

/// The sink the chaos run hands the driver: it files latencies, and passes everything on to the
/// caller's own sink (a `--serve-metrics` endpoint), if any.
#[derive(Debug)]
pub(crate) struct Recorder {
    pub(crate) slices: LatencySlices,
    pub(crate) next: Option<std::sync::Arc<dyn LiveSink>>,
}

impl Observer for Recorder {
    fn phase_started(&self, phase: &crate::observer::PhaseStart) {
        if let Some(next) = &self.next {
            next.phase_started(phase);
        }
    }

    fn progress(&self, finished: u64, elapsed: std::time::Duration) {
        if let Some(next) = &self.next {
            next.progress(finished, elapsed);
        }
    }

    fn phase_finished(&self, name: &str) {
        if let Some(next) = &self.next {
            next.phase_finished(name);
        }
    }
}

impl LiveSink for Recorder {
    fn record_latencies(&self, finished_ns: u64, started_ns: &[u64]) {
        for &start in started_ns {
            self.slices.record(finished_ns, finished_ns.saturating_sub(start));
        }
        if let Some(next) = &self.next {
            next.record_latencies(finished_ns, started_ns);
        }
    }

    fn record_longest_poll(&self, poll_ns: u64) {
        if let Some(next) = &self.next {
            next.record_longest_poll(poll_ns);
        }
    }

    fn record_errors(&self, count: u64) {
        if let Some(next) = &self.next {
            next.record_errors(count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_holds_its_value_within_a_sixteenth() {
        for ns in [1_500u64, 10_000, 123_456, 2_000_000, 999_999_999, 40_000_000_000] {
            let edge = upper_edge(bucket(ns));
            assert!(
                edge >= ns && (edge - ns) as f64 <= ns as f64 / 16.0 + 1.0,
                "{ns}: {edge}"
            );
        }
        assert_eq!(bucket(1), 0);
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn slices_merge_into_windows_and_give_the_quantile() {
        let slices = LatencySlices::new(1_000_000_000);
        // 100 messages in the first 10 ms at 1..=100 µs; one at 50 ms, in the next window.
        for i in 1..=100u64 {
            slices.record(5_000_000, i * 1_000);
        }
        slices.record(50_000_000, 7_000_000);
        let first = slices.merged(0, 20_000_000);
        assert_eq!(first.count(), 100);
        let p99 = first.quantile_ns(0.99).unwrap();
        assert!((99_000..=105_000).contains(&p99), "{p99}");
        let second = slices.merged(20_000_000, 100_000_000);
        assert_eq!(second.count(), 1);
        assert!(second.quantile_ns(0.99).unwrap() >= 7_000_000);
        assert_eq!(slices.merged(100_000_000, 200_000_000).quantile_ns(0.99), None);
    }
}

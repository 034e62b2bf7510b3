//! The live figures themselves: counters and histograms of relaxed atomics that the run writes
//! (as its [`LiveSink`] and [`Observer`]) and the endpoint reads.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::live_sink::LiveSink;
use crate::observer::{Observer, PhaseStart};

/// Upper bounds of the latency histogram's buckets, seconds (`+Inf` is implied): 50 µs to 5 s,
/// about three per decade, so a scrape resolves the median and the tail of a tokio pipeline.
pub const LATENCY_BUCKETS_S: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0,
];

/// The phases that measure latency, in the order of [`LiveMetrics::latency`].
pub(super) const LATENCY_PHASES: [&str; 2] = ["saturation", "fixed_rate"];

/// No phase is running (before the first, between and after them).
const NO_PHASE: usize = usize::MAX;

/// One phase's latency histogram: per bucket the count of samples at or below its bound (not
/// yet cumulative; the exposition sums them), plus the overflow, the sum and the count.
#[derive(Debug)]
pub(super) struct LatencyHistogram {
    pub(super) buckets: Vec<AtomicU64>,
    pub(super) sum_ns: AtomicU64,
    pub(super) count: AtomicU64,
}

impl LatencyHistogram {
    pub(super) fn new() -> Self {
        Self {
            buckets: (0..=LATENCY_BUCKETS_S.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_ns: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    fn record(&self, ns: u64) {
        let seconds = ns as f64 / 1e9;
        let bucket = LATENCY_BUCKETS_S.partition_point(|&bound| bound < seconds);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

/// The longest poll seen in the current second and in the one before, so that a scrape sees the
/// last full second whatever its timing (one writer: the sampler thread).
#[derive(Debug, Default)]
pub(super) struct RecentMax {
    second: AtomicU64,
    current_ns: AtomicU64,
    previous_ns: AtomicU64,
}

impl RecentMax {
    fn record(&self, second: u64, ns: u64) {
        let last = self.second.load(Ordering::Relaxed);
        if second != last {
            let carried = if second == last + 1 {
                self.current_ns.load(Ordering::Relaxed)
            } else {
                0
            };
            self.previous_ns.store(carried, Ordering::Relaxed);
            self.current_ns.store(0, Ordering::Relaxed);
            self.second.store(second, Ordering::Relaxed);
        }
        self.current_ns.fetch_max(ns, Ordering::Relaxed);
    }

    pub(super) fn read(&self, second: u64) -> u64 {
        let last = self.second.load(Ordering::Relaxed);
        match second.saturating_sub(last) {
            0 => self
                .current_ns
                .load(Ordering::Relaxed)
                .max(self.previous_ns.load(Ordering::Relaxed)),
            1 => self.current_ns.load(Ordering::Relaxed),
            _ => 0,
        }
    }
}

/// Everything the live exporter shows. Give it to a run as its [`LiveSink`]
/// ([`RunConfig::live`](crate::config::RunConfig::live)) and to `live::serve` to expose it.
#[derive(Debug)]
pub struct LiveMetrics {
    pub(super) started: Instant,
    pub(super) workload: String,
    pub(super) phase: AtomicUsize,
    pub(super) phase_names: [&'static str; 3],
    /// Messages finished in all phases so far (warm-up included).
    pub(super) messages: AtomicU64,
    /// Of those, messages a stage rejected.
    pub(super) errors: AtomicU64,
    /// Messages finished in the current phase when the observer last heard.
    phase_finished: AtomicU64,
    /// (elapsed ms, total messages) a second ago and now, for the recent throughput.
    rate_from: [AtomicU64; 2],
    rate_to: [AtomicU64; 2],
    pub(super) latency: [LatencyHistogram; 2],
    pub(super) longest_poll: RecentMax,
}

impl LiveMetrics {
    /// Live metrics labelled with `workload`, all zero, no phase running.
    pub fn new(workload: &str) -> Self {
        Self {
            started: Instant::now(),
            workload: workload.to_owned(),
            phase: AtomicUsize::new(NO_PHASE),
            phase_names: ["saturation", "fixed_rate", "limit"],
            messages: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            phase_finished: AtomicU64::new(0),
            rate_from: [AtomicU64::new(0), AtomicU64::new(0)],
            rate_to: [AtomicU64::new(0), AtomicU64::new(0)],
            latency: [LatencyHistogram::new(), LatencyHistogram::new()],
            longest_poll: RecentMax::default(),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Messages per second over about the last second.
    pub(super) fn recent_rate(&self) -> f64 {
        let (from_ms, from) = (
            self.rate_from[0].load(Ordering::Relaxed),
            self.rate_from[1].load(Ordering::Relaxed),
        );
        let (to_ms, to) = (
            self.rate_to[0].load(Ordering::Relaxed),
            self.rate_to[1].load(Ordering::Relaxed),
        );
        // Stale when no progress was heard for two seconds (between phases, after the run).
        if to_ms <= from_ms || self.elapsed_ms().saturating_sub(to_ms) > 2_000 {
            return 0.0;
        }
        (to - from) as f64 / ((to_ms - from_ms) as f64 / 1e3)
    }
}

impl LiveSink for LiveMetrics {
    /// Records the end-to-end latencies of a measured batch in the running phase's histogram.
    fn record_latencies(&self, finished_ns: u64, started_ns: &[u64]) {
        let phase = self.phase.load(Ordering::Relaxed);
        if let Some(histogram) = self.latency.get(phase) {
            for &start_ns in started_ns {
                histogram.record(finished_ns.saturating_sub(start_ns));
            }
        }
    }

    /// Records the longest task poll of a moment (the lag sampler calls this every 10 ms).
    fn record_longest_poll(&self, poll_ns: u64) {
        self.longest_poll
            .record(self.started.elapsed().as_secs(), poll_ns);
    }

    /// Counts rejected messages (a stage worker calls this per batch that had any).
    fn record_errors(&self, count: u64) {
        self.errors.fetch_add(count, Ordering::Relaxed);
    }
}

impl Observer for LiveMetrics {
    fn phase_started(&self, phase: &PhaseStart) {
        let index = self
            .phase_names
            .iter()
            .position(|name| *name == phase.name)
            .unwrap_or(NO_PHASE);
        self.phase_finished.store(0, Ordering::Relaxed);
        self.phase.store(index, Ordering::Relaxed);
    }

    fn progress(&self, finished: u64, _elapsed: Duration) {
        let before = self.phase_finished.swap(finished, Ordering::Relaxed);
        let total = self
            .messages
            .fetch_add(finished.saturating_sub(before), Ordering::Relaxed)
            + finished.saturating_sub(before);
        let now_ms = self.elapsed_ms();
        // Keep the window's start about a second behind its end (one writer: the sampler).
        if now_ms.saturating_sub(self.rate_from[0].load(Ordering::Relaxed)) > 1_000 {
            self.rate_from[0].store(self.rate_to[0].load(Ordering::Relaxed), Ordering::Relaxed);
            self.rate_from[1].store(self.rate_to[1].load(Ordering::Relaxed), Ordering::Relaxed);
        }
        self.rate_to[0].store(now_ms, Ordering::Relaxed);
        self.rate_to[1].store(total, Ordering::Relaxed);
    }

    fn phase_finished(&self, _name: &str) {
        self.phase.store(NO_PHASE, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::length::Length;

    #[test]
    fn latency_lands_in_the_first_bucket_whose_bound_it_does_not_exceed() {
        let histogram = LatencyHistogram::new();
        histogram.record(50_000); // exactly 50 µs: the first bucket
        histogram.record(50_001);
        histogram.record(10_000_000_000); // 10 s: overflow
        let counts: Vec<u64> = histogram
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        assert_eq!(counts[0], 1);
        assert_eq!(counts[1], 1);
        assert_eq!(counts[LATENCY_BUCKETS_S.len()], 1);
        assert_eq!(histogram.count.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn the_recent_longest_poll_covers_the_last_full_second() {
        let max = RecentMax::default();
        max.record(10, 5_000_000);
        max.record(11, 1_000_000);
        assert_eq!(max.read(11), 5_000_000, "the previous second still counts");
        assert_eq!(max.read(12), 1_000_000);
        assert_eq!(max.read(13), 0, "nothing recent");
        max.record(15, 2_000);
        assert_eq!(max.read(15), 2_000, "a gap forgets the old seconds");
    }

    #[test]
    fn progress_accumulates_across_phases_and_gives_a_rate() {
        let live = LiveMetrics::new("test");
        let phase = |name| PhaseStart {
            name,
            length: Length::Messages(1),
            warmup: Length::Messages(0),
            rate: None,
        };
        live.phase_started(&phase("saturation"));
        live.progress(1_000, Duration::ZERO);
        live.progress(3_000, Duration::ZERO);
        live.phase_finished("saturation");
        live.phase_started(&phase("fixed_rate"));
        live.progress(500, Duration::ZERO);
        assert_eq!(live.messages.load(Ordering::Relaxed), 3_500);
        live.record_latencies(3_000, &[2_000, 1_000]);
        assert_eq!(live.latency[1].count.load(Ordering::Relaxed), 2);
        assert_eq!(live.latency[0].count.load(Ordering::Relaxed), 0);
    }
}

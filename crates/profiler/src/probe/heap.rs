//! The heap during the measured window: where it starts, how high it goes, where it ends, how
//! much the pipeline allocates per message, and whether it grows steadily (a leak).
//!
//! Two sources, each used for what it measures best:
//! - the [`TrackingAllocator`](crate::alloc::TrackingAllocator) counts every allocation: exact
//!   changes of live bytes, their true peak (updated on allocation, not sampled), and
//!   allocation volume;
//! - jemalloc's statistics (when jemalloc is the global allocator) give absolute figures the
//!   allocator itself sees: allocated, resident and retained bytes.
//!
//! Baseline, final and peak are absolute: jemalloc's `allocated` at the window's start anchors
//! them when available, the tracked live bytes otherwise; changes within the window always come
//! from the tracking allocator. Memory the CPU profiler keeps for itself (measured once, before
//! any phase) is left out, so the figures describe the pipeline.

use std::time::Duration;

use super::series::{Merge, SeriesBuilder, TimeSeries};
use crate::alloc::{HeapCounters, heap_counters, reset_peak};

const MIB: f64 = 1024.0 * 1024.0;

/// jemalloc's view of the heap.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct JemallocReading {
    pub(crate) allocated: u64,
    pub(crate) resident: u64,
    pub(crate) retained: u64,
    pub(crate) active: u64,
    pub(crate) mapped: u64,
}

/// Reads jemalloc's statistics after refreshing them.
pub(crate) fn read_jemalloc() -> Option<JemallocReading> {
    use tikv_jemalloc_ctl::{epoch, stats};
    epoch::advance().ok()?;
    Some(JemallocReading {
        allocated: stats::allocated::read().ok()? as u64,
        resident: stats::resident::read().ok()? as u64,
        retained: stats::retained::read().ok()? as u64,
        active: stats::active::read().ok()? as u64,
        mapped: stats::mapped::read().ok()? as u64,
    })
}

/// Whether jemalloc serves this process's allocations: a 4 MiB allocation must show up in its
/// `allocated` statistic. (jemalloc is linked in either way, so merely reading it proves nothing.)
/// Decided once per process, and by the best of three tries: other threads freeing memory
/// between the two readings (a previous phase's pipeline being dropped) can hide the block, and
/// did, intermittently.
pub(crate) fn jemalloc_is_global() -> bool {
    static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ANSWER.get_or_init(|| (0..3).any(|_| block_shows_in_jemalloc()))
}

fn block_shows_in_jemalloc() -> bool {
    let Some(before) = read_jemalloc() else {
        return false;
    };
    let block = vec![1u8; 4 << 20];
    let after = read_jemalloc();
    std::hint::black_box(&block);
    after.is_some_and(|after| after.allocated >= before.allocated + (4 << 20))
}

/// Samples the heap during a window.
#[derive(Debug)]
pub(crate) struct HeapProbe {
    jemalloc: bool,
    interval_ns: u64,
    next_sample_ns: u64,
    window_start_ns: u64,
    start: Option<(HeapCounters, Option<JemallocReading>, u64)>,
    end: Option<(HeapCounters, Option<JemallocReading>, u64)>,
    series: SeriesBuilder,
    /// (seconds since window start, messages finished, live bytes) for the leak fit.
    fit_points: Vec<(f64, f64, f64)>,
    /// Live bytes that belong to the profiler itself (the CPU profiler's tables), left out.
    excluded_bytes: f64,
    /// jemalloc's resident bytes as last read, and when to read them next.
    resident: Option<u64>,
    next_resident_ns: u64,
}

/// How often jemalloc's resident bytes are read during the window. Reading them means advancing
/// jemalloc's statistics epoch, which merges every arena's counters under their locks; at the
/// 10 ms of the live-heap samples that was a measurable part of the heap probe's cost, and the
/// resident size (pages held, not bytes in use) moves slowly. Live bytes, which the tracking
/// allocator keeps for the price of a load, are still sampled every interval.
const RESIDENT_INTERVAL_NS: u64 = 100_000_000;

/// Everything the heap probe concluded.
#[derive(Debug, Clone)]
pub(crate) struct HeapOutcome {
    pub(crate) baseline_bytes: f64,
    pub(crate) peak_bytes: f64,
    pub(crate) final_bytes: f64,
    pub(crate) jemalloc_end: Option<JemallocReading>,
    pub(crate) allocations: u64,
    pub(crate) allocated_bytes: u64,
    pub(crate) messages: u64,
    pub(crate) leak: LeakFit,
    pub(crate) series: TimeSeries,
}

/// Linear fits of live bytes against time and against messages.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct LeakFit {
    pub(crate) bytes_per_second: f64,
    pub(crate) bytes_per_message: f64,
    /// R² of the fit against messages (1 = a perfectly steady trend).
    pub(crate) r_squared: f64,
    pub(crate) points: usize,
    /// Growth the fit predicts over the window, bytes.
    pub(crate) projected_growth: f64,
    pub(crate) suspected: bool,
}

/// Growth must be at least this steady (R² of the fit) to count as a leak.
pub(crate) const LEAK_MIN_R_SQUARED: f64 = 0.8;
/// And at least this large over the window, bytes...
pub(crate) const LEAK_MIN_BYTES: f64 = 4.0 * MIB;
/// ...and at least this share of the baseline heap.
pub(crate) const LEAK_MIN_SHARE: f64 = 0.10;

impl HeapProbe {
    /// A probe, or `None` if no tracking allocator is installed.
    pub(crate) fn new(interval: Duration, excluded_bytes: f64) -> Option<Self> {
        heap_counters()?;
        Some(Self {
            jemalloc: jemalloc_is_global(),
            interval_ns: interval.as_nanos() as u64,
            next_sample_ns: 0,
            window_start_ns: 0,
            start: None,
            end: None,
            series: SeriesBuilder::new(
                interval.as_secs_f64() * 1e3,
                &[
                    ("live_mb", Merge::Mean),
                    ("resident_mb", Merge::Mean),
                    ("messages", Merge::Last),
                ],
            ),
            fit_points: Vec::new(),
            excluded_bytes,
            resident: None,
            next_resident_ns: 0,
        })
    }

    pub(crate) fn jemalloc(&self) -> bool {
        self.jemalloc
    }

    pub(crate) fn start(&mut self, now_ns: u64, finished: u64) {
        let jemalloc = self.jemalloc.then(read_jemalloc).flatten();
        reset_peak();
        let counters = heap_counters().expect("checked at construction");
        self.start = Some((counters, jemalloc, finished));
        self.window_start_ns = now_ns;
        self.next_sample_ns = now_ns;
        self.sample(now_ns, finished);
    }

    pub(crate) fn sample(&mut self, now_ns: u64, finished: u64) {
        if now_ns < self.next_sample_ns {
            return;
        }
        self.next_sample_ns = now_ns + self.interval_ns;
        let Some(counters) = heap_counters() else { return };
        if self.jemalloc && now_ns >= self.next_resident_ns {
            self.next_resident_ns = now_ns + RESIDENT_INTERVAL_NS.max(self.interval_ns);
            self.resident = read_jemalloc().map(|j| j.resident).or(self.resident);
        }
        let resident = self.resident;
        let seconds = (now_ns - self.window_start_ns) as f64 / 1e9;
        let messages = finished.saturating_sub(self.start.map_or(0, |(_, _, f)| f)) as f64;
        let live = self.absolute(counters.live_bytes);
        self.fit_points.push((seconds, messages, live));
        self.series.push(
            seconds * 1e3,
            &[
                live / MIB,
                resident.map_or(f64::NAN, |r| r as f64 / MIB),
                messages,
            ],
        );
    }

    pub(crate) fn end(&mut self, now_ns: u64, finished: u64) {
        self.next_sample_ns = 0;
        self.next_resident_ns = 0;
        self.sample(now_ns, finished);
        let jemalloc = self.jemalloc.then(read_jemalloc).flatten();
        let counters = heap_counters().expect("checked at construction");
        self.end = Some((counters, jemalloc, finished));
    }

    /// Tracked live bytes expressed on the absolute scale of the window's baseline.
    fn absolute(&self, live_bytes: i64) -> f64 {
        let anchored = match self.start {
            Some((counters, Some(jemalloc), _)) => {
                jemalloc.allocated as f64 + (live_bytes - counters.live_bytes) as f64
            }
            _ => live_bytes as f64,
        };
        anchored - self.excluded_bytes
    }

    pub(crate) fn finish(self) -> Option<HeapOutcome> {
        let (start, start_jemalloc, start_finished) = self.start?;
        let (end, end_jemalloc, end_finished) = self.end?;
        let baseline = match start_jemalloc {
            Some(jemalloc) => jemalloc.allocated as f64,
            None => start.live_bytes as f64,
        } - self.excluded_bytes;
        let shift = baseline - start.live_bytes as f64;
        let leak = fit_leak(&self.fit_points, baseline);
        Some(HeapOutcome {
            baseline_bytes: baseline,
            peak_bytes: end.peak_bytes as f64 + shift,
            final_bytes: end.live_bytes as f64 + shift,
            jemalloc_end: end_jemalloc,
            allocations: end.allocations - start.allocations,
            allocated_bytes: end.allocated_bytes - start.allocated_bytes,
            messages: end_finished.saturating_sub(start_finished),
            leak,
            series: self.series.finish(),
        })
    }
}

/// Least-squares slope and R² of `y` against `x`; a flat line has R² 0 here (no climb at all),
/// and fewer than three points give no fit.
pub(crate) fn linear_fit(points: impl Iterator<Item = (f64, f64)>) -> Option<(f64, f64)> {
    let points: Vec<(f64, f64)> = points.collect();
    if points.len() < 3 {
        return None;
    }
    let fit = perfgate_stats::least_squares(&points)?;
    Some((fit.slope, fit.r_squared.unwrap_or(0.0)))
}

/// Decides whether live bytes grew steadily and materially over the window.
pub(crate) fn fit_leak(points: &[(f64, f64, f64)], baseline: f64) -> LeakFit {
    let by_time = linear_fit(points.iter().map(|&(t, _, live)| (t, live)));
    let by_messages = linear_fit(points.iter().map(|&(_, m, live)| (m, live)));
    let (Some((per_second, _)), Some((per_message, r_squared))) = (by_time, by_messages) else {
        return LeakFit {
            points: points.len(),
            ..LeakFit::default()
        };
    };
    let messages = points.last().map_or(0.0, |&(_, m, _)| m);
    let projected_growth = per_message * messages;
    let suspected = r_squared >= LEAK_MIN_R_SQUARED
        && projected_growth >= LEAK_MIN_BYTES
        && projected_growth >= LEAK_MIN_SHARE * baseline;
    LeakFit {
        bytes_per_second: per_second,
        bytes_per_message: per_message,
        r_squared,
        points: points.len(),
        projected_growth,
        suspected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(points: Vec<(f64, f64, f64)>, baseline: f64, suspected: bool) -> LeakFit {
        let fit = fit_leak(&points, baseline);
        assert_eq!(fit.suspected, suspected, "{fit:?}");
        fit
    }

    #[test]
    fn a_steady_material_climb_is_a_leak() {
        // 1 KiB per message, 100 messages per sample, 200 samples: 20 MiB of growth.
        let points = (0..200)
            .map(|i| {
                (
                    i as f64 * 0.01,
                    i as f64 * 100.0,
                    10.0 * MIB + i as f64 * 100.0 * 1024.0,
                )
            })
            .collect();
        let fit = check(points, 10.0 * MIB, true);
        assert!((fit.bytes_per_message - 1024.0).abs() < 1e-6);
        assert!((fit.bytes_per_second - 1024.0 * 100.0 / 0.01).abs() < 1e-3);
        assert!(fit.r_squared > 0.999);
    }

    #[test]
    fn noise_around_a_level_is_not_a_leak() {
        let points = (0..200)
            .map(|i| {
                (
                    i as f64 * 0.01,
                    i as f64 * 100.0,
                    10.0 * MIB + if i % 2 == 0 { 3.0 * MIB } else { -3.0 * MIB },
                )
            })
            .collect();
        check(points, 10.0 * MIB, false);
    }

    #[test]
    fn steady_but_small_growth_is_not_a_leak() {
        // 1 MiB over the window: steady, but below the 4 MiB floor.
        let points = (0..100)
            .map(|i| (i as f64, i as f64 * 10.0, 50.0 * MIB + i as f64 * MIB / 100.0))
            .collect();
        check(points, 50.0 * MIB, false);
    }

    #[test]
    fn growth_small_relative_to_a_large_heap_is_not_a_leak() {
        // 8 MiB of steady growth on a 1 GiB heap: under 10 %.
        let points = (0..100)
            .map(|i| {
                (
                    i as f64,
                    i as f64 * 10.0,
                    1024.0 * MIB + i as f64 * 8.0 * MIB / 100.0,
                )
            })
            .collect();
        check(points, 1024.0 * MIB, false);
    }

    #[test]
    fn too_few_points_give_no_verdict() {
        check(vec![(0.0, 0.0, 1.0), (1.0, 1.0, 1e9)], 1.0, false);
    }
}

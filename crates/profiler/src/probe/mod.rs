//! Probes that watch a phase's measured window from the outside: CPU profile (pprof), heap
//! (tracking allocator + jemalloc), event-loop lag (every poll of every pipeline task timed), runtime and
//! process metrics. The sampler thread drives them; none runs on the pipeline's hot path except
//! the per-poll instrumentation of the lag probe and the allocator's counting.

pub(crate) mod cpu;
pub(crate) mod heap;
pub(crate) mod heap_profile;
pub(crate) mod lag;
pub(crate) mod process;
pub(crate) mod runtime;
pub(crate) mod series;

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

pub use series::TimeSeries;

/// Where a phase is relative to its measured window. Set by the feeder, read by probes.
/// Starts before the window (0).
#[derive(Debug, Default)]
pub(crate) struct WindowState {
    stage: AtomicU8,
    /// Set by the sampler once the probes have taken their end-of-window readings.
    closed: AtomicBool,
}

const MEASURING: u8 = 1;
const AFTER: u8 = 2;

impl WindowState {
    pub(crate) fn begin(&self) {
        self.stage.store(MEASURING, Ordering::Release);
    }

    pub(crate) fn end(&self) {
        self.stage.store(AFTER, Ordering::Release);
    }

    pub(crate) fn is_measuring(&self) -> bool {
        self.stage.load(Ordering::Relaxed) == MEASURING
    }

    /// Whether the window has begun (it may also have ended).
    pub(crate) fn has_begun(&self) -> bool {
        self.stage.load(Ordering::Acquire) >= MEASURING
    }

    pub(crate) fn has_ended(&self) -> bool {
        self.stage.load(Ordering::Acquire) == AFTER
    }

    /// The probes have their end-of-window readings; the pipeline may wind down.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Waits (at most `limit`) until the probes have read the end of the window, so that the
    /// pipeline is still whole when they do: a stage that holds memory must still hold it.
    pub(crate) fn wait_closed(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self.closed.load(Ordering::Acquire) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}

/// Everything the probes of one phase produced.
#[derive(Debug, Default)]
pub(crate) struct ProbeOutcome {
    /// Process CPU time over the window (always measured: one `getrusage` at each end) and the
    /// messages finished in it.
    pub(crate) window_cpu: Option<(std::time::Duration, u64)>,
    /// Share of the machine's CPU time the host stole during the window, percent (Linux).
    pub(crate) window_steal_pct: Option<f64>,
    pub(crate) cpu: Option<cpu::CpuOutcome>,
    pub(crate) heap: Option<heap::HeapOutcome>,
    pub(crate) lag: Option<LagOutcome>,
    pub(crate) runtime: Option<runtime::RuntimeOutcome>,
    /// The heap profile of the window, until it is symbolized after the phase.
    pub(crate) pending_heap_profile: Option<heap_profile::HeapProfile>,
    /// Gzipped pprof heap profile of the window, when asked for and available.
    pub(crate) heap_profile: Option<Vec<u8>>,
    pub(crate) warnings: Vec<String>,
}

/// The lag probe's figures.
#[derive(Debug)]
pub(crate) struct LagOutcome {
    /// The lag distribution computed from every poll's duration.
    pub(crate) lag: Option<lag::LagDistribution>,
    pub(crate) series: TimeSeries,
    pub(crate) tasks: lag::TaskLagReport,
    /// The classic sleep-1-ms probe's overshoot, ns.
    pub(crate) timer_lag_ns: hdrhistogram::Histogram<u64>,
    pub(crate) slow_poll_threshold_ns: u64,
}

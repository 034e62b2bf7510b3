//! Probes that watch a phase's measured window from the outside: CPU profile (pprof), heap
//! (tracking allocator + jemalloc), event-loop lag (instrumented tasks + watchdog), runtime and
//! process metrics. The sampler thread drives them; none runs on the pipeline's hot path except
//! the per-poll instrumentation of the lag probe and the allocator's counting.

pub(crate) mod cpu;
pub(crate) mod heap;
pub(crate) mod lag;
pub(crate) mod process;
pub(crate) mod runtime;
pub(crate) mod series;

use std::sync::atomic::{AtomicU8, Ordering};

pub use series::TimeSeries;

/// Where a phase is relative to its measured window. Set by the feeder, read by probes.
/// Starts before the window (0).
#[derive(Debug, Default)]
pub(crate) struct WindowState {
    stage: AtomicU8,
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
}

/// Everything the probes of one phase produced.
#[derive(Debug, Default)]
pub(crate) struct ProbeOutcome {
    pub(crate) cpu: Option<cpu::CpuOutcome>,
    pub(crate) heap: Option<heap::HeapOutcome>,
    pub(crate) lag: Option<LagOutcome>,
    pub(crate) runtime: Option<runtime::RuntimeOutcome>,
    pub(crate) warnings: Vec<String>,
}

/// The lag probe's figures.
#[derive(Debug)]
pub(crate) struct LagOutcome {
    /// Watchdog samples: time each worker had been in its current poll, ns.
    pub(crate) lag_ns: hdrhistogram::Histogram<u64>,
    pub(crate) series: TimeSeries,
    pub(crate) tasks: lag::TaskLagReport,
    /// The classic sleep-1-ms probe's overshoot, ns.
    pub(crate) timer_lag_ns: hdrhistogram::Histogram<u64>,
    pub(crate) slow_poll_threshold_ns: u64,
}

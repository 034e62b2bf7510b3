//! Where a phase is relative to its measured window: set by the feeder (driver), read by the
//! probes and the sampler. Below both, so that neither imports the other for it.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

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

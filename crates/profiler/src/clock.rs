//! One monotonic time base for a run: every timestamp is nanoseconds since the run's epoch, so
//! timestamps fit in a `u64`, travel cheaply with messages and subtract without `Instant` maths.

use std::time::Instant;

/// Monotonic nanosecond clock anchored at a fixed instant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    epoch: Instant,
}

impl Clock {
    /// A clock whose zero is now.
    pub(crate) fn start() -> Self {
        Self {
            epoch: Instant::now(),
        }
    }

    /// Nanoseconds since the epoch.
    #[inline]
    pub(crate) fn now_ns(&self) -> u64 {
        // u64 nanoseconds last 584 years; the truncation cannot bite.
        self.epoch.elapsed().as_nanos() as u64
    }
}

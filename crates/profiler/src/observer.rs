//! What a run tells its caller while it is under way: phases starting and ending, and progress.
//! The driver calls an [`Observer`]; a progress bar or the live endpoint implements it.

use std::time::Duration;

use crate::length::Length;

/// Told what a run is doing, e.g. to draw a progress bar. Called from the driver's threads.
pub trait Observer: Sync {
    /// A phase (`saturation`, `limit`, `fixed_rate`) begins.
    fn phase_started(&self, _phase: &PhaseStart) {}
    /// Messages finished so far in the current phase (warm-up included), about every 100 ms.
    fn progress(&self, _finished: u64, _elapsed: Duration) {}
    /// The phase has ended.
    fn phase_finished(&self, _name: &str) {}
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {}

/// Describes a phase that is starting.
#[derive(Debug, Clone, Copy)]
pub struct PhaseStart {
    /// `saturation`, `limit` or `fixed_rate`.
    pub name: &'static str,
    /// Its measured length.
    pub length: Length,
    /// Its warm-up.
    pub warmup: Length,
    /// The fixed rate, messages/s, for the fixed-rate phase.
    pub rate: Option<f64>,
}

/// Two observers told the same things, in order (e.g. the caller's and the live sink).
pub(crate) struct Both<'a>(pub(crate) &'a dyn Observer, pub(crate) &'a dyn Observer);

impl Observer for Both<'_> {
    fn phase_started(&self, phase: &PhaseStart) {
        self.0.phase_started(phase);
        self.1.phase_started(phase);
    }

    fn progress(&self, finished: u64, elapsed: Duration) {
        self.0.progress(finished, elapsed);
        self.1.progress(finished, elapsed);
    }

    fn phase_finished(&self, name: &str) {
        self.0.phase_finished(name);
        self.1.phase_finished(name);
    }
}

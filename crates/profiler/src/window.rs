//! Where a phase is relative to its measured window: set by the feeder (driver), read by the
//! probes and the sampler. Below both, so that neither imports the other for it.
//!
//! The window opens and closes in a handshake, once per window, never per message: the feeder
//! marks the window begun, wakes the sampler and waits until the probes have read their
//! baselines ([`WindowState::open`]) before it sends the first measured message; after the last
//! measured message has finished it marks the window ended, wakes the sampler again and keeps the
//! pipeline whole until the probes have read the end ([`WindowState::close`]).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Where a phase is relative to its measured window. Set by the feeder, read by probes.
/// Starts before the window (0).
#[derive(Debug, Default)]
pub(crate) struct WindowState {
    stage: AtomicU8,
    /// Set by the sampler once the probes have started and read their baselines.
    opened: AtomicBool,
    /// Set by the sampler once the probes have taken their end-of-window readings.
    closed: AtomicBool,
    /// Whether the feeder has news for the sampler (the window began or ended) that the sampler
    /// has not yet woken up for, and the sampler's alarm clock.
    news: Mutex<bool>,
    wake: Condvar,
}

const MEASURING: u8 = 1;
const AFTER: u8 = 2;

impl WindowState {
    /// The window begins: the sampler is woken to start the probes. The feeder then waits for
    /// [`Self::wait_opened`] before it sends a measured message.
    pub(crate) fn begin(&self) {
        self.stage.store(MEASURING, Ordering::Release);
        self.notify();
    }

    /// The window ends (its last measured message has finished): the sampler is woken to read
    /// the probes' end figures.
    pub(crate) fn end(&self) {
        self.stage.store(AFTER, Ordering::Release);
        self.notify();
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

    /// The sampler's pause between ticks: `interval`, or less if the window begins or ends
    /// meanwhile.
    pub(crate) fn nap(&self, interval: Duration) {
        let news = self.news.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (mut news, _) = self
            .wake
            .wait_timeout_while(news, interval, |news| !*news)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *news = false;
    }

    /// Wakes the sampler without news of the window (it is being stopped).
    pub(crate) fn wake_sampler(&self) {
        self.notify();
    }

    fn notify(&self) {
        *self.news.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = true;
        self.wake.notify_all();
    }

    /// The probes have started and read their baselines; measured messages may flow.
    pub(crate) fn open(&self) {
        self.opened.store(true, Ordering::Release);
    }

    /// Waits (at most `limit`) until the probes have read the start of the window, so that the
    /// first measured message is inside it. Whether they did in time.
    pub(crate) fn wait_opened(&self, limit: Duration) -> bool {
        wait_for(&self.opened, limit)
    }

    /// The probes have their end-of-window readings; the pipeline may wind down.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Waits (at most `limit`) until the probes have read the end of the window, so that the
    /// pipeline is still whole when they do: a stage that holds memory must still hold it.
    pub(crate) fn wait_closed(&self, limit: Duration) -> bool {
        wait_for(&self.closed, limit)
    }
}

/// Waits (at most `limit`) until `flag` is set; whether it was. Called once per window edge.
fn wait_for(flag: &AtomicBool, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if flag.load(Ordering::Acquire) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_micros(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_wakes_a_napping_sampler_and_the_feeder_waits_for_open() {
        let window = WindowState::default();
        std::thread::scope(|scope| {
            let sampler = scope.spawn(|| {
                let started = Instant::now();
                while !window.has_begun() {
                    window.nap(Duration::from_secs(10));
                }
                window.open();
                started.elapsed()
            });
            std::thread::sleep(Duration::from_millis(20));
            window.begin();
            assert!(window.wait_opened(Duration::from_secs(5)));
            assert!(sampler.join().unwrap() < Duration::from_secs(5));
        });
    }

    #[test]
    fn waits_are_bounded() {
        let window = WindowState::default();
        assert!(!window.wait_opened(Duration::from_millis(1)));
        assert!(!window.wait_closed(Duration::from_millis(1)));
        window.close();
        assert!(window.wait_closed(Duration::ZERO));
    }
}

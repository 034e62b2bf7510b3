//! The fault controller of a fixed-rate phase: a plain thread that turns the fault on and off at
//! its times (from the measured window's start) and samples the open-loop backlog — messages
//! due by the feeder's schedule, not yet finished — once per window, so that the chaos analysis
//! can see it build and drain.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::feed::DueCount;
use crate::clock::Clock;
use crate::faults::{Fault, FaultKind, FaultSwitches};
use crate::window::WindowState;

/// What the controller saw.
#[derive(Debug, Clone, Default)]
pub(crate) struct FaultRecord {
    /// The measured window's start on the run clock, ns.
    pub(crate) window_start_ns: u64,
    /// The backlog at each sample: (run clock ns, messages).
    pub(crate) backlog: Vec<(u64, u64)>,
}

/// Runs until the window ends: waits for it to begin, applies `fault` at its times, samples the
/// backlog every `every`. `stage` is the index of the stage the fault names; `runtime` is where
/// a blocked worker is blocked.
pub(crate) fn control(
    fault: &Fault,
    stage: Option<usize>,
    switches: &FaultSwitches,
    (clock, window, due, finished): (&Clock, &WindowState, &DueCount, &AtomicU64),
    runtime: &tokio::runtime::Handle,
    every: Duration,
) -> FaultRecord {
    let mut record = FaultRecord::default();
    let start_ns = loop {
        if let Some(start) = due.window_start_ns() {
            break start;
        }
        if window.has_ended() {
            return record;
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    record.window_start_ns = start_ns;
    let on_ns = start_ns + fault.start.as_nanos() as u64;
    let off_ns = on_ns + fault.duration.as_nanos() as u64;
    let every_ns = every.as_nanos().max(1) as u64;
    let (mut on, mut off) = (false, false);
    let mut next_sample = start_ns;
    while !window.has_ended() {
        let now = clock.now_ns();
        if !on && now >= on_ns {
            on = true;
            switches.set(&fault.kind, stage, true);
            if let FaultKind::BlockedWorker = fault.kind {
                // A task that blocks the worker thread that polls it, as a synchronous call
                // inside async code does.
                let hold = fault.duration;
                runtime.spawn(async move { std::thread::sleep(hold) });
            }
        }
        if on && !off && now >= off_ns {
            off = true;
            switches.set(&fault.kind, stage, false);
        }
        if now >= next_sample {
            let due = due.due_by(now).unwrap_or(0);
            let left = due.saturating_sub(finished.load(Ordering::Relaxed));
            record.backlog.push((now, left));
            next_sample += every_ns;
        }
        // The next thing to do: a sample, or the fault's next edge (none once it is over —
        // waking for a past edge would spin this thread and take a core from the pipeline).
        let edge = match (on, off) {
            (false, _) => on_ns,
            (true, false) => off_ns,
            (true, true) => u64::MAX,
        };
        let wake = next_sample.min(edge);
        let now = clock.now_ns();
        if wake > now {
            std::thread::sleep(Duration::from_nanos((wake - now).min(5_000_000)));
        }
    }
    // A fault still on when the window ends is turned off, so that a stalled subscriber lets
    // its queue close.
    if on && !off {
        switches.set(&fault.kind, stage, false);
    }
    record
}

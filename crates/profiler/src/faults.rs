//! Faults injected into a running fixed-rate phase (`chaos`): what a fault is ([`Fault`],
//! public, part of [`crate::RunConfig`]) and the switches the pipeline's tasks read while it is
//! on ([`FaultSwitches`], one relaxed load per batch when nothing is on). The driver flips the
//! switches at the fault's times; the stage workers, subscribers and the feeder obey them. Low in
//! the layers so that the pipeline can read it without knowing who flips it.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// What is injected.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// A stage's dependency slows down: each batch the stage processes takes `factor` times as
    /// long (the extra time is awaited, as a slow database or service call is, so the worker
    /// holds its message but not its thread).
    SlowStage {
        /// The stage, by name.
        stage: String,
        /// How many times as long (10 = ten times slower).
        factor: f64,
    },
    /// The stage rejects this share of its messages (kind `injected_fault`), chosen by the run's
    /// seed, without processing them.
    ErrorBurst {
        /// The stage, by name.
        stage: String,
        /// 0 to 1 (0.2 = 20 %).
        share: f64,
    },
    /// The subscriber stops taking deliveries (its queue fills and the fan-out drops for it
    /// alone); at the fault's end it disconnects — everything queued for it is lost, counted as
    /// dropped — and reconnects.
    SubscriberStall {
        /// The subscriber, from 0.
        subscriber: usize,
    },
    /// Synchronous work holds one runtime worker thread for the fault's duration (a blocking
    /// call inside a task).
    BlockedWorker,
    /// The stage panics on its next message. The message counts as an error of kind `panic` and
    /// the worker's stage is replaced with a fresh one from the stage's factory (its state is
    /// lost, as under a supervisor that restarts it); the run goes on.
    StagePanic {
        /// The stage, by name.
        stage: String,
    },
    /// The offered rate is `factor` times the phase's rate for the fault's duration.
    LoadBurst {
        /// 3 = three times the rate.
        factor: f64,
    },
}

/// A fault and when it is on: from `start` after the beginning of the fixed-rate phase's
/// measured window, for `duration`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// What is injected.
    pub kind: FaultKind,
    /// When it starts, from the measured window's start.
    pub start: Duration,
    /// How long it lasts.
    pub duration: Duration,
    /// Seeds the choices the fault makes (which messages an error burst rejects): the same seed
    /// gives the same run.
    pub seed: u64,
}

impl Fault {
    /// The stage it names, if any.
    pub fn stage(&self) -> Option<&str> {
        match &self.kind {
            FaultKind::SlowStage { stage, .. }
            | FaultKind::ErrorBurst { stage, .. }
            | FaultKind::StagePanic { stage } => Some(stage),
            _ => None,
        }
    }
}

/// No subscriber is stalled.
const NONE: usize = usize::MAX;

/// The switches a fault flips, read by the pipeline's tasks.
#[derive(Debug)]
pub(crate) struct FaultSwitches {
    /// Whether any switch is on: the one load a batch pays when none is.
    any: AtomicBool,
    /// Per stage: the slowdown factor as `f64` bits (1.0 when off).
    slow: Vec<AtomicU64>,
    /// Per stage: the share rejected, parts per million.
    errors_ppm: Vec<AtomicU32>,
    /// Per stage: a panic is due on the next message.
    panic: Vec<AtomicBool>,
    /// The stalled subscriber, or [`NONE`].
    stalled: AtomicUsize,
    /// Per subscriber: bumped when it must drop its queue (a disconnect).
    reconnects: Vec<AtomicU64>,
    /// The seed of the choices.
    seed: u64,
}

impl FaultSwitches {
    pub(crate) fn new(stages: usize, subscribers: usize, seed: u64) -> Self {
        Self {
            any: AtomicBool::new(false),
            slow: (0..stages).map(|_| AtomicU64::new(1f64.to_bits())).collect(),
            errors_ppm: (0..stages).map(|_| AtomicU32::new(0)).collect(),
            panic: (0..stages).map(|_| AtomicBool::new(false)).collect(),
            stalled: AtomicUsize::new(NONE),
            reconnects: (0..subscribers).map(|_| AtomicU64::new(0)).collect(),
            seed,
        }
    }

    /// Whether any switch is on.
    pub(crate) fn any(&self) -> bool {
        self.any.load(Ordering::Relaxed)
    }

    /// Turns the fault on (`on`) or off. `stage` is the index of the stage it names.
    pub(crate) fn set(&self, kind: &FaultKind, stage: Option<usize>, on: bool) {
        match (kind, stage) {
            (FaultKind::SlowStage { factor, .. }, Some(stage)) => {
                let factor = if on { factor.max(1.0) } else { 1.0 };
                self.slow[stage].store(factor.to_bits(), Ordering::Relaxed);
            }
            (FaultKind::ErrorBurst { share, .. }, Some(stage)) => {
                let ppm = if on {
                    (share.clamp(0.0, 1.0) * 1e6) as u32
                } else {
                    0
                };
                self.errors_ppm[stage].store(ppm, Ordering::Relaxed);
            }
            // Once, at the start: a panic is an event, not a state.
            (FaultKind::StagePanic { .. }, Some(stage)) if on => {
                self.panic[stage].store(true, Ordering::Relaxed);
            }
            (FaultKind::SubscriberStall { subscriber }, _) => {
                if on {
                    self.stalled.store(*subscriber, Ordering::Relaxed);
                } else {
                    self.stalled.store(NONE, Ordering::Relaxed);
                    if let Some(reconnect) = self.reconnects.get(*subscriber) {
                        reconnect.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            // The driver does these itself: a blocking task, the feeder's schedule.
            _ => {}
        }
        self.any.store(
            on || self.panic.iter().any(|p| p.load(Ordering::Relaxed)),
            Ordering::Relaxed,
        );
    }

    /// The slowdown factor of `stage` (1 when off).
    pub(crate) fn slow_factor(&self, stage: usize) -> f64 {
        f64::from_bits(self.slow[stage].load(Ordering::Relaxed))
    }

    /// Whether `stage` rejects its `message`-th message (counted by the worker) now.
    pub(crate) fn rejects(&self, stage: usize, worker: usize, message: u64) -> bool {
        let ppm = self.errors_ppm[stage].load(Ordering::Relaxed);
        ppm > 0 && (mix(self.seed, stage as u64, worker as u64, message) % 1_000_000) < u64::from(ppm)
    }

    /// Whether `stage` must panic now (true once per injected panic).
    pub(crate) fn take_panic(&self, stage: usize) -> bool {
        self.panic[stage].swap(false, Ordering::Relaxed)
    }

    /// Whether `subscriber` is stalled.
    pub(crate) fn is_stalled(&self, subscriber: usize) -> bool {
        self.stalled.load(Ordering::Relaxed) == subscriber
    }

    /// How many times `subscriber` was told to drop its queue.
    pub(crate) fn reconnects(&self, subscriber: usize) -> u64 {
        self.reconnects
            .get(subscriber)
            .map_or(0, |count| count.load(Ordering::Relaxed))
    }
}

/// A well-mixed 64-bit value of the inputs (splitmix64's finaliser over their combination): the
/// same inputs choose the same messages in every run.
fn mix(seed: u64, stage: u64, worker: u64, message: u64) -> u64 {
    let mut z = seed
        ^ stage.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ worker.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ message.wrapping_mul(0x1656_67B1_9E37_79F9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_burst_rejects_its_share_the_same_way_each_time() {
        let switches = FaultSwitches::new(2, 0, 42);
        let kind = FaultKind::ErrorBurst {
            stage: "b".to_owned(),
            share: 0.2,
        };
        assert!(
            !(0..1000).any(|m| switches.rejects(1, 0, m)),
            "off rejects nothing"
        );
        switches.set(&kind, Some(1), true);
        assert!(switches.any());
        let chosen: Vec<u64> = (0..100_000).filter(|&m| switches.rejects(1, 0, m)).collect();
        let share = chosen.len() as f64 / 100_000.0;
        assert!((share - 0.2).abs() < 0.01, "{share}");
        let again: Vec<u64> = (0..100_000).filter(|&m| switches.rejects(1, 0, m)).collect();
        assert_eq!(chosen, again);
        assert!(!(0..1000).any(|m| switches.rejects(0, 0, m)), "another stage");
        switches.set(&kind, Some(1), false);
        assert!(!switches.any());
        assert!(!(0..1000).any(|m| switches.rejects(1, 0, m)));
    }

    #[test]
    fn a_panic_is_taken_once_and_a_stall_ends_in_a_reconnect() {
        let switches = FaultSwitches::new(1, 3, 0);
        switches.set(&FaultKind::StagePanic { stage: "a".into() }, Some(0), true);
        switches.set(&FaultKind::StagePanic { stage: "a".into() }, Some(0), false);
        assert!(switches.any(), "the panic is still due");
        assert!(switches.take_panic(0));
        assert!(!switches.take_panic(0));
        let stall = FaultKind::SubscriberStall { subscriber: 2 };
        switches.set(&stall, None, true);
        assert!(switches.is_stalled(2) && !switches.is_stalled(1));
        assert_eq!(switches.reconnects(2), 0);
        switches.set(&stall, None, false);
        assert!(!switches.is_stalled(2));
        assert_eq!(switches.reconnects(2), 1);
    }

    #[test]
    fn a_slowdown_is_at_least_one() {
        let switches = FaultSwitches::new(1, 0, 0);
        assert_eq!(switches.slow_factor(0), 1.0);
        let kind = FaultKind::SlowStage {
            stage: "a".into(),
            factor: 10.0,
        };
        switches.set(&kind, Some(0), true);
        assert_eq!(switches.slow_factor(0), 10.0);
        switches.set(&kind, Some(0), false);
        assert_eq!(switches.slow_factor(0), 1.0);
    }
}

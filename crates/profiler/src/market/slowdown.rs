//! A deliberate slowdown, for proving that a regression gate catches one: after each message a
//! stage burns CPU for `factor` times the stage's own mean cost per message. Off (factor 0) it
//! costs one predictable branch per message. Reached through the hidden `--inject-slowdown PCT`
//! flag and recorded in the results' workload settings, so a slowed run can never pass for a
//! normal one.
//!
//! Timing every message would itself cost two clock reads (~50 ns) per stage per message, more
//! than a 10 % slowdown of the cheaper stages: the first version did that and slowed the
//! pipeline by 22 % when asked for 5 %. So the cost is timed on one message in 64 (less the
//! clock's own cost), and the burn is a busy loop whose speed is calibrated once, with no clock
//! read at all.

use std::sync::OnceLock;
use std::time::Instant;

use crate::pipeline::{Counter, Stage, StageError};

/// One message in this many is timed.
const TIMED_EVERY: u32 = 64;

/// Wraps a stage and stretches its CPU time by `1 + factor`.
#[derive(Debug, Clone)]
pub struct Slowed<S> {
    inner: S,
    factor: f64,
    seen: u32,
    /// Moving average of the stage's cost per message, ns.
    mean_ns: f64,
}

impl<S> Slowed<S> {
    /// `factor` 0 leaves the stage as it is.
    pub fn new(inner: S, factor: f64) -> Self {
        Self {
            inner,
            factor,
            seen: 0,
            mean_ns: 0.0,
        }
    }
}

/// The busy-wait factor that makes the stages' work `pct` % slower in throughput terms:
/// work × (1 + f) = work / (1 − pct/100).
pub(super) fn factor_for(pct: f64) -> f64 {
    if pct <= 0.0 { 0.0 } else { pct / (100.0 - pct) }
}

/// (busy-loop iterations per ns, cost of one `Instant::now()` + `elapsed()` pair in ns).
fn calibration() -> (f64, f64) {
    static CALIBRATION: OnceLock<(f64, f64)> = OnceLock::new();
    *CALIBRATION.get_or_init(|| {
        const ITERATIONS: u64 = 2_000_000;
        let start = Instant::now();
        burn_iterations(ITERATIONS);
        let per_ns = ITERATIONS as f64 / (start.elapsed().as_nanos() as f64).max(1.0);
        const READS: u32 = 10_000;
        let start = Instant::now();
        for _ in 0..READS {
            std::hint::black_box(Instant::now().elapsed());
        }
        let clock_ns = start.elapsed().as_nanos() as f64 / f64::from(READS);
        (per_ns, clock_ns)
    })
}

fn burn_iterations(iterations: u64) {
    let mut state = 0u64;
    for i in 0..iterations {
        state = std::hint::black_box(state.wrapping_add(i));
    }
    std::hint::black_box(state);
}

impl<In: Send + 'static, S: Stage<In>> Stage<In> for Slowed<S> {
    type Out = S::Out;

    async fn process(&mut self, input: In) -> Result<S::Out, StageError> {
        if self.factor <= 0.0 {
            return self.inner.process(input).await;
        }
        self.seen = self.seen.wrapping_add(1);
        let out = if self.seen % TIMED_EVERY == 1 || self.mean_ns == 0.0 {
            let start = Instant::now();
            let out = self.inner.process(input).await;
            let (_, clock_ns) = calibration();
            let cost = (start.elapsed().as_nanos() as f64 - clock_ns).max(0.0);
            self.mean_ns = if self.mean_ns == 0.0 {
                cost.max(1.0)
            } else {
                0.9 * self.mean_ns + 0.1 * cost
            };
            out
        } else {
            self.inner.process(input).await
        };
        let (per_ns, _) = calibration();
        burn_iterations((self.mean_ns * self.factor * per_ns) as u64);
        out
    }

    fn counters(&self) -> Vec<Counter> {
        self.inner.counters()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_turns_a_throughput_loss_into_extra_work() {
        assert_eq!(factor_for(0.0), 0.0);
        assert!((factor_for(10.0) - 1.0 / 9.0).abs() < 1e-12);
        assert!((factor_for(50.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn calibration_is_sane() {
        let (per_ns, clock_ns) = calibration();
        assert!(per_ns > 0.0 && per_ns.is_finite());
        assert!((0.0..10_000.0).contains(&clock_ns));
    }
}

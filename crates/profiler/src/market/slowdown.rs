//! A deliberate slowdown, for proving that a regression gate catches one: each stage's own work
//! is followed by a busy wait of `factor` times its duration. Off (factor 0) it costs one
//! predictable branch per message. Reached through the hidden `--inject-slowdown PCT` flag and
//! recorded in the results' workload settings, so a slowed run can never pass for a normal one.

use std::time::{Duration, Instant};

use crate::pipeline::{Counter, Stage, StageError};

/// Wraps a stage and stretches its CPU time by `1 + factor`.
#[derive(Debug, Clone)]
pub struct Slowed<S> {
    inner: S,
    factor: f64,
}

impl<S> Slowed<S> {
    /// `factor` 0 leaves the stage as it is.
    pub fn new(inner: S, factor: f64) -> Self {
        Self { inner, factor }
    }
}

/// The busy-wait factor that makes the stages' work `pct` % slower in throughput terms:
/// work × (1 + f) = work / (1 − pct/100).
pub(super) fn factor_for(pct: f64) -> f64 {
    if pct <= 0.0 { 0.0 } else { pct / (100.0 - pct) }
}

fn spin(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

impl<In: Send + 'static, S: Stage<In>> Stage<In> for Slowed<S> {
    type Out = S::Out;

    async fn process(&mut self, input: In) -> Result<S::Out, StageError> {
        if self.factor <= 0.0 {
            return self.inner.process(input).await;
        }
        let start = Instant::now();
        let out = self.inner.process(input).await;
        spin(start.elapsed().mul_f64(self.factor));
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
}

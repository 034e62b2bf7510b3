//! A deliberate slowdown, for proving that a regression gate catches one: after each message a
//! stage burns CPU for `factor` times the stage's own mean cost per message. Off (factor 0) it
//! costs one predictable branch per message. Reached through the hidden `--inject-slowdown PCT`
//! flag and recorded in the results' workload settings, so a slowed run can never pass for a
//! normal one.
//!
//! The extra work must be the same amount of CPU work in every run, whatever the machine is
//! doing, or a gate trial measures the knob instead of the gate. So the burn is a fixed number of
//! busy-loop iterations per message, fixed after a calibration on the first
//! [`CALIBRATION_SAMPLES`] timed messages (the warm-up): each sample times one message through
//! the stage and, right after it, [`PROBE_ITERATIONS`] iterations of the loop, and the stage's
//! cost in loop iterations is the mean of the per-sample ratios. A host that steals the CPU or a
//! sibling thread that slows it changes both halves of a sample alike, and a sample that a
//! preemption hit lies far outside the rest and is left out. The two earlier versions did not hold: timing every
//! message cost two clock reads per stage (22 % slower when asked for 5 %), and a moving average
//! of wall-clock costs with a loop speed measured once let one stolen time slice inflate the
//! burn for hundreds of messages (a 5 % knob took 15 % in a gate trial on a busy host).
//!
//! That calibration is by the clock, so it cannot prove the instruction-count gate: under
//! Valgrind every clock reading is slow and "1 %" counted 4.4 % more instructions. The hidden
//! `--inject-instructions N` is the knob for that gate: [`burn_instructions`] executes a loop of
//! exactly two instructions per iteration (written in assembly on x86-64 and AArch64, so the
//! compiler cannot reshape it), `N / 2` iterations per message in the feed's generator
//! ([`TickSource`](super::TickSource)), the same on every machine and under any load. Not in
//! this wrapper: wrapping the four stages costs about 250 instructions per message by itself
//! (measured), 2.5 % of the default workload, more than the 1 % the gate must resolve; the
//! generator's call costs a compare and a branch when the knob is off, in every build alike.

use std::time::Instant;

use crate::pipeline::{Counter, Stage, StageError};

/// One message in this many is timed while calibrating.
const TIMED_EVERY: u32 = 16;
/// Timed messages before the burn is fixed.
const CALIBRATION_SAMPLES: usize = 256;
/// Loop iterations timed beside each timed message, to price one iteration at that moment.
const PROBE_ITERATIONS: u64 = 2_000;

/// Wraps a stage and stretches its CPU work by `1 + factor`.
#[derive(Debug, Clone)]
pub struct Slowed<S> {
    inner: S,
    factor: f64,
    seen: u32,
    /// The timed messages' cost in loop iterations so far.
    samples: Vec<f64>,
    /// Iterations to burn per message, once calibrated.
    burn: Option<u64>,
}

impl<S> Slowed<S> {
    /// `factor` 0 leaves the stage as it is.
    pub fn new(inner: S, factor: f64) -> Self {
        Self {
            inner,
            factor,
            seen: 0,
            samples: Vec::new(),
            burn: None,
        }
    }
}

/// The busy-wait factor that makes the stages' work `pct` % slower in throughput terms:
/// work × (1 + f) = work / (1 − pct/100).
pub(super) fn factor_for(pct: f64) -> f64 {
    if pct <= 0.0 { 0.0 } else { pct / (100.0 - pct) }
}

/// Instructions one iteration of [`burn_instructions`] executes.
pub(super) const INSTRUCTIONS_PER_ITERATION: u64 = 2;

/// Iterations of [`burn_instructions`] that add `instructions`: the nearest whole number, so
/// within one instruction of the ask.
pub(super) fn iterations_for_instructions(instructions: u64) -> u64 {
    (instructions + INSTRUCTIONS_PER_ITERATION / 2) / INSTRUCTIONS_PER_ITERATION
}

/// Executes `iterations` × [`INSTRUCTIONS_PER_ITERATION`] instructions, plus a few to call the
/// loop; nothing but a compare and a branch when `iterations` is 0.
#[inline]
pub(super) fn burn_instructions(iterations: u64) {
    if iterations != 0 {
        counted_loop(iterations);
    }
}

/// `iterations` × [`INSTRUCTIONS_PER_ITERATION`] instructions (a decrement and a conditional
/// branch each). In assembly, because the compiler may unroll or vectorise a Rust loop and the
/// count would then depend on its version.
#[inline(never)]
fn counted_loop(iterations: u64) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: touches only the counter register it is given and the flags.
    unsafe {
        std::arch::asm!(
            "2:",
            "dec {n}",
            "jnz 2b",
            n = inout(reg) iterations => _,
            options(nomem, nostack),
        );
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: as above.
    unsafe {
        std::arch::asm!(
            "2:",
            "subs {n}, {n}, #1",
            "b.ne 2b",
            n = inout(reg) iterations => _,
            options(nomem, nostack),
        );
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    burn_iterations(iterations);
}

fn burn_iterations(iterations: u64) {
    let mut state = 0u64;
    for i in 0..iterations {
        state = std::hint::black_box(state.wrapping_add(i));
    }
    std::hint::black_box(state);
}

/// How far from the median a sample may lie and still count: a preemption (a stolen time slice
/// is milliseconds, a stage microseconds) puts a sample thousands of times off, while a stage's
/// own costly messages (a cache miss, a bar that closes) stay within a few times the median and
/// must count, or the burn would undercut the stage's mean cost.
const PLAUSIBLE_SPREAD: f64 = 20.0;

/// The mean of the samples within [`PLAUSIBLE_SPREAD`] of their median.
fn plausible_mean(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let Some(&median) = values.get(values.len() / 2) else {
        return 0.0;
    };
    let (low, high) = (median / PLAUSIBLE_SPREAD, median * PLAUSIBLE_SPREAD);
    let kept: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| (low..=high).contains(v))
        .collect();
    kept.iter().sum::<f64>() / kept.len().max(1) as f64
}

/// Iterations per message that cost `factor` times the stage, from samples of the stage's cost
/// in loop iterations.
fn iterations_for(stage_in_iterations: &[f64], factor: f64) -> u64 {
    let mut samples = stage_in_iterations.to_vec();
    (plausible_mean(&mut samples) * factor).round().max(0.0) as u64
}

impl<In: Send + 'static, S: Stage<In>> Stage<In> for Slowed<S> {
    type Out = S::Out;

    async fn process(&mut self, input: In) -> Result<S::Out, StageError> {
        if self.factor <= 0.0 {
            return self.inner.process(input).await;
        }
        if let Some(burn) = self.burn {
            let out = self.inner.process(input).await;
            burn_iterations(burn);
            return out;
        }
        self.seen = self.seen.wrapping_add(1);
        if self.seen % TIMED_EVERY != 1 {
            // Not timed: burn what the samples so far say, so calibration is not a lighter phase.
            let out = self.inner.process(input).await;
            if !self.samples.is_empty() {
                burn_iterations(iterations_for(
                    &self.samples[self.samples.len().saturating_sub(16)..],
                    self.factor,
                ));
            }
            return out;
        }
        // Each half less what reading the clock twice costs at this moment.
        let start = Instant::now();
        let clock_ns = start.elapsed().as_nanos() as f64;
        let start = Instant::now();
        let out = self.inner.process(input).await;
        let stage_ns = (start.elapsed().as_nanos() as f64 - clock_ns).max(0.0);
        let start = Instant::now();
        burn_iterations(PROBE_ITERATIONS);
        let loop_ns = (start.elapsed().as_nanos() as f64 - clock_ns).max(1.0);
        self.samples.push(stage_ns / (loop_ns / PROBE_ITERATIONS as f64));
        if self.samples.len() >= CALIBRATION_SAMPLES {
            self.burn = Some(iterations_for(&self.samples, self.factor));
            self.samples = Vec::new();
        }
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
    fn injected_instructions_are_whole_iterations_within_one_of_the_ask() {
        assert_eq!(iterations_for_instructions(0), 0);
        assert_eq!(iterations_for_instructions(1_000), 500);
        for asked in [1u64, 7, 99, 197, 12_345] {
            let given = iterations_for_instructions(asked) * INSTRUCTIONS_PER_ITERATION;
            assert!(given.abs_diff(asked) <= 1, "{asked} → {given}");
        }
        // It runs (its count is checked under Valgrind by xtask's tests/instructions.rs).
        burn_instructions(1_000);
        burn_instructions(0);
    }

    #[test]
    fn factor_turns_a_throughput_loss_into_extra_work() {
        assert_eq!(factor_for(0.0), 0.0);
        assert!((factor_for(10.0) - 1.0 / 9.0).abs() < 1e-12);
        assert!((factor_for(50.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn the_burn_is_the_stage_cost_in_iterations_and_ignores_preempted_samples() {
        // A stage worth 2,000 iterations, one message in five four times dearer (a cache miss):
        // mean 3,200; factor 0.1 → 320 iterations.
        let mut samples: Vec<f64> = (0..80)
            .map(|i| if i % 5 == 0 { 8_000.0 } else { 2_000.0 })
            .collect();
        // A 4 ms preemption in the stage's half (far too high) or the loop's (far too low).
        samples.extend(vec![8_000_000.0; 5]);
        samples.extend(vec![1.0; 5]);
        assert_eq!(iterations_for(&samples, 0.1), 320);
        assert_eq!(iterations_for(&[], 0.1), 0);
    }
}

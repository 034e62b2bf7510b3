//! The rate search itself, apart from what a step runs: step the offered rate up from a quarter
//! of the saturation throughput by half again each time until a step misses, bisect the bracket
//! (geometrically: rates are ratios) until it is narrower than the resolution, then repeat both
//! ends so that the answer is an interval that held twice, not one lucky step.
//!
//! A step is whatever `measure` runs; the search reads only whether it passed. That keeps the
//! search testable against a system whose capacity is known exactly.

use crate::error::Result;

/// How the search proceeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Plan {
    /// The first offered rate, messages/s.
    pub(crate) start: f64,
    /// No rate above this is tried; a pass here ends the search ("at least this").
    pub(crate) ceiling: f64,
    /// No rate below this is tried; a miss here ends it ("nothing sustained").
    pub(crate) floor: f64,
    /// Each step up multiplies the rate by this.
    pub(crate) growth: f64,
    /// Bisect until `high / low - 1` is at most this.
    pub(crate) resolution: f64,
    /// At most this many bisections.
    pub(crate) max_bisections: usize,
    /// Extra runs of each end of the final bracket.
    pub(crate) repeats: usize,
    /// At most this many moves of the bracket when a repeat disagrees.
    pub(crate) max_moves: usize,
}

/// Where the search ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bracket {
    /// The highest rate that passed every run of it.
    pub(crate) sustained: f64,
    /// The lowest rate that failed (most runs of it); `None` when the ceiling passed.
    pub(crate) failed: Option<f64>,
}

/// Why a step ran (recorded with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    StepUp,
    StepDown,
    Bisect,
    Repeat,
}

impl Purpose {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Purpose::StepUp => "step up",
            Purpose::StepDown => "step down",
            Purpose::Bisect => "bisect",
            Purpose::Repeat => "repeat",
        }
    }
}

/// Runs the search; `measure(rate, purpose, left)` runs one step and says whether it passed
/// (`left`: an estimate of the steps after this one, for progress). Stops
/// early, with what it has, when `measure` returns `Ok(None)` (interrupted).
pub(crate) fn search(
    plan: &Plan,
    mut measure: impl FnMut(f64, Purpose, usize) -> Result<Option<bool>>,
) -> Result<Option<Bracket>> {
    let mut low: Option<f64> = None;
    let mut high: Option<f64> = None;
    // What is left after a bracket of `high / low`: its bisections, then both ends repeated.
    let after_bracket =
        |ratio: f64| bisections(ratio, plan.resolution, plan.max_bisections) + 2 * plan.repeats;
    macro_rules! step {
        ($rate:expr, $purpose:expr, $left:expr) => {
            match measure($rate, $purpose, $left)? {
                Some(passed) => passed,
                None => {
                    return Ok(low.map(|sustained| Bracket {
                        sustained,
                        failed: high,
                    }))
                }
            }
        };
    }
    // Up until a miss (or the ceiling passes).
    let mut rate = plan.start.clamp(plan.floor, plan.ceiling);
    loop {
        // Up to the ceiling at most, then a bracket one step wide.
        let ups = ((plan.ceiling / rate).ln() / plan.growth.ln()).ceil().max(0.0) as usize;
        if step!(rate, Purpose::StepUp, ups + after_bracket(plan.growth)) {
            low = Some(rate);
            if rate >= plan.ceiling {
                return Ok(Some(Bracket {
                    sustained: rate,
                    failed: None,
                }));
            }
            rate = (rate * plan.growth).min(plan.ceiling);
        } else {
            high = Some(rate);
            break;
        }
    }
    // The start missed: down until a pass.
    while low.is_none() {
        let lower = rate / (plan.growth * plan.growth);
        if lower < plan.floor {
            // A result, not an error: nothing this pipeline can be offered meets the objective
            // here (a noisy machine, or an objective tighter than the pipeline's floor).
            return Ok(Some(Bracket {
                sustained: 0.0,
                failed: Some(rate),
            }));
        }
        rate = lower;
        if step!(
            rate,
            Purpose::StepDown,
            1 + after_bracket(plan.growth * plan.growth)
        ) {
            low = Some(rate);
        } else {
            high = Some(rate);
        }
    }
    let (mut low, mut high) = (low.unwrap_or(plan.floor), high.unwrap_or(plan.ceiling));
    for _ in 0..plan.max_bisections {
        if high / low - 1.0 <= plan.resolution {
            break;
        }
        let middle = (low * high).sqrt();
        match measure(middle, Purpose::Bisect, after_bracket((high / low).sqrt()))? {
            Some(true) => low = middle,
            Some(false) => high = middle,
            None => {
                return Ok(Some(Bracket {
                    sustained: low,
                    failed: Some(high),
                }));
            }
        }
    }
    // Both ends again: the low end must pass every time, the high end fail most times; when one
    // disagrees the bracket moves that way by its own width and is tried again.
    for _ in 0..=plan.max_moves {
        let mut low_held = true;
        for done in 0..plan.repeats {
            match measure(low, Purpose::Repeat, 2 * plan.repeats - done - 1)? {
                Some(true) => {}
                Some(false) => {
                    low_held = false;
                    break;
                }
                None => return Ok(None),
            }
        }
        let width = high / low;
        if !low_held {
            high = low;
            low /= width.max(1.0 + plan.resolution);
            if low < plan.floor {
                break;
            }
            continue;
        }
        let mut high_passes = 0;
        for done in 0..plan.repeats {
            match measure(high, Purpose::Repeat, plan.repeats - done - 1)? {
                Some(true) => high_passes += 1,
                Some(false) => {}
                None => {
                    return Ok(Some(Bracket {
                        sustained: low,
                        failed: Some(high),
                    }));
                }
            }
        }
        // The first run of `high` failed; with the repeats, it failed in most runs unless
        // more than half of the repeats passed.
        if high_passes * 2 <= plan.repeats {
            return Ok(Some(Bracket {
                sustained: low,
                failed: Some(high),
            }));
        }
        low = high;
        high *= width.max(1.0 + plan.resolution);
        if high > plan.ceiling {
            return Ok(Some(Bracket {
                sustained: low,
                failed: None,
            }));
        }
    }
    Ok(Some(Bracket {
        sustained: low,
        failed: Some(high),
    }))
}

/// Bisections that narrow a bracket of `ratio` (high / low) to `resolution`.
fn bisections(ratio: f64, resolution: f64, most: usize) -> usize {
    if ratio <= 1.0 + resolution {
        return 0;
    }
    let halvings = (ratio.ln() / (1.0 + resolution).ln()).log2().ceil();
    (halvings.max(0.0) as usize).min(most)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            start: 2_500.0,
            ceiling: 15_000.0,
            floor: 1.0,
            growth: 1.5,
            resolution: 0.02,
            max_bisections: 12,
            repeats: 2,
            max_moves: 3,
        }
    }

    /// A system that sustains exactly `truth` msg/s, judged with noise of ±`noise` (relative,
    /// from a fixed sequence): the search must land within resolution and noise of it.
    fn run(truth: f64, noise: f64) -> (Bracket, Vec<(f64, Purpose)>) {
        let mut steps = Vec::new();
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let bracket = search(&plan(), |rate, purpose, _| {
            steps.push((rate, purpose));
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let jitter = (state % 2001) as f64 / 1000.0 - 1.0;
            Ok(Some(rate <= truth * (1.0 + noise * jitter)))
        })
        .unwrap()
        .unwrap();
        (bracket, steps)
    }

    #[test]
    fn finds_a_known_capacity_within_its_resolution() {
        for truth in [3_000.0, 7_777.0, 10_000.0, 14_000.0, 1_000.0] {
            let (bracket, steps) = run(truth, 0.0);
            let failed = bracket.failed.unwrap();
            assert!(
                bracket.sustained <= truth && truth < failed,
                "{truth}: {bracket:?}"
            );
            assert!(
                failed / bracket.sustained - 1.0 <= 0.02 + 1e-9,
                "{truth}: {bracket:?}"
            );
            assert!(steps.len() <= 25, "{truth}: {} steps", steps.len());
            assert_eq!(
                steps.iter().filter(|(_, p)| *p == Purpose::Repeat).count(),
                4,
                "{steps:?}"
            );
        }
    }

    #[test]
    fn noise_widens_the_answer_but_keeps_it_near_the_truth() {
        for truth in [4_000.0, 9_000.0] {
            let (bracket, _) = run(truth, 0.02);
            assert!(
                (bracket.sustained / truth - 1.0).abs() <= 0.05,
                "{truth}: {bracket:?}"
            );
        }
    }

    #[test]
    fn the_estimate_of_steps_left_ends_at_zero_and_is_never_far_off() {
        let mut seen = Vec::new();
        search(&plan(), |rate, _, left| {
            seen.push(left);
            Ok(Some(rate <= 7_777.0))
        })
        .unwrap();
        assert_eq!(seen.last(), Some(&0), "{seen:?}");
        for (index, left) in seen.iter().enumerate() {
            let actual = seen.len() - index - 1;
            assert!(
                left.abs_diff(actual) <= 3,
                "step {index}: estimated {left}, actual {actual}: {seen:?}"
            );
        }
    }

    #[test]
    fn a_pipeline_faster_than_the_ceiling_is_at_least_the_ceiling() {
        let (bracket, _) = run(1e9, 0.0);
        assert_eq!(
            bracket,
            Bracket {
                sustained: 15_000.0,
                failed: None
            }
        );
    }

    #[test]
    fn a_slow_start_steps_down_and_nothing_sustained_is_an_error() {
        let (bracket, steps) = run(300.0, 0.0);
        assert!(steps.iter().any(|(_, p)| *p == Purpose::StepDown));
        assert!(bracket.sustained <= 300.0 && bracket.failed.unwrap() > 300.0);
        let nothing = search(&plan(), |_, _, _| Ok(Some(false))).unwrap().unwrap();
        assert_eq!(nothing.sustained, 0.0);
        assert!(nothing.failed.unwrap() >= plan().floor, "{nothing:?}");
    }

    #[test]
    fn an_interruption_keeps_what_was_found() {
        let mut calls = 0;
        let bracket = search(&plan(), |rate, _, _| {
            calls += 1;
            Ok(if calls > 3 { None } else { Some(rate <= 6_000.0) })
        })
        .unwrap()
        .unwrap();
        // 2,500 and 3,750 passed, 5,625 passed, then stopped.
        assert_eq!(bracket.sustained, 5_625.0);
        assert_eq!(bracket.failed, None);
        assert_eq!(search(&plan(), |_, _, _| Ok(None)).unwrap(), None);
    }
}

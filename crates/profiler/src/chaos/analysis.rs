//! What a chaos run's timeline says: the steady-state band before the fault, how far the
//! pipeline fell during it, and when it was back to normal for good. Pure functions of the
//! windowed figures, so that they are tested against timelines whose answer is known.
//!
//! Each figure is first smoothed by a centred median of five windows: one or two windows alone
//! (a host pause of a few ms puts a 100 ms window's p99 — at 1,000 msg/s, its largest of a
//! hundred — far out) are noise, not a state; a centred median shifts no step in time.

use perfgate_results::{ChaosBand, ChaosTimeline};
use perfgate_stats::median;

/// The first this much of the window is left out of the band: the pipeline settles into the
/// phase's rate after the warm-up.
pub(crate) const SETTLE_S: f64 = 0.3;
/// Fewest windows before the fault for a band.
const MIN_BAND_WINDOWS: usize = 5;
/// Back to normal means inside the band for at least this long, to the window's end.
pub(crate) const STABLE_S: f64 = 0.5;
/// The band is the steady state's range widened by this share of its median on each side: a
/// shorter steady state has seen less of its own noise.
const BAND_MARGIN: f64 = 0.1;
/// ... and the p99's upper edge is its steady maximum times this. A 100 ms window's p99 at a
/// thousand messages a second is its second-largest latency: on a loaded 2-core machine three
/// windows in a row after a recovery read 1.66 times the steady maximum (the median of five let
/// them through), and at 1.5 the recovery read 0.3 s late.
const P99_MARGIN: f64 = 2.0;

/// What the analysis found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Verdict {
    pub(crate) band: ChaosBand,
    pub(crate) degraded_throughput_ratio: f64,
    pub(crate) degraded_p99_ratio: Option<f64>,
    /// From the fault's end until back inside the band for good, s; `None`: not within the run.
    pub(crate) recovery_s: Option<f64>,
    pub(crate) backlog_peak: u64,
    pub(crate) backlog_drain_s: Option<f64>,
}

/// Windows on each side of the centred median.
const SMOOTH_REACH: usize = 2;

/// A median of `2 × SMOOTH_REACH + 1` windows, centred, or shifted inwards at the ends so that it
/// always has as many (a median of three at the last window would let two noisy windows in
/// four decide); `None`s are left out.
fn smooth(values: &[Option<f64>]) -> Vec<Option<f64>> {
    let span = 2 * SMOOTH_REACH + 1;
    (0..values.len())
        .map(|i| {
            let start = i
                .saturating_sub(SMOOTH_REACH)
                .min(values.len().saturating_sub(span));
            let around: Vec<f64> = values[start..(start + span).min(values.len())]
                .iter()
                .flatten()
                .copied()
                .collect();
            if values[i].is_none() {
                None
            } else {
                median(&around)
            }
        })
        .collect()
}

/// Reads `timeline` (windows of `window_s`, each `t_s` its end from the measured window's start)
/// around a fault from `start_s` to `end_s`; windows after `offered_until_s` (when the schedule
/// stopped: only the drain is left) are not judged. `None` without enough windows before the
/// fault for a band.
pub(crate) fn analyse(
    timeline: &ChaosTimeline,
    window_s: f64,
    (start_s, end_s): (f64, f64),
    offered_until_s: f64,
) -> Option<Verdict> {
    // Only the windows while the schedule offered load: after it, the drain is no steady state
    // and the last window is a part of one.
    let offered = timeline
        .t_s
        .iter()
        .take_while(|&&end| end <= offered_until_s + 1e-9)
        .count();
    let throughput: Vec<Option<f64>> = timeline.throughput[..offered].iter().map(|&v| Some(v)).collect();
    let throughput = smooth(&throughput);
    let p99 = smooth(&timeline.p99_ms[..offered]);
    let starts: Vec<f64> = timeline.t_s.iter().map(|end| end - window_s).collect();
    let before: Vec<usize> = (0..starts.len())
        .filter(|&i| starts[i] >= SETTLE_S && timeline.t_s[i] <= start_s + 1e-9)
        .collect();
    if before.len() < MIN_BAND_WINDOWS {
        return None;
    }
    let steady_throughput: Vec<f64> = before.iter().filter_map(|&i| throughput[i]).collect();
    let steady_p99: Vec<f64> = before.iter().filter_map(|&i| p99[i]).collect();
    let throughput_median = median(&steady_throughput)?;
    let p99_median = median(&steady_p99)?;
    let margin = throughput_median * BAND_MARGIN;
    let band = ChaosBand {
        windows: before.len(),
        throughput_median,
        throughput_low: steady_throughput.iter().copied().fold(f64::INFINITY, f64::min) - margin,
        throughput_high: steady_throughput
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
            + margin,
        p99_median_ms: p99_median,
        p99_high_ms: steady_p99.iter().copied().fold(f64::NEG_INFINITY, f64::max) * P99_MARGIN,
    };
    // During the fault: the windows wholly inside it, raw (the smoothing would blur a short
    // fault into its neighbours).
    let during: Vec<usize> = (0..starts.len())
        .filter(|&i| starts[i] >= start_s - 1e-9 && timeline.t_s[i] <= end_s + 1e-9)
        .collect();
    let during_throughput: Vec<f64> = during.iter().map(|&i| timeline.throughput[i]).collect();
    let during_p99: Vec<f64> = during.iter().filter_map(|&i| timeline.p99_ms[i]).collect();
    let degraded_throughput_ratio =
        median(&during_throughput).map_or(1.0, |during| during / throughput_median);
    let degraded_p99_ratio = median(&during_p99).map(|during| during / p99_median.max(f64::MIN_POSITIVE));

    // Back to normal: the first window from the fault's end after which every judged window is
    // inside the band, for at least STABLE_S.
    let inside = |i: usize| {
        let t_ok = throughput[i].is_some_and(|t| t >= band.throughput_low && t <= band.throughput_high);
        let p_ok = p99[i].is_some_and(|p| p <= band.p99_high_ms);
        t_ok && p_ok
    };
    let judged: Vec<usize> = (0..starts.len())
        .filter(|&i| starts[i] >= end_s - 1e-9 && timeline.t_s[i] <= offered_until_s + 1e-9)
        .collect();
    let mut recovery_s = None;
    if let Some(&last) = judged.last() {
        // Walk back from the end while inside: the earliest window of the final stable run.
        let mut first_stable = None;
        for &i in judged.iter().rev() {
            if inside(i) {
                first_stable = Some(i);
            } else {
                break;
            }
        }
        if let Some(first) = first_stable
            && timeline.t_s[last] - starts[first] >= STABLE_S - 1e-9
        {
            recovery_s = Some((starts[first] - end_s).max(0.0));
        }
    }

    let backlog_peak = timeline.backlog.iter().copied().fold(0.0, f64::max) as u64;
    let steady_backlog = before.iter().map(|&i| timeline.backlog[i]).fold(0.0, f64::max);
    let backlog_drain_s = (0..starts.len())
        .find(|&i| {
            timeline.t_s[i] >= end_s && timeline.backlog[i] <= steady_backlog.max(1.0) * (1.0 + BAND_MARGIN)
        })
        .map(|i| (timeline.t_s[i] - end_s).max(0.0));
    Some(Verdict {
        band,
        degraded_throughput_ratio,
        degraded_p99_ratio,
        recovery_s,
        backlog_peak,
        backlog_drain_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A timeline of 0.1 s windows over `seconds`: throughput and p99 by the window's end, a
    /// backlog of 0 unless `backlog` says otherwise.
    fn timeline(seconds: f64, figure: impl Fn(f64) -> (f64, f64, f64)) -> ChaosTimeline {
        let windows = (seconds / 0.1).round() as usize;
        let mut out = ChaosTimeline::default();
        for i in 1..=windows {
            let t = i as f64 * 0.1;
            let (throughput, p99, backlog) = figure(t);
            out.t_s.push(t);
            out.throughput.push(throughput);
            out.p99_ms.push(Some(p99));
            out.backlog.push(backlog);
        }
        out
    }

    /// A small deterministic wobble, as a real steady state has.
    fn wobble(t: f64) -> f64 {
        ((t * 37.0).sin() + (t * 11.0).cos()) * 0.02
    }

    #[test]
    fn a_fault_whose_effect_ends_at_a_known_time_recovers_then() {
        // Steady at 1,000 msg/s and 1 ms; the fault from 3 s to 5 s halves throughput and puts
        // the p99 at 40 ms; the effect lasts until 5.8 s (a backlog draining), then normal.
        let truth = 0.8;
        let series = timeline(10.0, |t| {
            if (3.0..5.0 + truth).contains(&(t - 0.05)) {
                (500.0, 40.0, 300.0)
            } else {
                (1_000.0 * (1.0 + wobble(t)), 1.0 * (1.0 + wobble(t + 1.0)), 2.0)
            }
        });
        let verdict = analyse(&series, 0.1, (3.0, 5.0), 10.0).unwrap();
        let recovery = verdict.recovery_s.expect("it recovered");
        assert!((recovery - truth).abs() <= 0.1 + 1e-9, "{recovery}");
        assert!(
            (verdict.degraded_throughput_ratio - 0.5).abs() < 0.05,
            "{verdict:?}"
        );
        assert!(verdict.degraded_p99_ratio.unwrap() > 30.0);
        assert_eq!(verdict.backlog_peak, 300);
        let drain = verdict.backlog_drain_s.unwrap();
        assert!((drain - truth).abs() <= 0.1 + 1e-9, "{drain}");
        assert!(verdict.band.throughput_low < 1_000.0 && verdict.band.throughput_high > 1_000.0);
    }

    #[test]
    fn a_pipeline_that_never_recovers_is_reported_as_such() {
        let series = timeline(10.0, |t| {
            if t > 3.0 {
                (400.0, 80.0, 1_000.0 * t)
            } else {
                (1_000.0 * (1.0 + wobble(t)), 1.0, 2.0)
            }
        });
        let verdict = analyse(&series, 0.1, (3.0, 5.0), 10.0).unwrap();
        assert_eq!(verdict.recovery_s, None);
        assert_eq!(verdict.backlog_drain_s, None);
    }

    #[test]
    fn one_noisy_window_after_the_fault_does_not_undo_a_recovery() {
        let series = timeline(10.0, |t| {
            let spike = (7.45..7.55).contains(&t);
            if (3.0..5.3).contains(&(t - 0.05)) {
                (300.0, 30.0, 50.0)
            } else {
                (1_000.0 * (1.0 + wobble(t)), if spike { 50.0 } else { 1.0 }, 2.0)
            }
        });
        let verdict = analyse(&series, 0.1, (3.0, 5.0), 10.0).unwrap();
        let recovery = verdict.recovery_s.expect("a lone spike is noise");
        assert!((recovery - 0.3).abs() <= 0.1 + 1e-9, "{recovery}");
    }

    #[test]
    fn a_recovery_too_close_to_the_end_to_hold_is_not_claimed() {
        let series = timeline(6.0, |t| {
            if (3.0..5.8).contains(&(t - 0.05)) {
                (500.0, 40.0, 300.0)
            } else {
                (1_000.0, 1.0, 2.0)
            }
        });
        let verdict = analyse(&series, 0.1, (3.0, 5.0), 6.0).unwrap();
        assert_eq!(
            verdict.recovery_s, None,
            "0.2 s of normal is not yet 'stayed there'"
        );
    }

    #[test]
    fn without_enough_steady_windows_there_is_no_band() {
        let series = timeline(2.0, |_| (1_000.0, 1.0, 0.0));
        assert_eq!(analyse(&series, 0.1, (0.5, 1.0), 2.0), None);
    }
}

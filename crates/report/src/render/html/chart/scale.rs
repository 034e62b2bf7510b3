//! Scales and ticks: how a data value maps onto an SVG coordinate (linear or log), which round
//! values an axis is ticked at, and how the tick labels read. Pure arithmetic: drawing the axes
//! is `axis.rs`'s.

use crate::metric::format_value;

/// How an axis maps values to positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Equal distances for equal differences.
    Linear,
    /// Equal distances for equal ratios (base 10); values ≤ 0 cannot be placed.
    Log,
}

impl Kind {
    /// Whether `value` can be placed on an axis of this kind: finite, and above 0 on a log axis.
    pub(super) fn can_place(self, value: f64) -> bool {
        value.is_finite() && (self == Kind::Linear || value > 0.0)
    }

    /// Round ticks covering `[min, max]`: [`linear_ticks`] in about `intervals` steps, or
    /// [`log_ticks`] (which choose their own number).
    pub(super) fn ticks(self, min: f64, max: f64, intervals: usize) -> Vec<f64> {
        match self {
            Kind::Linear => linear_ticks(min, max, intervals),
            Kind::Log => log_ticks(min, max),
        }
    }
}

/// Maps a data domain onto SVG coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Scale {
    kind: Kind,
    domain: (f64, f64),
    range: (f64, f64),
}

impl Scale {
    /// `domain` (data) onto `range` (SVG units; may run backwards, as y does).
    pub(super) fn new(kind: Kind, domain: (f64, f64), range: (f64, f64)) -> Self {
        Scale { kind, domain, range }
    }

    /// The same domain onto another range.
    pub(super) fn with_range(self, range: (f64, f64)) -> Self {
        Scale { range, ..self }
    }

    /// Where `value` goes; `None` if it cannot be placed (not finite, or ≤ 0 on a log scale).
    pub(super) fn map(&self, value: f64) -> Option<f64> {
        let transform = |v: f64| {
            self.kind.can_place(v).then(|| match self.kind {
                Kind::Linear => v,
                Kind::Log => v.log10(),
            })
        };
        let (v, lo, hi) = (
            transform(value)?,
            transform(self.domain.0)?,
            transform(self.domain.1)?,
        );
        let share = if hi == lo { 0.5 } else { (v - lo) / (hi - lo) };
        Some(self.range.0 + share * (self.range.1 - self.range.0))
    }

    /// Whether `value` lies inside the domain (give or take rounding).
    pub(super) fn contains(&self, value: f64) -> bool {
        let (lo, hi) = (self.domain.0.min(self.domain.1), self.domain.0.max(self.domain.1));
        value >= lo - (hi - lo) * 1e-9 && value <= hi + (hi - lo) * 1e-9
    }
}

/// Smallest and largest of `values`; (0, 1) when there are none.
pub(super) fn bounds(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if min.is_finite() && max.is_finite() {
        (min, max)
    } else {
        (0.0, 1.0)
    }
}

/// Round ticks covering `[min, max]`: steps of 1, 2 or 5 × 10ⁿ, about `count` intervals, the
/// first at or below `min` and the last at or above `max`.
pub(super) fn linear_ticks(min: f64, max: f64, count: usize) -> Vec<f64> {
    let (mut min, mut max) = if min.is_finite() && max.is_finite() {
        (min.min(max), min.max(max))
    } else {
        (0.0, 1.0)
    };
    if min == max {
        if min == 0.0 {
            max = 1.0;
        } else {
            let pad = min.abs() * 0.1;
            min = (min - pad).max(-f64::MAX);
            max = (max + pad).min(f64::MAX);
        }
    }
    let count = count.max(1);
    // Data at the edges of f64 have no round steps to give: a span that overflows, a step that
    // underflows to 0 (a subnormal figure), or values so large that the step is lost in their
    // rounding. Evenly spaced ticks instead, so that an axis never asks for more than a few
    // (it once asked for 2^64 of them, from a Locust history with 5e-324 requests per second).
    let even = || -> Vec<f64> {
        (0..=count)
            .map(|i| {
                // Weights rather than min + i × step: neither term can overflow.
                let t = i as f64 / count as f64;
                if i == count {
                    max
                } else {
                    min * (1.0 - t) + max * t
                }
            })
            .collect()
    };
    let raw = (max - min) / count as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return even();
    }
    let exponent = raw.log10().floor() as i32;
    let mantissa = raw / 10f64.powi(exponent);
    let (mantissa, exponent) = match mantissa {
        m if m <= 1.0 + 1e-9 => (1.0, exponent),
        m if m <= 2.0 + 1e-9 => (2.0, exponent),
        m if m <= 5.0 + 1e-9 => (5.0, exponent),
        _ => (1.0, exponent + 1),
    };
    // i × mantissa / 10ⁿ rather than i × step, so that 3 × 0.1 is 0.3 and not 0.30000000000000004.
    let at = |i: i64| {
        if exponent >= 0 {
            i as f64 * mantissa * 10f64.powi(exponent)
        } else {
            i as f64 * mantissa / 10f64.powi(-exponent)
        }
    };
    let step = at(1);
    let first = (min / step + 1e-9).floor();
    let last = (max / step - 1e-9).ceil();
    // Whole steps are exact up to 2^52; beyond, ticks would not be round, nor few. A round
    // tick past the data may also pass f64::MAX.
    const EXACT: f64 = (1u64 << 52) as f64;
    let round = step.is_finite()
        && step > 0.0
        && first.abs() <= EXACT
        && last.abs() <= EXACT
        && at(first as i64).is_finite()
        && at(last as i64).is_finite();
    if !round {
        return even();
    }
    (first as i64..=last as i64).map(at).collect()
}

/// Ticks of a log axis covering `[min, max]` (values ≤ 0 are ignored): every power of ten, and 2
/// and 5 times each when the range spans fewer than three decades; the first at or below `min`
/// and the last at or above `max`.
pub(super) fn log_ticks(min: f64, max: f64) -> Vec<f64> {
    let max = if max > 0.0 && max.is_finite() { max } else { 1.0 };
    let min = if min > 0.0 && min.is_finite() {
        min.min(max)
    } else {
        max / 10.0
    };
    let low = min.log10().floor() as i32;
    let high = (max.log10().ceil() as i32).max(low + 1);
    let multiples: &[f64] = if high - low < 3 { &[1.0, 2.0, 5.0] } else { &[1.0] };
    let power = |exponent: i32| {
        if exponent >= 0 {
            10f64.powi(exponent)
        } else {
            1.0 / 10f64.powi(-exponent)
        }
    };
    let all: Vec<f64> = (low..=high)
        .flat_map(|exponent| multiples.iter().map(move |m| m * power(exponent)))
        .collect();
    let first = all
        .iter()
        .rposition(|&tick| tick <= min * (1.0 + 1e-9))
        .unwrap_or(0);
    let last = all
        .iter()
        .position(|&tick| tick >= max * (1.0 - 1e-9))
        .unwrap_or(all.len() - 1);
    all[first..=last.max(first)].to_vec()
}

/// Labels for ticks: the shortest decimals that show each value, thousands grouped, and `k` or
/// `M` for the whole axis when its largest tick reaches 10,000 or a million.
pub(super) fn tick_labels(ticks: &[f64]) -> Vec<String> {
    let largest = ticks.iter().fold(0.0_f64, |most, tick| most.max(tick.abs()));
    let (divisor, suffix) = if largest >= 1e6 {
        (1e6, "M")
    } else if largest >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    ticks
        .iter()
        .map(|tick| {
            // A log axis spans decades: its ticks under a thousand read plainly (`0.1`, not
            // `0.0001k`); `0.5M` stays.
            let (divisor, suffix) = if tick.abs() < 1e3 {
                (1.0, "")
            } else {
                (divisor, suffix)
            };
            let value = tick / divisor;
            let decimals = (0..=6)
                .find(|&d| {
                    let scale = 10f64.powi(d);
                    ((value * scale).round() / scale - value).abs() <= 1e-9 * value.abs().max(1.0)
                })
                .unwrap_or(6);
            let text = if decimals == 0 {
                format_value(value.round(), "")
            } else {
                format!("{value:.*}", decimals as usize)
            };
            match text.as_str() {
                "0" | "-0" => "0".to_owned(),
                _ => format!("{text}{suffix}"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round_and_cover_the_data() {
        let check = |min: f64, max: f64, count: usize, expected: &[f64]| {
            assert_eq!(linear_ticks(min, max, count), expected, "{min}..{max} in {count}");
        };
        check(0.0, 10.0, 5, &[0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        check(0.0, 27.1, 4, &[0.0, 10.0, 20.0, 30.0]);
        check(0.0, 0.9, 3, &[0.0, 0.5, 1.0]);
        check(0.1, 0.35, 5, &[0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
        check(0.0, 0.3, 3, &[0.0, 0.1, 0.2, 0.3]);
        check(29.7, 31.2, 3, &[29.5, 30.0, 30.5, 31.0, 31.5]);
        check(-12.0, 40.0, 4, &[-20.0, 0.0, 20.0, 40.0]);
        check(
            0.0,
            612_345.0,
            5,
            &[0.0, 200_000.0, 400_000.0, 600_000.0, 800_000.0],
        );
        // Degenerate ranges still give an axis.
        check(0.0, 0.0, 4, &[0.0, 0.5, 1.0]);
        check(5.0, 5.0, 2, &[4.5, 5.0, 5.5]);
        check(f64::NAN, 1.0, 2, &[0.0, 0.5, 1.0]);
    }

    /// Found by `cargo xtask fuzz` (issue 15): a Locust history whose requests per second was
    /// `5e-324` (the smallest subnormal) made the step underflow to 0, and the tick range from
    /// `min / 0` to `max / 0` asked for more ticks than memory holds (a "capacity overflow"
    /// panic in the HTML report's charts, from a history or a Locust file alike). Spans that
    /// overflow, and a step lost in its values' rounding, broke it the same way.
    #[test]
    fn data_at_the_edges_of_f64_still_get_a_few_ticks() {
        for (min, max) in [
            (0.0, 5e-324),
            (0.0, 1e-310),
            (5e-324, 5e-324),
            (-1e308, 1e308),
            (-f64::MAX, f64::MAX),
            (0.0, f64::MAX),
            (f64::MAX, f64::MAX),
            (1e300, 1e300 * (1.0 + f64::EPSILON)),
            (9.007_199_254_740_992e15, 9.007_199_254_740_994e15),
            (1e22, 1e22 + 2e6),
        ] {
            let ticks = linear_ticks(min, max, 4);
            assert!(
                (2..=21).contains(&ticks.len()),
                "{min}..{max}: {} ticks",
                ticks.len()
            );
            assert!(
                ticks.iter().all(|tick| tick.is_finite()),
                "{min}..{max}: {ticks:?}"
            );
            assert!(
                ticks[0] <= min && ticks[ticks.len() - 1] >= max,
                "{min}..{max}: {ticks:?}"
            );
        }
    }

    #[test]
    fn log_ticks_cover_whole_decades() {
        assert_eq!(log_ticks(0.14, 27.0), [0.1, 1.0, 10.0, 100.0]);
        assert_eq!(log_ticks(2.0, 10_000.0), [1.0, 10.0, 100.0, 1_000.0, 10_000.0]);
        // Under three decades, 2 and 5 between the powers of ten.
        assert_eq!(log_ticks(0.45, 4.8), [0.2, 0.5, 1.0, 2.0, 5.0]);
        assert_eq!(log_ticks(3.0, 3.0), [2.0, 5.0]);
        // Nothing positive: one decade below 1.
        assert_eq!(log_ticks(0.0, 0.0), [0.1, 0.2, 0.5, 1.0]);
    }

    #[test]
    fn a_log_scale_gives_each_decade_the_same_width() {
        let scale = Scale::new(Kind::Log, (1.0, 10_000.0), (100.0, 500.0));
        assert_eq!(scale.map(1.0), Some(100.0));
        assert_eq!(scale.map(10.0), Some(200.0));
        assert_eq!(scale.map(100.0), Some(300.0));
        assert_eq!(scale.map(10_000.0), Some(500.0));
        // The percentile axis: 1 / (1 - q) puts p90 one decade after the median's 2, p99 two.
        let p50 = scale.map(2.0).unwrap();
        assert!((p50 - 130.1).abs() < 0.1, "{p50}");
        assert_eq!(scale.map(0.0), None);
        assert_eq!(scale.map(-1.0), None);
        let linear = Scale::new(Kind::Linear, (0.0, 10.0), (200.0, 0.0));
        assert_eq!(linear.map(2.5), Some(150.0));
        assert_eq!(linear.map(f64::NAN), None);
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(
            tick_labels(&[0.0, 0.1, 0.2, 0.30000000000000004]),
            ["0", "0.1", "0.2", "0.3"]
        );
        assert_eq!(tick_labels(&[0.0, 2_500.0, 5_000.0]), ["0", "2,500", "5,000"]);
        assert_eq!(tick_labels(&[0.0, 200_000.0, 600_000.0]), ["0", "200k", "600k"]);
        assert_eq!(tick_labels(&[0.0, 1_500_000.0]), ["0", "1.5M"]);
        assert_eq!(tick_labels(&[-20.0, -0.0, 20.0]), ["-20", "0", "20"]);
        assert_eq!(tick_labels(&[0.001, 0.01]), ["0.001", "0.01"]);
        assert_eq!(
            tick_labels(&[0.1, 1.0, 10.0, 100.0, 1_000.0, 10_000.0]),
            ["0.1", "1", "10", "100", "1k", "10k"]
        );
    }
}

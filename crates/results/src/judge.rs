//! The one judge of "better or worse": the baseline check of the report, `compare` and `trend`
//! all decide improved / regressed / unchanged here, with the catalogue's direction and noise
//! floor, so the same change cannot be a regression in one and noise in another.

use crate::catalogue::{Better, MetricDef};

/// How a metric moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    /// Better by more than the noise floor (and its interval, if any, excludes no change).
    Improved,
    /// Worse by more than the noise floor (and its interval, if any, excludes no change).
    Regressed,
    /// Within the noise floor, or the interval includes no change.
    Unchanged,
    /// Moved beyond the floor, for a metric with no better direction.
    Changed,
}

impl Movement {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Movement::Improved => "improved",
            Movement::Regressed => "regressed",
            Movement::Unchanged => "unchanged",
            Movement::Changed => "changed",
        }
    }
}

/// A measured change, candidate against base, as signed percentages (`+10` is 10 % higher).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// The point estimate.
    pub point_pct: f64,
    /// Its confidence interval, when repeated measurements give one.
    pub interval_pct: Option<(f64, f64)>,
}

impl Change {
    /// The change from one figure to another: `None` when the base is 0 and the candidate is not
    /// (no percentage exists).
    pub fn between(base: f64, candidate: f64) -> Option<Self> {
        let point_pct = if base != 0.0 {
            (candidate - base) / base.abs() * 100.0
        } else if candidate == 0.0 {
            0.0
        } else {
            return None;
        };
        Some(Self {
            point_pct,
            interval_pct: None,
        })
    }

    /// A ratio `candidate / base` with an optional interval of it.
    pub fn from_ratio(ratio: f64, interval: Option<(f64, f64)>) -> Self {
        Self {
            point_pct: (ratio - 1.0) * 100.0,
            interval_pct: interval.map(|(low, high)| ((low - 1.0) * 100.0, (high - 1.0) * 100.0)),
        }
    }

    /// The change as a regression in percent: positive when worse, whatever the direction
    /// (`None` for a metric with no better direction).
    pub fn worse_pct(&self, better: Better) -> Option<f64> {
        match better {
            Better::Higher => Some(-self.point_pct),
            Better::Lower => Some(self.point_pct),
            Better::Neither => None,
        }
    }
}

/// The noise floor that applies to `metric` when a caller also has its own (`--noise`, or one
/// learnt from A/A comparisons): the largest of them, and 0 for an exact metric.
pub fn floor_pct(metric: &MetricDef, extra_floors: &[f64]) -> f64 {
    if metric.exact {
        return 0.0;
    }
    extra_floors
        .iter()
        .copied()
        .fold(metric.noise_floor_pct, f64::max)
}

/// The verdict on `change` for `metric` with noise floor `floor_pct` (see [`floor_pct`]).
///
/// Unchanged when the interval includes no change or the point change is smaller than the floor;
/// otherwise regressed or improved by the metric's direction, and changed for a metric with
/// none. A change with no percentage (`None`: from 0 to something) is judged by its sign alone.
pub fn judge(metric: &MetricDef, change: Option<Change>, floor_pct: f64, moved_up: bool) -> Movement {
    let moved_up = match change {
        None => moved_up,
        Some(change) => {
            let includes_none = change
                .interval_pct
                .is_some_and(|(low, high)| low <= 0.0 && 0.0 <= high);
            if includes_none || change.point_pct == 0.0 || change.point_pct.abs() < floor_pct {
                return Movement::Unchanged;
            }
            change.point_pct > 0.0
        }
    };
    match (metric.better, moved_up) {
        (Better::Neither, _) => Movement::Changed,
        (Better::Higher, true) | (Better::Lower, false) => Movement::Improved,
        (Better::Higher, false) | (Better::Lower, true) => Movement::Regressed,
    }
}

/// [`judge`] of two single figures (a run against its baseline).
pub fn judge_figures(metric: &MetricDef, base: f64, candidate: f64, floor_pct: f64) -> Movement {
    judge(
        metric,
        Change::between(base, candidate),
        floor_pct,
        candidate > base,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::metric;

    fn def(id: &str) -> &'static MetricDef {
        metric(id).unwrap()
    }

    #[test]
    fn direction_floor_and_interval_decide() {
        let throughput = def("cpu.messages_per_second");
        let p99 = def("latency.p99_ms");
        assert_eq!(judge_figures(throughput, 100.0, 90.0, 2.0), Movement::Regressed);
        assert_eq!(judge_figures(throughput, 100.0, 110.0, 2.0), Movement::Improved);
        assert_eq!(judge_figures(throughput, 100.0, 101.0, 2.0), Movement::Unchanged);
        assert_eq!(judge_figures(p99, 1.0, 1.1, 20.0), Movement::Unchanged);
        assert_eq!(judge_figures(p99, 1.0, 1.3, 20.0), Movement::Regressed);
        assert_eq!(
            judge_figures(p99, 0.0, 1.0, 20.0),
            Movement::Regressed,
            "from zero"
        );
        assert_eq!(
            judge_figures(def("cpu.utilisation_percent"), 10.0, 50.0, 2.0),
            Movement::Changed
        );
        let wide = Change::from_ratio(0.8, Some((0.6, 1.05)));
        assert_eq!(judge(throughput, Some(wide), 2.0, false), Movement::Unchanged);
        let clear = Change::from_ratio(0.8, Some((0.7, 0.9)));
        assert_eq!(judge(throughput, Some(clear), 2.0, false), Movement::Regressed);
    }

    #[test]
    fn the_floor_is_the_largest_and_zero_for_exact_metrics() {
        assert_eq!(floor_pct(def("latency.p99_ms"), &[2.0]), 20.0);
        assert_eq!(floor_pct(def("latency.p99_ms"), &[2.0, 30.0]), 30.0);
        assert_eq!(floor_pct(def("errors.total"), &[2.0]), 0.0);
        assert_eq!(
            judge_figures(def("errors.total"), 100.0, 101.0, 0.0),
            Movement::Regressed
        );
    }
}

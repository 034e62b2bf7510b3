//! Pure evaluation: results + thresholds (+ baseline) → checks with a status each, the baseline
//! comparison, and the overall verdict. No I/O here; the gate and the renderers only read the
//! [`Evaluation`].

use crate::input::RunData;
use crate::metric::{METRICS, metric};
use crate::thresholds::{Limit, Thresholds};
use perfgate_results::judge::{self, Change};

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Meets the target (or the limit, without a target).
    Pass,
    /// Meets the limit but not the target.
    Warn,
    /// Beyond the limit, required but absent, or regressed beyond `--max-regression`.
    Fail,
    /// Not in the results (and not required).
    NotAvailable,
}

impl Status {
    /// Lower-case name, as in the JSON verdict.
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::NotAvailable => "not_available",
        }
    }
}

/// One threshold applied to one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Metric id.
    pub id: String,
    /// What the metric is.
    pub description: String,
    /// Unit.
    pub unit: String,
    /// The metric's value, if present.
    pub value: Option<f64>,
    /// The limit.
    pub limit: Limit,
    /// The target, if any.
    pub target: Option<f64>,
    /// The verdict.
    pub status: Status,
    /// Whether absence fails.
    pub required: bool,
    /// The baseline's value, when a baseline was given and has it.
    pub baseline: Option<f64>,
    /// Change against the baseline, %.
    pub change_pct: Option<f64>,
}

pub use perfgate_results::judge::Movement;

/// One metric against the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Metric id.
    pub id: String,
    /// Unit.
    pub unit: String,
    /// Current value.
    pub current: f64,
    /// Baseline value.
    pub baseline: f64,
    /// `(current - baseline) / |baseline|`, %; `None` when the baseline is 0 and current is not.
    pub change_pct: Option<f64>,
    /// The verdict.
    pub movement: Movement,
    /// Whether this regression exceeds `--max-regression` and fails the run.
    pub gated: bool,
}

/// Everything evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Threshold checks, in metric order.
    pub checks: Vec<Check>,
    /// Baseline comparisons (empty without a baseline), in metric order.
    pub comparisons: Vec<Comparison>,
    /// Pass, warn or fail.
    pub overall: Status,
}

impl Evaluation {
    /// Checks with a status.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|check| check.status == status).count()
    }

    /// Regressions beyond `--max-regression`.
    pub fn gated_regressions(&self) -> usize {
        self.comparisons
            .iter()
            .filter(|comparison| comparison.gated)
            .count()
    }
}

/// How to compare with a baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvaluateOptions {
    /// A regression larger than this, %, fails the run.
    pub max_regression_pct: Option<f64>,
    /// Changes smaller than this, %, count as unchanged. It raises each metric's own noise floor
    /// from the catalogue, never lowers it; exact metrics (counts) have none.
    pub noise_pct: f64,
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        Self {
            max_regression_pct: None,
            noise_pct: 2.0,
        }
    }
}

/// The status of `value` against a limit and an optional target. At the limit or the target
/// exactly counts as meeting it.
pub fn status_of(limit: Limit, target: Option<f64>, value: f64) -> Status {
    if value.is_nan() || !limit.admits(limit.value(), value) {
        return Status::Fail;
    }
    match target {
        Some(target) if !limit.admits(target, value) => Status::Warn,
        _ => Status::Pass,
    }
}

/// Evaluates results against thresholds and, optionally, a baseline.
pub fn evaluate(
    current: &RunData,
    thresholds: &Thresholds,
    baseline: Option<&RunData>,
    options: EvaluateOptions,
) -> Evaluation {
    let comparisons = baseline
        .map(|baseline| compare(current, baseline, options))
        .unwrap_or_default();
    let checks: Vec<Check> = thresholds
        .entries
        .iter()
        .map(|threshold| {
            let value = current.metrics.get(&threshold.id).copied();
            let status = match value {
                Some(value) => status_of(threshold.limit, threshold.target, value),
                None if threshold.required => Status::Fail,
                None => Status::NotAvailable,
            };
            let comparison = comparisons
                .iter()
                .find(|comparison| comparison.id == threshold.id);
            Check {
                id: threshold.id.clone(),
                description: threshold.description.clone(),
                unit: threshold.unit.clone(),
                value,
                limit: threshold.limit,
                target: threshold.target,
                status,
                required: threshold.required,
                baseline: comparison.map(|comparison| comparison.baseline),
                change_pct: comparison.and_then(|comparison| comparison.change_pct),
            }
        })
        .collect();
    let failed = checks.iter().any(|check| check.status == Status::Fail)
        || comparisons.iter().any(|comparison| comparison.gated);
    let warned = checks.iter().any(|check| check.status == Status::Warn);
    let overall = if failed {
        Status::Fail
    } else if warned {
        Status::Warn
    } else {
        Status::Pass
    };
    Evaluation {
        checks,
        comparisons,
        overall,
    }
}

/// Every metric both runs have, current against baseline.
fn compare(current: &RunData, baseline: &RunData, options: EvaluateOptions) -> Vec<Comparison> {
    METRICS
        .iter()
        .filter_map(|def| {
            let (now, before) = (*current.metrics.get(def.id)?, *baseline.metrics.get(def.id)?);
            let change_pct = Change::between(before, now).map(|change| change.point_pct);
            let floor = judge::floor_pct(def, &[options.noise_pct]);
            let movement = judge::judge_figures(def, before, now, floor);
            let gated = movement == Movement::Regressed
                && options
                    .max_regression_pct
                    .is_some_and(|limit| change_pct.is_none_or(|change| change.abs() > limit));
            Some(Comparison {
                id: def.id.to_owned(),
                unit: metric(def.id).map_or("", |def| def.unit).to_owned(),
                current: now,
                baseline: before,
                change_pct,
                movement,
                gated,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;

    fn check(limit: Limit, target: Option<f64>, value: f64, expected: Status) {
        assert_eq!(
            status_of(limit, target, value),
            expected,
            "{limit:?} target {target:?} value {value}"
        );
    }

    #[test]
    fn status_boundaries() {
        let min = Limit::Min(100.0);
        check(min, Some(200.0), 250.0, Status::Pass);
        check(min, Some(200.0), 200.0, Status::Pass);
        check(min, Some(200.0), 199.9, Status::Warn);
        check(min, Some(200.0), 100.0, Status::Warn);
        check(min, Some(200.0), 99.9, Status::Fail);
        check(min, None, 100.0, Status::Pass);
        check(min, None, f64::NAN, Status::Fail);
        let max = Limit::Max(10.0);
        check(max, Some(2.0), 1.0, Status::Pass);
        check(max, Some(2.0), 2.0, Status::Pass);
        check(max, Some(2.0), 2.1, Status::Warn);
        check(max, Some(2.0), 10.0, Status::Warn);
        check(max, Some(2.0), 10.01, Status::Fail);
        check(max, None, f64::NAN, Status::Fail);
    }

    fn run(metrics: &[(&str, f64)]) -> RunData {
        let mut run = crate::input::parse_results(
            Path::new("r.json"),
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"phases":{"saturation":{"measured_messages":1}}}"#,
        )
        .unwrap();
        run.metrics = metrics
            .iter()
            .map(|(id, value)| ((*id).to_owned(), *value))
            .collect::<BTreeMap<_, _>>();
        run
    }

    fn thresholds(text: &str) -> Thresholds {
        Thresholds::parse(Path::new("t.toml"), text).unwrap()
    }

    #[test]
    fn missing_metrics_are_not_available_unless_required() {
        let limits = thresholds(
            "[metrics.\"cpu.messages_per_second\"]\nmin = 1\n[metrics.\"latency.p99_ms\"]\nmax = 5\nrequired = true\n",
        );
        let evaluation = evaluate(&run(&[]), &limits, None, EvaluateOptions::default());
        assert_eq!(evaluation.checks[0].status, Status::NotAvailable);
        assert_eq!(evaluation.checks[1].status, Status::Fail);
        assert_eq!(evaluation.overall, Status::Fail);
        let optional = thresholds("[metrics.\"cpu.messages_per_second\"]\nmin = 1\n");
        assert_eq!(
            evaluate(&run(&[]), &optional, None, EvaluateOptions::default()).overall,
            Status::Pass
        );
    }

    #[test]
    fn overall_is_the_worst_check() {
        let limits = thresholds(
            "[metrics.\"cpu.messages_per_second\"]\nmin = 100\ntarget = 200\n[metrics.\"latency.p99_ms\"]\nmax = 5\n",
        );
        let warn = evaluate(
            &run(&[("cpu.messages_per_second", 150.0), ("latency.p99_ms", 1.0)]),
            &limits,
            None,
            EvaluateOptions::default(),
        );
        assert_eq!(
            (warn.overall, warn.count(Status::Warn), warn.count(Status::Pass)),
            (Status::Warn, 1, 1)
        );
        let fail = evaluate(
            &run(&[("cpu.messages_per_second", 150.0), ("latency.p99_ms", 6.0)]),
            &limits,
            None,
            EvaluateOptions::default(),
        );
        assert_eq!(fail.overall, Status::Fail);
    }

    #[test]
    fn baseline_direction_noise_and_gate() {
        let limits = thresholds("[metrics.\"cpu.messages_per_second\"]\nmin = 1\n");
        let before = run(&[
            ("cpu.messages_per_second", 1000.0),
            ("latency.p99_ms", 2.0),
            ("memory.delta_mb", 1.0),
            ("asyncio.active_tasks", 10.0),
            ("errors.total", 0.0),
        ]);
        let after = run(&[
            ("cpu.messages_per_second", 880.0),
            ("latency.p99_ms", 1.0),
            ("memory.delta_mb", 1.01),
            ("asyncio.active_tasks", 12.0),
            ("errors.total", 3.0),
        ]);
        let options = EvaluateOptions {
            max_regression_pct: Some(10.0),
            noise_pct: 2.0,
        };
        let evaluation = evaluate(&after, &limits, Some(&before), options);
        let movement = |id: &str| {
            evaluation
                .comparisons
                .iter()
                .find(|c| c.id == id)
                .unwrap()
                .clone()
        };
        let throughput = movement("cpu.messages_per_second");
        assert_eq!(throughput.movement, Movement::Regressed);
        assert!((throughput.change_pct.unwrap() + 12.0).abs() < 1e-9);
        assert!(throughput.gated, "12 % worse with a 10 % limit");
        assert_eq!(movement("latency.p99_ms").movement, Movement::Improved);
        assert_eq!(movement("memory.delta_mb").movement, Movement::Unchanged);
        assert_eq!(movement("asyncio.active_tasks").movement, Movement::Changed);
        let errors = movement("errors.total");
        assert_eq!(
            (errors.movement, errors.change_pct, errors.gated),
            (Movement::Regressed, None, true)
        );
        assert_eq!(evaluation.overall, Status::Fail);
        assert_eq!(evaluation.checks[0].baseline, Some(1000.0));
        let lenient = evaluate(
            &after,
            &limits,
            Some(&before),
            EvaluateOptions {
                max_regression_pct: None,
                noise_pct: 2.0,
            },
        );
        assert_eq!(
            lenient.overall,
            Status::Pass,
            "regressions only fail with --max-regression"
        );
    }
}

//! A sweep: the same figures measured at every point of a grid of knob values (batch size,
//! workers, …), each point run several times, interleaved, with each figure's median and its
//! interval, and the best value by throughput or "no clear winner" ([`analyse`]).
//!
//! The analysis is here, beside the types, because two writers make this section — `cargo xtask
//! sweep` over the profiler binary and `perfgate_profiler::sweep` over a user's own pipeline — and
//! they must judge "best" by one rule, as [`crate::judge`] is the one rule for "worse".

use std::fmt::Write as _;

use indexmap::IndexMap;
use perfgate_stats::{median, median_interval};
use serde::{Deserialize, Serialize};

/// The figures every sweep point measures: id, label, unit, higher is better. The first is the
/// one the recommendation ranks by.
pub const SWEEP_METRICS: [(&str, &str, &str, bool); 4] = [
    (
        "cpu.messages_per_second",
        "Throughput at saturation",
        "msg/s",
        true,
    ),
    ("latency.p50_ms", "p50 latency at the fixed rate", "ms", false),
    ("latency.p99_ms", "p99 latency at the fixed rate", "ms", false),
    (
        "cpu.cpu_ns_per_message",
        "CPU time per message at saturation",
        "ns",
        false,
    ),
];
/// The index in [`SWEEP_METRICS`] of the figure the recommendation ranks by.
const THROUGHPUT: usize = 0;
/// The index of the latency figure the evidence notes.
const P99: usize = 2;

/// The share of a point's median saturation throughput above which its fixed-rate latency is
/// flagged: a point measured near its limit has a tail inflated by queueing, which is not the
/// same measurement as the others'.
pub const LOADED_SHARE: f64 = 0.6;

/// A whole sweep: its settings, every point with every run, and the recommendation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SweepSection {
    /// The knobs varied and their values, in the order given (the first varies slowest).
    pub params: Vec<SweepParam>,
    /// Runs per point asked for.
    pub repeat: usize,
    /// The one rate every point's fixed-rate phase ran at, messages/s (latency depends on the
    /// offered load, so the points' p99s compare only at one rate); `null` if none ran.
    pub fixed_rate_per_second: Option<f64>,
    /// Where that rate came from.
    pub rate_source: String,
    /// Confidence asked of each median's interval.
    pub confidence: f64,
    /// The figures measured, in the order of each run's `figures` and each point's `summary`.
    pub metrics: Vec<SweepMetric>,
    /// Every point of the grid.
    pub points: Vec<SweepPoint>,
    /// The best value by throughput, with its evidence.
    pub recommendation: SweepRecommendation,
    /// Things the reader should know (points measured near their limit).
    pub warnings: Vec<String>,
    /// `null` when every run was measured; `interrupted`, or the failure that stopped the sweep.
    pub stopped: Option<String>,
    /// Wall time of the whole sweep, s.
    pub duration_seconds: f64,
}

/// One knob and its values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SweepParam {
    /// `batch-size`, `workers.decode`, or a user's own name.
    pub knob: String,
    /// Its values, in the order given.
    pub values: Vec<String>,
}

/// One measured figure's description.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SweepMetric {
    /// The metric id of the same figure in a run's results.
    pub id: String,
    /// What it is.
    pub label: String,
    /// Its unit.
    pub unit: String,
    /// Whether a higher value is better.
    pub higher_is_better: bool,
}

/// One point of the grid.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SweepPoint {
    /// A value for every knob, in the order of `params`.
    pub knobs: IndexMap<String, String>,
    /// Its runs, in the order run.
    pub runs: Vec<SweepRun>,
    /// Per metric id, the figure over the runs; `null` when no run measured it.
    pub summary: IndexMap<String, Option<SweepFigure>>,
}

impl SweepPoint {
    /// `batch-size=64 workers.decode=2`.
    pub fn label(&self) -> String {
        label(&self.knobs)
    }

    /// The summary of the metric at `index` in [`SWEEP_METRICS`].
    pub fn figure(&self, index: usize) -> Option<&SweepFigure> {
        self.summary.get(SWEEP_METRICS[index].0)?.as_ref()
    }
}

/// One run of a point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SweepRun {
    /// Which repeat, from 1.
    pub repeat: usize,
    /// Position in the sweep's run order, from 0.
    pub position: usize,
    /// Wall time of the run, s.
    pub seconds: f64,
    /// The run's own results file, relative to this file's folder, when it was kept.
    pub results: Option<String>,
    /// Per metric id, the run's value; `null` where the run has none.
    pub figures: IndexMap<String, Option<f64>>,
}

/// A point's figure over its runs: the median and an interval for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SweepFigure {
    /// Runs that measured it.
    pub runs: usize,
    /// Their median.
    pub median: f64,
    /// The interval's lower end.
    pub low: f64,
    /// Its upper end.
    pub high: f64,
    /// How the interval was made: `order statistics` (enough runs for the confidence asked),
    /// `min–max` (too few: the range of the runs) or `single run` (no interval).
    pub interval: String,
    /// The interval's coverage of the true median; `null` for a single run.
    pub coverage: Option<f64>,
    /// The smallest run.
    pub min: f64,
    /// The largest.
    pub max: f64,
    /// `(max − min) / median`, %.
    pub spread_percent: f64,
}

/// The best value by throughput.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SweepRecommendation {
    /// The metric id it ranks by.
    pub metric: String,
    /// `best` (one point's interval above every other's), `no clear winner` (the leader's
    /// interval overlaps others') or `undecided` (nothing to compare).
    pub verdict: String,
    /// The best point's index, for `best`.
    pub best: Option<usize>,
    /// For `no clear winner`, the leader's index and those of the points whose intervals overlap
    /// it, the leader first.
    pub tied: Vec<usize>,
    /// Points clearly behind the leader: their whole interval below its lower end.
    pub behind: Vec<usize>,
    /// The recommendation and its evidence, one paragraph.
    pub evidence: String,
}

/// What a sweep was asked to do, for [`analyse`].
#[derive(Debug, Clone, Default)]
pub struct SweepSettings {
    /// The knobs and their values.
    pub params: Vec<SweepParam>,
    /// Runs per point asked for.
    pub repeat: usize,
    /// The shared fixed rate, messages/s.
    pub fixed_rate_per_second: Option<f64>,
    /// Where it came from.
    pub rate_source: String,
    /// Confidence asked of the intervals (0.95).
    pub confidence: f64,
    /// Why the sweep stopped early, if it did.
    pub stopped: Option<String>,
    /// Its wall time, s.
    pub duration_seconds: f64,
}

/// One measured run, for [`analyse`].
#[derive(Debug, Clone)]
pub struct SweepMeasurement {
    /// The point's index in the grid.
    pub point: usize,
    /// Which repeat, from 0.
    pub repeat: usize,
    /// Position in the run order, from 0.
    pub position: usize,
    /// Wall time, s.
    pub seconds: f64,
    /// Its results file, relative to the sweep's results file.
    pub results: Option<String>,
    /// [`SWEEP_METRICS`]' values, in order; NaN where the run has none.
    pub figures: [f64; 4],
}

/// A point's knob values as one label: `batch-size=64 workers.decode=2`.
pub fn label(knobs: &IndexMap<String, String>) -> String {
    knobs
        .iter()
        .map(|(knob, value)| format!("{knob}={value}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every combination of the params' values, the first param varying slowest (nested loops in
/// the order given).
pub fn grid(params: &[SweepParam]) -> Vec<IndexMap<String, String>> {
    let mut points = vec![IndexMap::new()];
    for param in params {
        points = points
            .into_iter()
            .flat_map(|point| {
                param.values.iter().map(move |value| {
                    let mut knobs = point.clone();
                    knobs.insert(param.knob.clone(), value.clone());
                    knobs
                })
            })
            .collect();
    }
    points
}

/// The section for the grid of `settings.params` and the runs measured: each point's figures
/// with their intervals, the recommendation with its evidence, and the warnings.
pub fn analyse(settings: SweepSettings, runs: &[SweepMeasurement]) -> SweepSection {
    let points: Vec<SweepPoint> = grid(&settings.params)
        .into_iter()
        .enumerate()
        .map(|(index, knobs)| {
            let own: Vec<&SweepMeasurement> = runs.iter().filter(|run| run.point == index).collect();
            let summary = SWEEP_METRICS
                .iter()
                .enumerate()
                .map(|(metric, (id, ..))| {
                    let values: Vec<f64> = own.iter().map(|run| run.figures[metric]).collect();
                    (id.to_string(), figure(&values, settings.confidence))
                })
                .collect();
            SweepPoint {
                knobs,
                runs: own
                    .iter()
                    .map(|run| SweepRun {
                        repeat: run.repeat + 1,
                        position: run.position,
                        seconds: run.seconds,
                        results: run.results.clone(),
                        figures: SWEEP_METRICS
                            .iter()
                            .zip(run.figures)
                            .map(|((id, ..), value)| (id.to_string(), value.is_finite().then_some(value)))
                            .collect(),
                    })
                    .collect(),
                summary,
            }
        })
        .collect();
    let recommendation = recommend(&points, settings.confidence);
    let warnings = load_warnings(settings.fixed_rate_per_second, &points);
    SweepSection {
        params: settings.params,
        repeat: settings.repeat,
        fixed_rate_per_second: settings.fixed_rate_per_second,
        rate_source: settings.rate_source,
        confidence: settings.confidence,
        metrics: SWEEP_METRICS
            .iter()
            .map(|(id, label, unit, higher)| SweepMetric {
                id: (*id).to_owned(),
                label: (*label).to_owned(),
                unit: (*unit).to_owned(),
                higher_is_better: *higher,
            })
            .collect(),
        points,
        recommendation,
        warnings,
        stopped: settings.stopped,
        duration_seconds: settings.duration_seconds,
    }
}

/// How an interval was made: its name in [`SweepFigure::interval`].
pub const ORDER_STATISTICS: &str = "order statistics";
/// Too few runs for the confidence asked: the range of the runs.
pub const MIN_MAX: &str = "min–max";
/// One run: no interval.
pub const SINGLE_RUN: &str = "single run";

/// The figure over the finite `values`; `None` without any.
fn figure(values: &[f64], confidence: f64) -> Option<SweepFigure> {
    let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let median = median(&values)?;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let n = values.len();
    let (low, high, interval, coverage) = match median_interval(&values, confidence) {
        Some((low, high, coverage)) => (low, high, ORDER_STATISTICS, Some(coverage)),
        // The range of n runs holds the true median unless all n fall on one side of it:
        // coverage 1 − 2^(1−n) (75 % for 3 runs, 50 % for 2).
        None if n >= 2 => (min, max, MIN_MAX, Some(1.0 - 0.5f64.powi(n as i32 - 1))),
        None => (min, max, SINGLE_RUN, None),
    };
    Some(SweepFigure {
        runs: n,
        median,
        low,
        high,
        interval: interval.to_owned(),
        coverage,
        min,
        max,
        spread_percent: if median != 0.0 {
            (max - min) / median.abs() * 100.0
        } else {
            0.0
        },
    })
}

/// The point with the highest median throughput, if its interval is clear of every other
/// point's; else the points whose intervals overlap it; and the points clearly behind.
fn recommend(points: &[SweepPoint], confidence: f64) -> SweepRecommendation {
    let mut recommendation = SweepRecommendation {
        metric: SWEEP_METRICS[THROUGHPUT].0.to_owned(),
        verdict: "undecided".to_owned(),
        ..SweepRecommendation::default()
    };
    let mut measured: Vec<(usize, &SweepFigure)> = points
        .iter()
        .enumerate()
        .filter_map(|(index, point)| Some((index, point.figure(THROUGHPUT)?)))
        .collect();
    if measured.len() < 2 {
        recommendation.evidence = format!(
            "No recommendation: {} point(s) measured: nothing to compare.",
            measured.len()
        );
        return recommendation;
    }
    if measured.iter().any(|(_, figure)| figure.runs < 2) {
        recommendation.evidence = "No recommendation: a point has a single run, so no interval: \
                                   no winner can be claimed (repeat each point at least twice)."
            .to_owned();
        return recommendation;
    }
    measured.sort_by(|a, b| b.1.median.total_cmp(&a.1.median));
    let (leader, top) = measured[0];
    // The others' medians are at most the leader's, so an interval overlaps the leader's exactly
    // when its top reaches the leader's bottom.
    let tied: Vec<usize> = measured[1..]
        .iter()
        .filter(|(_, figure)| figure.high >= top.low)
        .map(|(index, _)| *index)
        .collect();
    recommendation.behind = measured[1..]
        .iter()
        .filter(|(_, figure)| figure.high < top.low)
        .map(|(index, _)| *index)
        .collect();
    recommendation.behind.sort_unstable();
    let throughput = |index: usize| {
        points[index]
            .figure(THROUGHPUT)
            .map_or("—".to_owned(), |figure| with_interval(THROUGHPUT, figure))
    };
    let mut text = if tied.is_empty() {
        recommendation.verdict = "best".to_owned();
        recommendation.best = Some(leader);
        let runner_up = measured[1].0;
        format!(
            "Best: {} — {} against the runner-up {}'s {}; the intervals do not overlap.",
            points[leader].label(),
            throughput(leader),
            points[runner_up].label(),
            throughput(runner_up)
        )
    } else {
        recommendation.verdict = "no clear winner".to_owned();
        recommendation.tied = std::iter::once(leader).chain(tied).collect();
        format!(
            "No clear winner: the throughput intervals of {} overlap ({}).",
            recommendation
                .tied
                .iter()
                .map(|&p| points[p].label())
                .collect::<Vec<_>>()
                .join(", "),
            recommendation
                .tied
                .iter()
                .map(|&p| format!("{} {}", points[p].label(), throughput(p)))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    // The values to rule out even when the top is a tie.
    if !recommendation.behind.is_empty() {
        let _ = write!(
            text,
            " Clearly slower than {} (whole interval below its): {}.",
            points[leader].label(),
            recommendation
                .behind
                .iter()
                .map(|&p| points[p].label())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    // Latency: the best by throughput need not be the best at the fixed rate (a larger batch
    // raises throughput and can raise latency too), so say where it stands.
    let lowest_p99 = points
        .iter()
        .enumerate()
        .filter_map(|(index, point)| Some((index, point.figure(P99)?)))
        .min_by(|a, b| a.1.median.total_cmp(&b.1.median));
    if let (Some(own), Some((lowest, lowest_figure))) = (points[leader].figure(P99), lowest_p99) {
        if lowest == leader {
            let _ = write!(
                text,
                " {}'s p99 at the fixed rate, {}, is also the lowest.",
                points[leader].label(),
                with_interval(P99, own)
            );
        } else {
            let _ = write!(
                text,
                " Latency: {}'s p99 at the fixed rate is {}; the lowest p99 is {}'s {}.",
                points[leader].label(),
                with_interval(P99, own),
                points[lowest].label(),
                with_interval(P99, lowest_figure)
            );
        }
    }
    if top.interval == MIN_MAX {
        let _ = write!(
            text,
            " With {} runs a point's interval is its min–max, which holds the true median with \
             only {:.0} % confidence, not {:.0} %: more repeats give a firmer answer.",
            top.runs,
            top.coverage.unwrap_or(0.0) * 100.0,
            confidence * 100.0
        );
    }
    recommendation.evidence = text;
    recommendation
}

/// Points whose fixed-rate phase ran above [`LOADED_SHARE`] of their median saturation
/// throughput.
fn load_warnings(fixed_rate: Option<f64>, points: &[SweepPoint]) -> Vec<String> {
    let Some(fixed_rate) = fixed_rate else {
        return Vec::new();
    };
    points
        .iter()
        .filter_map(|point| {
            let share = fixed_rate / point.figure(THROUGHPUT)?.median;
            (share > LOADED_SHARE).then(|| {
                format!(
                    "{}: the fixed rate is {:.0} % of its median saturation throughput (above \
                     {:.0} %), so its latency includes queueing near its limit.",
                    point.label(),
                    share * 100.0,
                    LOADED_SHARE * 100.0
                )
            })
        })
        .collect()
}

/// `412 k msg/s [400 k, 420 k]`, `0.123 ms [0.1, 0.2]`.
fn with_interval(metric: usize, figure: &SweepFigure) -> String {
    let unit = SWEEP_METRICS[metric].2;
    format!(
        "{} {unit} [{}, {}]",
        short(metric, figure.median),
        short(metric, figure.low),
        short(metric, figure.high)
    )
}

/// A throughput in thousands (`412 k`, `3.72 k`) or millions, anything else to three significant
/// figures.
pub fn short(metric: usize, value: f64) -> String {
    if metric == THROUGHPUT {
        // Three significant figures at least, in thousands from 1,000.
        let magnitude = value.abs();
        if magnitude >= 1e6 {
            format!("{:.2} M", value / 1e6)
        } else if magnitude >= 1e5 {
            format!("{:.0} k", value / 1e3)
        } else if magnitude >= 1e4 {
            format!("{:.1} k", value / 1e3)
        } else if magnitude >= 1e3 {
            format!("{:.2} k", value / 1e3)
        } else {
            format!("{value:.0}")
        }
    } else {
        significant(value)
    }
}

/// Three significant figures, no exponent.
fn significant(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let digits = 2 - value.abs().log10().floor() as i32;
    format!("{:.*}", digits.max(0) as usize, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(values: &[&str]) -> SweepSettings {
        SweepSettings {
            params: vec![SweepParam {
                knob: "batch-size".to_owned(),
                values: values.iter().map(|v| (*v).to_owned()).collect(),
            }],
            repeat: 3,
            fixed_rate_per_second: Some(100_000.0),
            rate_source: "given".to_owned(),
            confidence: 0.95,
            stopped: None,
            duration_seconds: 1.0,
        }
    }

    fn run(point: usize, repeat: usize, throughput: f64, p99: f64) -> SweepMeasurement {
        SweepMeasurement {
            point,
            repeat,
            position: 0,
            seconds: 1.0,
            results: None,
            figures: [throughput, p99 / 2.0, p99, 1e9 / throughput],
        }
    }

    #[test]
    fn a_grid_varies_the_first_param_slowest() {
        let params = [
            SweepParam {
                knob: "a".to_owned(),
                values: vec!["1".to_owned(), "2".to_owned()],
            },
            SweepParam {
                knob: "b".to_owned(),
                values: vec!["x".to_owned(), "y".to_owned(), "z".to_owned()],
            },
        ];
        let labels: Vec<String> = grid(&params)
            .into_iter()
            .map(|knobs| {
                SweepPoint {
                    knobs,
                    ..SweepPoint::default()
                }
                .label()
            })
            .collect();
        assert_eq!(
            labels,
            ["a=1 b=x", "a=1 b=y", "a=1 b=z", "a=2 b=x", "a=2 b=y", "a=2 b=z"]
        );
    }

    #[test]
    fn a_clear_leader_is_best_and_the_slow_are_named() {
        let runs = [
            run(0, 0, 100e3, 1.0),
            run(0, 1, 104e3, 1.1),
            run(0, 2, 102e3, 1.0),
            run(1, 0, 200e3, 0.9),
            run(1, 1, 210e3, 0.8),
            run(1, 2, 205e3, 0.85),
            run(2, 0, 150e3, 0.7),
            run(2, 1, 155e3, 0.75),
            run(2, 2, 152e3, 0.72),
        ];
        let mut settings = settings(&["1", "10", "32"]);
        settings.fixed_rate_per_second = Some(50e3);
        let section = analyse(settings, &runs);
        let recommendation = &section.recommendation;
        assert_eq!(recommendation.verdict, "best");
        assert_eq!(recommendation.best, Some(1));
        assert_eq!(recommendation.behind, [0, 2]);
        assert!(
            recommendation.evidence.starts_with(
                "Best: batch-size=10 — 205 k msg/s [200 k, 210 k] against the runner-up batch-size=32's 152 k"
            ),
            "{}",
            recommendation.evidence
        );
        assert!(
            recommendation
                .evidence
                .contains("the lowest p99 is batch-size=32's 0.720 ms"),
            "{}",
            recommendation.evidence
        );
        assert!(recommendation.evidence.contains("only 75 % confidence"));
        let figure = section.points[1].figure(THROUGHPUT).unwrap();
        assert_eq!((figure.median, figure.low, figure.high), (205e3, 200e3, 210e3));
        assert_eq!(figure.interval, MIN_MAX);
        assert_eq!(section.points[1].runs.len(), 3);
        assert_eq!(section.points[1].runs[0].repeat, 1);
        assert!(section.warnings.is_empty(), "{:?}", section.warnings);
    }

    #[test]
    fn overlapping_intervals_are_no_clear_winner() {
        let runs = [
            run(0, 0, 200e3, 1.0),
            run(0, 1, 220e3, 1.0),
            run(1, 0, 210e3, 1.0),
            run(1, 1, 215e3, 1.0),
            run(2, 0, 50e3, 1.0),
            run(2, 1, 60e3, 1.0),
        ];
        let section = analyse(settings(&["64", "128", "1"]), &runs);
        let recommendation = &section.recommendation;
        assert_eq!(recommendation.verdict, "no clear winner");
        assert_eq!(recommendation.best, None);
        assert_eq!(recommendation.tied, [1, 0]);
        assert_eq!(recommendation.behind, [2]);
        assert!(
            recommendation
                .evidence
                .contains("Clearly slower than batch-size=128 (whole interval below its): batch-size=1."),
            "{}",
            recommendation.evidence
        );
        // 100 k msg/s is above 60 % of batch-size=1's 55 k median.
        assert_eq!(section.warnings.len(), 1);
        assert!(section.warnings[0].starts_with("batch-size=1: the fixed rate is 182 %"));
    }

    #[test]
    fn single_runs_or_a_single_point_decide_nothing() {
        let section = analyse(settings(&["1", "2"]), &[run(0, 0, 1e3, 1.0), run(1, 0, 2e3, 1.0)]);
        assert_eq!(section.recommendation.verdict, "undecided");
        assert!(section.recommendation.evidence.contains("single run"));
        let section = analyse(settings(&["1", "2"]), &[run(0, 0, 1e3, 1.0)]);
        assert_eq!(section.recommendation.verdict, "undecided");
        assert!(section.recommendation.evidence.contains("1 point(s) measured"));
        assert_eq!(section.points[1].summary[SWEEP_METRICS[0].0], None);
    }

    #[test]
    fn touching_intervals_overlap() {
        // A shared value is no evidence of a difference.
        let runs = [
            run(0, 0, 100.0, 1.0),
            run(0, 1, 110.0, 1.0),
            run(1, 0, 110.0, 1.0),
            run(1, 1, 120.0, 1.0),
        ];
        let recommendation = analyse(settings(&["1", "2"]), &runs).recommendation;
        assert_eq!(recommendation.verdict, "no clear winner");
        assert_eq!(recommendation.tied, [1, 0]);
        assert!(recommendation.behind.is_empty());
    }

    #[test]
    fn nine_runs_give_the_order_statistics_at_95_percent() {
        let runs: Vec<SweepMeasurement> = (1..=9).map(|r| run(0, r, f64::from(r as u32), 1.0)).collect();
        let section = analyse(settings(&["1"]), &runs);
        let figure = section.points[0].figure(THROUGHPUT).unwrap();
        assert_eq!((figure.low, figure.median, figure.high), (2.0, 5.0, 8.0));
        assert!((figure.spread_percent - 160.0).abs() < 1e-9);
    }

    #[test]
    fn enough_runs_give_an_order_statistics_interval() {
        let runs: Vec<SweepMeasurement> = (0..9).map(|r| run(0, r, 100e3 + r as f64 * 1e3, 1.0)).collect();
        let section = analyse(settings(&["1"]), &runs);
        let figure = section.points[0].figure(THROUGHPUT).unwrap();
        assert_eq!(figure.interval, ORDER_STATISTICS);
        assert!(figure.coverage.unwrap() >= 0.95);
        assert!(figure.low < figure.median && figure.median < figure.high);
    }

    #[test]
    fn a_figure_a_run_lacks_is_null_not_zero() {
        let mut missing = run(0, 0, 1e3, 1.0);
        missing.figures[P99] = f64::NAN;
        let section = analyse(settings(&["1"]), &[missing]);
        assert_eq!(section.points[0].runs[0].figures[SWEEP_METRICS[P99].0], None);
        assert_eq!(section.points[0].summary[SWEEP_METRICS[P99].0], None);
    }
}

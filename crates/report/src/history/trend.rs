//! Trends over the history: per metric over a window of recent runs, a least-squares slope per
//! run and per day, its R², the change over the window, a verdict by the metric's better
//! direction, and the runs that stand outside the recent spread. Pure: the history comes in
//! already read, and nothing here formats text for people.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::store::{History, HistoryEntry};
use perfgate_results::judge::{self, Change, Movement};
use perfgate_stats::{least_squares, robust_sigma};

use crate::metric::{Better, METRICS, MetricDef};

/// Fewer points than this give no slope, verdict or outliers.
pub const MIN_RUNS: usize = 3;
/// A trend is called improving or degrading only if the line explains at least this share of
/// the variance, and the fitted change over the window is beyond the metric's noise floor (the
/// catalogue's, the same the baseline check and `compare` apply, through the same judge).
pub const MIN_R_SQUARED: f64 = 0.5;
/// A run is an outlier when it lies more than this many robust standard deviations
/// (1.4826 × MAD) from the window's median.
pub const OUTLIER_SIGMAS: f64 = 3.0;
/// The window when none is given: the last 30 runs.
pub const DEFAULT_RUNS: usize = 30;

const SECONDS_PER_DAY: f64 = 86_400.0;

/// Which runs a trend covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Window {
    /// The last N runs in the file.
    Runs(usize),
    /// The runs made within D days before the latest run (not before now: an old history still
    /// has a trend, and the result does not depend on when it is computed).
    Days(f64),
}

impl Default for Window {
    fn default() -> Self {
        Window::Runs(DEFAULT_RUNS)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::Runs(1) => f.write_str("the last run"),
            Window::Runs(runs) => write!(f, "the last {runs} runs"),
            Window::Days(days) if *days == 1.0 => f.write_str("the last day of runs"),
            Window::Days(days) => write!(f, "the last {days} days of runs"),
        }
    }
}

/// What to analyse.
#[derive(Debug, Clone, Default)]
pub struct TrendOptions {
    /// The runs to look at.
    pub window: Window,
    /// The metrics to report, in this order; empty means every metric with a better direction
    /// (informational ones such as `cpu.message_count` have no trend to judge).
    pub metrics: Vec<&'static MetricDef>,
}

/// Which way a metric is heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendVerdict {
    /// Moving the better way, clearly (R² and change over their minimums).
    Improving,
    /// Moving the worse way, clearly.
    Degrading,
    /// No clear movement: a flat line, a poor fit, or a change under the minimum.
    Stable,
    /// Fewer than [`MIN_RUNS`] runs have the metric.
    TooFewRuns,
    /// The metric has no better direction.
    Informational,
}

impl TrendVerdict {
    /// The verdict as shown to people.
    pub fn name(self) -> &'static str {
        match self {
            TrendVerdict::Improving => "improving",
            TrendVerdict::Degrading => "degrading",
            TrendVerdict::Stable => "stable",
            TrendVerdict::TooFewRuns => "too few runs",
            TrendVerdict::Informational => "informational",
        }
    }
}

/// A run whose value stands outside the window's spread.
#[derive(Debug, Clone, PartialEq)]
pub struct Outlier {
    /// Its line in the history file.
    pub line: usize,
    /// When it ran.
    pub timestamp: String,
    /// Its commit.
    pub git_commit: Option<String>,
    /// Its value.
    pub value: f64,
    /// How far from the median, in robust standard deviations (signed).
    pub sigmas: f64,
}

/// One metric's trend over the window.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricTrend {
    /// Metric id.
    pub id: &'static str,
    /// Its unit.
    pub unit: &'static str,
    /// Which direction is better.
    pub better: Better,
    /// Runs in the window that have it.
    pub runs: usize,
    /// Its value in the latest of those runs.
    pub latest: f64,
    /// Median over the window.
    pub median: f64,
    /// Least-squares slope, per run (runs without the metric still count as runs).
    pub slope_per_run: Option<f64>,
    /// Least-squares slope against the runs' timestamps, per day; `None` when every run has the
    /// same timestamp.
    pub slope_per_day: Option<f64>,
    /// R² of the per-run fit; `None` when the values do not vary.
    pub r_squared: Option<f64>,
    /// The per-run fit's change from the first to the last of these runs, in % of the median;
    /// `None` when the median is zero.
    pub change_pct: Option<f64>,
    /// Improving, degrading, stable...
    pub verdict: TrendVerdict,
    /// Runs outside median ± [`OUTLIER_SIGMAS`] robust standard deviations, in file order.
    pub outliers: Vec<Outlier>,
    /// Every value in the window with its run's position in the window (from 0), in file order.
    pub points: Vec<(usize, f64)>,
}

/// Trends of a history.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    /// The history file.
    pub source: PathBuf,
    /// The window asked for.
    pub window: Window,
    /// Readable runs in the file.
    pub runs_in_file: usize,
    /// Runs in the window.
    pub runs: usize,
    /// Timestamp of the earliest run in the window.
    pub first: Option<String>,
    /// Timestamp of the latest run in the window.
    pub last: Option<String>,
    /// Distinct run settings in the window (see `HistoryRecord::settings`); more than one means
    /// the trend compares unlike runs.
    pub settings: usize,
    /// One entry per metric present in the window, in registry order.
    pub metrics: Vec<MetricTrend>,
    /// The history's warnings (lines skipped).
    pub warnings: Vec<String>,
}

/// Analyses the runs of `history` in `options.window`.
pub fn analyze(history: &History, options: &TrendOptions) -> Trend {
    let window = select(&history.entries, options.window);
    let earliest = window.iter().min_by_key(|entry| entry.time);
    let latest = window.iter().max_by_key(|entry| entry.time);
    let settings: BTreeSet<Option<&str>> = window
        .iter()
        .map(|entry| entry.record.settings.as_deref())
        .collect();
    let defs: Vec<&'static MetricDef> = if options.metrics.is_empty() {
        METRICS
            .iter()
            .filter(|def| def.better != Better::Neither)
            .collect()
    } else {
        options.metrics.clone()
    };
    let origin = earliest.map_or(SystemTime::UNIX_EPOCH, |entry| entry.time);
    Trend {
        source: history.path.clone(),
        window: options.window,
        runs_in_file: history.entries.len(),
        runs: window.len(),
        first: earliest.map(|entry| entry.record.timestamp.clone()),
        last: latest.map(|entry| entry.record.timestamp.clone()),
        settings: if window.is_empty() { 0 } else { settings.len() },
        metrics: defs
            .into_iter()
            .filter_map(|def| metric_trend(def, window, origin))
            .collect(),
        warnings: history.warnings.clone(),
    }
}

/// The entries of the window, in file order.
fn select(entries: &[HistoryEntry], window: Window) -> &[HistoryEntry] {
    match window {
        Window::Runs(runs) => &entries[entries.len().saturating_sub(runs)..],
        Window::Days(days) => {
            let Some(latest) = entries.iter().map(|entry| entry.time).max() else {
                return entries;
            };
            let span = Duration::try_from_secs_f64(days * SECONDS_PER_DAY).unwrap_or(Duration::MAX);
            let start = latest.checked_sub(span).unwrap_or(SystemTime::UNIX_EPOCH);
            // Appends are in the order runs finished; the window starts at the first entry in
            // it, so an older run appended late does not drag in everything before it.
            let first = entries
                .iter()
                .position(|entry| entry.time >= start)
                .unwrap_or(entries.len());
            &entries[first..]
        }
    }
}

/// One metric over the window; `None` if no run in it has the metric.
fn metric_trend(def: &'static MetricDef, window: &[HistoryEntry], origin: SystemTime) -> Option<MetricTrend> {
    let points: Vec<(usize, &HistoryEntry, f64)> = window
        .iter()
        .enumerate()
        .filter_map(|(index, entry)| {
            let value = *entry.record.metrics.get(def.id)?;
            value.is_finite().then_some((index, entry, value))
        })
        .collect();
    let &(_, _, latest) = points.last()?;
    let values: Vec<f64> = points.iter().map(|&(_, _, value)| value).collect();
    let middle = median(&values);
    let mut trend = MetricTrend {
        id: def.id,
        unit: def.unit,
        better: def.better,
        runs: points.len(),
        latest,
        median: middle,
        slope_per_run: None,
        slope_per_day: None,
        r_squared: None,
        change_pct: None,
        verdict: TrendVerdict::TooFewRuns,
        outliers: Vec::new(),
        points: points.iter().map(|&(index, _, value)| (index, value)).collect(),
    };
    if points.len() < MIN_RUNS {
        return Some(trend);
    }
    let by_run: Vec<(f64, f64)> = points
        .iter()
        .map(|&(index, _, value)| (index as f64, value))
        .collect();
    let by_day: Vec<(f64, f64)> = points
        .iter()
        .map(|&(_, entry, value)| (days_since(origin, entry.time), value))
        .collect();
    let fit = least_squares(&by_run).expect("three or more distinct run indices");
    let span = by_run[by_run.len() - 1].0 - by_run[0].0;
    trend.slope_per_run = Some(fit.slope);
    trend.slope_per_day = least_squares(&by_day).map(|fit| fit.slope);
    trend.r_squared = fit.r_squared;
    trend.change_pct = (middle != 0.0).then(|| fit.slope * span / middle.abs() * 100.0);
    trend.verdict = verdict(def, fit.slope, fit.r_squared, trend.change_pct);
    let sigma = robust_sigma(&values, middle);
    if sigma > 0.0 {
        trend.outliers = points
            .iter()
            .filter_map(|&(_, entry, value)| {
                let sigmas = (value - middle) / sigma;
                (sigmas.abs() > OUTLIER_SIGMAS).then(|| Outlier {
                    line: entry.line,
                    timestamp: entry.record.timestamp.clone(),
                    git_commit: entry.record.git_commit.clone(),
                    value,
                    sigmas,
                })
            })
            .collect();
    }
    Some(trend)
}

/// The median of values known to be there.
fn median(values: &[f64]) -> f64 {
    perfgate_stats::median(values).unwrap_or(f64::NAN)
}

fn days_since(origin: SystemTime, time: SystemTime) -> f64 {
    time.duration_since(origin).unwrap_or_default().as_secs_f64() / SECONDS_PER_DAY
}

/// The rule: a clear line (R² ≥ [`MIN_R_SQUARED`]) whose change over the window, in percent of
/// the median, the judge calls improved or regressed by the metric's direction and noise floor.
/// When the median is zero the change has no percentage, and the fit's direction alone decides.
fn verdict(def: &MetricDef, slope: f64, r_squared: Option<f64>, change_pct: Option<f64>) -> TrendVerdict {
    if def.better == Better::Neither {
        return TrendVerdict::Informational;
    }
    let clear = r_squared.is_some_and(|r2| r2 >= MIN_R_SQUARED) && slope != 0.0;
    if !clear {
        return TrendVerdict::Stable;
    }
    let change = change_pct.map(|point_pct| Change {
        point_pct,
        interval_pct: None,
    });
    match judge::judge(def, change, def.floor_pct(), slope > 0.0) {
        Movement::Improved => TrendVerdict::Improving,
        Movement::Regressed => TrendVerdict::Degrading,
        Movement::Unchanged => TrendVerdict::Stable,
        Movement::Changed => TrendVerdict::Informational,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::history::record::{HISTORY_SCHEMA_VERSION, HistoryRecord};
    use crate::metric::metric;

    const DAY: u64 = 86_400;

    /// A history with one record per value of `series` (id, values), one day apart.
    fn history(series: &[(&str, &[f64])]) -> History {
        let runs = series.iter().map(|(_, values)| values.len()).max().unwrap_or(0);
        let entries = (0..runs)
            .map(|run| {
                let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_348_800 + run as u64 * DAY);
                let metrics: BTreeMap<String, f64> = series
                    .iter()
                    .filter_map(|(id, values)| Some(((*id).to_owned(), *values.get(run)?)))
                    .filter(|(_, value)| !value.is_nan())
                    .collect();
                HistoryEntry {
                    line: run + 1,
                    time,
                    record: HistoryRecord {
                        schema_version: HISTORY_SCHEMA_VERSION,
                        timestamp: humantime::format_rfc3339_seconds(time).to_string(),
                        git_commit: Some(format!("commit{run}")),
                        git_dirty: None,
                        branch: None,
                        host: None,
                        cpu_model: None,
                        logical_cores: None,
                        rustc: None,
                        build_profile: None,
                        workload: None,
                        length: None,
                        settings: Some("s".to_owned()),
                        metrics,
                    },
                }
            })
            .collect();
        History {
            path: Path::new("h.jsonl").to_owned(),
            entries,
            warnings: Vec::new(),
        }
    }

    fn one(id: &'static str, values: &[f64]) -> MetricTrend {
        let trend = analyze(
            &history(&[(id, values)]),
            &TrendOptions {
                window: Window::Runs(100),
                metrics: vec![metric(id).unwrap()],
            },
        );
        trend.metrics.into_iter().next().unwrap()
    }

    fn check(id: &'static str, values: &[f64], expected: TrendVerdict) {
        let trend = one(id, values);
        assert_eq!(trend.verdict, expected, "{id} {values:?}: {trend:?}");
    }

    #[test]
    fn verdicts_follow_the_better_direction() {
        let rising = [100.0, 110.0, 120.0, 130.0, 140.0];
        let falling = [140.0, 130.0, 120.0, 110.0, 100.0];
        check("cpu.messages_per_second", &rising, TrendVerdict::Improving);
        check("cpu.messages_per_second", &falling, TrendVerdict::Degrading);
        check("latency.p99_ms", &rising, TrendVerdict::Degrading);
        check("latency.p99_ms", &falling, TrendVerdict::Improving);
        check("cpu.message_count", &rising, TrendVerdict::Informational);
    }

    #[test]
    fn only_clear_and_large_enough_moves_count() {
        // A perfect line, but 1 % over the window: noise-sized.
        check(
            "cpu.messages_per_second",
            &[1000.0, 1002.5, 1005.0, 1007.5, 1010.0],
            TrendVerdict::Stable,
        );
        // Large swings without a direction: poor fit.
        check(
            "latency.p99_ms",
            &[1.0, 3.0, 1.0, 3.0, 1.0, 3.0, 1.0],
            TrendVerdict::Stable,
        );
        // Flat: no R² at all.
        check("latency.p99_ms", &[2.0, 2.0, 2.0, 2.0], TrendVerdict::Stable);
        // Rising from a zero median: the fit alone decides.
        check(
            "fanout.dropped",
            &[0.0, 0.0, 0.0, 5.0, 10.0],
            TrendVerdict::Degrading,
        );
        check("latency.p99_ms", &[1.0, 2.0], TrendVerdict::TooFewRuns);
    }

    #[test]
    fn slopes_r_squared_and_change_on_known_data() {
        let trend = one("latency.p99_ms", &[2.0, 4.0, 5.0, 4.0, 5.0]);
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-9, "{a} != {b}");
        close(trend.slope_per_run.unwrap(), 0.6);
        // One run a day: the same slope per day.
        close(trend.slope_per_day.unwrap(), 0.6);
        close(trend.r_squared.unwrap(), 0.6);
        // 0.6 × 4 runs / median 4.
        close(trend.change_pct.unwrap(), 60.0);
        assert_eq!(trend.latest, 5.0);
        assert_eq!(trend.median, 4.0);
        assert_eq!(trend.verdict, TrendVerdict::Degrading);
    }

    #[test]
    fn outliers_lie_beyond_three_robust_sigmas() {
        let values = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 30.0, 10.1];
        let trend = one("latency.p99_ms", &values);
        assert_eq!(trend.outliers.len(), 1, "{:?}", trend.outliers);
        let outlier = &trend.outliers[0];
        assert_eq!(outlier.line, 7);
        assert_eq!(outlier.value, 30.0);
        assert_eq!(outlier.git_commit.as_deref(), Some("commit6"));
        assert!(outlier.sigmas > OUTLIER_SIGMAS);
        // Zero MAD: the rest are identical, yet the spike is still found.
        let spike = one("fanout.dropped", &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 500.0]);
        assert_eq!(spike.outliers.iter().map(|o| o.line).collect::<Vec<_>>(), [7]);
        // All identical: nothing stands out.
        assert!(one("fanout.dropped", &[0.0; 6]).outliers.is_empty());
    }

    #[test]
    fn missing_and_nan_values_are_left_out() {
        // NaN marks "not in this run" in the fixture; a run without the metric still counts as a
        // run, so the slope per run stays per run.
        let trend = one("latency.p99_ms", &[1.0, f64::NAN, 3.0, f64::NAN, 5.0]);
        assert_eq!(trend.runs, 3);
        assert!((trend.slope_per_run.unwrap() - 1.0).abs() < 1e-9);
        let nothing = analyze(
            &history(&[("latency.p99_ms", &[f64::NAN, f64::NAN])]),
            &TrendOptions::default(),
        );
        assert!(nothing.metrics.is_empty());
    }

    #[test]
    fn windows_by_runs_and_by_days() {
        let values: Vec<f64> = (0..10).map(f64::from).collect();
        let history = history(&[("latency.p99_ms", &values)]);
        let runs = |window| {
            analyze(
                &history,
                &TrendOptions {
                    window,
                    metrics: Vec::new(),
                },
            )
        };
        let last3 = runs(Window::Runs(3));
        assert_eq!((last3.runs, last3.runs_in_file), (3, 10));
        assert_eq!(last3.metrics[0].latest, 9.0);
        assert_eq!(last3.settings, 1);
        // Runs one day apart: 2 days before the latest covers three runs.
        assert_eq!(runs(Window::Days(2.0)).runs, 3);
        assert_eq!(runs(Window::Days(0.5)).runs, 1);
        assert_eq!(runs(Window::Runs(100)).runs, 10);
        let empty = analyze(&self::history(&[]), &TrendOptions::default());
        assert_eq!((empty.runs, empty.settings, empty.first), (0, 0, None));
        assert_eq!(Window::Runs(30).to_string(), "the last 30 runs");
        assert_eq!(Window::Days(7.0).to_string(), "the last 7 days of runs");
    }
}

//! Trends over the benchmark history as text: the Markdown report's "Trend" section (also written
//! alone by `cargo xtask trend --markdown`) and the console table of `cargo xtask trend`. Both
//! format what `history::analyze` computed, from the table rows (`TrendRow`) they share with
//! the HTML page's section; the history's text (commits, paths, warnings) is untrusted and
//! escaped.

use std::fmt::Write;

use crate::history::{MIN_R_SQUARED, MetricTrend, OUTLIER_SIGMAS, Outlier, Trend, TrendVerdict};
use crate::markdown_escape::{code, escape, table_code};
use crate::metric::format_value;

/// At most this many outliers are listed per metric; the rest are counted.
const OUTLIERS_SHOWN: usize = 3;

/// The "Trend" section, Markdown.
pub fn markdown(trend: &Trend) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## Trend\n");
    let source = code(&trend.source.display().to_string());
    let _ = writeln!(out, "{}.\n", describe(trend, &source, escape));
    for warning in &trend.warnings {
        let _ = writeln!(out, "> **Warning:** {}\n", escape(warning));
    }
    if trend.settings > 1 {
        let _ = writeln!(
            out,
            "> **Note:** these runs were made with {} different settings (`settings` in the history), so part of any trend may be the settings changing.\n",
            trend.settings
        );
    }
    if trend.runs == 0 {
        return out;
    }
    if trend.metrics.is_empty() {
        let _ = writeln!(out, "None of these runs has the metrics asked for.\n");
        return out;
    }
    let _ = writeln!(
        out,
        "| Metric | Runs | Latest | Median | Slope/run | Slope/day | R² | Verdict | Outliers |\n|---|---|---|---|---|---|---|---|---|"
    );
    for row in rows(trend) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            table_code(row.metric.id),
            row.figures
                .iter()
                .map(|figure| escape(figure))
                .collect::<Vec<_>>()
                .join(" | "),
            escape(&row.verdict),
            row.outliers(table_code, escape)
        );
    }
    let _ = writeln!(out, "\n{}\n", rules());
    out
}

/// The trend as a plain-text table for a terminal, outliers listed below it. Warnings are not
/// included: the caller prints them where warnings go.
pub fn console(trend: &Trend) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        describe(trend, &plain(&trend.source.display().to_string()), plain)
    );
    if trend.settings > 1 {
        let _ = writeln!(
            out,
            "note: these runs were made with {} different settings, so part of any trend may be the settings changing",
            trend.settings
        );
    }
    if trend.runs == 0 {
        return out;
    }
    if trend.metrics.is_empty() {
        let _ = writeln!(out, "none of these runs has the metrics asked for");
        return out;
    }
    let mut rows = vec![
        [
            "metric",
            "runs",
            "latest",
            "median",
            "slope/run",
            "slope/day",
            "R²",
            "verdict",
        ]
        .map(str::to_owned),
    ];
    for TrendRow {
        metric,
        figures: [runs, latest, median, per_run, per_day, r2],
        verdict,
    } in self::rows(trend)
    {
        rows.push([
            metric.id.to_owned(),
            runs,
            latest,
            median,
            per_run,
            per_day,
            r2,
            verdict,
        ]);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|column| {
            rows.iter()
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &rows {
        let mut line = String::new();
        for (column, text) in row.iter().enumerate() {
            let pad = " ".repeat(widths[column] - text.chars().count());
            // Names and verdicts read left to right; figures line up on the right.
            if column == 0 || column == row.len() - 1 {
                let _ = write!(line, "{text}{pad}  ");
            } else {
                let _ = write!(line, "{pad}{text}  ");
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let outliers: Vec<(&MetricTrend, &Outlier)> = trend
        .metrics
        .iter()
        .flat_map(|metric| metric.outliers.iter().map(move |outlier| (metric, outlier)))
        .collect();
    if !outliers.is_empty() {
        let _ = writeln!(
            out,
            "\noutliers (beyond {OUTLIER_SIGMAS} robust standard deviations of the median):"
        );
        for (metric, outlier) in outliers {
            let commit = outlier
                .git_commit
                .as_deref()
                .map_or(String::new(), |commit| format!("{}, ", plain(&short(commit))));
            let _ = writeln!(
                out,
                "  {}: line {} ({commit}{}): {}",
                metric.id,
                outlier.line,
                plain(&outlier.timestamp),
                outlier_value(metric, outlier)
            );
        }
    }
    let _ = writeln!(out, "\n{}", rules());
    out
}

/// One metric's row of the trend table, as text: the Markdown, HTML and console tables' alike.
#[derive(Debug)]
pub(super) struct TrendRow<'a> {
    /// The metric's trend.
    pub(super) metric: &'a MetricTrend,
    /// Runs, latest, median, slope per run, slope per day and R², as text.
    pub(super) figures: [String; 6],
    /// The verdict, with the change over the window when there is one to speak of.
    pub(super) verdict: String,
}

impl TrendRow<'_> {
    /// The outliers cell: "line 7 (COMMIT, TIME): VALUE" for each of the first few, then how
    /// many more, joined by "; "; "—" when there are none. `code` marks up a commit (its first 12
    /// characters) and `text` escapes the rest of the history's text, each for its format.
    pub(super) fn outliers(&self, code: impl Fn(&str) -> String, text: impl Fn(&str) -> String) -> String {
        let metric = self.metric;
        if metric.outliers.is_empty() {
            return "—".to_owned();
        }
        let mut shown: Vec<String> = metric
            .outliers
            .iter()
            .take(OUTLIERS_SHOWN)
            .map(|outlier| {
                let commit = outlier
                    .git_commit
                    .as_deref()
                    .map_or(String::new(), |commit| format!("{}, ", code(&short(commit))));
                format!(
                    "line {} ({commit}{}): {}",
                    outlier.line,
                    text(&outlier.timestamp),
                    text(&outlier_value(metric, outlier))
                )
            })
            .collect();
        if metric.outliers.len() > OUTLIERS_SHOWN {
            shown.push(format!("{} more", metric.outliers.len() - OUTLIERS_SHOWN));
        }
        shown.join("; ")
    }
}

/// The trend table's rows, a metric each, in the trend's order.
pub(super) fn rows(trend: &Trend) -> Vec<TrendRow<'_>> {
    trend
        .metrics
        .iter()
        .map(|metric| TrendRow {
            metric,
            figures: [
                metric.runs.to_string(),
                format_value(metric.latest, metric.unit),
                format_value(metric.median, metric.unit),
                slope(metric.slope_per_run, metric.unit),
                slope(metric.slope_per_day, metric.unit),
                r_squared(metric.r_squared),
            ],
            verdict: verdict(metric),
        })
        .collect()
}

/// "The last 30 runs of FILE: 12 runs (14 in the file), from … to …", or why there are none.
/// "Last 30 runs of SOURCE: …": `source` already marked up for the format, `text` escapes the
/// history's own text (its timestamps) for it.
pub(super) fn describe(trend: &Trend, source: &str, text: impl Fn(&str) -> String) -> String {
    let window = trend.window.to_string();
    let mut window = window.chars();
    let window: String = window
        .next()
        .map(|first| first.to_uppercase().chain(window).collect())
        .unwrap_or_default();
    match (&trend.first, &trend.last) {
        (Some(first), Some(last)) if trend.runs > 0 => format!(
            "{window} of {source}: {} run(s) ({} readable in the file), from {} to {}",
            trend.runs,
            trend.runs_in_file,
            text(first),
            text(last)
        ),
        _ => format!("No runs in {source}"),
    }
}

pub(super) fn rules() -> String {
    format!(
        "Improving or degrading: the least-squares line over the runs has R² ≥ {MIN_R_SQUARED} and changes by more than the metric's noise floor (docs/thresholds.md) in percent of the median over the window, in the metric's better or worse direction; anything less is stable. \
         Outliers lie more than {OUTLIER_SIGMAS} robust standard deviations (1.4826 × MAD) from the median. See docs/history.md."
    )
}

/// A slope with its sign; tiny ones in scientific notation rather than rounded to zero.
fn slope(value: Option<f64>, unit: &str) -> String {
    match value {
        None => "—".to_owned(),
        Some(value) if !value.is_finite() => "—".to_owned(),
        Some(value) if value != 0.0 && value.abs() < 0.01 => match unit {
            "" | "ratio" => format!("{value:+.1e}"),
            unit => format!("{value:+.1e} {unit}"),
        },
        Some(value) if value > 0.0 => format!("+{}", format_value(value, unit)),
        Some(value) => format_value(value, unit),
    }
}

fn r_squared(value: Option<f64>) -> String {
    value.map_or("—".to_owned(), |r2| format!("{r2:.2}"))
}

/// The verdict, with the change over the window when there is one to speak of.
pub(super) fn verdict(metric: &MetricTrend) -> String {
    match (metric.verdict, metric.change_pct) {
        (TrendVerdict::Improving | TrendVerdict::Degrading, Some(change)) => {
            format!("{} ({change:+.1} %)", metric.verdict.name())
        }
        (verdict, _) => verdict.name().to_owned(),
    }
}

fn outlier_value(metric: &MetricTrend, outlier: &Outlier) -> String {
    format!(
        "{} ({:+.1} σ)",
        format_value(outlier.value, metric.unit),
        outlier.sigmas
    )
}

/// The first 12 characters of a commit, as the report's header shows it.
fn short(commit: &str) -> String {
    commit.chars().take(12).collect()
}

/// Control characters (newlines, terminal escapes) out of text read from the history.
fn plain(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::history::Window;
    use crate::metric::Better;

    fn trend() -> Trend {
        Trend {
            source: PathBuf::from("target/perfgate/history.jsonl"),
            window: Window::Runs(30),
            runs_in_file: 9,
            runs: 8,
            first: Some("2026-11-15T12:00:00Z".to_owned()),
            last: Some("2026-11-22T12:00:00Z".to_owned()),
            settings: 2,
            metrics: vec![
                MetricTrend {
                    id: "cpu.messages_per_second",
                    unit: "msg/s",
                    better: Better::Higher,
                    runs: 8,
                    latest: 600_000.0,
                    median: 610_000.0,
                    slope_per_run: Some(-2_500.0),
                    slope_per_day: Some(-2_500.0),
                    r_squared: Some(0.81),
                    change_pct: Some(-2.9),
                    verdict: TrendVerdict::Degrading,
                    outliers: vec![Outlier {
                        line: 7,
                        timestamp: "2026-11-21T12:00:00Z".to_owned(),
                        git_commit: Some("ab|c`d\nef0123456789".to_owned()),
                        value: 400_000.0,
                        sigmas: -8.25,
                    }],
                    points: Vec::new(),
                },
                MetricTrend {
                    id: "latency.p99_ms",
                    unit: "ms",
                    better: Better::Lower,
                    runs: 2,
                    latest: 1.5,
                    median: 1.4,
                    slope_per_run: None,
                    slope_per_day: None,
                    r_squared: None,
                    change_pct: None,
                    verdict: TrendVerdict::TooFewRuns,
                    outliers: Vec::new(),
                    points: vec![(6, 1.3), (7, 1.5)],
                },
            ],
            warnings: vec!["h.jsonl:3: not valid JSON | oops; line skipped".to_owned()],
        }
    }

    #[test]
    fn the_markdown_section_has_a_row_per_metric_and_escapes_the_history() {
        let text = markdown(&trend());
        assert!(text.starts_with("## Trend\n\nThe last 30 runs of `target/perfgate/history.jsonl`: 8 run(s) (9 readable in the file), from 2026-11-15T12:00:00Z to 2026-11-22T12:00:00Z.\n"), "{text}");
        assert!(text.contains("> **Warning:** h.jsonl:3: not valid JSON \\| oops; line skipped\n"));
        assert!(text.contains("> **Note:** these runs were made with 2 different settings"));
        assert!(text.contains(
            "| `cpu.messages_per_second` | 8 | 600,000 msg/s | 610,000 msg/s | -2,500 msg/s | -2,500 msg/s | 0.81 | degrading (-2.9 %) | line 7 (``ab\\|c`d ef012``, 2026-11-21T12:00:00Z): 400,000 msg/s (-8.2 σ) |\n"
        ), "{text}");
        assert!(
            text.contains("| `latency.p99_ms` | 2 | 1.50 ms | 1.40 ms | — | — | — | too few runs | — |\n")
        );
        assert!(text.contains("R² ≥ 0.5"));
        assert_eq!(text.lines().filter(|line| line.starts_with("| `")).count(), 2);
    }

    #[test]
    fn the_console_table_lines_up_and_lists_outliers() {
        let text = console(&trend());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("The last 30 runs of target/perfgate/history.jsonl: 8 run(s)"));
        let header = lines.iter().position(|line| line.starts_with("metric")).unwrap();
        // Columns are counted in characters: `R²` and `—` are wider in bytes.
        let column = |line: &str, word: &str| line.find(word).map(|at| line[..at].chars().count());
        let verdict_column = column(lines[header], "verdict");
        assert!(verdict_column.is_some());
        assert_eq!(column(lines[header + 1], "degrading"), verdict_column);
        assert_eq!(column(lines[header + 2], "too few runs"), verdict_column);
        assert!(text.contains("  cpu.messages_per_second: line 7 (ab|c`d ef012, 2026-11-21T12:00:00Z): 400,000 msg/s (-8.2 σ)"), "{text}");
        assert!(!text.contains("Warning"));
    }

    #[test]
    fn the_outliers_cell_lists_the_first_three_and_counts_the_rest() {
        let mut trend = trend();
        let first = trend.metrics[0].outliers[0].clone();
        trend.metrics[0].outliers = (1..=5)
            .map(|line| Outlier {
                line,
                git_commit: (line != 2).then(|| format!("c{line}")),
                ..first.clone()
            })
            .collect();
        let rows = rows(&trend);
        assert_eq!(rows.len(), 2);
        let cell = rows[0].outliers(|commit| format!("<{commit}>"), |text| text.replace('-', "/"));
        assert_eq!(
            cell,
            "line 1 (<c1>, 2026/11/21T12:00:00Z): 400,000 msg/s (/8.2 σ); \
             line 2 (2026/11/21T12:00:00Z): 400,000 msg/s (/8.2 σ); \
             line 3 (<c3>, 2026/11/21T12:00:00Z): 400,000 msg/s (/8.2 σ); 2 more"
        );
        assert_eq!(rows[1].outliers(str::to_owned, str::to_owned), "—");
        assert_eq!(rows[1].figures, ["2", "1.50 ms", "1.40 ms", "—", "—", "—"]);
        assert_eq!(rows[1].verdict, "too few runs");
    }

    #[test]
    fn slopes_keep_their_sign_and_small_values() {
        assert_eq!(slope(Some(1234.0), "msg/s"), "+1,234 msg/s");
        assert_eq!(slope(Some(-0.5), "ms"), "-0.500 ms");
        assert_eq!(slope(Some(0.0004), "ms"), "+4.0e-4 ms");
        assert_eq!(slope(Some(0.0), "ms"), "0 ms");
        assert_eq!(slope(None, "ms"), "—");
        assert_eq!(slope(Some(f64::NAN), "ms"), "—");
    }

    #[test]
    fn an_empty_history_says_so() {
        let mut empty = trend();
        empty.runs = 0;
        empty.runs_in_file = 0;
        empty.first = None;
        empty.last = None;
        empty.settings = 0;
        empty.metrics.clear();
        empty.warnings.clear();
        assert_eq!(
            markdown(&empty),
            "## Trend\n\nNo runs in `target/perfgate/history.jsonl`.\n\n"
        );
    }
}

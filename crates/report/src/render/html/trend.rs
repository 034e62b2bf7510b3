//! The HTML report's "Trend" section (`--history`): the Markdown section's table, and a small
//! chart of each metric over the window. The history's text (commits, paths, warnings) is
//! untrusted and escaped.

use std::fmt::Write;

use super::chart::Svg;
use super::charts;
use super::escape::esc;
use super::markup::{close, num, open, table_end, table_head};
use crate::history::{Trend, TrendVerdict};
use crate::render::trend::{describe, rows, rules, verdict};

fn verdict_class(verdict: TrendVerdict) -> &'static str {
    match verdict {
        TrendVerdict::Improving => "improving",
        TrendVerdict::Degrading => "degrading",
        TrendVerdict::Stable => "stable",
        TrendVerdict::TooFewRuns => "too_few_runs",
        TrendVerdict::Informational => "informational",
    }
}

pub(super) fn section(out: &mut String, trend: &Trend) {
    open(out, "trend", "Trend");
    let _ = writeln!(
        out,
        "<p>{}.</p>",
        describe(trend, &esc(&trend.source.display().to_string()), esc)
    );
    for warning in &trend.warnings {
        let _ = writeln!(
            out,
            "<div class=\"callout\"><strong>Warning:</strong> {}</div>",
            esc(warning)
        );
    }
    if trend.settings > 1 {
        let _ = writeln!(
            out,
            "<div class=\"callout info\"><strong>Note:</strong> these runs were made with {} different settings (<code>settings</code> in the history), so part of any trend may be the settings changing.</div>",
            trend.settings
        );
    }
    if trend.runs == 0 {
        close(out);
        return;
    }
    if trend.metrics.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"note\">None of these runs has the metrics asked for.</p>"
        );
        close(out);
        return;
    }
    table_head(
        out,
        &[
            "Metric",
            "#Runs",
            "#Latest",
            "#Median",
            "#Slope/run",
            "#Slope/day",
            "#R²",
            "Verdict",
            "Outliers",
        ],
    );
    for row in rows(trend) {
        let figures: String = row.figures.iter().map(|figure| num(figure)).collect();
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td>{figures}<td><span class=\"pill {}\">{}</span></td><td>{}</td></tr>",
            esc(row.metric.id),
            verdict_class(row.metric.verdict),
            esc(&row.verdict),
            row.outliers(|commit| format!("<code>{}</code>", esc(commit)), esc)
        );
    }
    table_end(out);
    let charts: Vec<(String, TrendVerdict, Svg)> = trend
        .metrics
        .iter()
        .filter_map(|metric| Some((verdict(metric), metric.verdict, charts::trend_line(metric)?)))
        .collect();
    if !charts.is_empty() {
        out.push_str("<div class=\"small-multiples\">\n");
        for (text, verdict, svg) in charts {
            let _ = writeln!(
                out,
                "<figure class=\"chart-wrap\">{}<figcaption><span class=\"pill {}\">{}</span></figcaption></figure>",
                svg.inline(),
                verdict_class(verdict),
                esc(&text)
            );
        }
        out.push_str("</div>\n");
    }
    let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(&rules()));
    close(out);
}

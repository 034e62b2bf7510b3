//! The HTML report's "Trend" section (`--history`): the Markdown section's table, and a small
//! chart of each metric over the window. The history's text (commits, paths, warnings) is
//! untrusted and escaped.

use std::fmt::Write;

use super::chart::Svg;
use super::escape::esc;
use super::{charts, close, num, open, table_end, table_head};
use crate::history::{Trend, TrendVerdict};
use crate::metric::format_value;
use crate::render::trend::{describe, outlier_value, r_squared, rules, short, slope, verdict};

/// At most this many outliers are listed per metric; the rest are counted.
const OUTLIERS_SHOWN: usize = 3;

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
        esc(&describe(trend, &trend.source.display().to_string()))
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
    for metric in &trend.metrics {
        let outliers = if metric.outliers.is_empty() {
            "—".to_owned()
        } else {
            let mut shown: Vec<String> = metric
                .outliers
                .iter()
                .take(OUTLIERS_SHOWN)
                .map(|outlier| {
                    let commit = outlier.git_commit.as_deref().map_or(String::new(), |commit| {
                        format!("<code>{}</code>, ", esc(&short(commit)))
                    });
                    format!(
                        "line {} ({commit}{}): {}",
                        outlier.line,
                        esc(&outlier.timestamp),
                        esc(&outlier_value(metric, outlier))
                    )
                })
                .collect();
            if metric.outliers.len() > OUTLIERS_SHOWN {
                shown.push(format!("{} more", metric.outliers.len() - OUTLIERS_SHOWN));
            }
            shown.join("; ")
        };
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td>{}{}{}{}{}{}<td><span class=\"pill {}\">{}</span></td><td>{outliers}</td></tr>",
            esc(metric.id),
            num(&metric.runs.to_string()),
            num(&format_value(metric.latest, metric.unit)),
            num(&format_value(metric.median, metric.unit)),
            num(&slope(metric.slope_per_run, metric.unit)),
            num(&slope(metric.slope_per_day, metric.unit)),
            num(&r_squared(metric.r_squared)),
            verdict_class(metric.verdict),
            esc(&verdict(metric))
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

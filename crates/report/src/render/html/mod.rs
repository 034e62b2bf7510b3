//! The HTML report (`--html FILE`, by default beside the Markdown report with the same stem): the
//! Markdown report's sections, and charts of the same figures, in one self-contained page: inline
//! CSS and SVG, no script, nothing fetched over the network (its Content-Security-Policy tells the
//! browser so too). The flamegraph is shown from the copy beside the report, not inlined. Every
//! text from the inputs is escaped (`escape.rs`); `markup.rs` holds the blocks every section is
//! built of (sections, notes, tables, numeric cells, captioned charts); this module lays out the page and the sections
//! every report has, `run.rs` the in-process ones, `load_tests.rs` and `trend.rs` theirs.
//! [`chart_files`] gives the same charts as SVG files of their own, for the Markdown report.

mod chart;
mod charts;
mod escape;
mod load_tests;
mod markup;
mod run;
mod trend;

use std::fmt::Write;

pub(crate) use self::charts::load_test_key;
pub use self::charts::{ChartFile, ScalingCurves, chart_files, scaling_chart};

use self::escape::{esc, inline_code};
use self::markup::{close, figure, key_values, note, num, open, table_end, table_head};
use super::rows;
use super::text::{change_text, movement_label};
use crate::evaluate::{Movement, Status};
use crate::metric::format_value;
use crate::model::Report;
use crate::recommend::Part;

/// The colours, light and dark: the page's, and every standalone chart's.
const THEME_CSS: &str = include_str!("theme.css");
/// The charts' rules: the page's, and every standalone chart's.
const CHART_CSS: &str = include_str!("chart.css");
/// The rest of the page's style sheet, with a line that marks where the charts' rules go.
const PAGE_CSS: &str = include_str!("page.css");
/// The line of [`PAGE_CSS`] that [`CHART_CSS`] replaces.
const CHART_SLOT: &str =
    "/* chart.css goes here: the charts' rules, shared with the standalone SVG files */\n";

/// The page's style sheet, inlined: the theme, then the page's rules with the charts'.
fn page_css() -> String {
    format!("{THEME_CSS}{}", PAGE_CSS.replacen(CHART_SLOT, CHART_CSS, 1))
}

/// Nothing may be loaded from anywhere but the report's own folder, and no script may run.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' file: data:; base-uri 'none'; form-action 'none'";

/// Renders the report as one HTML page.
pub fn render(report: &Report) -> String {
    let mut out = String::with_capacity(96 * 1024);
    let (verdict, class) = overall(report.evaluation.overall);
    let css = page_css();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\n\
         <meta name=\"generator\" content=\"perfgate-report\">\n\
         <title>{verdict}: benchmark results</title>\n<style>\n{css}</style>\n</head>\n<body>\n"
    );
    masthead(&mut out, report, verdict, class);
    let sections = sections(report);
    out.push_str("<nav class=\"toc wrap\" aria-label=\"Sections\">");
    for (id, title) in &sections {
        let _ = write!(out, "<a href=\"#{id}\">{title}</a>");
    }
    out.push_str("</nav>\n<main class=\"wrap\">\n");
    for warning in &report.results.warnings {
        let _ = writeln!(
            out,
            "<div class=\"callout\"><strong>Warning:</strong> {}</div>",
            inline_code(warning)
        );
    }
    summary(&mut out, report);
    environment(&mut out, report);
    if report.results.has_run() {
        run::cpu(&mut out, report);
        run::memory(&mut out, report);
        run::event_loop(&mut out, report);
        run::over_time(&mut out, report);
        run::stages(&mut out, report);
        run::cache_and_errors(&mut out, report);
        run::database(&mut out, report);
        run::capacity(&mut out, report);
        run::sweep(&mut out, report);
        run::chaos(&mut out, report);
    }
    load_tests::section(&mut out, report);
    baseline(&mut out, report);
    if let Some(trend) = &report.trend {
        trend::section(&mut out, trend);
    }
    recommendations(&mut out, report);
    appendix(&mut out, report);
    out.push_str(
        "</main>\n<footer class=\"wrap\">Written by perfgate-report. This page is self-contained: it loads \
         nothing but the flamegraph beside it, and runs no script.</footer>\n</body>\n</html>\n",
    );
    out
}

/// The sections in page order, as `(id, title)`.
fn sections(report: &Report) -> Vec<(&'static str, &'static str)> {
    let mut sections = vec![("summary", "Summary"), ("environment", "Environment")];
    if report.results.has_run() {
        sections.extend([
            ("cpu", "CPU and latency"),
            ("memory", "Memory"),
            ("event-loop", "Event loop"),
            ("over-time", "Over time"),
            ("stages", "Stages"),
            ("cache", "Cache"),
            ("errors", "Errors"),
            ("database", "Database"),
        ]);
        if report.results.capacity.is_some() {
            sections.push(("capacity", "Capacity"));
        }
        if report.results.sweep.is_some() {
            sections.push(("sweep", "Sweep"));
        }
        if report.results.chaos.is_some() {
            sections.push(("chaos", "Chaos"));
        }
    }
    sections.extend([("load-tests", "Load tests"), ("baseline", "Baseline")]);
    if report.trend.is_some() {
        sections.push(("trend", "Trend"));
    }
    sections.extend([("recommendations", "Recommendations"), ("reproduce", "Reproduce")]);
    sections
}

/// The verdict as shown, and its CSS class.
fn overall(status: Status) -> (&'static str, &'static str) {
    let class = match status {
        Status::Pass => "pass",
        Status::Warn => "warn",
        _ => "fail",
    };
    (rows::verdict(status), class)
}

/// A status as a coloured label, with the text it is shown by.
fn pill(status: Status, label: &str) -> String {
    format!("<span class=\"pill {}\">{label}</span>", status.name())
}

fn masthead(out: &mut String, report: &Report, verdict: &str, class: &str) {
    let evaluation = &report.evaluation;
    let run = &report.results;
    let from = if run.has_run() {
        format!("<code>{}</code>", esc(&run.source.display().to_string()))
    } else {
        format!("{} load test(s)", report.load_tests.len())
    };
    let _ = write!(
        out,
        "<header class=\"masthead {class}\">\n<div class=\"wrap\">\n<div class=\"verdict\">{verdict}</div>\n<div>\n\
         <h1>Benchmark results</h1>\n<p class=\"chips\">"
    );
    for (status, label) in rows::TALLIED {
        let _ = write!(
            out,
            "<span class=\"chip {}\">{} {label}</span>",
            status.name(),
            evaluation.count(status)
        );
    }
    if let Some(gated) = rows::gated_regressions(evaluation) {
        let _ = write!(out, "<span class=\"chip fail\">{gated}</span>");
    }
    let _ = write!(
        out,
        "</p>\n<p class=\"meta\">Generated {} from {from} against <code>{}</code>.</p>\n</div>\n</div>\n</header>\n",
        esc(&report.generated_at),
        esc(&report.thresholds_path.display().to_string())
    );
}

fn summary(out: &mut String, report: &Report) {
    let evaluation = &report.evaluation;
    open(out, "summary", "Summary");
    let _ = writeln!(
        out,
        "<p><strong>Overall: {}</strong> — {}.</p>",
        rows::verdict(evaluation.overall),
        rows::tally(evaluation)
    );
    if rows::all_within_target(evaluation) {
        let _ = writeln!(out, "<p>All metrics within target.</p>");
    }
    if evaluation.checks.is_empty() {
        note(out, "The thresholds file sets no thresholds.");
        close(out);
        return;
    }
    let with_baseline = report.baseline.is_some();
    let mut columns = vec!["Metric", "#Value", "#Limit", "#Target"];
    if with_baseline {
        columns.push("#vs baseline");
    }
    columns.push("Status");
    table_head(out, &columns);
    for row in rows::checks(evaluation) {
        let check = row.check;
        let _ = write!(
            out,
            "<tr class=\"{}\"><td><code>{}</code><br><span class=\"desc\">{}</span></td>{}{}{}",
            check.status.name(),
            esc(&check.id),
            esc(&check.description),
            num(&row.value),
            num(&row.limit),
            num(&row.target),
        );
        if with_baseline {
            out.push_str(&num(&row.vs_baseline));
        }
        let _ = writeln!(out, "<td>{}</td></tr>", pill(check.status, row.status));
    }
    table_end(out);
    close(out);
}

fn environment(out: &mut String, report: &Report) {
    open(out, "environment", "Environment");
    key_values(out, &rows::environment(&report.results));
    close(out);
}

fn baseline(out: &mut String, report: &Report) {
    open(out, "baseline", "Baseline comparison");
    let Some(baseline) = &report.baseline else {
        let _ = writeln!(
            out,
            "<p class=\"note\">No baseline given (<code>cargo xtask report --baseline FILE</code>).</p>"
        );
        close(out);
        return;
    };
    let _ = writeln!(
        out,
        "<p>Against <code>{}</code>.</p>",
        esc(&baseline.source.display().to_string())
    );
    if report.evaluation.comparisons.is_empty() {
        note(out, "The two inputs share no metric.");
        close(out);
        return;
    }
    if let Some(svg) = charts::baseline_changes(report) {
        figure(
            out,
            &svg,
            "Change of each metric shared with the baseline: green improved, red regressed (by the metric's better direction), grey within the noise floor.",
        );
    }
    table_head(out, &["Metric", "#Current", "#Baseline", "#Change", "Verdict"]);
    for comparison in &report.evaluation.comparisons {
        let class = match comparison.movement {
            Movement::Regressed if comparison.gated => "fail",
            _ => "",
        };
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td><code>{}</code></td>{}{}{}<td><span class=\"pill {}\">{}</span>{}</td></tr>",
            esc(&comparison.id),
            num(&format_value(comparison.current, &comparison.unit)),
            num(&format_value(comparison.baseline, &comparison.unit)),
            num(&change_text(comparison.change_pct)),
            comparison.movement.name(),
            movement_label(comparison.movement),
            if comparison.gated {
                " <span class=\"pill fail\">FAIL: beyond --max-regression</span>"
            } else {
                ""
            }
        );
    }
    table_end(out);
    close(out);
}

fn recommendations(out: &mut String, report: &Report) {
    open(out, "recommendations", "Recommendations");
    if report.recommendations.is_empty() {
        note(
            out,
            "Nothing to act on: no threshold missed, no bottleneck, lag, leak, cache or error finding.",
        );
    } else {
        out.push_str("<ul class=\"recs\">\n");
        for recommendation in &report.recommendations {
            let _ = writeln!(
                out,
                "<li><strong>{}</strong>: {}</li>",
                esc(recommendation.topic.label()),
                parts(&recommendation.parts)
            );
        }
        out.push_str("</ul>\n");
    }
    close(out);
}

/// A recommendation's text: every part escaped, names and commands as `<code>`.
fn parts(parts: &[Part]) -> String {
    parts
        .iter()
        .map(|part| match part {
            Part::Text(text) => esc(text),
            Part::Code(text) => format!("<code>{}</code>", esc(text)),
            Part::Figure(figure) => esc(&figure.text()),
        })
        .collect()
}

fn appendix(out: &mut String, report: &Report) {
    open(out, "reproduce", "Appendix: reproduce");
    out.push_str("<pre><code>");
    for command in &report.commands {
        let _ = writeln!(out, "{}", esc(command));
    }
    out.push_str("</code></pre>\n<p>Files:</p>\n<ul>\n");
    for (kind, path) in rows::files(report) {
        let _ = writeln!(out, "<li>{}: <code>{}</code></li>", esc(kind), esc(&path));
    }
    out.push_str("</ul>\n");
    close(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_the_chart_files_share_one_style_sheet() {
        assert_eq!(PAGE_CSS.matches(CHART_SLOT).count(), 1);
        let css = page_css();
        assert!(css.starts_with(THEME_CSS) && css.contains(CHART_CSS) && !css.contains(CHART_SLOT));
        // The charts' rules go into SVG files as XML text: nothing in them may need escaping.
        for sheet in [THEME_CSS, CHART_CSS] {
            assert!(!sheet.contains(['<', '&']), "{sheet}");
            assert!(!sheet.contains("url(") && !sheet.contains("@import"));
        }
    }
}

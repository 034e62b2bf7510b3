//! The Markdown report (`docs/benchmark-results.md`): a page a lead reads in a minute (status,
//! what failed, what to do) and an engineer acts on (every figure, where it came from, how to
//! reproduce it). Sections without data say so in one line. With a chart link prefix
//! ([`Report::with_chart_links`]) each section also shows the HTML report's charts as images of
//! SVG files beside it; without one, no chart is mentioned.

use std::fmt::Write;

use super::markdown_charts::Charts;
use super::rows::{self, Cell, Errors};
use super::text::{change_text, movement_label};
use crate::markdown_escape::{code, escape, table_code};
use crate::metric::format_value;
use crate::model::Report;
use crate::recommend::Part;

/// Renders the report as Markdown.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let charts = Charts::new(report);
    header(&mut out, report);
    summary(&mut out, report);
    // A report on load tests alone has no in-process sections to fill.
    if report.results.has_run() {
        cpu(&mut out, report, &charts);
        memory(&mut out, report);
        event_loop(&mut out, report);
        over_time(&mut out, &charts);
        stages(&mut out, report);
        charts.embed(&mut out, "stages");
        cache_and_errors(&mut out, report);
        database(&mut out, report, &charts);
        capacity(&mut out, report, &charts);
        sweep(&mut out, report, &charts);
        chaos(&mut out, report, &charts);
    }
    super::load_tests::markdown(&mut out, report, &charts);
    baseline(&mut out, report);
    charts.embed(&mut out, "baseline");
    // Only with --history: without it the report is exactly what it was before trends existed.
    if let Some(trend) = &report.trend {
        out.push_str(&super::trend::markdown(trend));
        // Small charts, side by side where they fit: one paragraph.
        let images: Vec<&str> = charts
            .in_section("trend")
            .map(|chart| chart.image.as_str())
            .collect();
        if !images.is_empty() {
            let _ = writeln!(out, "{}\n", images.join("\n"));
        }
    }
    recommendations(&mut out, report);
    appendix(&mut out, report);
    out
}

/// Escapes text for a Markdown table cell.
fn cell(text: &str) -> String {
    // Table cells hold text from the inputs (stage names, spawn sites, statuses): escaped so that
    // no character is read as Markdown or HTML, `|` and line breaks included.
    crate::markdown_escape::escape(text)
}

/// A shared cell's content as Markdown for a table cell.
fn markup(content: &Cell) -> String {
    match content {
        Cell::Text(text) => cell(text),
        Cell::Code(code, rest) => format!("{}{}", table_code(code), cell(rest)),
        Cell::Strong(word, rest) => format!("**{word}**{}", cell(rest)),
    }
}

/// A two-column table of labels and values, and the blank line after it.
fn key_values(out: &mut String, rows: &[(&str, Cell)]) {
    let _ = writeln!(out, "| | |\n|---|---|");
    for (label, content) in rows {
        let _ = writeln!(out, "| {label} | {} |", markup(content));
    }
    let _ = writeln!(out);
}

/// A table head of `columns`.
fn table_head(out: &mut String, columns: &[&str]) {
    let _ = writeln!(
        out,
        "| {} |\n|{}",
        columns.join(" | "),
        "---|".repeat(columns.len())
    );
}

/// A whole table of text cells from the shared rows (a leading `#` on a column, the HTML page's
/// mark of a numeric column, is dropped here), each cell escaped, and a blank line after it.
fn text_table<R: AsRef<[String]>>(out: &mut String, columns: &[&str], rows: &[R]) {
    let columns: Vec<&str> = columns
        .iter()
        .map(|column| column.trim_start_matches('#'))
        .collect();
    table_head(out, &columns);
    for row in rows {
        let cells: Vec<String> = row.as_ref().iter().map(|text| cell(text)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    let _ = writeln!(out);
}

fn header(out: &mut String, report: &Report) {
    let run = &report.results;
    let _ = writeln!(out, "# Benchmark results\n");
    let from = if run.has_run() {
        code(&run.source.display().to_string())
    } else {
        format!("{} load test(s)", report.load_tests.len())
    };
    let _ = writeln!(
        out,
        "Generated {} from {from} against {}.\n",
        report.generated_at,
        code(&report.thresholds_path.display().to_string())
    );
    key_values(out, &rows::environment(run));
    for warning in &run.warnings {
        let _ = writeln!(out, "> **Warning:** {}\n", cell(warning));
    }
}

fn summary(out: &mut String, report: &Report) {
    let evaluation = &report.evaluation;
    let _ = writeln!(out, "## Summary\n");
    let _ = writeln!(
        out,
        "**Overall: {}** — {}.\n",
        rows::verdict(evaluation.overall),
        rows::tally(evaluation)
    );
    if rows::all_within_target(evaluation) {
        let _ = writeln!(out, "All metrics within target.\n");
    }
    if evaluation.checks.is_empty() {
        let _ = writeln!(out, "The thresholds file sets no thresholds.\n");
        return;
    }
    table_head(out, &["Metric", "Value", "Limit", "Target", "Status"]);
    for row in rows::checks(evaluation) {
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} | {} |",
            table_code(&row.check.id),
            cell(&row.check.description),
            cell(&row.value),
            cell(&row.limit),
            cell(&row.target),
            cell(row.status)
        );
    }
    let _ = writeln!(out);
}

fn cpu(out: &mut String, report: &Report, charts: &Charts) {
    let run = &report.results;
    let _ = writeln!(out, "## CPU\n");
    key_values(out, &rows::cpu(run));
    match rows::latency(run) {
        Some(latency) => {
            let _ = writeln!(out, "{}:\n", escape(&latency.heading));
            let (labels, values): (Vec<&str>, Vec<String>) = latency.columns.into_iter().unzip();
            table_head(out, &labels);
            let values: Vec<String> = values.iter().map(|value| cell(value)).collect();
            let _ = writeln!(out, "| {} |\n", values.join(" | "));
            charts.embed(out, "latency");
        }
        None => {
            let _ = writeln!(out, "No latency distribution in this input.\n");
        }
    }
    match rows::profile(run) {
        Some(profile) => {
            let _ = writeln!(out, "{}:\n", escape(profile.title));
            table_head(out, &["Function", "Self", "Inclusive", "cumtime"]);
            for row in profile.rows {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    table_code(row.function),
                    cell(&row.self_time),
                    cell(&row.inclusive),
                    cell(&row.cumtime)
                );
            }
            let _ = writeln!(out);
        }
        None => {
            let _ = writeln!(out, "No CPU profile in this input.\n");
        }
    }
    match &report.flamegraph_link {
        Some(link) => {
            let _ = writeln!(out, "Flamegraph: [{link}]({link}).\n");
        }
        None => {
            let _ = writeln!(out, "No flamegraph for this input.\n");
        }
    }
}

fn memory(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Memory\n");
    match rows::memory(&report.results) {
        Some(rows) => key_values(out, &rows),
        None => {
            let _ = writeln!(out, "No memory figures in this input.\n");
        }
    }
}

fn event_loop(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Event loop and runtime\n");
    match rows::event_loop(&report.results) {
        Some(rows) => key_values(out, &rows),
        None => {
            let _ = writeln!(out, "No event-loop figures in this input.\n");
        }
    }
}

/// The probes over each phase's measured window: charts only (their figures are the sections'
/// above), so nothing without them.
fn over_time(out: &mut String, charts: &Charts) {
    let mut phases = charts.in_section("over-time").peekable();
    if phases.peek().is_none() {
        return;
    }
    let _ = writeln!(
        out,
        "### Over time\n\nWhat the probes sampled during each phase's measured window; the panels of a phase share one time axis.\n"
    );
    for chart in phases {
        let _ = writeln!(out, "**{}**\n\n{}\n", escape(&chart.title), chart.image);
    }
}

fn stages(out: &mut String, report: &Report) {
    let run = &report.results;
    let _ = writeln!(out, "## Pipeline stages\n");
    if run.stages.is_empty() {
        let _ = writeln!(out, "No per-stage figures in this input.\n");
        return;
    }
    table_head(
        out,
        &[
            "Stage",
            "Workers",
            "Service p50",
            "Service p99",
            "Busy",
            "Queue p99 / capacity",
            "Errors",
        ],
    );
    for stage in rows::stages(run) {
        let marker = if stage.busiest { " (busiest)" } else { "" };
        let _ = writeln!(
            out,
            "| {}{marker} | {} | {} | {} | {} | {} | {} |",
            table_code(stage.name),
            cell(&stage.workers),
            cell(&stage.service_p50),
            cell(&stage.service_p99),
            cell(&stage.busy),
            cell(&stage.queue),
            cell(&stage.errors)
        );
    }
    let _ = writeln!(out);
}

fn cache_and_errors(out: &mut String, report: &Report) {
    let run = &report.results;
    let _ = writeln!(out, "## Cache\n");
    match rows::cache(run) {
        Some(hit_rate) => {
            let _ = writeln!(out, "{}.\n", escape(&hit_rate));
        }
        None => {
            let _ = writeln!(out, "No cache figures in this input.\n");
        }
    }
    let _ = writeln!(out, "## Errors\n");
    match rows::errors(run) {
        Errors::Rejected { sentence, kinds } => {
            let _ = writeln!(out, "{}.\n", escape(&sentence));
            table_head(out, &["Kind", "Messages"]);
            for (kind, count) in kinds {
                let _ = writeln!(out, "| {} | {count} |", table_code(kind));
            }
            let _ = writeln!(out);
        }
        Errors::None => {
            let _ = writeln!(out, "No message was rejected.\n");
        }
        Errors::NotMeasured => {
            let _ = writeln!(out, "No error figures in this input.\n");
        }
    }
}

/// A PostgreSQL reference store's section (with its pool-use charts, given a chart link prefix),
/// or the older files' database figures.
fn database(out: &mut String, report: &Report, charts: &Charts) {
    let _ = writeln!(out, "## Database\n");
    if let Some(database) = &report.results.database {
        let rows = rows::database(database);
        key_values(out, &rows.facts);
        if !rows.latency.is_empty() {
            text_table(out, &rows.columns, &rows.latency);
        }
        let mut pool_charts = charts.in_section("database").peekable();
        if pool_charts.peek().is_some() {
            let _ = writeln!(out, "{}\n", escape(&rows.chart_caption));
            for chart in pool_charts {
                let _ = writeln!(out, "{}\n", chart.image);
            }
        }
        return;
    }
    match rows::legacy_database(&report.results) {
        Some(rows) => key_values(out, &rows),
        None => {
            let _ = writeln!(out, "No database figures in this input.\n");
        }
    }
}

/// Only for a run with a capacity search: other reports stay as they were.
fn capacity(out: &mut String, report: &Report, charts: &Charts) {
    let Some(capacity) = &report.results.capacity else {
        return;
    };
    let rows = rows::capacity(capacity);
    let _ = writeln!(out, "## Capacity\n\n{}\n", escape(&rows.sentence));
    charts.embed(out, "capacity");
    text_table(out, &rows.columns, &rows.steps);
}

/// Only for a sweep's results.
fn sweep(out: &mut String, report: &Report, charts: &Charts) {
    let Some(sweep) = &report.results.sweep else {
        return;
    };
    let rows = rows::sweep(sweep);
    let _ = writeln!(out, "## Sweep\n\n{}\n", escape(&rows.sentence));
    for warning in &rows.warnings {
        let _ = writeln!(out, "> **Warning:** {}\n", escape(warning));
    }
    let _ = writeln!(out, "**Recommendation.** {}\n", escape(&rows.recommendation));
    for key in ["sweep-throughput", "sweep-latency", "sweep-cpu"] {
        charts.embed(out, key);
    }
    text_table(out, &rows.columns, &rows.points);
}

/// Only for a run with chaos scenarios: the table, then each scenario's timeline (with a chart
/// link prefix).
fn chaos(out: &mut String, report: &Report, charts: &Charts) {
    let Some(chaos) = &report.results.chaos else {
        return;
    };
    let rows = rows::chaos(chaos);
    let _ = writeln!(out, "## Chaos\n\n{}\n", escape(&rows.sentence));
    if !rows.scenarios.is_empty() {
        text_table(out, &rows.columns, &rows.scenarios);
    }
    for chart in charts.in_section("chaos") {
        let _ = writeln!(out, "{}\n", chart.image);
    }
}

fn baseline(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Baseline comparison\n");
    let Some(baseline) = &report.baseline else {
        let _ = writeln!(out, "No baseline given (`cargo xtask report --baseline FILE`).\n");
        return;
    };
    let _ = writeln!(out, "Against {}.\n", code(&baseline.source.display().to_string()));
    if report.evaluation.comparisons.is_empty() {
        let _ = writeln!(out, "The two inputs share no metric.\n");
        return;
    }
    table_head(out, &["Metric", "Current", "Baseline", "Change", "Verdict"]);
    for comparison in &report.evaluation.comparisons {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {}{} |",
            table_code(&comparison.id),
            cell(&format_value(comparison.current, &comparison.unit)),
            cell(&format_value(comparison.baseline, &comparison.unit)),
            cell(&change_text(comparison.change_pct)),
            movement_label(comparison.movement),
            if comparison.gated {
                " (FAIL: beyond --max-regression)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(out);
}

fn recommendations(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Recommendations\n");
    if report.recommendations.is_empty() {
        let _ = writeln!(
            out,
            "Nothing to act on: no threshold missed, no bottleneck, lag, leak, cache or error finding.\n"
        );
        return;
    }
    for recommendation in &report.recommendations {
        let _ = writeln!(
            out,
            "- **{}**: {}",
            escape(recommendation.topic.label()),
            parts(&recommendation.parts)
        );
    }
    let _ = writeln!(out);
}

/// A recommendation's text: words escaped, names and commands as code spans.
fn parts(parts: &[Part]) -> String {
    parts
        .iter()
        .map(|part| match part {
            Part::Text(text) => escape(text),
            Part::Code(text) => code(text),
            Part::Figure(figure) => escape(&figure.text()),
        })
        .collect()
}

fn appendix(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Appendix: reproduce\n");
    // The commands hold paths and settings from the inputs, shell-quoted: the block must stay
    // one block whatever they hold, so its fence is longer than any run of backticks inside and
    // no line break or other control character gets in.
    let commands: Vec<String> = report
        .commands
        .iter()
        .map(|command| {
            command
                .chars()
                .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
                .collect()
        })
        .collect();
    let longest = commands
        .iter()
        .flat_map(|command| command.split(|c| c != '`').map(str::len))
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(out, "{fence}sh");
    for command in &commands {
        let _ = writeln!(out, "{command}");
    }
    let _ = writeln!(out, "{fence}\n");
    let _ = writeln!(out, "Files:\n");
    for (kind, path) in rows::files(report) {
        let _ = writeln!(out, "- {}: {}", escape(kind), code(&path));
    }
}

#[cfg(test)]
mod tests {
    /// Table cells carry text from the inputs (a spawn site, a stage name): nothing in them is
    /// read as HTML or Markdown, and they stay one cell on one row.
    #[test]
    fn table_cells_are_inert_text() {
        assert_eq!(
            super::cell("<img src=x onerror=alert(1)>|x\ny"),
            "\\<img src=x onerror=alert(1)\\>\\|x y"
        );
    }
}

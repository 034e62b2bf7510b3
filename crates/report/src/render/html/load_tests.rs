//! The HTML report's "Load tests" section: every `--locust` / `--oha` run, REST and WebSocket
//! endpoints side by side, totals, top failures, each endpoint's percentiles on one chart and
//! each run over time. Endpoint names and error texts are untrusted and escaped.

use std::fmt::Write;

use super::charts;
use super::escape::esc;
use super::markup::{close, figure, num, open, table_end, table_head};
use crate::loadtest::LoadTest;
use crate::model::Report;
use crate::render::rows::{self, ENDPOINT_FIGURES, EndpointCells, HISTORY_COLUMNS};

pub(super) fn section(out: &mut String, report: &Report) {
    open(out, "load-tests", "Load tests");
    let tests = &report.load_tests;
    if tests.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"note\">No load test given (<code>cargo xtask report --locust PREFIX --oha FILE</code> reads Locust's and oha's output).</p>"
        );
        close(out);
        return;
    }
    let several = tests.len() > 1;
    table_head(out, &["Run", "Tool", "Files", "Notes"]);
    for run in rows::load_test_runs(tests) {
        let files: Vec<String> = run
            .files
            .iter()
            .map(|path| format!("<code>{}</code>", esc(path)))
            .collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
            run.number,
            esc(run.tool),
            run.version
                .map_or(String::new(), |version| format!(" {}", esc(version))),
            files.join(", "),
            run.notes.map_or("—".to_owned(), |notes| esc(&notes))
        );
    }
    table_end(out);
    if let Some(svg) = charts::endpoint_percentiles(tests) {
        figure(
            out,
            &svg,
            "Each endpoint's median, 95th and 99th percentile response times; the line spans them.",
        );
    }
    for group in rows::endpoint_groups(tests) {
        if group.rows.is_empty() {
            let _ = writeln!(
                out,
                "<h3>{}</h3>\n<p class=\"note\">None in these load tests.</p>",
                group.heading
            );
            continue;
        }
        let _ = writeln!(out, "<h3>{}</h3>", group.heading);
        endpoint_table(out, &group.rows, several);
    }
    let _ = writeln!(out, "<h3>All requests</h3>");
    endpoint_table(out, &rows::endpoint_totals(tests), true);
    failures(out, tests, several);
    for (index, test) in tests.iter().enumerate() {
        if let Some(svg) = charts::load_test_history(test) {
            let _ = writeln!(out, "<h3>{}</h3>", rows::history_heading(index, several));
            figure(
                out,
                &svg,
                "Requests and failures per second, users and the 95th percentile response time as the tool recorded them, on one time axis.",
            );
            history_table(out, test);
        }
    }
    close(out);
}

/// A table head: the run's number when `with_run`, the `text` columns, then the numeric
/// `figures` (right-aligned).
fn head(out: &mut String, with_run: bool, text: &[&str], figures: &[&str]) {
    let mut columns: Vec<String> = Vec::new();
    if with_run {
        columns.push("#Run".to_owned());
    }
    columns.extend(text.iter().map(|&column| column.to_owned()));
    columns.extend(figures.iter().map(|column| format!("#{column}")));
    table_head(out, &columns.iter().map(String::as_str).collect::<Vec<_>>());
}

/// The run's number as a leading cell, when `with_run`.
fn run_cell(number: usize, with_run: bool) -> String {
    if with_run {
        num(&number.to_string())
    } else {
        String::new()
    }
}

fn endpoint_table(out: &mut String, rows: &[EndpointCells<'_>], with_run: bool) {
    head(out, with_run, &["Type", "Name"], &ENDPOINT_FIGURES);
    for row in rows {
        let name = row.name.map_or("<strong>Aggregated</strong>".to_owned(), esc);
        let figures: String = row.figures.iter().map(|figure| num(figure)).collect();
        let _ = writeln!(
            out,
            "<tr>{}<td>{}</td><td>{name}</td>{figures}</tr>",
            run_cell(row.run, with_run),
            esc(row.request_type)
        );
    }
    table_end(out);
}

fn failures(out: &mut String, tests: &[LoadTest], with_run: bool) {
    let table = rows::failures(tests);
    let _ = writeln!(out, "<h3>Failures</h3>");
    if table.rows.is_empty() {
        let _ = writeln!(out, "<p class=\"note\">No failed requests recorded.</p>");
        return;
    }
    if table.kinds > table.rows.len() {
        let _ = writeln!(
            out,
            "<p>The {} most frequent of {} kinds.</p>",
            table.rows.len(),
            table.kinds
        );
    }
    head(out, with_run, &["Type", "Name", "Error"], &["Count"]);
    for row in &table.rows {
        let _ = writeln!(
            out,
            "<tr>{}<td>{}</td><td>{}</td><td><code>{}</code></td>{}</tr>",
            run_cell(row.run, with_run),
            esc(&row.failure.method),
            esc(&row.failure.name),
            esc(&row.failure.error),
            num(&row.count)
        );
    }
    table_end(out);
}

/// The history's figures, folded away under the chart.
fn history_table(out: &mut String, test: &LoadTest) {
    let rows = rows::history(test);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<details><summary>The figures ({} points)</summary>",
        rows.len()
    );
    head(out, false, &[], &HISTORY_COLUMNS);
    for row in &rows {
        let cells: String = row.iter().map(|cell| num(cell)).collect();
        let _ = writeln!(out, "<tr>{cells}</tr>");
    }
    table_end(out);
    out.push_str("</details>\n");
}

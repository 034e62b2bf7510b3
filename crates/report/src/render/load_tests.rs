//! The Markdown "Load tests" section: every run given with `--locust` / `--oha`, REST and
//! WebSocket endpoints side by side, totals, top failures and the run over time. Endpoint names
//! and error texts are untrusted and escaped.

use std::fmt::Write;

use super::html::load_test_key;
use super::markdown_charts::Charts;
use super::rows::{self, ENDPOINT_FIGURES, EndpointCells, HISTORY_COLUMNS};
use crate::loadtest::LoadTest;
use crate::markdown_escape::{escape, table_code};
use crate::model::Report;

/// Most history rows shown; longer histories are shown evenly thinned.
const HISTORY_ROWS: usize = 24;

/// Renders the section, with the endpoints' chart and each run's over time from `charts`.
pub(super) fn markdown(out: &mut String, report: &Report, charts: &Charts) {
    let _ = writeln!(out, "## Load tests\n");
    let tests = &report.load_tests;
    if tests.is_empty() {
        let _ = writeln!(
            out,
            "No load test given (`cargo xtask report --locust PREFIX --oha FILE` reads Locust's and oha's output).\n"
        );
        return;
    }
    let several = tests.len() > 1;
    let _ = writeln!(out, "| Run | Tool | Files | Notes |\n|---|---|---|---|");
    for run in rows::load_test_runs(tests) {
        let files: Vec<String> = run.files.iter().map(|path| table_code(path)).collect();
        let _ = writeln!(
            out,
            "| {} | {}{} | {} | {} |",
            run.number,
            run.tool,
            run.version
                .map_or(String::new(), |version| format!(" {}", escape(version))),
            files.join(", "),
            run.notes.map_or("—".to_owned(), |notes| escape(&notes))
        );
    }
    let _ = writeln!(out);
    charts.embed(out, "endpoints");
    for group in rows::endpoint_groups(tests) {
        if group.rows.is_empty() {
            let _ = writeln!(out, "### {}\n\nNone in these load tests.\n", group.heading);
            continue;
        }
        let _ = writeln!(out, "### {}\n", group.heading);
        endpoint_table(out, &group.rows, several);
    }
    let _ = writeln!(out, "### All requests\n");
    endpoint_table(out, &rows::endpoint_totals(tests), true);
    failures(out, tests, several);
    for (index, test) in tests
        .iter()
        .enumerate()
        .filter(|(_, test)| !test.history.is_empty())
    {
        history(out, index, test, several, charts);
    }
}

/// A table head with the run's number first when `with_run`.
fn table_head(out: &mut String, with_run: bool, columns: &[&str]) {
    let run = if with_run { "Run | " } else { "" };
    let rule = if with_run { "---|" } else { "" };
    let _ = writeln!(
        out,
        "| {run}{} |\n|{rule}{}",
        columns.join(" | "),
        "---|".repeat(columns.len())
    );
}

/// The run's number as a leading cell, when `with_run`.
fn run_cell(number: usize, with_run: bool) -> String {
    if with_run {
        format!("{number} | ")
    } else {
        String::new()
    }
}

fn endpoint_table(out: &mut String, rows: &[EndpointCells<'_>], with_run: bool) {
    let mut columns = vec!["Type", "Name"];
    columns.extend(ENDPOINT_FIGURES);
    table_head(out, with_run, &columns);
    for row in rows {
        let name = row.name.map_or("**Aggregated**".to_owned(), escape);
        let _ = writeln!(
            out,
            "| {}{} | {name} | {} |",
            run_cell(row.run, with_run),
            escape(row.request_type),
            row.figures.join(" | ")
        );
    }
    let _ = writeln!(out);
}

fn failures(out: &mut String, tests: &[LoadTest], with_run: bool) {
    let table = rows::failures(tests);
    let _ = writeln!(out, "### Failures\n");
    if table.rows.is_empty() {
        let _ = writeln!(out, "No failed requests recorded.\n");
        return;
    }
    if table.kinds > table.rows.len() {
        let _ = writeln!(
            out,
            "The {} most frequent of {} kinds.\n",
            table.rows.len(),
            table.kinds
        );
    }
    table_head(out, with_run, &["Type", "Name", "Error", "Count"]);
    for row in &table.rows {
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {} |",
            run_cell(row.run, with_run),
            escape(&row.failure.method),
            escape(&row.failure.name),
            escape(&row.failure.error),
            row.count
        );
    }
    let _ = writeln!(out);
}

fn history(out: &mut String, index: usize, test: &LoadTest, several: bool, charts: &Charts) {
    let _ = writeln!(out, "### {}\n", rows::history_heading(index, several));
    charts.embed(out, &load_test_key(index));
    let rows = rows::history(test);
    let step = rows.len().div_ceil(HISTORY_ROWS).max(1);
    if step > 1 {
        let _ = writeln!(out, "One point in {step} of {}.\n", rows.len());
    }
    table_head(out, false, &HISTORY_COLUMNS);
    let last = rows.len() - 1;
    for (_, row) in rows
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i == last)
    {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    let _ = writeln!(out);
}

//! What the Markdown report and the HTML page show in their tables, computed once for both: which
//! rows a section has, their labels, their figures as text (and the shares the page draws as
//! bars), and their order. Each renderer marks these up and escapes them its own way; nothing
//! here knows Markdown or HTML. The Trend section's rows are `trend.rs`'s, beside the console
//! table that shares them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{change_text, limit_text, status_label, target_text};
use crate::evaluate::{Check, Evaluation, Status};
use crate::input::{InputFormat, RunData};
use crate::loadtest::{Endpoint, EndpointKind, Failure, LoadTest};
use crate::metric::{format_value, metric};
use crate::model::{Report, busiest_stage, cpu_profile};

/// The content of a table cell, for each renderer to mark up its own way.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    /// Plain text.
    Text(String),
    /// Code (a commit), then plain text.
    Code(String, &'static str),
    /// A word in bold, then plain text: the leak's "**suspected**: …".
    Strong(&'static str, String),
}

/// A two-column table: labels and their values.
pub(super) type Rows = Vec<(&'static str, Cell)>;

/// A metric's value formatted in its unit, or "not measured".
fn value(run: &RunData, id: &str) -> String {
    match (run.metrics.get(id), metric(id)) {
        (Some(&value), Some(def)) => format_value(value, def.unit),
        (Some(&value), None) => format_value(value, ""),
        (None, _) => "not measured".to_owned(),
    }
}

/// A metric's value as a cell.
fn figure(run: &RunData, id: &str) -> Cell {
    Cell::Text(value(run, id))
}

/// The rows of those `(label, metric id)` that the run has, in the order given.
fn present(run: &RunData, rows: &[(&'static str, &str)]) -> Rows {
    rows.iter()
        .filter(|(_, id)| run.metrics.contains_key(*id))
        .map(|&(label, id)| (label, figure(run, id)))
        .collect()
}

/// A share, % of one, as text: `97 %`.
fn percent_of_one(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

// The summary and the page's frame.

/// The overall verdict as the report states it.
pub(super) fn verdict(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        _ => "FAIL",
    }
}

/// The statuses in the order the summary counts them, with the word it counts them by.
pub(super) const TALLIED: [(Status, &str); 4] = [
    (Status::Pass, "passed"),
    (Status::Warn, "warned"),
    (Status::Fail, "failed"),
    (Status::NotAvailable, "not available"),
];

/// "2 regression(s) beyond the allowed maximum", when there are any.
pub(super) fn gated_regressions(evaluation: &Evaluation) -> Option<String> {
    match evaluation.gated_regressions() {
        0 => None,
        gated => Some(format!("{gated} regression(s) beyond the allowed maximum")),
    }
}

/// The summary's count after the verdict: "3 passed, 0 warned, 1 failed, 0 not available; …".
pub(super) fn tally(evaluation: &Evaluation) -> String {
    let counts: Vec<String> = TALLIED
        .iter()
        .map(|&(status, word)| format!("{} {word}", evaluation.count(status)))
        .collect();
    match gated_regressions(evaluation) {
        Some(gated) => format!("{}; {gated}", counts.join(", ")),
        None => counts.join(", "),
    }
}

/// Whether the summary adds "All metrics within target.": everything passed, nothing missing.
pub(super) fn all_within_target(evaluation: &Evaluation) -> bool {
    evaluation.overall == Status::Pass && evaluation.count(Status::NotAvailable) == 0
}

/// One threshold check as the summary table shows it.
#[derive(Debug)]
pub(super) struct CheckRow<'a> {
    /// The check (its id, description and status).
    pub(super) check: &'a Check,
    /// The metric's value, or "not measured".
    pub(super) value: String,
    /// The limit: `≥ 400,000 msg/s`.
    pub(super) limit: String,
    /// The target, on the limit's side.
    pub(super) target: String,
    /// The change against the baseline, "—" when the baseline lacks the metric.
    pub(super) vs_baseline: String,
    /// The status as shown: its label, or that a required metric is missing.
    pub(super) status: &'static str,
}

/// The summary table: every check, in the evaluation's order.
pub(super) fn checks(evaluation: &Evaluation) -> Vec<CheckRow<'_>> {
    evaluation
        .checks
        .iter()
        .map(|check| CheckRow {
            check,
            value: check
                .value
                .map_or("not measured".to_owned(), |v| format_value(v, &check.unit)),
            limit: limit_text(check.limit, &check.unit),
            target: target_text(check.limit, check.target, &check.unit),
            vs_baseline: match check.baseline {
                Some(_) => change_text(check.change_pct),
                None => "—".to_owned(),
            },
            status: match (check.status, check.required) {
                (Status::Fail, true) if check.value.is_none() => "FAIL (required, missing)",
                (status, _) => status_label(status),
            },
        })
        .collect()
}

/// The environment table: where and how the run was made, and what the input was.
pub(super) fn environment(run: &RunData) -> Rows {
    let mut rows = Vec::new();
    match &run.environment {
        Some(env) => {
            rows.push((
                "Run",
                Cell::Text(env.timestamp.as_deref().unwrap_or("time not recorded").to_owned()),
            ));
            if let Some(commit) = &env.git_commit {
                let dirty = if env.git_dirty == Some(true) {
                    " with uncommitted changes"
                } else {
                    ""
                };
                rows.push(("Commit", Cell::Code(commit.chars().take(12).collect(), dirty)));
            }
            if let Some(profile) = &env.build_profile {
                let rustc = env
                    .rustc
                    .as_deref()
                    .map_or(String::new(), |rustc| format!(", {rustc}"));
                rows.push(("Build", Cell::Text(format!("{profile}{rustc}"))));
            }
            if let Some(cpu) = &env.cpu_model {
                rows.push((
                    "Machine",
                    Cell::Text(format!(
                        "{cpu}, {} logical cores, {}",
                        env.logical_cores
                            .map_or("?".to_owned(), |cores| cores.to_string()),
                        env.os.as_deref().unwrap_or("OS not recorded")
                    )),
                ));
            }
            if !env.workload.is_null() {
                rows.push(("Workload", Cell::Text(describe_settings(&env.workload))));
            }
            if !env.run.is_null() {
                rows.push(("Run settings", Cell::Text(describe_settings(&env.run))));
            }
        }
        None if run.has_run() => {
            rows.push(("Environment", Cell::Text("not recorded in this input".to_owned())))
        }
        None => {}
    }
    let format = match run.format {
        InputFormat::Perfgate { schema_version } => {
            format!("perfgate results, schema version {schema_version}")
        }
        InputFormat::Legacy => "older performance_results.json".to_owned(),
        InputFormat::LoadTestsOnly => "load tests only (no perfgate results)".to_owned(),
    };
    rows.push(("Input", Cell::Text(format)));
    rows
}

/// `key: value` pairs of a settings object, flattened one level.
fn describe_settings(settings: &Value) -> String {
    let Some(map) = settings.as_object() else {
        return "not recorded".to_owned();
    };
    let mut parts = Vec::new();
    for (key, value) in map {
        let text = match value {
            Value::Object(inner) if inner.is_empty() => continue,
            Value::Object(inner) => inner
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", "),
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map_or(v.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(" → "),
            Value::String(text) => text.clone(),
            Value::Null => continue,
            other => other.to_string(),
        };
        parts.push(format!("{key}: {text}"));
    }
    parts.join("; ")
}

/// The files the report came from, as the appendix lists them: `(kind, path)`.
pub(super) fn files(report: &Report) -> Vec<(&str, String)> {
    let mut files = Vec::new();
    if report.results.has_run() {
        files.push(("results", report.results.source.display().to_string()));
    }
    for test in &report.load_tests {
        for source in &test.sources {
            files.push((test.tool, source.display().to_string()));
        }
    }
    for (kind, file) in &report.results.files {
        let path = report
            .results
            .source
            .parent()
            .map(|dir| dir.join(file))
            .unwrap_or_else(|| file.into());
        files.push((kind.as_str(), path.display().to_string()));
    }
    files.push(("thresholds", report.thresholds_path.display().to_string()));
    files
}

// The in-process sections.

/// The CPU table: throughput and the measured window, then limit mode and the CPU's busy share
/// when the run has them.
pub(super) fn cpu(run: &RunData) -> Rows {
    let mut rows = vec![
        ("Throughput (saturation)", figure(run, "cpu.messages_per_second")),
        ("Measured window", figure(run, "cpu.total_time")),
        ("Messages", figure(run, "cpu.message_count")),
        ("Average latency", figure(run, "cpu.avg_latency_ms")),
    ];
    if run.metrics.contains_key("limit.messages_per_second") {
        rows.push(("Limit mode", figure(run, "limit.messages_per_second")));
        rows.push(("Pipeline efficiency", figure(run, "pipeline.efficiency")));
    }
    rows.extend(present(
        run,
        &[("CPU busy (profiled window)", "cpu.utilisation_percent")],
    ));
    rows
}

/// The end-to-end latency percentiles: column label and metric id.
const LATENCY: [(&str, &str); 6] = [
    ("p50", "latency.p50_ms"),
    ("p90", "latency.p90_ms"),
    ("p95", "latency.p95_ms"),
    ("p99", "latency.p99_ms"),
    ("p99.9", "latency.p999_ms"),
    ("max", "latency.max_ms"),
];

/// The end-to-end latency table: one row of percentiles.
#[derive(Debug)]
pub(super) struct Latency {
    /// "End-to-end latency, at a fixed 10,000 msg/s".
    pub(super) heading: String,
    /// Each percentile's column label and value, p50 to the maximum.
    pub(super) columns: Vec<(&'static str, String)>,
}

/// The latency table, when the run has the median.
pub(super) fn latency(run: &RunData) -> Option<Latency> {
    if !run.metrics.contains_key("latency.p50_ms") {
        return None;
    }
    let rate = run
        .metrics
        .get("latency.rate_per_second")
        .map_or("at saturation".to_owned(), |rate| {
            format!("at a fixed {}", format_value(*rate, "msg/s"))
        });
    Some(Latency {
        heading: format!("End-to-end latency, {rate}"),
        columns: LATENCY
            .iter()
            .map(|&(label, id)| (label, value(run, id)))
            .collect(),
    })
}

/// Most functions of the CPU profile shown.
const PROFILE_ROWS: usize = 10;

/// The CPU profile's table.
#[derive(Debug)]
pub(super) struct Profile<'a> {
    /// "Top CPU consumers (by self time)".
    pub(super) title: &'static str,
    /// The hottest functions, hottest first.
    pub(super) rows: Vec<FunctionCells<'a>>,
}

/// One function of the CPU profile's table.
#[derive(Debug)]
pub(super) struct FunctionCells<'a> {
    /// Its name.
    pub(super) function: &'a str,
    /// Its share of the samples, %, when known (the page draws it as a bar).
    pub(super) self_percent: Option<f64>,
    /// That share as text, or "—".
    pub(super) self_time: String,
    /// Its share with its callees as text, or "—".
    pub(super) inclusive: String,
    /// CPU seconds in it and its callees, or "—".
    pub(super) cumtime: String,
}

/// The CPU profile's table, when the run has a profile.
pub(super) fn profile(run: &RunData) -> Option<Profile<'_>> {
    let profile = cpu_profile(run);
    if profile.functions.is_empty() {
        return None;
    }
    let percent = |p: Option<f64>| p.map_or("—".to_owned(), |p| format!("{p:.1} %"));
    Some(Profile {
        title: if profile.by_self_time {
            "Top CPU consumers (by self time)"
        } else {
            "Top CPU consumers (by cumulative time)"
        },
        rows: profile
            .functions
            .iter()
            .take(PROFILE_ROWS)
            .map(|row| FunctionCells {
                function: &row.function,
                self_percent: row.self_percent,
                self_time: percent(row.self_percent),
                inclusive: percent(row.inclusive_percent),
                cumtime: row.cumtime.map_or("—".to_owned(), |c| format!("{c:.3} s")),
            })
            .collect(),
    })
}

/// The memory figures, labelled, in the order shown.
const MEMORY: [(&str, &str); 7] = [
    ("Baseline heap", "memory.baseline_mb"),
    ("Peak heap", "memory.peak_mb"),
    ("Delta over the window", "memory.delta_mb"),
    ("Final heap", "memory.final_mb"),
    (
        "Bytes allocated per message",
        "memory.bytes_allocated_per_message",
    ),
    ("Allocations per message", "memory.allocations_per_message"),
    ("Peak RSS of the process", "process.peak_rss_mb"),
];

/// The memory table: the figures the run has, then the leak verdict. `None` when the run has
/// none of the heap's baseline, peak and delta.
pub(super) fn memory(run: &RunData) -> Option<Rows> {
    if !MEMORY[..3].iter().any(|(_, id)| run.metrics.contains_key(*id)) {
        return None;
    }
    let mut rows = present(run, &MEMORY);
    let leak = match run.leak_suspected {
        Some(true) => Cell::Strong(
            "suspected",
            format!(
                ": live heap grows by {} per message",
                value(run, "memory.leak_bytes_per_message")
            ),
        ),
        Some(false) => Cell::Text("not suspected".to_owned()),
        None => Cell::Text("not assessed in this input".to_owned()),
    };
    rows.push(("Leak", leak));
    Some(rows)
}

/// The event-loop table: the lag figures the run has, then the runtime workers' busy shares.
/// `None` when the run has neither the lag nor the active tasks.
pub(super) fn event_loop(run: &RunData) -> Option<Rows> {
    if !run.metrics.contains_key("asyncio.event_loop_lag_ms")
        && !run.metrics.contains_key("asyncio.active_tasks")
    {
        return None;
    }
    let mut rows = present(
        run,
        &[
            ("Event-loop lag, p99", "asyncio.event_loop_lag_ms"),
            ("Event-loop lag, max (longest poll)", "asyncio.lag_max_ms"),
            ("Slow polls", "asyncio.slow_polls"),
            ("Active tasks", "asyncio.active_tasks"),
        ],
    );
    if !run.worker_busy.is_empty() {
        let busy: Vec<String> = run.worker_busy.iter().map(|&b| percent_of_one(b)).collect();
        rows.push(("Runtime workers busy", Cell::Text(busy.join(", "))));
    }
    Some(rows)
}

/// One stage of the stages table.
#[derive(Debug)]
pub(super) struct StageCells<'a> {
    /// Its name.
    pub(super) name: &'a str,
    /// Whether it is the busiest stage.
    pub(super) busiest: bool,
    /// Its workers.
    pub(super) workers: String,
    /// Its median and 99th percentile service time per message, or "—".
    pub(super) service_p50: String,
    /// See `service_p50`.
    pub(super) service_p99: String,
    /// Its busy share, %, when known (the page draws it as a bar).
    pub(super) busy_percent: Option<f64>,
    /// That share as text, or "—".
    pub(super) busy: String,
    /// Its queue's 99th percentile and capacity, or "—".
    pub(super) queue: String,
    /// Messages it rejected.
    pub(super) errors: String,
}

/// The stages table, in pipeline order.
pub(super) fn stages(run: &RunData) -> Vec<StageCells<'_>> {
    let busiest = busiest_stage(run).map(|stage| stage.name.as_str());
    let us = |value: Option<f64>| value.map_or("—".to_owned(), |v| format!("{v:.2} µs"));
    run.stages
        .iter()
        .map(|stage| StageCells {
            name: &stage.name,
            busiest: busiest == Some(stage.name.as_str()),
            workers: stage.workers.to_string(),
            service_p50: us(stage.service_p50_us),
            service_p99: us(stage.service_p99_us),
            busy_percent: stage.busy_ratio.map(|b| b * 100.0),
            busy: stage.busy_ratio.map_or("—".to_owned(), percent_of_one),
            queue: match (stage.queue_p99, stage.queue_capacity) {
                (Some(p99), Some(capacity)) => format!("{p99:.0} / {capacity:.0}"),
                _ => "—".to_owned(),
            },
            errors: stage.errors.to_string(),
        })
        .collect()
}

/// "Hit rate 93.0 % with a capacity of 1024 entries", when the run has the hit rate.
pub(super) fn cache(run: &RunData) -> Option<String> {
    let rate = run.metrics.get("cache.hit_rate")?;
    Some(format!(
        "Hit rate {:.1} %{}",
        rate * 100.0,
        run.cache_capacity.map_or(String::new(), |capacity| format!(
            " with a capacity of {capacity} entries"
        ))
    ))
}

/// What the errors section says.
#[derive(Debug)]
pub(super) enum Errors<'a> {
    /// The run has no error figures.
    NotMeasured,
    /// No message was rejected.
    None,
    /// Messages were rejected.
    Rejected {
        /// "12 messages rejected (0.50 %)".
        sentence: String,
        /// Messages rejected by kind.
        kinds: &'a BTreeMap<String, u64>,
    },
}

/// The errors section's content.
pub(super) fn errors(run: &RunData) -> Errors<'_> {
    match run.metrics.get("errors.total") {
        Some(&total) if total > 0.0 => Errors::Rejected {
            sentence: format!(
                "{} messages rejected ({})",
                total as u64,
                value(run, "error_rate.percent")
            ),
            kinds: &run.errors_by_kind,
        },
        Some(_) => Errors::None,
        None => Errors::NotMeasured,
    }
}

/// The database table of older files: its status and pool figures, when the file has them.
pub(super) fn database(run: &RunData) -> Option<Rows> {
    let database = run.database.as_ref()?;
    let mut rows = vec![(
        "Status",
        Cell::Text(database.status.as_deref().unwrap_or("not reported").to_owned()),
    )];
    for (label, id) in [
        ("Pool size", "database.pool_size"),
        ("Active connections", "database.active_connections"),
        ("Idle connections", "database.idle_connections"),
    ] {
        rows.push((label, figure(run, id)));
    }
    Some(rows)
}

// The load tests.

/// One load-test run of the runs table.
#[derive(Debug)]
pub(super) struct RunCells<'a> {
    /// Its number, from 1, as the other tables refer to it.
    pub(super) number: usize,
    /// The tool and its version, if known.
    pub(super) tool: &'static str,
    /// See `tool`.
    pub(super) version: Option<&'a str>,
    /// The files read, as paths.
    pub(super) files: Vec<String>,
    /// The notes on reading them, in one paragraph, if any.
    pub(super) notes: Option<String>,
}

/// The runs table, in the order the load tests were given.
pub(super) fn load_test_runs(tests: &[LoadTest]) -> Vec<RunCells<'_>> {
    tests
        .iter()
        .enumerate()
        .map(|(index, test)| RunCells {
            number: index + 1,
            tool: test.tool,
            version: test.version.as_deref(),
            files: test
                .sources
                .iter()
                .map(|path| path.display().to_string())
                .collect(),
            notes: (!test.notes.is_empty()).then(|| test.notes.join(" ")),
        })
        .collect()
}

/// The endpoint tables' columns after the type and the name, all figures.
pub(super) const ENDPOINT_FIGURES: [&str; 11] = [
    "Requests",
    "Failures",
    "Error rate",
    "Req/s",
    "Min ms",
    "Avg ms",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "p99.9 ms",
    "Max ms",
];

/// One endpoint of an endpoint table.
#[derive(Debug)]
pub(super) struct EndpointCells<'a> {
    /// The number of its run.
    pub(super) run: usize,
    /// Its request type.
    pub(super) request_type: &'a str,
    /// Its name; `None` for a run's aggregated row, shown as a bold "Aggregated".
    pub(super) name: Option<&'a str>,
    /// Its figures as text, in the order of [`ENDPOINT_FIGURES`].
    pub(super) figures: [String; 11],
}

/// A time in ms as text, or "—".
fn ms(value: Option<f64>) -> String {
    value.map_or("—".to_owned(), |v| format_value(v, ""))
}

fn endpoint_cells(index: usize, endpoint: &Endpoint) -> EndpointCells<'_> {
    EndpointCells {
        run: index + 1,
        request_type: &endpoint.request_type,
        name: (endpoint.kind != EndpointKind::Aggregated).then_some(endpoint.name.as_str()),
        figures: [
            format_value(endpoint.requests as f64, ""),
            format_value(endpoint.failures as f64, ""),
            endpoint
                .error_rate_pct()
                .map_or("—".to_owned(), |rate| format!("{rate:.2} %")),
            endpoint.rps.map_or("—".to_owned(), |rps| format!("{rps:.1}")),
            ms(endpoint.min_ms),
            ms(endpoint.avg_ms),
            ms(endpoint.p50_ms),
            ms(endpoint.p95_ms),
            ms(endpoint.p99_ms),
            ms(endpoint.p999_ms),
            ms(endpoint.max_ms),
        ],
    }
}

/// The endpoints of one kind, under their heading.
#[derive(Debug)]
pub(super) struct EndpointGroup<'a> {
    /// "REST endpoints".
    pub(super) heading: &'static str,
    /// Its endpoints, the same endpoint of every run next to each other; empty when the load
    /// tests have none of that kind (the section then says so).
    pub(super) rows: Vec<EndpointCells<'a>>,
}

/// The endpoint tables: REST and WebSocket always, other request types when there are any.
pub(super) fn endpoint_groups(tests: &[LoadTest]) -> Vec<EndpointGroup<'_>> {
    let mut groups = Vec::new();
    for (kind, heading) in [
        (EndpointKind::Rest, "REST endpoints"),
        (EndpointKind::WebSocket, "WebSocket"),
        (EndpointKind::Other, "Other request types"),
    ] {
        let mut rows: Vec<(usize, &Endpoint)> = tests
            .iter()
            .enumerate()
            .flat_map(|(index, test)| test.endpoints.iter().map(move |endpoint| (index, endpoint)))
            .filter(|(_, endpoint)| endpoint.kind == kind)
            .collect();
        if rows.is_empty() && kind == EndpointKind::Other {
            continue;
        }
        rows.sort_by(|a, b| (&a.1.name, &a.1.request_type, a.0).cmp(&(&b.1.name, &b.1.request_type, b.0)));
        groups.push(EndpointGroup {
            heading,
            rows: rows
                .into_iter()
                .map(|(index, endpoint)| endpoint_cells(index, endpoint))
                .collect(),
        });
    }
    groups
}

/// The "All requests" table: each run's aggregated row, in run order.
pub(super) fn endpoint_totals(tests: &[LoadTest]) -> Vec<EndpointCells<'_>> {
    tests
        .iter()
        .enumerate()
        .filter_map(|(index, test)| Some(endpoint_cells(index, test.aggregated()?)))
        .collect()
}

/// Most failure rows shown.
const TOP_FAILURES: usize = 10;

/// One kind of failure of the failures table.
#[derive(Debug)]
pub(super) struct FailureCells<'a> {
    /// The number of its run.
    pub(super) run: usize,
    /// The failure, as the tool recorded it.
    pub(super) failure: &'a Failure,
    /// How often it happened, as text.
    pub(super) count: String,
}

/// The failures table.
#[derive(Debug)]
pub(super) struct Failures<'a> {
    /// The most frequent kinds, most frequent first (the earlier run first among equals).
    pub(super) rows: Vec<FailureCells<'a>>,
    /// How many kinds there are in all.
    pub(super) kinds: usize,
}

/// The failures table over every run.
pub(super) fn failures(tests: &[LoadTest]) -> Failures<'_> {
    let mut all: Vec<(usize, &Failure)> = tests
        .iter()
        .enumerate()
        .flat_map(|(index, test)| test.failures.iter().map(move |failure| (index, failure)))
        .collect();
    all.sort_by(|a, b| b.1.occurrences.cmp(&a.1.occurrences).then(a.0.cmp(&b.0)));
    Failures {
        kinds: all.len(),
        rows: all
            .into_iter()
            .take(TOP_FAILURES)
            .map(|(index, failure)| FailureCells {
                run: index + 1,
                failure,
                count: format_value(failure.occurrences as f64, ""),
            })
            .collect(),
    }
}

/// "Over time", or "Over time (run 2)" when the report has several load tests.
pub(super) fn history_heading(index: usize, several: bool) -> String {
    if several {
        format!("Over time (run {})", index + 1)
    } else {
        "Over time".to_owned()
    }
}

/// The history table's columns.
pub(super) const HISTORY_COLUMNS: [&str; 5] = ["Time s", "Users", "Req/s", "Failures/s", "p95 ms"];

/// A load test's history as a table, a row per point in the order recorded, the time counted
/// from the first point; in the order of [`HISTORY_COLUMNS`].
pub(super) fn history(test: &LoadTest) -> Vec<[String; 5]> {
    let Some(first) = test.history.first() else {
        return Vec::new();
    };
    test.history
        .iter()
        .map(|point| {
            [
                point.timestamp.saturating_sub(first.timestamp).to_string(),
                point.users.to_string(),
                format!("{:.1}", point.rps),
                format!("{:.1}", point.failures_per_s),
                ms(point.p95_ms),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::input::parse_results;
    use crate::loadtest::HistoryPoint;

    fn run(json: &str) -> RunData {
        parse_results(Path::new("r.json"), json).unwrap()
    }

    fn labels(rows: &Rows) -> Vec<&str> {
        rows.iter().map(|(label, _)| *label).collect()
    }

    #[test]
    fn memory_rows_leave_out_what_the_run_lacks_and_keep_their_order() {
        let run = run(
            r#"{"schema_version":1,"memory":{"peak_mb":12.5,"baseline_mb":10.0,"leak_suspected":false},
                          "process":{"peak_rss_mb":40.0}}"#,
        );
        let rows = memory(&run).unwrap();
        assert_eq!(
            labels(&rows),
            ["Baseline heap", "Peak heap", "Peak RSS of the process", "Leak"]
        );
        assert_eq!(rows[1].1, Cell::Text("12.50 MiB".to_owned()));
        assert_eq!(rows[3].1, Cell::Text("not suspected".to_owned()));
    }

    #[test]
    fn memory_needs_a_heap_figure_and_says_when_a_leak_is_suspected() {
        assert!(memory(&run(r#"{"schema_version":1,"process":{"peak_rss_mb":40.0}}"#)).is_none());
        let leaking = run(
            r#"{"schema_version":1,"memory":{"delta_mb":3.0,"leak_suspected":true,"leak":{"bytes_per_message":24}}}"#,
        );
        let rows = memory(&leaking).unwrap();
        assert_eq!(labels(&rows), ["Delta over the window", "Leak"]);
        assert!(
            matches!(&rows[1].1, Cell::Strong("suspected", rest) if rest.starts_with(": live heap grows by 24")),
            "{:?}",
            rows[1].1
        );
    }

    #[test]
    fn cpu_rows_add_limit_mode_and_the_busy_share_only_when_measured() {
        let plain = run(r#"{"schema_version":1,"cpu":{"messages_per_second":1000}}"#);
        assert_eq!(
            labels(&cpu(&plain)),
            [
                "Throughput (saturation)",
                "Measured window",
                "Messages",
                "Average latency"
            ]
        );
        assert_eq!(cpu(&plain)[1].1, Cell::Text("not measured".to_owned()));
        let full = run(
            r#"{"schema_version":1,"cpu":{"messages_per_second":1000,"utilisation_percent":80},
                "limit":{"messages_per_second":2000}}"#,
        );
        assert_eq!(
            labels(&cpu(&full))[4..],
            ["Limit mode", "Pipeline efficiency", "CPU busy (profiled window)"]
        );
    }

    #[test]
    fn event_loop_rows_keep_their_order_and_end_with_the_workers() {
        assert!(event_loop(&run(r#"{"schema_version":1}"#)).is_none());
        let run = run(
            r#"{"schema_version":1,"asyncio":{"active_tasks":12,"event_loop_lag_ms":0.4},
                "runtime":{"per_worker":[{"busy_ratio":0.5},{"busy_ratio":0.25}]}}"#,
        );
        let rows = event_loop(&run).unwrap();
        assert_eq!(
            labels(&rows),
            ["Event-loop lag, p99", "Active tasks", "Runtime workers busy"]
        );
        assert_eq!(rows[2].1, Cell::Text("50 %, 25 %".to_owned()));
    }

    #[test]
    fn latency_needs_the_median_and_names_its_rate() {
        assert!(latency(&run(r#"{"schema_version":1,"latency":{"p99_ms":2.0}}"#)).is_none());
        let fixed = latency(&run(
            r#"{"schema_version":1,"latency":{"p50_ms":0.5,"rate_per_second":10000}}"#,
        ))
        .unwrap();
        assert_eq!(fixed.heading, "End-to-end latency, at a fixed 10,000 msg/s");
        let labels: Vec<&str> = fixed.columns.iter().map(|(label, _)| *label).collect();
        assert_eq!(labels, ["p50", "p90", "p95", "p99", "p99.9", "max"]);
        assert_eq!(fixed.columns[1].1, "not measured");
    }

    #[test]
    fn the_busiest_stage_is_marked_and_missing_figures_are_dashes() {
        let run = run(r#"{"schema_version":1,"stages":{
                "decode":{"index":0,"workers":2,"busy_ratio":0.5,"queue_depth":{"p99":3},"queue_capacity":1024},
                "enrich":{"index":1,"workers":1,"busy_ratio":0.97}}}"#);
        let rows = stages(&run);
        let names: Vec<(&str, bool)> = rows.iter().map(|row| (row.name, row.busiest)).collect();
        assert_eq!(names, [("decode", false), ("enrich", true)]);
        assert_eq!(rows[0].queue, "3 / 1024");
        assert_eq!(rows[1].queue, "—");
        assert_eq!(rows[1].busy, "97 %");
        assert_eq!(rows[0].service_p50, "—");
    }

    #[test]
    fn errors_tell_none_from_not_measured() {
        assert!(matches!(
            errors(&run(r#"{"schema_version":1}"#)),
            Errors::NotMeasured
        ));
        assert!(matches!(
            errors(&run(r#"{"schema_version":1,"errors":{"total":0}}"#)),
            Errors::None
        ));
    }

    #[test]
    fn the_environment_shortens_the_commit_and_always_names_the_input() {
        let run = run(
            r#"{"schema_version":1,"environment":{"git_commit":"0123456789abcdef","git_dirty":true,
                "workload":{"symbols":10,"workers":{},"stages":["decode","enrich"]}}}"#,
        );
        let rows = environment(&run);
        assert_eq!(labels(&rows), ["Run", "Commit", "Workload", "Input"]);
        assert_eq!(
            rows[1].1,
            Cell::Code("0123456789ab".to_owned(), " with uncommitted changes")
        );
        assert_eq!(
            rows[2].1,
            Cell::Text("stages: decode → enrich; symbols: 10".to_owned())
        );
        assert_eq!(labels(&environment(&RunData::load_tests_only())), ["Input"]);
    }

    fn endpoint(kind: EndpointKind, request_type: &str, name: &str, requests: u64) -> Endpoint {
        Endpoint {
            kind,
            request_type: request_type.to_owned(),
            name: name.to_owned(),
            requests,
            failures: 0,
            rps: None,
            min_ms: None,
            avg_ms: None,
            p50_ms: None,
            p95_ms: Some(12.5),
            p99_ms: None,
            p999_ms: None,
            max_ms: None,
        }
    }

    fn load_test(endpoints: Vec<Endpoint>, failures: Vec<(&str, u64)>) -> LoadTest {
        LoadTest {
            tool: "locust",
            version: None,
            sources: vec![PathBuf::from("a_stats.csv")],
            endpoints,
            failures: failures
                .into_iter()
                .map(|(error, occurrences)| Failure {
                    method: "GET".to_owned(),
                    name: "/a".to_owned(),
                    error: error.to_owned(),
                    occurrences,
                })
                .collect(),
            history: Vec::new(),
            notes: Vec::new(),
            argument: String::new(),
        }
    }

    #[test]
    fn endpoints_are_grouped_by_kind_with_each_endpoint_of_every_run_together() {
        let tests = [
            load_test(
                vec![
                    endpoint(EndpointKind::Rest, "GET", "/b", 1),
                    endpoint(EndpointKind::Rest, "GET", "/a", 2),
                    endpoint(EndpointKind::Aggregated, "", "Aggregated", 3),
                ],
                Vec::new(),
            ),
            load_test(vec![endpoint(EndpointKind::Rest, "GET", "/a", 4)], Vec::new()),
        ];
        let groups = endpoint_groups(&tests);
        let headings: Vec<&str> = groups.iter().map(|group| group.heading).collect();
        assert_eq!(headings, ["REST endpoints", "WebSocket"]);
        let rest: Vec<(usize, Option<&str>)> = groups[0].rows.iter().map(|row| (row.run, row.name)).collect();
        assert_eq!(rest, [(1, Some("/a")), (2, Some("/a")), (1, Some("/b"))]);
        assert!(groups[1].rows.is_empty());
        let totals = endpoint_totals(&tests);
        assert_eq!(totals.len(), 1);
        assert_eq!((totals[0].run, totals[0].name), (1, None));
        assert_eq!(totals[0].figures[0], "3");
        assert_eq!(totals[0].figures[2], "0.00 %");
        assert_eq!(totals[0].figures[3], "—");
        assert_eq!(totals[0].figures[8], "—");
        assert_eq!(groups[0].rows[0].figures[7], "12.50");
    }

    #[test]
    fn failures_are_the_most_frequent_first_and_counted_in_all() {
        let many: Vec<(&str, u64)> = (0..12).map(|n| ("e", n)).collect();
        let tests = [load_test(Vec::new(), vec![("x", 5)]), load_test(Vec::new(), many)];
        let table = failures(&tests);
        assert_eq!(table.kinds, 13);
        assert_eq!(table.rows.len(), TOP_FAILURES);
        let top: Vec<(usize, &str)> = table.rows[..3]
            .iter()
            .map(|row| (row.run, row.count.as_str()))
            .collect();
        assert_eq!(top, [(2, "11"), (2, "10"), (2, "9")]);
        assert_eq!((table.rows[6].run, table.rows[6].count.as_str()), (1, "5"));
    }

    #[test]
    fn history_rows_count_time_from_the_first_point() {
        let mut test = load_test(Vec::new(), Vec::new());
        assert!(history(&test).is_empty());
        test.history = vec![
            HistoryPoint {
                timestamp: 100,
                users: 1,
                rps: 2.34,
                failures_per_s: 0.0,
                p95_ms: None,
            },
            HistoryPoint {
                timestamp: 105,
                users: 10,
                rps: 20.0,
                failures_per_s: 0.5,
                p95_ms: Some(3.0),
            },
        ];
        assert_eq!(
            history(&test),
            [["0", "1", "2.3", "0.0", "—"], ["5", "10", "20.0", "0.5", "3"]]
        );
    }
}

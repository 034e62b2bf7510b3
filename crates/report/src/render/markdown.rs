//! The Markdown report (`docs/benchmark-results.md`): a page a lead reads in a minute (status,
//! what failed, what to do) and an engineer acts on (every figure, where it came from, how to
//! reproduce it). Sections without data say so in one line. With a chart link prefix
//! ([`Report::with_chart_links`]) each section also shows the HTML report's charts as images of
//! SVG files beside it; without one, no chart is mentioned.

use std::fmt::Write;

use serde_json::Value;

use super::{change_text, limit_text, movement_label, status_label, target_text};
use crate::evaluate::Status;
use crate::input::{InputFormat, RunData};
use crate::metric::{format_value, metric};
use crate::model::Report;

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
        database(&mut out, report);
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

/// One chart as the Markdown report shows it.
#[derive(Debug)]
struct Chart {
    key: String,
    section: &'static str,
    title: String,
    /// `![title](link)`.
    image: String,
}

/// The charts the report shows, the HTML report's: none without a chart link prefix.
#[derive(Debug)]
pub(super) struct Charts(Vec<Chart>);

impl Charts {
    fn new(report: &Report) -> Self {
        let Some(prefix) = &report.chart_links else {
            return Charts(Vec::new());
        };
        Charts(
            super::html::chart_files(report)
                .into_iter()
                .map(|chart| Chart {
                    image: format!(
                        "![{}]({}.svg)",
                        super::load_tests::escape(&chart.title),
                        link(&format!("{prefix}{}", chart.key))
                    ),
                    key: chart.key,
                    section: chart.section,
                    title: chart.title,
                })
                .collect(),
        )
    }

    /// The chart `key`, if there is one, as a paragraph of its own.
    pub(super) fn embed(&self, out: &mut String, key: &str) {
        for chart in self.0.iter().filter(|chart| chart.key == key) {
            let _ = writeln!(out, "{}\n", chart.image);
        }
    }

    /// The charts of the HTML report's section `section`.
    fn in_section<'a>(&'a self, section: &'a str) -> impl Iterator<Item = &'a Chart> {
        self.0.iter().filter(move |chart| chart.section == section)
    }
}

/// A relative path as a link: percent-encoded but for letters, digits, `-._~` and `/`, so that
/// spaces, brackets and parentheses in a file name cannot end or break it.
fn link(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn value(run: &RunData, id: &str) -> String {
    match (run.metrics.get(id), metric(id)) {
        (Some(&value), Some(def)) => format_value(value, def.unit),
        (Some(&value), None) => format_value(value, ""),
        (None, _) => "not measured".to_owned(),
    }
}

/// Escapes text for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn header(out: &mut String, report: &Report) {
    let run = &report.results;
    let _ = writeln!(out, "# Benchmark results\n");
    let from = if run.has_run() {
        format!("`{}`", run.source.display())
    } else {
        format!("{} load test(s)", report.load_tests.len())
    };
    let _ = writeln!(
        out,
        "Generated {} from {from} against `{}`.\n",
        report.generated_at,
        report.thresholds_path.display()
    );
    let _ = writeln!(out, "| | |\n|---|---|");
    match &run.environment {
        Some(env) => {
            let _ = writeln!(
                out,
                "| Run | {} |",
                env.timestamp.as_deref().unwrap_or("time not recorded")
            );
            if let Some(commit) = &env.git_commit {
                let short = &commit[..commit.len().min(12)];
                let dirty = if env.git_dirty == Some(true) {
                    " with uncommitted changes"
                } else {
                    ""
                };
                let _ = writeln!(out, "| Commit | `{short}`{dirty} |");
            }
            if let Some(profile) = &env.build_profile {
                let rustc = env
                    .rustc
                    .as_deref()
                    .map_or(String::new(), |rustc| format!(", {rustc}"));
                let _ = writeln!(out, "| Build | {profile}{rustc} |");
            }
            if let Some(cpu) = &env.cpu_model {
                let _ = writeln!(
                    out,
                    "| Machine | {cpu}, {} logical cores, {} |",
                    env.logical_cores
                        .map_or("?".to_owned(), |cores| cores.to_string()),
                    env.os.as_deref().unwrap_or("OS not recorded")
                );
            }
            if !env.workload.is_null() {
                let _ = writeln!(out, "| Workload | {} |", cell(&describe_settings(&env.workload)));
            }
            if !env.run.is_null() {
                let _ = writeln!(out, "| Run settings | {} |", cell(&describe_settings(&env.run)));
            }
        }
        None if run.has_run() => {
            let _ = writeln!(out, "| Environment | not recorded in this input |");
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
    let _ = writeln!(out, "| Input | {format} |\n");
    for warning in &run.warnings {
        let _ = writeln!(out, "> **Warning:** {}\n", cell(warning));
    }
}

/// `key: value` pairs of a settings object, flattened one level.
pub(super) fn describe_settings(settings: &Value) -> String {
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

fn summary(out: &mut String, report: &Report) {
    let evaluation = &report.evaluation;
    let _ = writeln!(out, "## Summary\n");
    let verdict = match evaluation.overall {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        _ => "FAIL",
    };
    let _ = writeln!(
        out,
        "**Overall: {verdict}** — {} passed, {} warned, {} failed, {} not available{}.\n",
        evaluation.count(Status::Pass),
        evaluation.count(Status::Warn),
        evaluation.count(Status::Fail),
        evaluation.count(Status::NotAvailable),
        match evaluation.gated_regressions() {
            0 => String::new(),
            gated => format!("; {gated} regression(s) beyond the allowed maximum"),
        }
    );
    if evaluation.overall == Status::Pass && evaluation.count(Status::NotAvailable) == 0 {
        let _ = writeln!(out, "All metrics within target.\n");
    }
    if evaluation.checks.is_empty() {
        let _ = writeln!(out, "The thresholds file sets no thresholds.\n");
        return;
    }
    let _ = writeln!(
        out,
        "| Metric | Value | Limit | Target | Status |\n|---|---|---|---|---|"
    );
    for check in &evaluation.checks {
        let _ = writeln!(
            out,
            "| `{}` {} | {} | {} | {} | {} |",
            check.id,
            cell(&check.description),
            check
                .value
                .map_or("not measured".to_owned(), |v| format_value(v, &check.unit)),
            limit_text(check.limit, &check.unit),
            target_text(check.limit, check.target, &check.unit),
            match (check.status, check.required) {
                (Status::Fail, true) if check.value.is_none() => "FAIL (required, missing)",
                (status, _) => status_label(status),
            }
        );
    }
    let _ = writeln!(out);
}

fn cpu(out: &mut String, report: &Report, charts: &Charts) {
    let run = &report.results;
    let _ = writeln!(out, "## CPU\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(
        out,
        "| Throughput (saturation) | {} |",
        value(run, "cpu.messages_per_second")
    );
    let _ = writeln!(out, "| Measured window | {} |", value(run, "cpu.total_time"));
    let _ = writeln!(out, "| Messages | {} |", value(run, "cpu.message_count"));
    let _ = writeln!(out, "| Average latency | {} |", value(run, "cpu.avg_latency_ms"));
    if run.metrics.contains_key("limit.messages_per_second") {
        let _ = writeln!(
            out,
            "| Limit mode | {} |",
            value(run, "limit.messages_per_second")
        );
        let _ = writeln!(
            out,
            "| Pipeline efficiency | {} |",
            value(run, "pipeline.efficiency")
        );
    }
    if run.metrics.contains_key("cpu.utilisation_percent") {
        let _ = writeln!(
            out,
            "| CPU busy (profiled window) | {} |",
            value(run, "cpu.utilisation_percent")
        );
    }
    let _ = writeln!(out);
    if run.metrics.contains_key("latency.p50_ms") {
        let rate = run
            .metrics
            .get("latency.rate_per_second")
            .map_or("at saturation".to_owned(), |rate| {
                format!("at a fixed {}", format_value(*rate, "msg/s"))
            });
        let _ = writeln!(out, "End-to-end latency, {rate}:\n");
        let _ = writeln!(
            out,
            "| p50 | p90 | p95 | p99 | p99.9 | max |\n|---|---|---|---|---|---|"
        );
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |\n",
            value(run, "latency.p50_ms"),
            value(run, "latency.p90_ms"),
            value(run, "latency.p95_ms"),
            value(run, "latency.p99_ms"),
            value(run, "latency.p999_ms"),
            value(run, "latency.max_ms")
        );
        charts.embed(out, "latency");
    } else {
        let _ = writeln!(out, "No latency distribution in this input.\n");
    }
    let functions = if run.hot_functions.is_empty() {
        &run.top_functions
    } else {
        &run.hot_functions
    };
    if functions.is_empty() {
        let _ = writeln!(out, "No CPU profile in this input.\n");
    } else {
        let title = if run.hot_functions.is_empty() {
            "Top CPU consumers (by cumulative time)"
        } else {
            "Top CPU consumers (by self time)"
        };
        let _ = writeln!(out, "{title}:\n");
        let _ = writeln!(
            out,
            "| Function | Self | Inclusive | cumtime |\n|---|---|---|---|"
        );
        for row in functions.iter().take(10) {
            let percent = |p: Option<f64>| p.map_or("—".to_owned(), |p| format!("{p:.1} %"));
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                cell(&row.function),
                percent(row.self_percent),
                percent(row.inclusive_percent),
                row.cumtime.map_or("—".to_owned(), |c| format!("{c:.3} s"))
            );
        }
        let _ = writeln!(out);
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
    let run = &report.results;
    let _ = writeln!(out, "## Memory\n");
    if !["memory.baseline_mb", "memory.peak_mb", "memory.delta_mb"]
        .iter()
        .any(|id| run.metrics.contains_key(*id))
    {
        let _ = writeln!(out, "No memory figures in this input.\n");
        return;
    }
    let _ = writeln!(out, "| | |\n|---|---|");
    for (label, id) in [
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
    ] {
        if run.metrics.contains_key(id) {
            let _ = writeln!(out, "| {label} | {} |", value(run, id));
        }
    }
    let leak = match run.leak_suspected {
        Some(true) => format!(
            "**suspected**: live heap grows by {} per message",
            value(run, "memory.leak_bytes_per_message")
        ),
        Some(false) => "not suspected".to_owned(),
        None => "not assessed in this input".to_owned(),
    };
    let _ = writeln!(out, "| Leak | {leak} |\n");
}

fn event_loop(out: &mut String, report: &Report) {
    let run = &report.results;
    let _ = writeln!(out, "## Event loop and runtime\n");
    if !run.metrics.contains_key("asyncio.event_loop_lag_ms")
        && !run.metrics.contains_key("asyncio.active_tasks")
    {
        let _ = writeln!(out, "No event-loop figures in this input.\n");
        return;
    }
    let _ = writeln!(out, "| | |\n|---|---|");
    for (label, id) in [
        ("Event-loop lag, p99", "asyncio.event_loop_lag_ms"),
        ("Event-loop lag, max (longest poll)", "asyncio.lag_max_ms"),
        ("Slow polls", "asyncio.slow_polls"),
        ("Active tasks", "asyncio.active_tasks"),
    ] {
        if run.metrics.contains_key(id) {
            let _ = writeln!(out, "| {label} | {} |", value(run, id));
        }
    }
    if !run.worker_busy.is_empty() {
        let busy: Vec<String> = run
            .worker_busy
            .iter()
            .map(|b| format!("{:.0} %", b * 100.0))
            .collect();
        let _ = writeln!(out, "| Runtime workers busy | {} |", busy.join(", "));
    }
    let _ = writeln!(out);
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
        let _ = writeln!(
            out,
            "**{}**\n\n{}\n",
            super::load_tests::escape(&chart.title),
            chart.image
        );
    }
}

fn stages(out: &mut String, report: &Report) {
    let run = &report.results;
    let _ = writeln!(out, "## Pipeline stages\n");
    if run.stages.is_empty() {
        let _ = writeln!(out, "No per-stage figures in this input.\n");
        return;
    }
    let bottleneck = run
        .stages
        .iter()
        .filter(|stage| stage.busy_ratio.is_some())
        .max_by(|a, b| {
            a.busy_ratio
                .unwrap_or(0.0)
                .total_cmp(&b.busy_ratio.unwrap_or(0.0))
        })
        .map(|stage| stage.name.clone());
    let _ = writeln!(
        out,
        "| Stage | Workers | Service p50 | Service p99 | Busy | Queue p99 / capacity | Errors |\n|---|---|---|---|---|---|---|"
    );
    for stage in &run.stages {
        let us = |value: Option<f64>| value.map_or("—".to_owned(), |v| format!("{v:.2} µs"));
        let marker = if bottleneck.as_deref() == Some(stage.name.as_str()) {
            " (busiest)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| `{}`{marker} | {} | {} | {} | {} | {} | {} |",
            cell(&stage.name),
            stage.workers,
            us(stage.service_p50_us),
            us(stage.service_p99_us),
            stage
                .busy_ratio
                .map_or("—".to_owned(), |b| format!("{:.0} %", b * 100.0)),
            match (stage.queue_p99, stage.queue_capacity) {
                (Some(p99), Some(capacity)) => format!("{p99:.0} / {capacity:.0}"),
                _ => "—".to_owned(),
            },
            stage.errors
        );
    }
    let _ = writeln!(out);
}

fn cache_and_errors(out: &mut String, report: &Report) {
    let run = &report.results;
    let _ = writeln!(out, "## Cache\n");
    match run.metrics.get("cache.hit_rate") {
        Some(rate) => {
            let _ = writeln!(
                out,
                "Hit rate {:.1} %{}.\n",
                rate * 100.0,
                run.cache_capacity.map_or(String::new(), |capacity| format!(
                    " with a capacity of {capacity} entries"
                ))
            );
        }
        None => {
            let _ = writeln!(out, "No cache figures in this input.\n");
        }
    }
    let _ = writeln!(out, "## Errors\n");
    match run.metrics.get("errors.total") {
        Some(&total) if total > 0.0 => {
            let _ = writeln!(
                out,
                "{} messages rejected ({}).\n",
                total as u64,
                value(run, "error_rate.percent")
            );
            let _ = writeln!(out, "| Kind | Messages |\n|---|---|");
            for (kind, count) in &run.errors_by_kind {
                let _ = writeln!(out, "| `{}` | {count} |", cell(kind));
            }
            let _ = writeln!(out);
        }
        Some(_) => {
            let _ = writeln!(out, "No message was rejected.\n");
        }
        None => {
            let _ = writeln!(out, "No error figures in this input.\n");
        }
    }
}

fn database(out: &mut String, report: &Report) {
    let run = &report.results;
    let _ = writeln!(out, "## Database\n");
    match &run.database {
        Some(database) => {
            let _ = writeln!(out, "| | |\n|---|---|");
            let _ = writeln!(
                out,
                "| Status | {} |",
                cell(database.status.as_deref().unwrap_or("not reported"))
            );
            for (label, id) in [
                ("Pool size", "database.pool_size"),
                ("Active connections", "database.active_connections"),
                ("Idle connections", "database.idle_connections"),
            ] {
                let _ = writeln!(out, "| {label} | {} |", value(run, id));
            }
            let _ = writeln!(out);
        }
        None => {
            let _ = writeln!(out, "No database figures in this input.\n");
        }
    }
}

fn baseline(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Baseline comparison\n");
    let Some(baseline) = &report.baseline else {
        let _ = writeln!(out, "No baseline given (`cargo xtask report --baseline FILE`).\n");
        return;
    };
    let _ = writeln!(out, "Against `{}`.\n", baseline.source.display());
    if report.evaluation.comparisons.is_empty() {
        let _ = writeln!(out, "The two inputs share no metric.\n");
        return;
    }
    let _ = writeln!(
        out,
        "| Metric | Current | Baseline | Change | Verdict |\n|---|---|---|---|---|"
    );
    for comparison in &report.evaluation.comparisons {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {}{} |",
            comparison.id,
            format_value(comparison.current, &comparison.unit),
            format_value(comparison.baseline, &comparison.unit),
            change_text(comparison.change_pct),
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
        let _ = writeln!(out, "- **{}**: {}", recommendation.topic, recommendation.text);
    }
    let _ = writeln!(out);
}

fn appendix(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Appendix: reproduce\n");
    let _ = writeln!(out, "```sh");
    for command in &report.commands {
        let _ = writeln!(out, "{command}");
    }
    let _ = writeln!(out, "```\n");
    let _ = writeln!(out, "Files:\n");
    if report.results.has_run() {
        let _ = writeln!(out, "- results: `{}`", report.results.source.display());
    }
    for test in &report.load_tests {
        for source in &test.sources {
            let _ = writeln!(out, "- {}: `{}`", test.tool, source.display());
        }
    }
    for (kind, file) in &report.results.files {
        let directory = report
            .results
            .source
            .parent()
            .map(|dir| dir.join(file))
            .unwrap_or_else(|| file.into());
        let _ = writeln!(out, "- {kind}: `{}`", directory.display());
    }
    let _ = writeln!(out, "- thresholds: `{}`", report.thresholds_path.display());
}

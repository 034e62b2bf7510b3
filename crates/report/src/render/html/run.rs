//! The HTML report's in-process sections: CPU and latency (with the percentile curve and the
//! flamegraph), memory, event loop and runtime, the probes over time, pipeline stages, cache,
//! errors and the older files' database figures. Same figures as the Markdown report's.

use std::fmt::Write;

use super::chart::Svg;
use super::escape::esc;
use super::{charts, close, figure, key_values, note, num, open, table_end, table_head, value};
use crate::metric::format_value;
use crate::model::Report;

/// A share as a small bar and its text; `percent` is clamped to 0–100 for the bar.
fn meter(percent: f64, text: &str) -> String {
    format!(
        "<td class=\"num\"><span class=\"meter\" aria-hidden=\"true\"><span style=\"width:{:.1}%\"></span></span>{}</td>",
        percent.clamp(0.0, 100.0),
        esc(text)
    )
}

pub(super) fn cpu(out: &mut String, report: &Report) {
    let run = &report.results;
    open(out, "cpu", "CPU and latency");
    let mut rows = vec![
        (
            "Throughput (saturation)",
            esc(&value(run, "cpu.messages_per_second")),
        ),
        ("Measured window", esc(&value(run, "cpu.total_time"))),
        ("Messages", esc(&value(run, "cpu.message_count"))),
        ("Average latency", esc(&value(run, "cpu.avg_latency_ms"))),
    ];
    if run.metrics.contains_key("limit.messages_per_second") {
        rows.push(("Limit mode", esc(&value(run, "limit.messages_per_second"))));
        rows.push(("Pipeline efficiency", esc(&value(run, "pipeline.efficiency"))));
    }
    if run.metrics.contains_key("cpu.utilisation_percent") {
        rows.push((
            "CPU busy (profiled window)",
            esc(&value(run, "cpu.utilisation_percent")),
        ));
    }
    key_values(out, &rows);
    if run.metrics.contains_key("latency.p50_ms") {
        let rate = run
            .metrics
            .get("latency.rate_per_second")
            .map_or("at saturation".to_owned(), |rate| {
                format!("at a fixed {}", format_value(*rate, "msg/s"))
            });
        let _ = writeln!(out, "<h3>End-to-end latency, {}</h3>", esc(&rate));
        table_head(out, &["#p50", "#p90", "#p95", "#p99", "#p99.9", "#max"]);
        out.push_str("<tr>");
        for id in [
            "latency.p50_ms",
            "latency.p90_ms",
            "latency.p95_ms",
            "latency.p99_ms",
            "latency.p999_ms",
            "latency.max_ms",
        ] {
            out.push_str(&num(&value(run, id)));
        }
        out.push_str("</tr>\n");
        table_end(out);
        if let Some(svg) = charts::latency_percentiles(report) {
            figure(
                out,
                &svg,
                "Latency at each percentile: the further right, the rarer. Each step right is ten times rarer (p90, p99, p99.9), so the tail gets the room it needs.",
            );
        }
    } else {
        note(out, "No latency distribution in this input.");
    }
    let functions = if run.hot_functions.is_empty() {
        &run.top_functions
    } else {
        &run.hot_functions
    };
    if functions.is_empty() {
        note(out, "No CPU profile in this input.");
    } else {
        let title = if run.hot_functions.is_empty() {
            "Top CPU consumers (by cumulative time)"
        } else {
            "Top CPU consumers (by self time)"
        };
        let _ = writeln!(out, "<h3>{title}</h3>");
        table_head(out, &["Function", "#Self", "#Inclusive", "#cumtime"]);
        for row in functions.iter().take(10) {
            let percent = |p: Option<f64>| p.map_or("—".to_owned(), |p| format!("{p:.1} %"));
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td>{}{}{}</tr>",
                esc(&row.function),
                match row.self_percent {
                    Some(share) => meter(share, &percent(Some(share))),
                    None => num("—"),
                },
                num(&percent(row.inclusive_percent)),
                num(&row.cumtime.map_or("—".to_owned(), |c| format!("{c:.3} s")))
            );
        }
        table_end(out);
    }
    match &report.flamegraph_link {
        Some(link) => {
            let link = esc(link);
            let _ = writeln!(
                out,
                "<h3>Flamegraph</h3>\n<figure class=\"flame\"><a href=\"{link}\"><img src=\"{link}\" alt=\"CPU flamegraph of the profiled window\" loading=\"lazy\"></a>\
                 <figcaption>Each box is a function, as wide as its share of the CPU samples, above its caller. \
                 <a href=\"{link}\">Open it on its own</a> to zoom and search.</figcaption></figure>"
            );
        }
        None => note(out, "No flamegraph for this input."),
    }
    close(out);
}

pub(super) fn memory(out: &mut String, report: &Report) {
    let run = &report.results;
    open(out, "memory", "Memory");
    if !["memory.baseline_mb", "memory.peak_mb", "memory.delta_mb"]
        .iter()
        .any(|id| run.metrics.contains_key(*id))
    {
        note(out, "No memory figures in this input.");
        close(out);
        return;
    }
    let mut rows = Vec::new();
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
            rows.push((label, esc(&value(run, id))));
        }
    }
    let leak = match run.leak_suspected {
        Some(true) => format!(
            "<strong>suspected</strong>: live heap grows by {} per message",
            esc(&value(run, "memory.leak_bytes_per_message"))
        ),
        Some(false) => "not suspected".to_owned(),
        None => "not assessed in this input".to_owned(),
    };
    rows.push(("Leak", leak));
    key_values(out, &rows);
    if !run.series.is_empty() {
        let _ = writeln!(
            out,
            "<p>The heap over each phase's window is under <a href=\"#over-time\">Over time</a>.</p>"
        );
    }
    close(out);
}

pub(super) fn event_loop(out: &mut String, report: &Report) {
    let run = &report.results;
    open(out, "event-loop", "Event loop and runtime");
    if !run.metrics.contains_key("asyncio.event_loop_lag_ms")
        && !run.metrics.contains_key("asyncio.active_tasks")
    {
        note(out, "No event-loop figures in this input.");
        close(out);
        return;
    }
    let mut rows = Vec::new();
    for (label, id) in [
        ("Event-loop lag, p99", "asyncio.event_loop_lag_ms"),
        ("Event-loop lag, max (longest poll)", "asyncio.lag_max_ms"),
        ("Slow polls", "asyncio.slow_polls"),
        ("Active tasks", "asyncio.active_tasks"),
    ] {
        if run.metrics.contains_key(id) {
            rows.push((label, esc(&value(run, id))));
        }
    }
    if !run.worker_busy.is_empty() {
        let busy: Vec<String> = run
            .worker_busy
            .iter()
            .map(|b| format!("{:.0} %", b * 100.0))
            .collect();
        rows.push(("Runtime workers busy", esc(&busy.join(", "))));
    }
    key_values(out, &rows);
    close(out);
}

pub(super) fn over_time(out: &mut String, report: &Report) {
    let run = &report.results;
    open(out, "over-time", "Over time");
    let charts: Vec<(String, Svg)> = run
        .series
        .iter()
        .filter_map(|phase| Some((charts::phase_name(&phase.phase), charts::over_time(phase)?)))
        .collect();
    if charts.is_empty() {
        note(out, "No time series in this input.");
        close(out);
        return;
    }
    let _ = writeln!(
        out,
        "<p>What the probes sampled during each phase's measured window. The panels of a phase share one time axis, so a spike in one reads straight down to the others. \
         The heap and lag are sampled every 10 ms, the runtime every 100 ms (longer runs keep at most 1,024 points, merging neighbours).</p>"
    );
    for (name, svg) in charts {
        let _ = writeln!(out, "<h3>{}</h3>", esc(&name));
        figure(
            out,
            &svg,
            "Throughput is the increase of finished messages per sampling interval. Heap: live bytes sampled, with the window's baseline and true peak (every allocation counted, not just the samples) dashed.",
        );
    }
    close(out);
}

pub(super) fn stages(out: &mut String, report: &Report) {
    let run = &report.results;
    open(out, "stages", "Pipeline stages");
    if run.stages.is_empty() {
        note(out, "No per-stage figures in this input.");
        close(out);
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
    table_head(
        out,
        &[
            "Stage",
            "#Workers",
            "#Service p50",
            "#Service p99",
            "#Busy",
            "#Queue p99 / capacity",
            "#Errors",
        ],
    );
    for stage in &run.stages {
        let us = |value: Option<f64>| value.map_or("—".to_owned(), |v| format!("{v:.2} µs"));
        let marker = if bottleneck.as_deref() == Some(stage.name.as_str()) {
            "<span class=\"badge\">busiest</span>"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code>{marker}</td>{}{}{}{}{}{}</tr>",
            esc(&stage.name),
            num(&stage.workers.to_string()),
            num(&us(stage.service_p50_us)),
            num(&us(stage.service_p99_us)),
            match stage.busy_ratio {
                Some(busy) => meter(busy * 100.0, &format!("{:.0} %", busy * 100.0)),
                None => num("—"),
            },
            num(&match (stage.queue_p99, stage.queue_capacity) {
                (Some(p99), Some(capacity)) => format!("{p99:.0} / {capacity:.0}"),
                _ => "—".to_owned(),
            }),
            num(&stage.errors.to_string())
        );
    }
    table_end(out);
    if let Some(svg) = charts::stage_percentiles(&run.stages) {
        figure(
            out,
            &svg,
            "Time each stage spends on one message, at its median, 99th percentile and maximum. A batch is timed as a whole and its time spread over its messages.",
        );
    }
    close(out);
}

pub(super) fn cache_and_errors(out: &mut String, report: &Report) {
    let run = &report.results;
    open(out, "cache", "Cache");
    match run.metrics.get("cache.hit_rate") {
        Some(rate) => {
            let _ = writeln!(
                out,
                "<p>Hit rate {:.1} %{}.</p>",
                rate * 100.0,
                run.cache_capacity.map_or(String::new(), |capacity| format!(
                    " with a capacity of {capacity} entries"
                ))
            );
        }
        None => note(out, "No cache figures in this input."),
    }
    close(out);
    open(out, "errors", "Errors");
    match run.metrics.get("errors.total") {
        Some(&total) if total > 0.0 => {
            let _ = writeln!(
                out,
                "<p>{} messages rejected ({}).</p>",
                total as u64,
                esc(&value(run, "error_rate.percent"))
            );
            table_head(out, &["Kind", "#Messages"]);
            for (kind, count) in &run.errors_by_kind {
                let _ = writeln!(
                    out,
                    "<tr><td><code>{}</code></td>{}</tr>",
                    esc(kind),
                    num(&count.to_string())
                );
            }
            table_end(out);
        }
        Some(_) => {
            let _ = writeln!(out, "<p>No message was rejected.</p>");
        }
        None => note(out, "No error figures in this input."),
    }
    close(out);
}

pub(super) fn database(out: &mut String, report: &Report) {
    let run = &report.results;
    open(out, "database", "Database");
    match &run.database {
        Some(database) => {
            let mut rows = vec![(
                "Status",
                esc(database.status.as_deref().unwrap_or("not reported")),
            )];
            for (label, id) in [
                ("Pool size", "database.pool_size"),
                ("Active connections", "database.active_connections"),
                ("Idle connections", "database.idle_connections"),
            ] {
                rows.push((label, esc(&value(run, id))));
            }
            key_values(out, &rows);
        }
        None => note(out, "No database figures in this input."),
    }
    close(out);
}

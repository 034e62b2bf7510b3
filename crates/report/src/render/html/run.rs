//! The HTML report's in-process sections: CPU and latency (with the percentile curve and the
//! flamegraph), memory, event loop and runtime, the probes over time, pipeline stages, cache,
//! errors, the database (a PostgreSQL reference store's pool, waits and queries with its pool
//! use over time, or the older files' figures), and a capacity search's, a sweep's and chaos
//! runs' sections when the results have them. Same figures as the Markdown report's.

use std::fmt::Write;

use super::chart::Svg;
use super::charts;
use super::escape::esc;
use super::markup::{close, figure, key_values, note, num, open, table_end, table_head, text_table};
use crate::model::Report;
use crate::render::rows::{self, Errors};

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
    key_values(out, &rows::cpu(run));
    match rows::latency(run) {
        Some(latency) => {
            let _ = writeln!(out, "<h3>{}</h3>", esc(&latency.heading));
            let columns: Vec<String> = latency
                .columns
                .iter()
                .map(|(label, _)| format!("#{label}"))
                .collect();
            table_head(out, &columns.iter().map(String::as_str).collect::<Vec<_>>());
            out.push_str("<tr>");
            for (_, text) in &latency.columns {
                out.push_str(&num(text));
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
        }
        None => note(out, "No latency distribution in this input."),
    }
    match rows::profile(run) {
        Some(profile) => {
            let _ = writeln!(out, "<h3>{}</h3>", profile.title);
            table_head(out, &["Function", "#Self", "#Inclusive", "#cumtime"]);
            for row in profile.rows {
                let _ = writeln!(
                    out,
                    "<tr><td><code>{}</code></td>{}{}{}</tr>",
                    esc(row.function),
                    match row.self_percent {
                        Some(share) => meter(share, &row.self_time),
                        None => num(&row.self_time),
                    },
                    num(&row.inclusive),
                    num(&row.cumtime)
                );
            }
            table_end(out);
        }
        None => note(out, "No CPU profile in this input."),
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
    let Some(rows) = rows::memory(run) else {
        note(out, "No memory figures in this input.");
        close(out);
        return;
    };
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
    open(out, "event-loop", "Event loop and runtime");
    match rows::event_loop(&report.results) {
        Some(rows) => key_values(out, &rows),
        None => note(out, "No event-loop figures in this input."),
    }
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
    for stage in rows::stages(run) {
        let marker = if stage.busiest {
            "<span class=\"badge\">busiest</span>"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code>{marker}</td>{}{}{}{}{}{}</tr>",
            esc(stage.name),
            num(&stage.workers),
            num(&stage.service_p50),
            num(&stage.service_p99),
            match stage.busy_percent {
                Some(busy) => meter(busy, &stage.busy),
                None => num(&stage.busy),
            },
            num(&stage.queue),
            num(&stage.errors)
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
    match rows::cache(run) {
        Some(hit_rate) => {
            let _ = writeln!(out, "<p>{}.</p>", esc(&hit_rate));
        }
        None => note(out, "No cache figures in this input."),
    }
    close(out);
    open(out, "errors", "Errors");
    match rows::errors(run) {
        Errors::Rejected { sentence, kinds } => {
            let _ = writeln!(out, "<p>{}.</p>", esc(&sentence));
            table_head(out, &["Kind", "#Messages"]);
            for (kind, count) in kinds {
                let _ = writeln!(
                    out,
                    "<tr><td><code>{}</code></td>{}</tr>",
                    esc(kind),
                    num(&count.to_string())
                );
            }
            table_end(out);
        }
        Errors::None => {
            let _ = writeln!(out, "<p>No message was rejected.</p>");
        }
        Errors::NotMeasured => note(out, "No error figures in this input."),
    }
    close(out);
}

/// A PostgreSQL reference store's section with a pool-use chart per phase, or the older files'
/// database figures.
pub(super) fn database(out: &mut String, report: &Report) {
    open(out, "database", "Database");
    if let Some(database) = &report.results.database {
        let rows = rows::database(database);
        key_values(out, &rows.facts);
        if !rows.latency.is_empty() {
            text_table(out, &rows.columns, &rows.latency);
        }
        for (phase, series) in &database.timeline {
            if let Some(svg) = charts::database_pool(phase, series, database.pool.max_size) {
                let _ = writeln!(out, "<h3>{}</h3>", esc(&charts::phase_name(phase)));
                figure(out, &svg, &rows.chart_caption);
            }
        }
        close(out);
        return;
    }
    match rows::legacy_database(&report.results) {
        Some(rows) => key_values(out, &rows),
        None => note(out, "No database figures in this input."),
    }
    close(out);
}

/// Only for a run with a capacity search.
pub(super) fn capacity(out: &mut String, report: &Report) {
    let Some(capacity) = &report.results.capacity else {
        return;
    };
    let rows = rows::capacity(capacity);
    open(out, "capacity", "Capacity");
    let _ = writeln!(out, "<p>{}</p>", esc(&rows.sentence));
    if let Some(svg) = charts::capacity_curve(capacity) {
        figure(
            out,
            &svg,
            "Latency against the offered rate, one dot per step: flat while the pipeline keeps up, then the knee, where queues start to grow. The dashed line is the objective's limit, the vertical one the capacity found.",
        );
    }
    text_table(out, &rows.columns, &rows.steps);
    close(out);
}

/// Only for a sweep's results.
pub(super) fn sweep(out: &mut String, report: &Report) {
    let Some(sweep) = &report.results.sweep else {
        return;
    };
    let rows = rows::sweep(sweep);
    open(out, "sweep", "Sweep");
    let _ = writeln!(out, "<p>{}</p>", esc(&rows.sentence));
    for warning in &rows.warnings {
        let _ = writeln!(
            out,
            "<div class=\"callout\"><strong>Warning:</strong> {}</div>",
            esc(warning)
        );
    }
    let _ = writeln!(
        out,
        "<p><strong>Recommendation.</strong> {}</p>",
        esc(&rows.recommendation)
    );
    for (key, svg) in charts::sweep_charts(sweep) {
        let caption = match key {
            "sweep-throughput" => {
                "Saturation throughput by point: the dots are the interval's ends and the median; a point whose line lies wholly left of another's is clearly slower."
            }
            "sweep-latency" => "p50 and p99 at the one fixed rate every point ran at, medians (log scale).",
            _ => "Process CPU time per message at saturation by point, with the median's interval.",
        };
        figure(out, &svg, caption);
    }
    text_table(out, &rows.columns, &rows.points);
    close(out);
}

/// Only for a run with chaos scenarios: the table first (every scenario at a glance), then each
/// scenario's timeline under its name.
pub(super) fn chaos(out: &mut String, report: &Report) {
    let Some(chaos) = &report.results.chaos else {
        return;
    };
    let rows = rows::chaos(chaos);
    open(out, "chaos", "Chaos");
    let _ = writeln!(out, "<p>{}</p>", esc(&rows.sentence));
    if !rows.scenarios.is_empty() {
        text_table(out, &rows.columns, &rows.scenarios);
    }
    for ((name, caption), scenario) in rows.captions.iter().zip(chaos.scenarios.values()) {
        if let Some(svg) = charts::chaos_timeline(name, scenario) {
            let _ = writeln!(out, "<h3>{}</h3>", esc(name));
            figure(out, &svg, caption);
        }
    }
    close(out);
}

//! The rows of the in-process sections: CPU, latency and profile, memory, event loop, stages,
//! cache, errors and the older files' database.

use std::collections::BTreeMap;

use super::cell::{Cell, Rows};
use crate::input::RunData;
use crate::metric::{format_value, metric};
use crate::reading::{busiest_stage, cpu_profile};

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

/// The CPU table: throughput and the measured window, then limit mode and the CPU's busy share
/// when the run has them.
pub(in crate::render) fn cpu(run: &RunData) -> Rows {
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
pub(in crate::render) struct Latency {
    /// "End-to-end latency, at a fixed 10,000 msg/s".
    pub(in crate::render) heading: String,
    /// Each percentile's column label and value, p50 to the maximum.
    pub(in crate::render) columns: Vec<(&'static str, String)>,
}

/// The latency table, when the run has the median.
pub(in crate::render) fn latency(run: &RunData) -> Option<Latency> {
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
pub(in crate::render) struct Profile<'a> {
    /// "Top CPU consumers (by self time)".
    pub(in crate::render) title: &'static str,
    /// The hottest functions, hottest first.
    pub(in crate::render) rows: Vec<FunctionCells<'a>>,
}

/// One function of the CPU profile's table.
#[derive(Debug)]
pub(in crate::render) struct FunctionCells<'a> {
    /// Its name.
    pub(in crate::render) function: &'a str,
    /// Its share of the samples, %, when known (the page draws it as a bar).
    pub(in crate::render) self_percent: Option<f64>,
    /// That share as text, or "—".
    pub(in crate::render) self_time: String,
    /// Its share with its callees as text, or "—".
    pub(in crate::render) inclusive: String,
    /// CPU seconds in it and its callees, or "—".
    pub(in crate::render) cumtime: String,
}

/// The CPU profile's table, when the run has a profile.
pub(in crate::render) fn profile(run: &RunData) -> Option<Profile<'_>> {
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
const MEMORY: [(&str, &str); 8] = [
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
    // The CPU profiler's tables are resident too: shown apart so they are not read as the
    // pipeline's.
    ("… of which the CPU profiler's own", "profiler.cpu_probe_rss_mb"),
];

/// The memory table: the figures the run has, then the leak verdict. `None` when the run has
/// none of the heap's baseline, peak and delta.
pub(in crate::render) fn memory(run: &RunData) -> Option<Rows> {
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
pub(in crate::render) fn event_loop(run: &RunData) -> Option<Rows> {
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
    // Where the blocking code is: the spawn sites of the tasks with the most slow-poll time.
    // The sites are text from the results file; each renderer escapes it.
    if !run.slow_poll_sites.is_empty() {
        let sites: Vec<String> = run
            .slow_poll_sites
            .iter()
            .take(3)
            .map(|(site, polls, ms)| format!("{polls} ({ms:.1} ms) in tasks spawned at {site}"))
            .collect();
        rows.push(("Slow polls by spawn site", Cell::Text(sites.join("; "))));
    }
    if !run.worker_busy.is_empty() {
        let busy: Vec<String> = run.worker_busy.iter().map(|&b| percent_of_one(b)).collect();
        rows.push(("Runtime workers busy", Cell::Text(busy.join(", "))));
    }
    Some(rows)
}

/// One stage of the stages table.
#[derive(Debug)]
pub(in crate::render) struct StageCells<'a> {
    /// Its name.
    pub(in crate::render) name: &'a str,
    /// Whether it is the busiest stage.
    pub(in crate::render) busiest: bool,
    /// Its workers.
    pub(in crate::render) workers: String,
    /// Its median and 99th percentile service time per message, or "—".
    pub(in crate::render) service_p50: String,
    /// See `service_p50`.
    pub(in crate::render) service_p99: String,
    /// Its busy share, %, when known (the page draws it as a bar).
    pub(in crate::render) busy_percent: Option<f64>,
    /// That share as text, or "—".
    pub(in crate::render) busy: String,
    /// Its queue's 99th percentile and capacity, or "—".
    pub(in crate::render) queue: String,
    /// Messages it rejected.
    pub(in crate::render) errors: String,
}

/// The stages table, in pipeline order.
pub(in crate::render) fn stages(run: &RunData) -> Vec<StageCells<'_>> {
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
pub(in crate::render) fn cache(run: &RunData) -> Option<String> {
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
pub(in crate::render) enum Errors<'a> {
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
pub(in crate::render) fn errors(run: &RunData) -> Errors<'_> {
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
pub(in crate::render) fn legacy_database(run: &RunData) -> Option<Rows> {
    let database = run.legacy_database.as_ref()?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::rows::test_support::{labels, run};

    #[test]
    fn memory_rows_leave_out_what_the_run_lacks_and_keep_their_order() {
        let run = run(
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"memory":{"peak_mb":12.5,"baseline_mb":10.0,"leak_suspected":false},
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
    fn the_event_loop_table_names_where_the_slow_tasks_were_spawned() {
        let run = run(
            r#"{"schema_version":1,"phases":{"fixed_rate":{"measured_messages":1}},"asyncio":{"event_loop_lag_ms":4.5,"slow_polls":80,
                "slow_poll_sites":[{"spawned_at":"src/housekeeping.rs:83:5","slow_polls":78,"slow_poll_time_ms":408.0,"longest_ms":8.6},
                                   {"spawned_at":"src/handler.rs:62:5","slow_polls":2,"slow_poll_time_ms":3.0,"longest_ms":1.7}]}}"#,
        );
        let rows = event_loop(&run).unwrap();
        let (label, cell) = rows
            .iter()
            .find(|(label, _)| *label == "Slow polls by spawn site")
            .unwrap();
        assert_eq!(*label, "Slow polls by spawn site");
        assert_eq!(
            *cell,
            Cell::Text(
                "78 (408.0 ms) in tasks spawned at src/housekeeping.rs:83:5; 2 (3.0 ms) in tasks spawned at src/handler.rs:62:5"
                    .to_owned()
            )
        );
    }

    #[test]
    fn memory_needs_a_heap_figure_and_says_when_a_leak_is_suspected() {
        assert!(
            memory(&run(
                r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"process":{"peak_rss_mb":40.0}}"#
            ))
            .is_none()
        );
        let leaking = run(
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"memory":{"delta_mb":3.0,"leak_suspected":true,"leak":{"bytes_per_message":24}}}"#,
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
        assert!(
            event_loop(&run(
                r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"phases":{"saturation":{"measured_messages":1}}}"#
            ))
            .is_none()
        );
        let run = run(
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"asyncio":{"active_tasks":12,"event_loop_lag_ms":0.4},
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
            errors(&run(
                r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"phases":{"saturation":{"measured_messages":1}}}"#
            )),
            Errors::NotMeasured
        ));
        assert!(matches!(
            errors(&run(
                r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"errors":{"total":0}}"#
            )),
            Errors::None
        ));
    }
}

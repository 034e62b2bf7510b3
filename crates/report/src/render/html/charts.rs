//! Which charts the HTML report draws, from which data: latency percentile curves, the probes'
//! time series of each phase on one time axis, the capacity search, a sweep's points, each chaos
//! scenario's timeline around its fault, a database pool's use over each phase, the baseline
//! changes, the history's trend per metric,
//! and the load tests over time and per endpoint. Each returns the chart, or `None` when
//! the input has nothing to draw; [`chart_files`] gives every one of them as an SVG file of its
//! own, under a stable name, for the Markdown report. Drawing itself is `chart.rs`'s.

use std::collections::BTreeSet;

use super::chart::{Bar, DotRow, Kind, Line, Mark, Panel, Plot, Svg, XAxis, XMark, XSpan, bars, dots};
use perfgate_results::{CapacitySection, CapacityStep, ChaosScenario, SweepSection, TimeSeries};

use crate::evaluate::Movement;
use crate::history::MetricTrend;
use crate::input::{PhaseSeries, RunData, StageRow};
use crate::loadtest::{EndpointKind, LoadTest};
use crate::metric::format_value;
use crate::model::Report;
use crate::render::rows::DID_NOT_RECOVER;

/// End-to-end latency metrics with their place on the percentile axis (`1 / (1 - q)`) and their
/// label; the maximum goes where p99.99 would.
const PERCENTILES: [(&str, f64, &str); 6] = [
    ("latency.p50_ms", 2.0, "p50"),
    ("latency.p90_ms", 10.0, "p90"),
    ("latency.p95_ms", 20.0, "p95"),
    ("latency.p99_ms", 100.0, "p99"),
    ("latency.p999_ms", 1_000.0, "p99.9"),
    ("latency.max_ms", 10_000.0, "max"),
];

/// Colour of a baseline or reference (grey).
const GREY: usize = 6;

fn percentile_axis() -> XAxis {
    XAxis::log_with(
        "percentile, on a log scale of 1 / (1 − q) (the maximum where p99.99 would be)",
        PERCENTILES
            .iter()
            .map(|&(_, at, label)| (at, label.to_owned()))
            .collect(),
    )
}

/// A run's end-to-end percentiles as a line with a dot per percentile.
fn latency_line(name: &str, run: &RunData, colour: usize) -> Line {
    let (points, tips): (Vec<(f64, f64)>, Vec<String>) = PERCENTILES
        .iter()
        .filter_map(|&(id, at, label)| {
            let value = *run.metrics.get(id)?;
            Some((
                (at, value),
                format!("{name} {label}: {}", format_value(value, "ms")),
            ))
        })
        .unzip();
    Line::new(name, points, colour).dots(tips)
}

/// The end-to-end latency distribution as a percentile curve (the baseline's dashed beside it),
/// when the run has the median (the page shows it under the percentile table, which needs that).
pub(super) fn latency_percentiles(report: &Report) -> Option<Svg> {
    if !report.results.metrics.contains_key("latency.p50_ms") {
        return None;
    }
    let mut panel = Panel::new("End-to-end latency, ms (log scale)")
        .log()
        .height(200.0)
        .line(latency_line("this run", &report.results, 0));
    if let Some(baseline) = &report.baseline {
        let line = latency_line("baseline", baseline, GREY);
        panel = panel.line(line.dashed());
    }
    let plot = Plot::new("End-to-end latency by percentile", percentile_axis()).panel(panel);
    (!plot.is_empty()).then(|| plot.render())
}

/// Each stage's per-message service time (p50, p99, max) as a percentile curve.
pub(super) fn stage_percentiles(stages: &[StageRow]) -> Option<Svg> {
    let mut panel = Panel::new("Service time per message, µs (log scale)")
        .log()
        .height(200.0);
    for (index, stage) in stages.iter().enumerate() {
        let (points, tips): (Vec<(f64, f64)>, Vec<String>) = [
            (stage.service_p50_us, 2.0, "p50"),
            (stage.service_p99_us, 100.0, "p99"),
            (stage.service_max_us, 10_000.0, "max"),
        ]
        .into_iter()
        .filter_map(|(value, at, label)| {
            let value = value?;
            Some((
                (at, value),
                format!("{} {label}: {}", stage.name, format_value(value, "µs")),
            ))
        })
        .unzip();
        panel = panel.line(Line::new(stage.name.clone(), points, index % 6).dots(tips));
    }
    let plot = Plot::new("Service time per stage by percentile", percentile_axis()).panel(panel);
    (!plot.is_empty()).then(|| plot.render())
}

/// The capacity search's "hockey stick": each step's p99 against its offered rate (log scale:
/// the knee spans decades), met and missed apart, the objective's limit and the capacity found.
pub(super) fn capacity_curve(capacity: &CapacitySection) -> Option<Svg> {
    let mut steps: Vec<&CapacityStep> = capacity
        .steps
        .iter()
        .filter(|step| step.p99_ms > 0.0 && step.offered_per_second > 0.0)
        .collect();
    if steps.is_empty() {
        return None;
    }
    steps.sort_by(|a, b| a.offered_per_second.total_cmp(&b.offered_per_second));
    let k = |rate: f64| rate / 1_000.0;
    let series = |passed: bool, name: &str, colour: usize| {
        let (points, tips): (Vec<(f64, f64)>, Vec<String>) = steps
            .iter()
            .filter(|step| step.passed == passed)
            .map(|step| {
                (
                    (k(step.offered_per_second), step.p99_ms),
                    format!(
                        "{} offered: p99 {}, {}",
                        format_value(step.offered_per_second, "msg/s"),
                        format_value(step.p99_ms, "ms"),
                        if passed { "met" } else { "missed" }
                    ),
                )
            })
            .unzip();
        Line::new(name, points, colour).dots(tips)
    };
    let lowest = steps.iter().map(|step| step.p99_ms).fold(f64::INFINITY, f64::min);
    let highest = steps.iter().map(|step| step.p99_ms).fold(0.0, f64::max);
    let mut panel = Panel::new("p99 end-to-end latency, ms (log scale)")
        .log()
        .height(220.0)
        .line(series(true, "met", 2))
        .line(series(false, "missed", 3))
        .line(
            Line::new(
                format!("capacity {}", format_value(capacity.max_rate_per_second, "msg/s")),
                vec![
                    (k(capacity.max_rate_per_second), lowest),
                    (k(capacity.max_rate_per_second), highest),
                ],
                0,
            )
            .dashed(),
        );
    for limit in slo_limits(&capacity.slo, "p99") {
        panel = panel.mark(Mark::new(format!("objective p99 ≤ {limit} ms"), limit, GREY));
    }
    let plot = Plot::new(
        format!("Latency against offered rate at {}", capacity.slo),
        XAxis::linear("offered rate, thousand messages per second"),
    )
    .panel(panel);
    (!plot.is_empty()).then(|| plot.render())
}

/// What `cargo xtask scaling` draws: every measured run, the fitted law and its projection with
/// the interval, against the worker count.
#[derive(Debug, Clone, Default)]
pub struct ScalingCurves {
    /// Each run: (workers, messages/s).
    pub measured: Vec<(f64, f64)>,
    /// The fitted law over the measured worker counts: (workers, messages/s).
    pub fitted: Vec<(f64, f64)>,
    /// Beyond them, when the fit is trustworthy: (cores, low, estimate, high) messages/s.
    pub projected: Vec<(f64, f64, f64, f64)>,
}

/// The scaling chart as a standalone SVG file: measured runs as dots, the fit as a line, the
/// projection dashed between its interval's bounds (log scale of workers: 1 to 64).
pub fn scaling_chart(title: &str, curves: &ScalingCurves) -> Option<String> {
    if curves.measured.is_empty() {
        return None;
    }
    let k = |points: &[(f64, f64)]| -> Vec<(f64, f64)> {
        points.iter().map(|&(x, y)| (x, y / 1_000.0)).collect()
    };
    // In worker order, so the line through the runs reads left to right, not in run order.
    let mut measured = curves.measured.clone();
    measured.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let tips = measured
        .iter()
        .map(|(workers, rate)| format!("{workers} workers: {}", format_value(*rate, "msg/s")))
        .collect();
    let mut panel = Panel::new("throughput, thousand messages per second")
        .height(240.0)
        .line(Line::new("measured runs", k(&measured), 0).dots(tips))
        .line(Line::new("fitted law", k(&curves.fitted), 2));
    if !curves.projected.is_empty() {
        let pick = |index: usize| -> Vec<(f64, f64)> {
            curves
                .projected
                .iter()
                .map(|point| {
                    let values = [point.1, point.2, point.3];
                    (point.0, values[index] / 1_000.0)
                })
                .collect()
        };
        panel = panel
            .line(Line::new("projection", pick(1), 2).dashed())
            .line(Line::new("95 % interval", pick(0), GREY).dashed())
            .line(Line::new("", pick(2), GREY).dashed());
    }
    let ticks = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
        .iter()
        .map(|&n| (n, format!("{n}")))
        .collect();
    let plot = Plot::new(
        title,
        XAxis::log_with("runtime workers (cores), log scale", ticks),
    )
    .panel(panel);
    (!plot.is_empty()).then(|| plot.render().standalone())
}

/// A sweep's three charts (`sweep-throughput`, `sweep-latency`, `sweep-cpu`), each a dot plot
/// with a row per point: throughput and CPU per message with the interval of their median (dots
/// at low, median and high, the line between them the interval), and p50 and p99 at the shared
/// fixed rate on a log scale.
pub(super) fn sweep_charts(sweep: &SweepSection) -> Vec<(&'static str, Svg)> {
    let interval = |metric: usize| -> Vec<DotRow> {
        sweep
            .points
            .iter()
            .map(|point| DotRow {
                label: point.label(),
                values: point.figure(metric).map_or(vec![None; 3], |figure| {
                    vec![Some(figure.low), Some(figure.median), Some(figure.high)]
                }),
            })
            .collect()
    };
    let latency: Vec<DotRow> = sweep
        .points
        .iter()
        .map(|point| DotRow {
            label: point.label(),
            values: vec![
                point.figure(1).map(|figure| figure.median),
                point.figure(2).map(|figure| figure.median),
            ],
        })
        .collect();
    let interval_series = [("interval low", 0), ("median", 1), ("interval high", 2)];
    [
        (
            "sweep-throughput",
            "Throughput at saturation by point (the line spans the median's interval)",
            "messages per second",
            "msg/s",
            Kind::Linear,
            &interval_series[..],
            interval(0),
        ),
        (
            "sweep-latency",
            "Latency at the shared fixed rate by point (medians)",
            "end-to-end latency, ms (log scale)",
            "ms",
            Kind::Log,
            &[("p50", 0), ("p99", 1)][..],
            latency,
        ),
        (
            "sweep-cpu",
            "Process CPU time per message by point (the line spans the median's interval)",
            "ns per message",
            "ns",
            Kind::Linear,
            &interval_series[..],
            interval(3),
        ),
    ]
    .into_iter()
    .filter(|(.., rows)| {
        rows.iter()
            .any(|row| row.values.iter().flatten().next().is_some())
    })
    .map(|(key, title, axis, unit, kind, series, rows)| (key, dots(title, axis, kind, series, &rows, unit)))
    .collect()
}

/// Colour of a fault's shading (vermilion).
const FAULT: usize = 5;
/// Colour of the recovery line (green).
const RECOVERED: usize = 2;

/// A chaos scenario's timeline around its fault: throughput, p99 (log scale: the fault can
/// multiply it a hundredfold) and the backlog stacked on one time axis, the fault's window shaded
/// across all three, the steady-state band's edges dashed, and a vertical line where the pipeline
/// was back inside the band for good; no line when it did not recover, and the title and the
/// fault's legend entry say so (the legend is what a reader of the chart file sees).
pub(super) fn chaos_timeline(name: &str, scenario: &ChaosScenario) -> Option<Svg> {
    let timeline = &scenario.timeline;
    let column = |values: &[f64]| -> Vec<(f64, f64)> {
        timeline.t_s.iter().copied().zip(values.iter().copied()).collect()
    };
    // A window where nothing finished has no p99: a gap in the line.
    let p99: Vec<f64> = timeline
        .p99_ms
        .iter()
        .map(|p99| p99.unwrap_or(f64::NAN))
        .collect();
    let band = &scenario.band;
    let mut throughput = Panel::new("Throughput, messages finished per second").line(Line::new(
        "",
        column(&timeline.throughput),
        2,
    ));
    let mut latency = Panel::new("p99 latency, ms (log scale)")
        .log()
        .line(Line::new("", column(&p99), 1));
    // No window before the fault, no band to draw.
    if band.windows > 0 {
        throughput = throughput
            .mark(Mark::new(
                format!(
                    "steady-state band {}–{}",
                    format_value(band.throughput_low, ""),
                    format_value(band.throughput_high, "msg/s")
                ),
                band.throughput_low,
                GREY,
            ))
            .mark(Mark::new("", band.throughput_high, GREY));
        latency = latency.mark(Mark::new(
            format!("band edge {}", format_value(band.p99_high_ms, "ms")),
            band.p99_high_ms,
            GREY,
        ));
    }
    let recovery = scenario.recovery_s.filter(|_| scenario.recovered);
    let outcome = match recovery {
        Some(_) => String::new(),
        None => format!(", {DID_NOT_RECOVER}"),
    };
    let mut plot = Plot::new(
        format!("{name}: throughput, p99 and backlog around the fault{outcome}"),
        XAxis::linear("time since the measured window started, s"),
    )
    .span(XSpan::new(
        format!(
            "fault {}–{} s{outcome}",
            format_value(scenario.fault_start_s, ""),
            format_value(scenario.fault_end_s, "")
        ),
        scenario.fault_start_s,
        scenario.fault_end_s,
        FAULT,
    ));
    if let Some(recovery) = recovery {
        plot = plot.x_mark(XMark::new(
            format!("recovered {} after the fault", format_value(recovery, "s")),
            scenario.fault_end_s + recovery,
            RECOVERED,
        ));
    }
    let plot = plot.panel(throughput).panel(latency).panel(
        Panel::new("Backlog, messages waiting in the pipeline").line(Line::new(
            "",
            column(&timeline.backlog),
            4,
        )),
    );
    (!plot.is_empty()).then(|| plot.render())
}

/// A database pool's use over one phase, two panels on one time axis: connections lent out and
/// held open with the pool's limit dashed, and tasks waiting for a connection (a panel of its
/// own: a queue of waiters can be many times the pool).
pub(super) fn database_pool(phase: &str, series: &TimeSeries, max_size: u64) -> Option<Svg> {
    let column = |name: &str| -> Vec<(f64, f64)> {
        series
            .columns
            .get(name)
            .map(|values| {
                series
                    .t_ms
                    .iter()
                    .zip(values)
                    .map(|(t, value)| (t / 1_000.0, *value))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut connections = Panel::new("Connections")
        .line(Line::new("in use", column("in_use"), 0))
        .line(Line::new("open", column("open"), 2));
    if max_size > 0 {
        connections = connections.mark(Mark::new(format!("pool max {max_size}"), max_size as f64, GREY));
    }
    let plot = Plot::new(
        format!("{}: database pool use", phase_name(phase)),
        XAxis::linear("time in the phase, s"),
    )
    .panel(connections)
    .panel(Panel::new("Tasks waiting for a connection").line(Line::new("waiting", column("waiting"), 5)));
    (!plot.is_empty()).then(|| plot.render())
}

/// The limits, ms, of the objective's terms on `percentile` (`p99<=2ms,p50<=1ms` → [2] for p99).
fn slo_limits(slo: &str, percentile: &str) -> Vec<f64> {
    slo.split(',')
        .filter_map(|term| term.split_once("<="))
        .filter(|(name, _)| name.trim() == percentile)
        .filter_map(|(_, limit)| limit.trim().strip_suffix("ms")?.parse().ok())
        .filter(|limit: &f64| limit.is_finite() && *limit > 0.0)
        .collect()
}

/// How a phase is named on the page.
pub(super) fn phase_name(phase: &str) -> String {
    match phase {
        "saturation" => "Saturation phase".to_owned(),
        "fixed_rate" => "Fixed-rate phase".to_owned(),
        "limit" => "Limit mode".to_owned(),
        "run" => "The run".to_owned(),
        other => format!("Phase {other}"),
    }
}

/// A phase's probes over its measured window, panels stacked on one time axis: throughput, heap,
/// resident memory, event-loop lag, CPU and busy workers.
pub(super) fn over_time(phase: &PhaseSeries) -> Option<Svg> {
    let seconds = |points: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
        points.into_iter().map(|(t, v)| (t / 1_000.0, v)).collect()
    };
    let mut heap = Panel::new("Heap in use, MiB").fitted().line(Line::new(
        "live heap",
        seconds(phase.memory.points("live_mb")),
        0,
    ));
    if let Some(baseline) = phase.heap_baseline_mb {
        heap = heap.mark(Mark::new(
            format!("baseline {}", format_value(baseline, "MiB")),
            baseline,
            GREY,
        ));
    }
    if let Some(peak) = phase.heap_peak_mb {
        heap = heap.mark(Mark::new(
            format!("true peak {}", format_value(peak, "MiB")),
            peak,
            5,
        ));
    }
    let busy: Vec<(f64, f64)> = seconds(phase.runtime.points("worker_busy_ratio"))
        .into_iter()
        .map(|(t, ratio)| (t, ratio * 100.0))
        .collect();
    let plot = Plot::new(
        format!(
            "{}: the probes over the measured window",
            phase_name(&phase.phase)
        ),
        XAxis::linear("time since the measured window started, s"),
    )
    .panel(
        Panel::new("Throughput, messages finished per second").line(Line::new(
            "",
            seconds(phase.memory.rate("messages")),
            2,
        )),
    )
    .panel(heap)
    .panel(
        Panel::new("Resident memory, MiB")
            .line(Line::new(
                "allocator resident",
                seconds(phase.memory.points("resident_mb")),
                1,
            ))
            .line(Line::new(
                "process RSS",
                seconds(phase.runtime.points("rss_mb")),
                3,
            )),
    )
    .panel(Panel::new("Event-loop lag, ms").line(Line::new(
        "longest poll per interval",
        seconds(phase.asyncio.points("lag_max_ms")),
        5,
    )))
    .panel(Panel::new("Process CPU, % of one core").line(Line::new(
        "",
        seconds(phase.runtime.points("process_cpu_percent")),
        0,
    )))
    .panel(Panel::new("Runtime workers busy, %").line(Line::new("mean of workers", busy, 4)));
    (!plot.is_empty()).then(|| plot.render())
}

/// The change of each metric against the baseline, green where it improved and red where it
/// regressed.
pub(super) fn baseline_changes(report: &Report) -> Option<Svg> {
    let rows: Vec<Bar> = report
        .evaluation
        .comparisons
        .iter()
        .filter_map(|comparison| {
            let change = comparison.change_pct?;
            Some(Bar {
                label: comparison.id.clone(),
                value: change,
                text: format!(
                    "{}{}",
                    super::super::text::change_text(Some(change)),
                    if comparison.gated { ", gated" } else { "" }
                ),
                class: match comparison.movement {
                    Movement::Improved => "improved",
                    Movement::Regressed => "regressed",
                    Movement::Unchanged => "unchanged",
                    Movement::Changed => "changed",
                },
            })
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let largest = rows.iter().fold(0.0_f64, |most, row| most.max(row.value.abs()));
    let limit = largest.clamp(5.0, 100.0);
    let axis = if largest > limit {
        "change against the baseline, % (bars beyond ±100 % stop at the edge)"
    } else {
        "change against the baseline, %"
    };
    Some(bars(
        "Change of each metric against the baseline",
        axis,
        &rows,
        limit,
    ))
}

/// One metric's values over the history's window, its median dashed.
pub(super) fn trend_line(metric: &MetricTrend) -> Option<Svg> {
    if metric.points.len() < 2 {
        return None;
    }
    let (points, tips): (Vec<(f64, f64)>, Vec<String>) = metric
        .points
        .iter()
        .map(|&(index, value)| {
            (
                ((index + 1) as f64, value),
                format!("run {}: {}", index + 1, format_value(value, metric.unit)),
            )
        })
        .unzip();
    let unit = match metric.unit {
        "" | "ratio" => String::new(),
        unit => format!(", {unit}"),
    };
    let plot = Plot::new(
        format!("{} over the history", metric.id),
        XAxis::linear("run in the window"),
    )
    .width(360.0)
    .panel(
        Panel::new(format!("{}{unit}", metric.id))
            .fitted()
            .height(90.0)
            .line(Line::new("", points, 0).dots(tips))
            .mark(Mark::new(
                format!("median {}", format_value(metric.median, metric.unit)),
                metric.median,
                GREY,
            )),
    );
    (!plot.is_empty()).then(|| plot.render())
}

/// A load test over time (Locust's history): requests and failures per second, users, p95.
pub(super) fn load_test_history(test: &LoadTest) -> Option<Svg> {
    let start = test.history.first()?.timestamp;
    let at = |timestamp: u64| timestamp.saturating_sub(start) as f64;
    let series = |value: &dyn Fn(&crate::loadtest::HistoryPoint) -> Option<f64>| -> Vec<(f64, f64)> {
        test.history
            .iter()
            .map(|point| (at(point.timestamp), value(point).unwrap_or(f64::NAN)))
            .collect()
    };
    let plot = Plot::new(
        format!("{} over time", test.label()),
        XAxis::linear("time since the test started, s"),
    )
    .panel(
        Panel::new("Requests per second")
            .line(Line::new("requests", series(&|point| Some(point.rps)), 0))
            .line(Line::new(
                "failures",
                series(&|point| Some(point.failures_per_s)),
                5,
            )),
    )
    .panel(Panel::new("Users").line(Line::new("", series(&|point| Some(point.users as f64)), 2)))
    .panel(Panel::new("p95 response time, ms").line(Line::new("", series(&|point| point.p95_ms), 1)));
    (!plot.is_empty()).then(|| plot.render())
}

/// Every endpoint's p50, p95 and p99 on one axis (log when they span more than a decade and a
/// half).
pub(super) fn endpoint_percentiles(tests: &[LoadTest]) -> Option<Svg> {
    let several = tests.len() > 1;
    let mut endpoints: Vec<(usize, &crate::loadtest::Endpoint)> = tests
        .iter()
        .enumerate()
        .flat_map(|(index, test)| test.endpoints.iter().map(move |endpoint| (index, endpoint)))
        .filter(|(_, endpoint)| endpoint.kind != EndpointKind::Aggregated)
        .collect();
    let kind_order = |kind: EndpointKind| match kind {
        EndpointKind::Rest => 0,
        EndpointKind::WebSocket => 1,
        _ => 2,
    };
    endpoints.sort_by(|a, b| {
        (kind_order(a.1.kind), &a.1.name, &a.1.request_type, a.0).cmp(&(
            kind_order(b.1.kind),
            &b.1.name,
            &b.1.request_type,
            b.0,
        ))
    });
    let rows: Vec<DotRow> = endpoints
        .iter()
        .map(|(index, endpoint)| DotRow {
            label: if several {
                format!("{} {} (run {})", endpoint.request_type, endpoint.name, index + 1)
            } else {
                format!("{} {}", endpoint.request_type, endpoint.name)
            },
            values: vec![endpoint.p50_ms, endpoint.p95_ms, endpoint.p99_ms],
        })
        .filter(|row| row.values.iter().any(Option::is_some))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|row| row.values.iter().flatten().copied())
        .filter(|value| *value > 0.0)
        .collect();
    let (min, max) = values.iter().fold((f64::INFINITY, 0.0_f64), |(min, max), v| {
        (min.min(*v), max.max(*v))
    });
    let (kind, axis) = if !values.is_empty() && max / min > 30.0 {
        (Kind::Log, "response time, ms (log scale)")
    } else {
        (Kind::Linear, "response time, ms")
    };
    Some(dots(
        "Response time percentiles per endpoint",
        axis,
        kind,
        &[("p50", 0), ("p95", 1), ("p99", 5)],
        &rows,
        "ms",
    ))
}

/// One of the HTML report's charts as an SVG file of its own, for the Markdown report to link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartFile {
    /// Its name, the same each time a report is made from inputs of the same shape: lowercase
    /// letters, digits and `-`, unique within the report. `latency`, `over-time-<phase>`
    /// (`over-time-saturation`, `over-time-fixed-rate`), `stages`, `capacity`,
    /// `sweep-throughput`, `sweep-latency`, `sweep-cpu`, `chaos-<scenario>`
    /// (`chaos-slow-dependency`), `database-<phase>` (`database-fixed-rate`), `endpoints`, `load-<n>` (the n-th load test, from 1),
    /// `baseline`, `trend-<metric>` (`trend-latency-p99-ms`).
    pub key: String,
    /// The id of the HTML report's section that shows it: `cpu`, `over-time`, `stages`,
    /// `capacity`, `sweep`, `chaos`, `database`, `load-tests`, `baseline` or `trend`.
    pub section: &'static str,
    /// The chart's title, plain text (the SVG holds it escaped).
    pub title: String,
    /// The whole SVG document: standalone (namespace, size, its own style sheet with the light
    /// and dark colours, an opaque background) and referencing nothing outside itself.
    pub svg: String,
}

/// Every chart the HTML report draws for `report`, in page order, each as a standalone SVG file.
pub fn chart_files(report: &Report) -> Vec<ChartFile> {
    let mut charts: Vec<(String, &'static str, Svg)> = Vec::new();
    let run = &report.results;
    // The page has these sections only for a run (not for load tests alone).
    if run.has_run() {
        if let Some(svg) = latency_percentiles(report) {
            charts.push(("latency".to_owned(), "cpu", svg));
        }
        for phase in &run.series {
            if let Some(svg) = over_time(phase) {
                charts.push((key("over-time", &phase.phase), "over-time", svg));
            }
        }
        if let Some(svg) = stage_percentiles(&run.stages) {
            charts.push(("stages".to_owned(), "stages", svg));
        }
        if let Some(database) = &run.database {
            for (phase, series) in &database.timeline {
                if let Some(svg) = database_pool(phase, series, database.pool.max_size) {
                    charts.push((key("database", phase), "database", svg));
                }
            }
        }
        if let Some(svg) = run.capacity.as_ref().and_then(capacity_curve) {
            charts.push(("capacity".to_owned(), "capacity", svg));
        }
        if let Some(sweep) = &run.sweep {
            for (key, svg) in sweep_charts(sweep) {
                charts.push((key.to_owned(), "sweep", svg));
            }
        }
        for (name, scenario) in run.chaos.iter().flat_map(|chaos| &chaos.scenarios) {
            if let Some(svg) = chaos_timeline(name, scenario) {
                charts.push((key("chaos", name), "chaos", svg));
            }
        }
    }
    if let Some(svg) = endpoint_percentiles(&report.load_tests) {
        charts.push(("endpoints".to_owned(), "load-tests", svg));
    }
    for (index, test) in report.load_tests.iter().enumerate() {
        if let Some(svg) = load_test_history(test) {
            charts.push((load_test_key(index), "load-tests", svg));
        }
    }
    if let Some(svg) = baseline_changes(report) {
        charts.push(("baseline".to_owned(), "baseline", svg));
    }
    if let Some(trend) = &report.trend {
        for metric in &trend.metrics {
            if let Some(svg) = trend_line(metric) {
                charts.push((key("trend", metric.id), "trend", svg));
            }
        }
    }
    let mut taken = BTreeSet::new();
    charts
        .into_iter()
        .map(|(key, section, svg)| {
            // Two phases whose names differ only in punctuation would share a key.
            let mut unique = key.clone();
            let mut count = 1;
            while !taken.insert(unique.clone()) {
                count += 1;
                unique = format!("{key}-{count}");
            }
            ChartFile {
                key: unique,
                section,
                title: svg.title().to_owned(),
                svg: svg.standalone(),
            }
        })
        .collect()
}

/// The key of the chart of the `index`-th load test (from 0) over time.
pub(crate) fn load_test_key(index: usize) -> String {
    format!("load-{}", index + 1)
}

/// Longest part of a key taken from the input (a phase's or a scenario's name), in characters.
const KEY_PART: usize = 48;

/// `prefix-name`, the name made safe for a file name and a link: ASCII letters and digits,
/// lowercased, every other run of characters one `-`; just `prefix` when nothing is left.
fn key(prefix: &str, name: &str) -> String {
    let mut part = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            part.push(c.to_ascii_lowercase());
        } else if !part.is_empty() && !part.ends_with('-') {
            part.push('-');
        }
        if part.len() >= KEY_PART {
            break;
        }
    }
    let part = part.trim_end_matches('-');
    if part.is_empty() {
        prefix.to_owned()
    } else {
        format!("{prefix}-{part}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_safe_file_names() {
        assert_eq!(key("over-time", "fixed_rate"), "over-time-fixed-rate");
        assert_eq!(key("trend", "latency.p99_ms"), "trend-latency-p99-ms");
        assert_eq!(key("over-time", "../../etc/Passwd "), "over-time-etc-passwd");
        assert_eq!(key("over-time", "<script>\"'"), "over-time-script");
        assert_eq!(key("over-time", "日本"), "over-time");
        assert_eq!(
            key("over-time", &"a".repeat(500)).len(),
            "over-time-".len() + KEY_PART
        );
    }
}

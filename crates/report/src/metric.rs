//! The metrics a report knows: ids (dotted, as in thresholds files), units, which direction is
//! better and what each means. Thresholds may only name these; anything else is a typo.

use std::fmt;

/// Which way a metric should move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Higher is better (throughput, hit rate).
    Higher,
    /// Lower is better (latency, memory, errors).
    Lower,
    /// Neither: informational (a pool size).
    Neither,
}

/// One known metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDef {
    /// Dotted id, e.g. `cpu.messages_per_second`.
    pub id: &'static str,
    /// Unit as shown in reports.
    pub unit: &'static str,
    /// Which direction is better.
    pub better: Better,
    /// What it is.
    pub description: &'static str,
}

const fn def(id: &'static str, unit: &'static str, better: Better, description: &'static str) -> MetricDef {
    MetricDef {
        id,
        unit,
        better,
        description,
    }
}

use Better::{Higher, Lower, Neither};

/// Every metric, in report order.
pub const METRICS: &[MetricDef] = &[
    def(
        "cpu.messages_per_second",
        "msg/s",
        Higher,
        "throughput at saturation",
    ),
    def(
        "cpu.cpu_ns_per_message",
        "ns",
        Lower,
        "process CPU time per message at saturation (not inflated by time the host steals)",
    ),
    def("cpu.avg_latency_ms", "ms", Lower, "mean end-to-end latency"),
    def(
        "cpu.total_time",
        "s",
        Lower,
        "measured window of the throughput phase",
    ),
    def("cpu.message_count", "messages", Neither, "measured messages"),
    def(
        "cpu.utilisation_percent",
        "%",
        Neither,
        "process CPU time over the profiled window, of all cores",
    ),
    def(
        "latency.p50_ms",
        "ms",
        Lower,
        "median end-to-end latency at the fixed rate",
    ),
    def("latency.p90_ms", "ms", Lower, "90th percentile latency"),
    def("latency.p95_ms", "ms", Lower, "95th percentile latency"),
    def("latency.p99_ms", "ms", Lower, "99th percentile latency"),
    def("latency.p999_ms", "ms", Lower, "99.9th percentile latency"),
    def("latency.max_ms", "ms", Lower, "largest latency"),
    def(
        "latency.rate_per_second",
        "msg/s",
        Neither,
        "the fixed rate latency was measured at",
    ),
    def(
        "pipeline.efficiency",
        "ratio",
        Higher,
        "saturation throughput / limit-mode throughput",
    ),
    def(
        "limit.messages_per_second",
        "msg/s",
        Higher,
        "the stage functions in a plain loop per core",
    ),
    def(
        "memory.baseline_mb",
        "MiB",
        Lower,
        "heap in use when the window started",
    ),
    def(
        "memory.peak_mb",
        "MiB",
        Lower,
        "highest heap in use during the window",
    ),
    def("memory.delta_mb", "MiB", Lower, "heap growth over the window"),
    def(
        "memory.final_mb",
        "MiB",
        Lower,
        "heap in use when the window ended",
    ),
    def(
        "memory.resident_mb",
        "MiB",
        Lower,
        "allocator's resident memory at the end",
    ),
    def(
        "memory.bytes_allocated_per_message",
        "B",
        Lower,
        "allocation volume per message",
    ),
    def(
        "memory.allocations_per_message",
        "allocations",
        Lower,
        "allocations per message",
    ),
    def(
        "memory.leak_bytes_per_message",
        "B",
        Lower,
        "slope of live heap against messages",
    ),
    def(
        "asyncio.event_loop_lag_ms",
        "ms",
        Lower,
        "99th percentile event-loop lag",
    ),
    def("asyncio.lag_max_ms", "ms", Lower, "largest event-loop lag"),
    def(
        "asyncio.slow_polls",
        "polls",
        Lower,
        "polls of pipeline tasks over the slow-poll threshold",
    ),
    def(
        "asyncio.active_tasks",
        "tasks",
        Neither,
        "tasks alive in the runtime",
    ),
    def(
        "cache.hit_rate",
        "ratio",
        Higher,
        "share of lookups answered by the cache",
    ),
    def("errors.total", "messages", Lower, "messages rejected by a stage"),
    def(
        "error_rate.percent",
        "%",
        Lower,
        "failed share: the pipeline's rejected messages or load-test requests, whichever is higher",
    ),
    def(
        "fanout.dropped",
        "deliveries",
        Lower,
        "deliveries dropped for slow subscribers",
    ),
    def(
        "fanout.lagged",
        "deliveries",
        Lower,
        "deliveries that waited past the lag threshold",
    ),
    def(
        "process.peak_rss_mb",
        "MiB",
        Lower,
        "peak resident memory of the profiler process",
    ),
    def(
        "profiler.overhead_throughput_ratio",
        "ratio",
        Higher,
        "throughput with probes / without",
    ),
    def(
        "profiler.overhead_p99_ratio",
        "ratio",
        Lower,
        "fixed-rate p99 with probes / without (median over pairs)",
    ),
    def(
        "profiler.overhead_cpu_ratio",
        "ratio",
        Lower,
        "process CPU time per message with probes / without",
    ),
    def(
        "database.pool_size",
        "connections",
        Neither,
        "database pool size (older files)",
    ),
    def(
        "database.active_connections",
        "connections",
        Lower,
        "active database connections (older files)",
    ),
    def(
        "database.idle_connections",
        "connections",
        Neither,
        "idle database connections (older files)",
    ),
    def(
        "load.requests_per_second",
        "req/s",
        Higher,
        "load-test requests per second (the lowest run's, over all its endpoints)",
    ),
    def(
        "load.error_rate_percent",
        "%",
        Lower,
        "load-test failed requests / requests (the highest run's)",
    ),
    def(
        "rest.p95_latency_ms",
        "ms",
        Lower,
        "95th percentile response time of the slowest REST endpoint in any load test",
    ),
    def(
        "rest.p99_latency_ms",
        "ms",
        Lower,
        "99th percentile response time of the slowest REST endpoint in any load test",
    ),
    def(
        "websocket.p95_latency_ms",
        "ms",
        Lower,
        "95th percentile response time of the slowest WebSocket request type in any load test",
    ),
    def(
        "websocket.p99_latency_ms",
        "ms",
        Lower,
        "99th percentile response time of the slowest WebSocket request type in any load test",
    ),
];

/// The definition of a metric id, if known.
pub fn metric(id: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|def| def.id == id)
}

/// All ids, comma separated, for error messages.
pub fn known_ids() -> String {
    METRICS.iter().map(|def| def.id).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Better {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Better::Higher => "higher is better",
            Better::Lower => "lower is better",
            Better::Neither => "informational",
        })
    }
}

/// A number formatted for people in a metric's unit: thousands separated, sensible decimals.
pub fn format_value(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return "—".to_owned();
    }
    let magnitude = value.abs();
    let text = if unit == "ratio" {
        format!("{value:.3}")
    } else if magnitude >= 1_000.0 || value.fract() == 0.0 {
        group_thousands(value.round() as i64)
    } else if magnitude >= 100.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    };
    match unit {
        "" | "ratio" => text,
        "%" => format!("{text} %"),
        unit => format!("{text} {unit}"),
    }
}

fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if value < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_found() {
        for (index, def) in METRICS.iter().enumerate() {
            assert!(
                METRICS[index + 1..].iter().all(|other| other.id != def.id),
                "{} twice",
                def.id
            );
            assert_eq!(metric(def.id), Some(def));
        }
        assert!(metric("cpu.nope").is_none());
        assert!(known_ids().contains("latency.p99_ms"));
    }

    #[test]
    fn values_are_formatted_for_people() {
        assert_eq!(format_value(608_738.4, "msg/s"), "608,738 msg/s");
        assert_eq!(format_value(0.836, "ratio"), "0.836");
        assert_eq!(format_value(2.345, "ms"), "2.35 ms");
        assert_eq!(format_value(0.1234, "ms"), "0.123 ms");
        assert_eq!(format_value(83.3, "%"), "83.30 %");
        assert_eq!(format_value(-1500.0, "MiB"), "-1,500 MiB");
        assert_eq!(format_value(f64::NAN, "ms"), "—");
    }
}

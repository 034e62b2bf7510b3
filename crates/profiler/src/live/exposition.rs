//! The live metrics in the Prometheus text exposition format (version 0.0.4): `# HELP` and
//! `# TYPE` before each family, base units (seconds, bytes), a `workload` label on every
//! perfgate series; the process's memory and CPU under the standard `process_*` names.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use super::metrics::{LATENCY_BUCKETS_S, LATENCY_PHASES, LiveMetrics};

/// Escapes a label value: backslash, double quote and newline.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

impl LiveMetrics {
    /// The Prometheus text exposition of the current values.
    pub fn render(&self) -> String {
        render(self)
    }
}

fn render(live: &LiveMetrics) -> String {
    let mut out = String::with_capacity(4 * 1024);
    let workload = label(&live.workload);
    let phase = live
        .phase_names
        .get(live.phase.load(Ordering::Relaxed))
        .copied()
        .unwrap_or("none");
    family(
        &mut out,
        "perfgate_live_info",
        "gauge",
        "The run being exported and its current phase (none between phases); always 1.",
    );
    let _ = writeln!(
        out,
        "perfgate_live_info{{workload=\"{workload}\",phase=\"{phase}\"}} 1"
    );
    family(
        &mut out,
        "perfgate_live_messages_total",
        "counter",
        "Messages the pipeline finished so far, all phases, warm-up included.",
    );
    let _ = writeln!(
        out,
        "perfgate_live_messages_total{{workload=\"{workload}\"}} {}",
        live.messages.load(Ordering::Relaxed)
    );
    family(
        &mut out,
        "perfgate_live_errors_total",
        "counter",
        "Messages a stage rejected so far, all phases (part of perfgate_live_messages_total).",
    );
    let _ = writeln!(
        out,
        "perfgate_live_errors_total{{workload=\"{workload}\"}} {}",
        live.errors.load(Ordering::Relaxed)
    );
    family(
        &mut out,
        "perfgate_live_throughput_messages_per_second",
        "gauge",
        "Messages finished per second over about the last second (0 between phases).",
    );
    let _ = writeln!(
        out,
        "perfgate_live_throughput_messages_per_second{{workload=\"{workload}\"}} {}",
        live.recent_rate()
    );
    family(
        &mut out,
        "perfgate_live_latency_seconds",
        "histogram",
        "End-to-end latency of measured messages (warm-up excluded), by phase; at a fixed rate measured from the intended send time.",
    );
    for (phase, histogram) in LATENCY_PHASES.iter().zip(&live.latency) {
        let mut cumulative = 0;
        let bounds = LATENCY_BUCKETS_S
            .iter()
            .map(|b| b.to_string())
            .chain(["+Inf".to_owned()]);
        for (bound, bucket) in bounds.zip(&histogram.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "perfgate_live_latency_seconds_bucket{{workload=\"{workload}\",phase=\"{phase}\",le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "perfgate_live_latency_seconds_sum{{workload=\"{workload}\",phase=\"{phase}\"}} {}\n\
             perfgate_live_latency_seconds_count{{workload=\"{workload}\",phase=\"{phase}\"}} {cumulative}",
            histogram.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
        );
    }
    family(
        &mut out,
        "perfgate_live_longest_poll_seconds",
        "gauge",
        "Longest poll of a pipeline task in the last one to two seconds: how long a worker was held (needs the lag probe).",
    );
    let _ = writeln!(
        out,
        "perfgate_live_longest_poll_seconds{{workload=\"{workload}\"}} {}",
        live.longest_poll.read(live.started.elapsed().as_secs()) as f64 / 1e9
    );
    if let Some(heap) = crate::alloc::heap_counters() {
        family(
            &mut out,
            "perfgate_live_heap_live_bytes",
            "gauge",
            "Heap bytes allocated and not yet freed (tracking allocator).",
        );
        let _ = writeln!(
            out,
            "perfgate_live_heap_live_bytes{{workload=\"{workload}\"}} {}",
            heap.live_bytes
        );
        family(
            &mut out,
            "perfgate_live_heap_peak_bytes",
            "gauge",
            "High-water mark of live heap bytes since the current phase's window began.",
        );
        let _ = writeln!(
            out,
            "perfgate_live_heap_peak_bytes{{workload=\"{workload}\"}} {}",
            heap.peak_bytes
        );
    }
    if let Some(resident) = resident_bytes() {
        family(
            &mut out,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
        );
        let _ = writeln!(out, "process_resident_memory_bytes {resident}");
    }
    let (user, system) = crate::probe::cpu::process_cpu_times();
    family(
        &mut out,
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
    );
    let _ = writeln!(out, "process_cpu_seconds_total {}", (user + system).as_secs_f64());
    out
}

/// Resident set size from `/proc/self/statm` (Linux); `None` elsewhere.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live_sink::LiveSink;

    #[test]
    fn rejected_messages_are_counted() {
        let live = LiveMetrics::new("w");
        assert!(
            live.render()
                .contains("perfgate_live_errors_total{workload=\"w\"} 0\n")
        );
        live.record_errors(3);
        live.record_errors(4);
        let text = live.render();
        assert!(
            text.contains("# TYPE perfgate_live_errors_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("perfgate_live_errors_total{workload=\"w\"} 7\n"),
            "{text}"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn every_family_has_help_and_type_and_buckets_are_cumulative() {
        let live = LiveMetrics::new("market \"data\"");
        live.phase.store(0, Ordering::Relaxed);
        let finished_ns = 20_000_000_000;
        live.record_latencies(finished_ns, &[finished_ns - 40_000, finished_ns - 3_000_000, 0]);
        let text = render(&live);
        assert!(
            text.contains("perfgate_live_info{workload=\"market \\\"data\\\"\",phase=\"saturation\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("phase=\"saturation\",le=\"0.00005\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("phase=\"saturation\",le=\"0.005\"} 2\n"), "{text}");
        assert!(text.contains("phase=\"saturation\",le=\"+Inf\"} 3\n"), "{text}");
        assert!(text.contains("perfgate_live_latency_seconds_count{workload=\"market \\\"data\\\"\",phase=\"saturation\"} 3\n"), "{text}");
        for line in text.lines().filter(|line| !line.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            let family = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            assert!(text.contains(&format!("# TYPE {family} ")), "no TYPE for {name}");
            assert!(text.contains(&format!("# HELP {family} ")), "no HELP for {name}");
        }
    }

    #[test]
    fn the_grafana_dashboard_queries_only_exported_families() {
        let dashboard = include_str!("../../../../docs/grafana-dashboard.json");
        // The families this file exports, by their literal names (the heap ones only appear when a
        // tracking allocator is installed, which a unit test's process lacks).
        let source = include_str!("exposition.rs");
        let mut names = Vec::new();
        for start in dashboard
            .match_indices("perfgate_live_")
            .map(|(at, _)| at)
            .chain(dashboard.match_indices("process_").map(|(at, _)| at))
        {
            let name: String = dashboard[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
        }
        assert!(names.len() >= 6, "{names:?}");
        for name in names {
            let family = name.trim_end_matches("_bucket");
            assert!(
                source.contains(&format!("\"{family}\",\n")),
                "the dashboard queries {name}, which is not exported"
            );
        }
    }
}

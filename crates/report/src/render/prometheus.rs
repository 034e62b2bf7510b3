//! A run's key figures in the Prometheus text exposition format, for node_exporter's textfile
//! collector (`--collector.textfile.directory`): one gauge per metric, `# HELP` and `# TYPE`
//! lines, base units (seconds, bytes, ratios) as Prometheus' naming conventions ask, and labels
//! naming the workload and the commit. Written atomically, as the collector requires (it may
//! read the directory at any moment).

use std::fmt::Write as _;

use crate::input::RunData;
use crate::metric::{METRICS, MetricDef};

/// A metric's Prometheus name and the factor from the report's unit to the base unit.
fn exposition_name(def: &MetricDef) -> (String, f64) {
    // `_count` and `_total` are reserved for summaries, histograms and counters; these are gauges.
    match def.id {
        "cpu.message_count" => return ("perfgate_cpu_messages".to_owned(), 1.0),
        "errors.total" => return ("perfgate_errors_rejected_messages".to_owned(), 1.0),
        _ => {}
    }
    let id = def.id.replace('.', "_");
    let (stem, suffix, factor) = match def.unit {
        "ms" => (id.trim_end_matches("_ms").to_owned(), "_seconds", 1e-3),
        "ns" => (id.replace("_ns_", "_seconds_"), "", 1e-9),
        "s" => (id.trim_end_matches("_time").to_owned(), "_seconds", 1.0),
        "MiB" => (id.trim_end_matches("_mb").to_owned(), "_bytes", 1_048_576.0),
        "B" => (id.replace("_bytes_allocated_", "_allocated_"), "_bytes", 1.0),
        "%" => (id.trim_end_matches("_percent").to_owned(), "_ratio", 0.01),
        _ => (id, "", 1.0),
    };
    let name = format!("perfgate_{stem}{suffix}");
    // Two ids must not collapse into one name (e.g. `x_ms` and `x`): keep the unit's suffix once.
    (name.replace("__", "_"), factor)
}

/// A sample value as the text format spells it: `+Inf`, `-Inf` and `NaN` where Rust would write
/// `inf` or `NaN` (a finite figure in MiB can overflow to infinity in bytes).
fn sample_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value == f64::INFINITY {
        "+Inf".to_owned()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        value.to_string()
    }
}

/// Escapes a label value: backslash, double quote and line feed, as the format requires.
fn label_value(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Escapes `# HELP` text: backslash and line feed.
fn help_text(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Renders every known metric present in `run`, in the report's order, plus the run's time.
pub fn render(run: &RunData) -> String {
    let environment = run.environment.as_ref();
    let workload = environment
        .and_then(|e| e.workload.get("name"))
        .and_then(|name| name.as_str())
        .unwrap_or("unknown");
    let commit = environment
        .and_then(|e| e.git_commit.as_deref())
        .unwrap_or("unknown");
    let labels = format!(
        "workload=\"{}\",commit=\"{}\"",
        label_value(workload),
        label_value(commit)
    );
    let mut out = String::new();
    for def in METRICS {
        let Some(value) = run.metrics.get(def.id).filter(|v| v.is_finite()) else {
            continue;
        };
        let (name, factor) = exposition_name(def);
        let _ = writeln!(out, "# HELP {name} {} ({}).", help_text(def.description), def.id);
        let _ = writeln!(out, "# TYPE {name} gauge");
        let _ = writeln!(out, "{name}{{{labels}}} {}", sample_value(value * factor));
    }
    if let Some(seconds) = environment
        .and_then(|e| e.timestamp.as_deref())
        .and_then(|t| humantime::parse_rfc3339(t).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
    {
        let _ = writeln!(
            out,
            "# HELP perfgate_run_timestamp_seconds When the run was made, Unix time."
        );
        let _ = writeln!(out, "# TYPE perfgate_run_timestamp_seconds gauge");
        let _ = writeln!(
            out,
            "perfgate_run_timestamp_seconds{{{labels}}} {}",
            seconds.as_secs()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Issue 15, point 11: infinities are spelt as the format spells them.
    #[test]
    fn issue_15_infinite_values_are_written_plus_inf() {
        assert_eq!(sample_value(f64::INFINITY), "+Inf");
        assert_eq!(sample_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(sample_value(f64::NAN), "NaN");
        assert_eq!(sample_value(1.5), "1.5");
        // 1e305 MiB is finite; in bytes it is not.
        let run = crate::input::parse_results(
            std::path::Path::new("r.json"),
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"memory":{"peak_mb":1e305}}"#,
        )
        .unwrap();
        let text = render(&run);
        let line = text
            .lines()
            .find(|line| line.starts_with("perfgate_memory_peak_bytes{"))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(line.ends_with(" +Inf"), "{line}");
        assert!(!text.contains(" inf"), "{text}");
    }

    #[test]
    fn names_are_unique_valid_and_in_base_units() {
        let mut seen = BTreeSet::new();
        for def in METRICS {
            let (name, _) = exposition_name(def);
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{name}"
            );
            assert!(seen.insert(name.clone()), "{name} twice");
            assert!(
                !name.ends_with("_ms") && !name.ends_with("_mb") && !name.ends_with("_percent"),
                "{name}"
            );
        }
        let p99 = METRICS.iter().find(|d| d.id == "latency.p99_ms").unwrap();
        assert_eq!(
            exposition_name(p99),
            ("perfgate_latency_p99_seconds".to_owned(), 1e-3)
        );
        let peak = METRICS.iter().find(|d| d.id == "memory.peak_mb").unwrap();
        assert_eq!(exposition_name(peak).0, "perfgate_memory_peak_bytes");
    }

    #[test]
    fn renders_gauges_with_labels_and_escapes() {
        let mut run = crate::input::parse_results(
            std::path::Path::new("r.json"),
            r#"{"schema_version":1,"cpu":{"messages_per_second":500000.0},"latency":{"p99_ms":2.5},
               "environment":{"timestamp":"2026-11-22T12:00:00Z","git_commit":"ab\"c",
               "workload":{"name":"market\ndata"}}}"#,
        )
        .unwrap();
        run.metrics.insert("memory.peak_mb".to_owned(), 2.0);
        let text = render(&run);
        assert!(
            text.contains("# TYPE perfgate_cpu_messages_per_second gauge\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "perfgate_latency_p99_seconds{workload=\"market\\ndata\",commit=\"ab\\\"c\"} 0.0025\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "perfgate_memory_peak_bytes{workload=\"market\\ndata\",commit=\"ab\\\"c\"} 2097152\n"
            ),
            "{text}"
        );
        assert!(text.contains(
            "perfgate_run_timestamp_seconds{workload=\"market\\ndata\",commit=\"ab\\\"c\"} 1795348800\n"
        ));
    }
}

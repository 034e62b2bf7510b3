//! Prometheus alerting rules from a thresholds file (`cargo xtask alerts`, issue 18): for every
//! threshold whose metric has a live counterpart on the `/metrics` endpoint (`--serve-metrics`,
//! or a service that exposes the same series), a `critical` rule when the series is beyond the
//! limit and a `warning` rule when it misses the target (the report's fail and warn), each held
//! for a window before it fires. Metrics with no live series (a run's efficiency, the heap's
//! growth over a window, load-test figures) get no rule; [`AlertRules::skipped`] names them.
//!
//! Rule names, labels and annotations hold only text made here from the catalogue's ids and the
//! file's numbers (which the thresholds reader checked are finite), so nothing from the file is
//! written into the YAML as text: a hostile description cannot inject a rule.

use std::fmt::Write as _;

use crate::thresholds::{Limit, Thresholds};

/// How a metric id reads on the live endpoint.
struct LiveSeries {
    /// The metric id of the thresholds file.
    id: &'static str,
    /// PromQL for its value, in the metric's own unit.
    expr: &'static str,
    /// How long the condition must hold before the alert fires.
    hold: &'static str,
    /// What the rule watches, for its summary.
    what: &'static str,
    /// Its unit, with a leading space.
    unit: &'static str,
}

/// The metrics with a live counterpart. The latency percentiles are read from the fixed-rate
/// phase's histogram over the last minute (the live histogram measures from each message's
/// intended send time, like the run's figures); the throughput only while a saturation phase
/// runs (at a fixed rate the throughput is the rate, not the capacity); the resident memory from
/// the process's own series; the error rate from the rejected and finished counters. The holds: two minutes for latency and throughput (one bad minute
/// of a rate window is a blip, two in a row is a state), five for memory (it moves slowly and a
/// transient peak is not a leak).
const LIVE: &[LiveSeries] = &[
    LiveSeries {
        id: "latency.p50_ms",
        expr: "histogram_quantile(0.5, sum by (workload, le) (rate(perfgate_live_latency_seconds_bucket{phase=\"fixed_rate\"}[1m]))) * 1000",
        hold: "2m",
        what: "p50 end-to-end latency at the fixed rate",
        unit: " ms",
    },
    LiveSeries {
        id: "latency.p95_ms",
        expr: "histogram_quantile(0.95, sum by (workload, le) (rate(perfgate_live_latency_seconds_bucket{phase=\"fixed_rate\"}[1m]))) * 1000",
        hold: "2m",
        what: "p95 end-to-end latency at the fixed rate",
        unit: " ms",
    },
    LiveSeries {
        id: "latency.p99_ms",
        expr: "histogram_quantile(0.99, sum by (workload, le) (rate(perfgate_live_latency_seconds_bucket{phase=\"fixed_rate\"}[1m]))) * 1000",
        hold: "2m",
        what: "p99 end-to-end latency at the fixed rate",
        unit: " ms",
    },
    LiveSeries {
        id: "cpu.messages_per_second",
        expr: "perfgate_live_throughput_messages_per_second and on (workload) perfgate_live_info{phase=\"saturation\"}",
        hold: "2m",
        what: "throughput while the pipeline runs flat out",
        unit: " msg/s",
    },
    LiveSeries {
        id: "error_rate.percent",
        expr: "100 * rate(perfgate_live_errors_total[1m]) / rate(perfgate_live_messages_total[1m])",
        hold: "2m",
        what: "share of messages rejected",
        unit: " %",
    },
    LiveSeries {
        id: "process.peak_rss_mb",
        expr: "process_resident_memory_bytes / 1048576",
        hold: "5m",
        what: "resident memory of the process",
        unit: " MiB",
    },
];

/// The rules for a thresholds file.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRules {
    /// The rule file, YAML for Prometheus (`rule_files`) and `promtool check rules`.
    pub yaml: String,
    /// One rule per entry: (alert name, metric id, severity, the threshold it breaks).
    pub rules: Vec<AlertRule>,
    /// The thresholds' metric ids that have no live series, so no rule.
    pub skipped: Vec<String>,
}

/// One alerting rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    /// `PerfgateLatencyP99MsCritical`.
    pub name: String,
    /// The metric id.
    pub id: String,
    /// `warning` or `critical`.
    pub severity: &'static str,
    /// The number the series is compared with.
    pub threshold: f64,
    /// Whether the series must stay above it (`min`) or below it (`max`).
    pub higher_is_better: bool,
    /// The PromQL of the series.
    pub series: &'static str,
    /// The rule's `for`.
    pub hold: &'static str,
    /// Its `summary` annotation, a template (`{{ $labels.workload }}`).
    pub summary: String,
    /// Its `description` annotation.
    pub description: String,
}

/// Where an annotation names the workload.
pub const WORKLOAD_TEMPLATE: &str = "{{ $labels.workload }}";

/// The rules for `thresholds`.
pub fn render(thresholds: &Thresholds) -> AlertRules {
    let mut rules = Vec::new();
    let mut skipped = Vec::new();
    for entry in &thresholds.entries {
        let Some(live) = LIVE.iter().find(|live| live.id == entry.id) else {
            skipped.push(entry.id.clone());
            continue;
        };
        let (limit, higher_is_better) = match entry.limit {
            Limit::Min(value) => (value, true),
            Limit::Max(value) => (value, false),
        };
        let mut add = |severity: &'static str, threshold: f64| {
            let words = if higher_is_better { "below" } else { "above" };
            let kind = if severity == "critical" { "limit" } else { "target" };
            rules.push(AlertRule {
                name: format!("Perfgate{}{}", camel(&entry.id), camel(severity)),
                id: entry.id.clone(),
                severity,
                threshold,
                higher_is_better,
                series: live.expr,
                hold: live.hold,
                summary: format!(
                    "{} is {words} {}{} for {WORKLOAD_TEMPLATE}",
                    live.what,
                    number(threshold),
                    live.unit
                ),
                description: format!(
                    "perfgate threshold {}: {kind} {}, held for {}.",
                    entry.id,
                    number(threshold),
                    live.hold
                ),
            });
        };
        add("critical", limit);
        if let Some(target) = entry.target {
            add("warning", target);
        }
    }
    let mut yaml = String::from(
        "# Written by `cargo xtask alerts` from a thresholds file: edit the thresholds, not this.\n\
         groups:\n  - name: perfgate\n    rules:\n",
    );
    for rule in &rules {
        let op = if rule.higher_is_better { "<" } else { ">" };
        let _ = write!(
            yaml,
            "      - alert: {name}\n        expr: '({series}) {op} {threshold}'\n        for: {hold}\n        labels:\n          severity: {severity}\n          metric: '{id}'\n        annotations:\n          summary: '{summary}'\n          description: '{description}'\n",
            name = rule.name,
            series = rule.series,
            threshold = number(rule.threshold),
            hold = rule.hold,
            severity = rule.severity,
            id = rule.id,
            summary = rule.summary,
            description = rule.description,
        );
    }
    if rules.is_empty() {
        yaml.push_str("      []\n");
        // An empty list is written `rules: []`.
        yaml = yaml.replace("    rules:\n      []\n", "    rules: []\n");
    }
    AlertRules { yaml, rules, skipped }
}

/// A number as PromQL and YAML read it: plain decimal, no grouping.
fn number(value: f64) -> String {
    let text = format!("{value}");
    if text.contains('e') {
        format!("{value:.12}")
    } else {
        text
    }
}

/// `latency.p99_ms` → `LatencyP99Ms`.
fn camel(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn thresholds(text: &str) -> Thresholds {
        Thresholds::parse(Path::new("t.toml"), text).unwrap()
    }

    #[test]
    fn a_limit_is_critical_and_a_target_a_warning() {
        let rules = render(&thresholds(
            "[metrics.\"latency.p99_ms\"]\nmax = 10.0\ntarget = 2.0\n\n[metrics.\"cpu.messages_per_second\"]\nmin = 400000\n\n[metrics.\"pipeline.efficiency\"]\nmin = 0.6\n",
        ));
        let names: Vec<&str> = rules.rules.iter().map(|rule| rule.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "PerfgateCpuMessagesPerSecondCritical",
                "PerfgateLatencyP99MsCritical",
                "PerfgateLatencyP99MsWarning"
            ]
        );
        assert_eq!(rules.skipped, ["pipeline.efficiency"]);
        assert!(rules.yaml.contains("* 1000) > 10'\n"), "{}", rules.yaml);
        assert!(rules.yaml.contains("* 1000) > 2'\n"), "{}", rules.yaml);
        assert!(
            rules
                .yaml
                .contains("perfgate_live_info{phase=\"saturation\"}) < 400000'\n"),
            "{}",
            rules.yaml
        );
        assert!(
            rules.yaml.contains("is above 10 ms for {{ $labels.workload }}"),
            "{}",
            rules.yaml
        );
        assert!(rules.yaml.contains("for: 2m"));
    }

    #[test]
    fn nothing_from_the_file_reaches_the_yaml_as_text() {
        let rules = render(&thresholds(
            "[metrics.\"latency.p99_ms\"]\nmax = 10.0\ndescription = \"'\\n      - alert: Injected\"\nunit = \"ms'\"\n",
        ));
        assert!(!rules.yaml.contains("Injected"), "{}", rules.yaml);
        assert_eq!(rules.rules.len(), 1);
    }

    #[test]
    fn a_file_with_no_live_metric_gives_an_empty_group() {
        let rules = render(&thresholds("[metrics.\"pipeline.efficiency\"]\nmin = 0.6\n"));
        assert!(rules.rules.is_empty());
        assert!(rules.yaml.ends_with("    rules: []\n"), "{}", rules.yaml);
    }

    #[test]
    fn every_live_metric_is_in_the_catalogue() {
        for live in LIVE {
            assert!(crate::metric::metric(live.id).is_some(), "{}", live.id);
        }
    }

    #[test]
    fn names_are_camel_case() {
        assert_eq!(camel("latency.p99_ms"), "LatencyP99Ms");
        assert_eq!(camel("critical"), "Critical");
        assert_eq!(number(400_000.0), "400000");
        assert_eq!(number(0.25), "0.25");
    }
}

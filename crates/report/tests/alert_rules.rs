//! Issue 18: the alerting rules made from the default thresholds pass `promtool check rules`,
//! and `promtool test rules` proves each one fires on a synthetic series that breaks its
//! threshold and stays silent on one that meets it. Skipped, saying so, when promtool is not
//! installed (`.ci/run` installs it from the distribution's `prometheus` package).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use perfgate_report::Thresholds;
use perfgate_report::render::alert_rules::{AlertRule, WORKLOAD_TEMPLATE, render};

fn promtool() -> Option<()> {
    let found = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        eprintln!("skipped: promtool is not installed (Debian: apt-get install prometheus)");
    }
    found.then_some(())
}

fn default_thresholds() -> Thresholds {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../thresholds/default.toml");
    Thresholds::from_path(&path).unwrap()
}

/// The input series for `rule`'s metric: `breaking` crosses the rule's threshold, else the series
/// meets it with room to spare. One sample a minute for 20 minutes.
fn series(rule: &AlertRule, breaking: bool) -> (String, &'static str) {
    let t = rule.threshold;
    let mut out = String::new();
    let mut line = |series: String, values: String| {
        let _ = writeln!(out, "      - series: '{series}'\n        values: '{values}'");
    };
    let workload = match rule.id.as_str() {
        id if id.starts_with("latency.") => {
            // Every message in one bucket: the quantile is inside it, 2t–4t ms when breaking,
            // below t/4 ms when not.
            let (empty, full) = if breaking {
                (2.0 * t, 4.0 * t)
            } else {
                (t / 8.0, t / 4.0)
            };
            let bucket = |le: String, per_minute: u32| {
                (
                    format!(
                        "perfgate_live_latency_seconds_bucket{{workload=\"w\",phase=\"fixed_rate\",le=\"{le}\"}}"
                    ),
                    format!("0+{per_minute}x20"),
                )
            };
            for (series, values) in [
                bucket(format!("{}", empty / 1000.0), 0),
                bucket(format!("{}", full / 1000.0), 6_000),
                bucket("+Inf".to_owned(), 6_000),
            ] {
                line(series, values);
            }
            "w"
        }
        "cpu.messages_per_second" => {
            let value = if breaking { t / 2.0 } else { t * 2.0 };
            line(
                "perfgate_live_throughput_messages_per_second{workload=\"w\"}".to_owned(),
                format!("{value}+0x20"),
            );
            line(
                "perfgate_live_info{workload=\"w\",phase=\"saturation\"}".to_owned(),
                "1+0x20".to_owned(),
            );
            "w"
        }
        "error_rate.percent" => {
            // 6,000 messages a minute; 2t % of them rejected when breaking (at least t + 0.5 %:
            // a target of 0 % is broken by any error), t/4 % when not.
            let percent = if breaking { (2.0 * t).max(t + 0.5) } else { t / 4.0 };
            line(
                "perfgate_live_messages_total{workload=\"w\"}".to_owned(),
                "0+6000x20".to_owned(),
            );
            line(
                "perfgate_live_errors_total{workload=\"w\"}".to_owned(),
                format!("0+{}x20", 6_000.0 * percent / 100.0),
            );
            "w"
        }
        "process.peak_rss_mb" => {
            let mib = if breaking { t * 2.0 } else { t / 2.0 };
            line(
                "process_resident_memory_bytes".to_owned(),
                format!("{}+0x20", mib * 1_048_576.0),
            );
            ""
        }
        other => panic!("no synthetic series for {other}: add one"),
    };
    (out, workload)
}

/// The promtool test file: per rule, a group where it fires and one where it does not. With
/// `honest` false the expectations are swapped, which promtool must fail.
fn test_file(rules: &[AlertRule], honest: bool) -> String {
    let mut out = String::from("rule_files:\n  - rules.yml\nevaluation_interval: 1m\ntests:\n");
    for rule in rules {
        for breaking in [true, false] {
            let (input, workload) = series(rule, breaking);
            let _ = write!(
                out,
                "  - name: '{} {}'\n    interval: 1m\n    input_series:\n{input}    alert_rule_test:\n      - eval_time: 15m\n        alertname: {}\n",
                rule.name,
                if breaking { "fires" } else { "stays silent" },
                rule.name
            );
            if breaking == honest {
                let workload_label = if workload.is_empty() {
                    String::new()
                } else {
                    format!("              workload: {workload}\n")
                };
                let _ = write!(
                    out,
                    "        exp_alerts:\n          - exp_labels:\n              severity: {}\n              metric: '{}'\n{workload_label}            exp_annotations:\n              summary: '{}'\n              description: '{}'\n",
                    rule.severity,
                    rule.id,
                    rule.summary.replace(WORKLOAD_TEMPLATE, workload),
                    rule.description
                );
            } else {
                out.push_str("        exp_alerts: []\n");
            }
        }
    }
    out
}

#[test]
fn the_default_thresholds_make_rules_that_fire_exactly_when_broken() {
    let rules = render(&default_thresholds());
    // The default thresholds name p50, p99, throughput, the error rate and RSS, which have live
    // series.
    let ids: Vec<&str> = rules.rules.iter().map(|rule| rule.id.as_str()).collect();
    for id in [
        "latency.p50_ms",
        "latency.p99_ms",
        "cpu.messages_per_second",
        "process.peak_rss_mb",
    ] {
        assert!(ids.contains(&id), "no rule for {id}: {ids:?}");
    }
    assert!(rules.skipped.iter().any(|id| id == "pipeline.efficiency"));
    if promtool().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), &rules.yaml).unwrap();
    std::fs::write(dir.path().join("tests.yml"), test_file(&rules.rules, true)).unwrap();
    let check = Command::new("promtool")
        .args(["check", "rules", "rules.yml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "promtool check rules:\n{}{}\n{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr),
        rules.yaml
    );
    let test = Command::new("promtool")
        .args(["test", "rules", "tests.yml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "promtool test rules:\n{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
    // The test can fail: the same series with the expectations swapped (silent where it
    // breaks) must not pass.
    std::fs::write(dir.path().join("swapped.yml"), test_file(&rules.rules, false)).unwrap();
    let swapped = Command::new("promtool")
        .args(["test", "rules", "swapped.yml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&swapped.stdout).to_string() + &String::from_utf8_lossy(&swapped.stderr);
    assert!(
        !swapped.status.success(),
        "promtool passed tests whose expectations were wrong"
    );
    // ... failing on the alerts, not on the file.
    assert!(said.contains("FAILED"), "{said}");
}

//! The rows of the page's frame: the summary (the verdict, its tally, the checks), the
//! environment, and the appendix's list of files.

use serde_json::Value;

use super::cell::{Cell, Rows};
use crate::evaluate::{Check, Evaluation, Status};
use crate::input::{InputFormat, RunData};
use crate::metric::format_value;
use crate::model::Report;
use crate::render::text::{change_text, limit_text, status_label, target_text};

/// The overall verdict as the report states it.
pub(in crate::render) fn verdict(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        _ => "FAIL",
    }
}

/// The statuses in the order the summary counts them, with the word it counts them by.
pub(in crate::render) const TALLIED: [(Status, &str); 4] = [
    (Status::Pass, "passed"),
    (Status::Warn, "warned"),
    (Status::Fail, "failed"),
    (Status::NotAvailable, "not available"),
];

/// "2 regression(s) beyond the allowed maximum", when there are any.
pub(in crate::render) fn gated_regressions(evaluation: &Evaluation) -> Option<String> {
    match evaluation.gated_regressions() {
        0 => None,
        gated => Some(format!("{gated} regression(s) beyond the allowed maximum")),
    }
}

/// The summary's count after the verdict: "3 passed, 0 warned, 1 failed, 0 not available; …".
pub(in crate::render) fn tally(evaluation: &Evaluation) -> String {
    let counts: Vec<String> = TALLIED
        .iter()
        .map(|&(status, word)| format!("{} {word}", evaluation.count(status)))
        .collect();
    match gated_regressions(evaluation) {
        Some(gated) => format!("{}; {gated}", counts.join(", ")),
        None => counts.join(", "),
    }
}

/// Whether the summary adds "All metrics within target.": everything passed, nothing missing.
pub(in crate::render) fn all_within_target(evaluation: &Evaluation) -> bool {
    evaluation.overall == Status::Pass && evaluation.count(Status::NotAvailable) == 0
}

/// One threshold check as the summary table shows it.
#[derive(Debug)]
pub(in crate::render) struct CheckRow<'a> {
    /// The check (its id, description and status).
    pub(in crate::render) check: &'a Check,
    /// The metric's value, or "not measured".
    pub(in crate::render) value: String,
    /// The limit: `≥ 400,000 msg/s`.
    pub(in crate::render) limit: String,
    /// The target, on the limit's side.
    pub(in crate::render) target: String,
    /// The change against the baseline, "—" when the baseline lacks the metric.
    pub(in crate::render) vs_baseline: String,
    /// The status as shown: its label, or that a required metric is missing.
    pub(in crate::render) status: &'static str,
}

/// The summary table: every check, in the evaluation's order.
pub(in crate::render) fn checks(evaluation: &Evaluation) -> Vec<CheckRow<'_>> {
    evaluation
        .checks
        .iter()
        .map(|check| CheckRow {
            check,
            value: check
                .value
                .map_or("not measured".to_owned(), |v| format_value(v, &check.unit)),
            limit: limit_text(check.limit, &check.unit),
            target: target_text(check.limit, check.target, &check.unit),
            vs_baseline: match check.baseline {
                Some(_) => change_text(check.change_pct),
                None => "—".to_owned(),
            },
            status: match (check.status, check.required) {
                (Status::Fail, true) if check.value.is_none() => "FAIL (required, missing)",
                (status, _) => status_label(status),
            },
        })
        .collect()
}

/// The environment table: where and how the run was made, and what the input was.
pub(in crate::render) fn environment(run: &RunData) -> Rows {
    let mut rows = Vec::new();
    match &run.environment {
        Some(env) => {
            rows.push((
                "Run",
                Cell::Text(env.timestamp.as_deref().unwrap_or("time not recorded").to_owned()),
            ));
            if let Some(commit) = &env.git_commit {
                let dirty = if env.git_dirty == Some(true) {
                    " with uncommitted changes"
                } else {
                    ""
                };
                rows.push(("Commit", Cell::Code(commit.chars().take(12).collect(), dirty)));
            }
            if let Some(profile) = &env.build_profile {
                let rustc = env
                    .rustc
                    .as_deref()
                    .map_or(String::new(), |rustc| format!(", {rustc}"));
                rows.push(("Build", Cell::Text(format!("{profile}{rustc}"))));
            }
            if let Some(cpu) = &env.cpu_model {
                rows.push((
                    "Machine",
                    Cell::Text(format!(
                        "{cpu}, {} logical cores, {}",
                        env.logical_cores
                            .map_or("?".to_owned(), |cores| cores.to_string()),
                        env.os.as_deref().unwrap_or("OS not recorded")
                    )),
                ));
            }
            if !env.host_steal_pct.is_empty() {
                let phases: Vec<String> = env
                    .host_steal_pct
                    .iter()
                    .map(|(phase, pct)| format!("{phase} {pct:.1} %"))
                    .collect();
                rows.push((
                    "Host steal",
                    Cell::Text(format!(
                        "{} of the machine's CPU taken by the hypervisor",
                        phases.join(", ")
                    )),
                ));
            }
            if !env.workload.is_null() {
                rows.push(("Workload", Cell::Text(describe_settings(&env.workload))));
            }
            if !env.run.is_null() {
                rows.push(("Run settings", Cell::Text(describe_settings(&env.run))));
            }
        }
        None if run.has_run() => {
            rows.push(("Environment", Cell::Text("not recorded in this input".to_owned())))
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
    rows.push(("Input", Cell::Text(format)));
    rows
}

/// `key: value` pairs of a settings object, flattened one level.
fn describe_settings(settings: &Value) -> String {
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

/// The files the report came from, as the appendix lists them: `(kind, path)`.
pub(in crate::render) fn files(report: &Report) -> Vec<(&str, String)> {
    let mut files = Vec::new();
    if report.results.has_run() {
        files.push(("results", report.results.source.display().to_string()));
    }
    for test in &report.load_tests {
        for source in &test.sources {
            files.push((test.tool, source.display().to_string()));
        }
    }
    for (kind, file) in &report.results.files {
        let path = report
            .results
            .source
            .parent()
            .map(|dir| dir.join(file))
            .unwrap_or_else(|| file.into());
        files.push((kind.as_str(), path.display().to_string()));
    }
    files.push(("thresholds", report.thresholds_path.display().to_string()));
    files
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::render::rows::test_support::{labels, run};

    #[test]
    fn the_environment_shortens_the_commit_and_always_names_the_input() {
        let run = run(
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"environment":{"git_commit":"0123456789abcdef","git_dirty":true,
                "workload":{"symbols":10,"workers":{},"stages":["decode","enrich"]}}}"#,
        );
        let rows = environment(&run);
        assert_eq!(labels(&rows), ["Run", "Commit", "Workload", "Input"]);
        assert_eq!(
            rows[1].1,
            Cell::Code("0123456789ab".to_owned(), " with uncommitted changes")
        );
        assert_eq!(
            rows[2].1,
            Cell::Text("stages: decode → enrich; symbols: 10".to_owned())
        );
        assert_eq!(labels(&environment(&RunData::load_tests_only())), ["Input"]);
    }

    #[test]
    fn host_steal_is_shown_per_phase_in_the_order_run() {
        let run = run(r#"{"schema_version":1,"environment":{},
                "phases":{"fixed_rate":{"host_steal_pct":0.66},"saturation":{"host_steal_pct":27.04},
                          "other":{}}}"#);
        let rows = environment(&run);
        assert_eq!(labels(&rows), ["Run", "Host steal", "Input"]);
        assert_eq!(
            rows[1].1,
            Cell::Text(
                "saturation 27.0 %, fixed_rate 0.7 % of the machine's CPU taken by the hypervisor".to_owned()
            )
        );
        let bad = crate::input::parse_results(
            Path::new("r.json"),
            r#"{"schema_version":1,"environment":{},"phases":{"saturation":{"host_steal_pct":"high"}}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            bad.contains("/phases/saturation/host_steal_pct") && bad.contains("expected a number"),
            "{bad}"
        );
    }
}

//! One line of the history: a run's metadata and its metrics, built from a loaded [`RunData`].
//! The metrics are exactly the ones the evaluator checks (`RunData::metrics`), so the history
//! and the report can never disagree on what a figure is.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::input::RunData;

/// The `schema_version` of history lines this version writes and reads.
pub const HISTORY_SCHEMA_VERSION: u64 = 1;

/// One benchmark run as recorded in the history (one JSON line).
///
/// Adding a field keeps the version (readers ignore fields they do not know, and missing
/// optional fields read as `null`); renaming one or changing its meaning bumps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRecord {
    /// Version of this line's layout; always first.
    pub schema_version: u64,
    /// When the run was made, RFC 3339 in UTC (`2026-11-22T18:22:27Z`).
    pub timestamp: String,
    /// The commit the run was built from.
    #[serde(default)]
    pub git_commit: Option<String>,
    /// Whether the tree had uncommitted changes.
    #[serde(default)]
    pub git_dirty: Option<bool>,
    /// The branch the run was made on (git's current branch, CI's ref name or `--branch`), as
    /// `cargo xtask bench` records it; the results file itself does not know it.
    #[serde(default)]
    pub branch: Option<String>,
    /// The machine's host name.
    #[serde(default)]
    pub host: Option<String>,
    /// The CPU model.
    #[serde(default)]
    pub cpu_model: Option<String>,
    /// Logical cores.
    #[serde(default)]
    pub logical_cores: Option<u64>,
    /// The compiler.
    #[serde(default)]
    pub rustc: Option<String>,
    /// `release` or `debug`.
    #[serde(default)]
    pub build_profile: Option<String>,
    /// The workload's name (`market-data`).
    #[serde(default)]
    pub workload: Option<String>,
    /// How long each phase measured: `200000 messages` (the `--quick` preset), `10s`.
    #[serde(default)]
    pub length: Option<String>,
    /// A fingerprint of every workload and run setting (16 hex digits): runs with the same one
    /// were made with the same settings, so their figures are comparable.
    #[serde(default)]
    pub settings: Option<String>,
    /// Every metric of the run, by metric id (see `metric.rs`), in the id's unit.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
}

impl HistoryRecord {
    /// The record of `run`. Its time is the run's own timestamp; `now` stands in when the
    /// results file has none (or one that is not RFC 3339).
    pub fn from_run(run: &RunData, now: SystemTime) -> Self {
        let environment = run.environment.as_ref();
        let timestamp = environment
            .and_then(|env| env.timestamp.as_deref())
            .and_then(|text| humantime::parse_rfc3339(text).ok())
            .unwrap_or(now);
        let (workload, length, settings) = match environment {
            Some(env) => (
                env.workload
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                describe_length(&env.run),
                (!env.workload.is_null() || !env.run.is_null())
                    .then(|| fingerprint(&json!({"workload": env.workload, "run": env.run}))),
            ),
            None => (None, None, None),
        };
        HistoryRecord {
            schema_version: HISTORY_SCHEMA_VERSION,
            timestamp: humantime::format_rfc3339_seconds(timestamp).to_string(),
            git_commit: environment.and_then(|env| env.git_commit.clone()),
            git_dirty: environment.and_then(|env| env.git_dirty),
            branch: None,
            host: environment.and_then(|env| env.hostname.clone()),
            cpu_model: environment.and_then(|env| env.cpu_model.clone()),
            logical_cores: environment.and_then(|env| env.logical_cores),
            rustc: environment.and_then(|env| env.rustc.clone()),
            build_profile: environment.and_then(|env| env.build_profile.clone()),
            workload,
            length,
            settings,
            // JSON has no NaN or infinity; such a figure is not a measurement anyway.
            metrics: run
                .metrics
                .iter()
                .filter(|(_, value)| value.is_finite())
                .map(|(id, value)| (id.clone(), *value))
                .collect(),
        }
    }
}

/// `200000 messages` or `10s` from the run settings' `length`.
fn describe_length(run: &Value) -> Option<String> {
    let length = run.get("length")?;
    if let Some(messages) = length.get("messages").and_then(Value::as_u64) {
        return Some(format!("{messages} messages"));
    }
    length
        .get("seconds")
        .and_then(Value::as_f64)
        .map(|seconds| format!("{seconds}s"))
}

/// FNV-1a of the settings' JSON text: stable across Rust releases and platforms (the standard
/// library's hasher is not), and short enough to compare by eye. The text is canonical because
/// serde_json keeps object keys sorted.
fn fingerprint(settings: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in settings.to_string().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    const NOW: Duration = Duration::from_secs(1_795_348_800); // 2026-11-22T12:00:00Z

    fn record(text: &str) -> HistoryRecord {
        let run = crate::input::parse_results(Path::new("r.json"), text).unwrap();
        HistoryRecord::from_run(&run, UNIX_EPOCH + NOW)
    }

    #[test]
    fn takes_the_metadata_and_the_evaluators_metrics() {
        let record = record(
            r#"{"schema_version":1,"cpu":{"messages_per_second":5.0e5},"latency":{"p99_ms":1.5},
                "errors":{"total":5},"pipeline":{"generated":1000},
                "environment":{"timestamp":"2026-11-20T08:00:00Z","git_commit":"abc","git_dirty":false,
                  "hostname":"ci-1","cpu_model":"Xeon","logical_cores":2,"build_profile":"release",
                  "workload":{"name":"market-data","seed":42},"run":{"length":{"messages":200000}}}}"#,
        );
        assert_eq!(record.schema_version, 1);
        assert_eq!(record.timestamp, "2026-11-20T08:00:00Z");
        assert_eq!(record.git_commit.as_deref(), Some("abc"));
        assert_eq!(record.host.as_deref(), Some("ci-1"));
        assert_eq!(record.logical_cores, Some(2));
        assert_eq!(record.workload.as_deref(), Some("market-data"));
        assert_eq!(record.length.as_deref(), Some("200000 messages"));
        assert_eq!(record.settings.as_ref().map(String::len), Some(16));
        assert_eq!(record.metrics["cpu.messages_per_second"], 5.0e5);
        assert_eq!(record.metrics["latency.p99_ms"], 1.5);
        // Derived by the reader, exactly as the evaluator sees it.
        assert_eq!(record.metrics["error_rate.percent"], 0.5);
    }

    #[test]
    fn the_settings_fingerprint_tells_settings_apart() {
        let with_seed = |seed: u64| {
            record(&format!(
                r#"{{"schema_version":1,"phases":{{"saturation":{{"measured_messages":1}}}},"environment":{{"workload":{{"seed":{seed}}},"run":{{}}}}}}"#
            ))
            .settings
        };
        assert_eq!(with_seed(1), with_seed(1));
        assert_ne!(with_seed(1), with_seed(2));
    }

    #[test]
    fn a_run_without_a_usable_timestamp_gets_now() {
        let record = record(
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}},"environment":{"timestamp":"yesterday"}}"#,
        );
        assert_eq!(record.timestamp, "2026-11-22T12:00:00Z");
        let legacy = self::record(r#"{"cpu":{"messages_per_second":1.0}}"#);
        assert_eq!(legacy.timestamp, "2026-11-22T12:00:00Z");
        assert_eq!(legacy.git_commit, None);
        assert_eq!(legacy.settings, None);
    }

    #[test]
    fn the_line_starts_with_the_schema_version() {
        let line = serde_json::to_string(&record(
            r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":1}}}"#,
        ))
        .unwrap();
        assert!(line.starts_with(r#"{"schema_version":1,"timestamp":"#), "{line}");
        assert!(!line.contains('\n'));
    }
}

//! The A/A noise history: the outcomes of past comparisons of a commit with itself, one JSON line
//! each, from which noise floors per metric are learnt (`stats::learnt_noise_floor`), and the
//! appending of a new outcome. When an outcome is A/A is for the caller to say. The record is a
//! JSON Lines file, or the shared results store's `aa_noise` table (`--store`).

use std::collections::BTreeMap;
use std::path::Path;

use perfgate_report::compare::{Comparison, Kind, stats};
use perfgate_report::history;
use perfgate_store::{Machine, RunFilter, Store, StoreUrl};
use serde_json::Value;

/// Past A/A outcomes: one JSON line per comparison, `{"metrics": {"id": abs_change_pct}}`.
#[derive(Debug)]
pub(super) struct NoiseHistory {
    changes: BTreeMap<String, Vec<f64>>,
}

impl NoiseHistory {
    /// Reads the record at `path`; none yet (the first A/A comparison on this machine) is an
    /// empty record, and a corrupt line is skipped with a warning, as in the run history.
    pub(super) fn read(path: &Path) -> Self {
        let lines = match history::read_lines(path, history::parse_json) {
            Ok(lines) => {
                for warning in &lines.warnings {
                    eprintln!("warning: {warning}");
                }
                lines.values
            }
            Err(_) if !path.exists() => Vec::new(),
            Err(error) => {
                eprintln!("warning: {error}; no learnt noise floor");
                Vec::new()
            }
        };
        Self::from_records(lines.into_iter().map(|(_, value)| value))
    }

    /// Reads the A/A outcomes in the store at `url` that match `filter`.
    pub(super) fn read_store(url: &StoreUrl, filter: &RunFilter) -> anyhow::Result<Self> {
        let records = Store::open(url)?.noise(filter)?;
        eprintln!("compare: {} A/A outcomes read from {url}", records.len());
        Ok(Self::from_records(records))
    }

    fn from_records(records: impl IntoIterator<Item = Value>) -> Self {
        let mut changes: BTreeMap<String, Vec<f64>> = Default::default();
        for value in records {
            let Some(metrics) = value["metrics"].as_object() else {
                continue;
            };
            for (id, change) in metrics {
                if let Some(change) = change.as_f64().filter(|c| c.is_finite()) {
                    changes.entry(id.clone()).or_default().push(change.abs());
                }
            }
        }
        Self { changes }
    }

    /// The noise floor learnt for metric `id`, if its past outcomes teach one.
    pub(super) fn floor(&self, id: &str) -> Option<f64> {
        self.changes
            .get(id)
            .and_then(|changes| stats::learnt_noise_floor(changes))
    }

    /// Appends the outcome of an A/A comparison to the record at `path`.
    pub(super) fn append(&self, path: &Path, comparison: &Comparison) -> anyhow::Result<()> {
        history::append_line(path, &outcome(comparison))?;
        eprintln!(
            "compare: same commit on both sides: A/A outcome appended to {}",
            path.display()
        );
        Ok(())
    }

    /// Records the outcome of an A/A comparison in the store at `url`, with this machine.
    pub(super) fn append_store(&self, url: &StoreUrl, comparison: &Comparison) -> anyhow::Result<()> {
        let id = Store::open(url)?.record_noise(&outcome(comparison), None, &this_machine())?;
        eprintln!("compare: same commit on both sides: A/A outcome recorded in {url} (row {id})");
        Ok(())
    }
}

/// One A/A outcome: `{"design": ..., "metrics": {"id": change_pct}}`.
fn outcome(comparison: &Comparison) -> Value {
    let metrics: serde_json::Map<String, Value> = comparison
        .metrics
        .iter()
        .filter(|m| m.kind != Kind::Exact)
        .filter_map(|m| Some((m.id.clone(), serde_json::json!(m.change_pct?))))
        .collect();
    serde_json::json!({"design": comparison.design, "metrics": metrics})
}

/// The machine this comparison ran on: host name, CPU model, logical cores.
fn this_machine() -> Machine {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    Machine {
        host: read("/proc/sys/kernel/hostname").map(|name| name.trim().to_owned()),
        cpu_model: read("/proc/cpuinfo").and_then(|info| {
            info.lines().find_map(|line| {
                line.strip_prefix("model name")?
                    .split_once(':')
                    .map(|(_, v)| v.trim().to_owned())
            })
        }),
        logical_cores: std::thread::available_parallelism()
            .ok()
            .and_then(|n| i32::try_from(n.get()).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_history_reads_absolute_changes_skips_bad_lines_and_tolerates_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aa-noise.jsonl");
        assert!(
            NoiseHistory::read(&path).changes.is_empty(),
            "no file yet: no floor"
        );
        let mut text = String::new();
        for change in [1.0, -2.0, 1.5, -0.5, 2.5, 1.0, -1.0, 2.0] {
            text.push_str(&format!(
                "{{\"design\":\"paired\",\"metrics\":{{\"cpu.cpu_ns_per_message\":{change}}}}}\n"
            ));
        }
        text.push_str("{\"design\":\"pai\n"); // torn line
        text.push_str("{\"metrics\":{\"cpu.cpu_ns_per_message\":\"NaN\"}}\n"); // not a number
        std::fs::write(&path, text).unwrap();
        let noise = NoiseHistory::read(&path);
        let changes = &noise.changes["cpu.cpu_ns_per_message"];
        assert_eq!(changes, &[1.0, 2.0, 1.5, 0.5, 2.5, 1.0, 1.0, 2.0]);
        assert_eq!(
            noise.floor("cpu.cpu_ns_per_message"),
            stats::learnt_noise_floor(changes)
        );
        assert_eq!(noise.floor("latency.p99_ms"), None);
    }
}

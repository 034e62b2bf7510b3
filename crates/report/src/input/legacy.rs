//! The older Python tool's `performance_results.json`: read by JSON pointer, since its layout is
//! not ours to type. Only the figures the report knows are taken; each is type-checked.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::run_data::{Database, Environment, FunctionRow, InputFormat, RunData};
use crate::error::{ReportError, Result};

/// Reads an older results document.
pub(super) fn run_data(path: &Path, root: &Value) -> Result<RunData> {
    Reader { path, root }.legacy()
}

struct Reader<'a> {
    path: &'a Path,
    root: &'a Value,
}

/// The older format's figures that may be negative: changes.
const CAN_BE_NEGATIVE: [&str; 1] = ["memory.delta_mb"];

impl Reader<'_> {
    /// A number at `pointer`: `None` if absent or null, an error if anything else.
    fn number(&self, pointer: &str) -> Result<Option<f64>> {
        match self.root.pointer(pointer) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(number)) => Ok(number.as_f64()),
            Some(other) => Err(ReportError::invalid(
                self.path,
                pointer,
                format!("expected a number, found {}", kind(other)),
            )),
        }
    }

    fn string(&self, pointer: &str) -> Result<Option<String>> {
        match self.root.pointer(pointer) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(ReportError::invalid(
                self.path,
                pointer,
                format!("expected a string, found {}", kind(other)),
            )),
        }
    }

    fn array(&self, pointer: &str) -> Result<&[Value]> {
        match self.root.pointer(pointer) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(ReportError::invalid(
                self.path,
                pointer,
                format!("expected a list, found {}", kind(other)),
            )),
        }
    }

    fn collect(&self, metrics: &mut BTreeMap<String, f64>, pairs: &[(&str, &str)]) -> Result<()> {
        for (id, pointer) in pairs {
            debug_assert!(crate::metric::metric(id).is_some(), "{id} is registered");
            if let Some(value) = self.number(pointer)? {
                // Rates, counts, times and memory are never negative; only a change can be. A
                // negative throughput would otherwise be judged as a (very bad) number.
                if value < 0.0 && !CAN_BE_NEGATIVE.contains(id) {
                    return Err(ReportError::invalid(self.path, *pointer, "must not be negative"));
                }
                metrics.insert((*id).to_owned(), value);
            }
        }
        Ok(())
    }

    fn functions(&self, pointer: &str) -> Result<Vec<FunctionRow>> {
        let mut rows = Vec::new();
        for (index, _) in self.array(pointer)?.iter().enumerate() {
            let at = |field: &str| format!("{pointer}/{index}/{field}");
            let function = self.string(&at("function"))?.ok_or_else(|| {
                ReportError::invalid(self.path, at("function"), "missing the function name")
            })?;
            rows.push(FunctionRow {
                function,
                self_percent: self.number(&at("self_percent"))?,
                inclusive_percent: self.number(&at("inclusive_percent"))?,
                cumtime: self.number(&at("cumtime"))?,
            });
        }
        Ok(rows)
    }

    fn legacy(&self) -> Result<RunData> {
        let mut run = RunData::empty(self.path, InputFormat::Legacy);
        self.collect(
            &mut run.metrics,
            &[
                ("cpu.messages_per_second", "/cpu/messages_per_second"),
                ("cpu.avg_latency_ms", "/cpu/avg_latency_ms"),
                ("cpu.total_time", "/cpu/total_time"),
                ("cpu.message_count", "/cpu/message_count"),
                ("memory.baseline_mb", "/memory/baseline_mb"),
                ("memory.peak_mb", "/memory/peak_mb"),
                ("memory.delta_mb", "/memory/delta_mb"),
                ("asyncio.event_loop_lag_ms", "/asyncio/event_loop_lag_ms"),
                ("asyncio.active_tasks", "/asyncio/active_tasks"),
                ("database.pool_size", "/database/pool_size"),
                ("database.active_connections", "/database/active_connections"),
                ("database.idle_connections", "/database/idle_connections"),
            ],
        )?;
        run.top_functions = self.functions("/cpu/top_functions")?;
        if self.root.get("database").is_some() {
            run.legacy_database = Some(Database {
                status: self.string("/database/status")?,
            });
        }
        run.environment = self.string("/timestamp")?.map(|timestamp| Environment {
            timestamp: Some(timestamp),
            git_commit: None,
            git_dirty: None,
            rustc: None,
            build_profile: None,
            cpu_model: None,
            logical_cores: None,
            os: None,
            hostname: None,
            workload: Value::Null,
            run: Value::Null,
            host_steal_pct: Vec::new(),
        });
        Ok(run)
    }
}

fn kind(value: &Value) -> &'static str {
    perfgate_results::read::kind(value)
}

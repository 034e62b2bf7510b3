//! [`RunData`], the report's view of one run, and the rows it is made of: what the readers of
//! both formats fill in and every later stage reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::series::PhaseSeries;

/// Which tool wrote a results file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputFormat {
    /// perfgate's `results.json`.
    Perfgate {
        /// Its `schema_version`.
        schema_version: u64,
    },
    /// The older Python tool's `performance_results.json`.
    Legacy,
    /// No results file: a report on load tests alone.
    LoadTestsOnly,
}

/// One function of a CPU profile.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionRow {
    /// Its name.
    pub function: String,
    /// Share of samples in it, % (perfgate only).
    pub self_percent: Option<f64>,
    /// Share of samples with it on the stack, % (perfgate only).
    pub inclusive_percent: Option<f64>,
    /// CPU seconds in it and its callees.
    pub cumtime: Option<f64>,
}

/// One pipeline stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRow {
    /// Stage name.
    pub name: String,
    /// Workers.
    pub workers: u64,
    /// Median per-message service time, µs.
    pub service_p50_us: Option<f64>,
    /// 99th percentile service time, µs.
    pub service_p99_us: Option<f64>,
    /// Longest per-message service time, µs.
    pub service_max_us: Option<f64>,
    /// Busy time over the window, per worker.
    pub busy_ratio: Option<f64>,
    /// 99th percentile of messages waiting for it.
    pub queue_p99: Option<f64>,
    /// Messages its input channels hold.
    pub queue_capacity: Option<f64>,
    /// Messages it rejected.
    pub errors: u64,
}

/// Database figures of older files.
#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    /// Connection status as reported.
    pub status: Option<String>,
}

/// Where and how a run was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// When, RFC 3339.
    pub timestamp: Option<String>,
    /// Git commit and whether the tree was dirty.
    pub git_commit: Option<String>,
    /// Uncommitted changes present.
    pub git_dirty: Option<bool>,
    /// Compiler.
    pub rustc: Option<String>,
    /// `release` or `debug`.
    pub build_profile: Option<String>,
    /// CPU model.
    pub cpu_model: Option<String>,
    /// Logical cores.
    pub logical_cores: Option<u64>,
    /// Operating system.
    pub os: Option<String>,
    /// The machine's host name.
    pub hostname: Option<String>,
    /// Workload settings, as written.
    pub workload: Value,
    /// Run settings, as written.
    pub run: Value,
    /// Per phase, in the order run: the share of the machine's CPU the hypervisor took during
    /// the phase's window, percent.
    pub host_steal_pct: Vec<(String, f64)>,
}

/// A results file, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    /// The file read.
    pub source: PathBuf,
    /// Which tool wrote it.
    pub format: InputFormat,
    /// Every known metric present in the file, by id.
    pub metrics: BTreeMap<String, f64>,
    /// Where and how the run was made (perfgate files).
    pub environment: Option<Environment>,
    /// Functions by inclusive time (or the older `top_functions`, by `cumtime`).
    pub top_functions: Vec<FunctionRow>,
    /// Functions by self time.
    pub hot_functions: Vec<FunctionRow>,
    /// Pipeline stages in order.
    pub stages: Vec<StageRow>,
    /// Rejected messages by kind.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Whether the heap probe suspected a leak.
    pub leak_suspected: Option<bool>,
    /// Busy share of each runtime worker during the latency phase.
    pub worker_busy: Vec<f64>,
    /// Where the tasks with slow polls were spawned (`file:line:column`), with their slow polls
    /// and the time in them, ms; most time first.
    pub slow_poll_sites: Vec<(String, u64, f64)>,
    /// Cache capacity the workload ran with.
    pub cache_capacity: Option<u64>,
    /// Database section of older files (`performance_results.json`).
    pub legacy_database: Option<Database>,
    /// Files beside the results, by kind (`flamegraph`, `pprof`, `heap_profile`), as paths
    /// relative to the results file's directory.
    pub files: BTreeMap<String, String>,
    /// The run's own warnings.
    pub warnings: Vec<String>,
    /// `--repeat N`: each repetition's key figures by metric id (empty for a single run).
    pub repetitions: Vec<BTreeMap<String, f64>>,
    /// The probes' time series per phase, in the order phases run (empty in older files).
    pub series: Vec<PhaseSeries>,
    /// The capacity search, when the run had one (`--capacity SLO`).
    pub capacity: Option<perfgate_results::CapacitySection>,
    /// Every point of a sweep, when the file is a sweep's (`cargo xtask sweep`).
    pub sweep: Option<perfgate_results::SweepSection>,
    /// Every fault injected and what the pipeline did, when the run had chaos scenarios
    /// (`--chaos SCENARIO`).
    pub chaos: Option<perfgate_results::ChaosSection>,
    /// The database stage's pool, waits, queries, errors, outage and the server's own count,
    /// when the run's reference store was PostgreSQL (`--reference-store postgres://...`).
    pub database: Option<perfgate_results::DatabaseSection>,
}

impl RunData {
    /// The stand-in for a report without a results file (load tests only): no metrics, no
    /// in-process sections.
    pub fn load_tests_only() -> Self {
        Self::empty(Path::new(""), InputFormat::LoadTestsOnly)
    }

    /// A run with nothing read yet.
    pub(crate) fn empty(path: &Path, format: InputFormat) -> Self {
        RunData {
            source: path.to_owned(),
            format,
            metrics: BTreeMap::new(),
            environment: None,
            top_functions: Vec::new(),
            hot_functions: Vec::new(),
            stages: Vec::new(),
            errors_by_kind: BTreeMap::new(),
            leak_suspected: None,
            worker_busy: Vec::new(),
            slow_poll_sites: Vec::new(),
            cache_capacity: None,
            legacy_database: None,
            files: BTreeMap::new(),
            warnings: Vec::new(),
            repetitions: Vec::new(),
            capacity: None,
            sweep: None,
            chaos: None,
            database: None,
            series: Vec::new(),
        }
    }

    /// Whether an in-process run (perfgate's or the older tool's) was read.
    pub fn has_run(&self) -> bool {
        self.format != InputFormat::LoadTestsOnly
    }
}

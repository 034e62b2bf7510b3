//! The whole results file: [`Results`], the run's circumstances and the writer.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::capacity::CapacitySection;
use crate::chaos::ChaosSection;
use crate::database::DatabaseSection;
use crate::instructions::InstructionsSection;
use crate::probes::{AsyncioSection, MemorySection, RuntimeSection};
use crate::profiler::ProfilerSection;
use crate::repetitions::RepetitionsSection;
use crate::sections::{
    CacheSection, CpuSection, ErrorsSection, FanoutSection, LatencySection, LimitSection, PhaseSection,
    PipelineSection, ProcessSection, StageSection,
};
use crate::sweep::SweepSection;

/// Version of this layout. Additive changes keep it; renames or changes of meaning bump it.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole run's results.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Results {
    /// Layout version, always the first field.
    pub schema_version: u32,
    /// The tool that wrote the file.
    pub tool: ToolInfo,
    /// What makes runs comparable: when, where, what code, what workload.
    pub environment: Environment,
    /// Throughput of the saturation phase and its CPU profile, under the older tool's names.
    pub cpu: CpuSection,
    /// Heap during the throughput phase; `null` if the heap probe did not run.
    #[serde(default)]
    pub memory: Option<MemorySection>,
    /// Event-loop lag during the latency phase; `null` if the lag probe did not run.
    #[serde(default)]
    pub asyncio: Option<AsyncioSection>,
    /// Tokio runtime and process metrics during the latency phase.
    #[serde(default)]
    pub runtime: Option<RuntimeSection>,
    /// End-to-end latency of the fixed-rate phase (or of saturation if it did not run).
    pub latency: Option<LatencySection>,
    /// Per-stage figures from the saturation phase (or fixed-rate if saturation did not run).
    pub stages: IndexMap<String, StageSection>,
    /// Cache counters of the stages that report them, summed over all phases.
    pub cache: Option<CacheSection>,
    /// Rejected messages over all phases, by kind.
    pub errors: ErrorsSection,
    /// Deliveries to subscribers over all phases.
    pub fanout: Option<FanoutSection>,
    /// Message accounting over all phases, and how the pipeline compares with `limit` mode.
    pub pipeline: PipelineSection,
    /// `limit` mode, when it ran.
    pub limit: Option<LimitSection>,
    /// The profiler process itself.
    pub process: ProcessSection,
    /// The profiler's view of itself: which probes ran, and their measured overhead.
    #[serde(default)]
    pub profiler: ProfilerSection,
    /// `--repeat N`: every repetition's key figures and their spread; `null` for a single run.
    #[serde(default)]
    pub repetitions: Option<RepetitionsSection>,
    /// `--capacity SLO`: the highest rate sustained at the objective, and the search's steps;
    /// `null` when no search ran.
    #[serde(default)]
    pub capacity: Option<CapacitySection>,
    /// `cargo xtask sweep` (or the library's sweep): every point of a grid of knob values with
    /// its runs, figures and intervals, and the best value; `null` for a run that is not a
    /// sweep. The rest of the file is then one run of the leading point.
    #[serde(default)]
    pub sweep: Option<SweepSection>,
    /// `--chaos SCENARIO`: each fault injected into a fixed-rate phase and how the pipeline
    /// degraded and recovered; `null` for a run without faults.
    #[serde(default)]
    pub chaos: Option<ChaosSection>,
    /// `--reference-store postgres://...`: the database stage's pool, waits, queries, errors
    /// and the server's own count; `null` when the reference data was held in memory.
    #[serde(default)]
    pub database: Option<DatabaseSection>,
    /// `cargo xtask bench --instructions` (or `cargo xtask instructions`): the CPU work per
    /// message counted exactly under Valgrind; `null` when it was not counted.
    #[serde(default)]
    pub instructions: Option<InstructionsSection>,
    /// Files written beside `results.json`, by kind (`flamegraph`, `pprof`).
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Every phase in full, in the order they ran.
    pub phases: IndexMap<String, PhaseSection>,
    /// Things the reader should know about these figures.
    pub warnings: Vec<String>,
    /// The files listed in `files`, kept in memory until written (never serialised).
    #[serde(skip)]
    pub artifacts: Vec<Artifact>,
}

/// Name and version of the writer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ToolInfo {
    /// `perfgate`.
    pub name: String,
    /// The profiler's crate version.
    pub version: String,
}

/// The run's circumstances.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Environment {
    /// When the run started, UTC, RFC 3339.
    pub timestamp: String,
    /// `git rev-parse HEAD` of the working directory, if it is a git checkout.
    pub git_commit: Option<String>,
    /// Whether the checkout had uncommitted changes.
    pub git_dirty: Option<bool>,
    /// The compiler that built the profiler.
    pub rustc: String,
    /// `release` or `debug`: figures from a debug build are not comparable.
    pub build_profile: String,
    /// CPU brand string.
    pub cpu_model: String,
    /// Logical cores available to the process.
    pub logical_cores: usize,
    /// Operating system name and version.
    pub os: String,
    /// Kernel version.
    pub kernel: Option<String>,
    /// Host name.
    pub hostname: Option<String>,
    /// The run settings (`RunConfig`).
    pub run: Value,
    /// The workload's own configuration, as its builder describes it.
    pub workload: Value,
}

/// An output file written beside `results.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// File name inside the output directory.
    pub file_name: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

//! The results file, `results.json`: the one contract between the profiler and everything that
//! reads its output. Field names keep those of the older `performance_results.json`
//! (`cpu.messages_per_second`, `cpu.avg_latency_ms`, ...) wherever they mean the same thing, so
//! existing thresholds keep working. Units are in the field names. `docs/results-schema.md`
//! describes every field.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::stats::{DepthSummary, LatencySummary, ServiceTimeSummary};

mod assemble;
mod probes;
mod repetitions;

pub use probes::{
    Artifact, AsyncioSection, FunctionShare, LeakSection, MemorySection, RuntimeSection, WorkerSection,
};
pub use repetitions::{RepetitionsSection, Spread};
pub(crate) use repetitions::{key_figures, summarise as summarise_repetitions};

/// Version of this layout. Additive changes keep it; renames or changes of meaning bump it.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole run's results.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Files written beside `results.json`, by kind (`flamegraph`, `pprof`).
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Every phase in full, in the order they ran.
    pub phases: IndexMap<String, PhaseSection>,
    /// Things the reader should know about these figures.
    pub warnings: Vec<String>,
    /// The files listed in `files`, kept in memory until written.
    #[serde(skip)]
    pub artifacts: Vec<Artifact>,
}

/// Which probes ran, and what they cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfilerSection {
    /// Probes that ran, comma separated (`none` if none).
    pub probes: String,
    /// Measured cost of the probes, when `--overhead` asked for it.
    pub overhead: Option<OverheadSection>,
    /// Heap the CPU profiler holds for itself (its sample table and symbol tables), MiB. It is
    /// left out of the `memory` figures.
    pub cpu_probe_heap_mb: Option<f64>,
    /// Resident memory the CPU profiler added when it first started, MiB; it is part of
    /// `process.peak_rss_mb`.
    pub cpu_probe_rss_mb: Option<f64>,
}

/// The probes' cost, from runs with all probes off and on, interleaved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverheadSection {
    /// Pairs of runs (probes off, probes on) measured.
    pub pairs: usize,
    /// Order of the runs (e.g. `ABBA`: off, on, on, off, ...).
    pub order: String,
    /// Median over pairs of throughput with probes / without (1.0 = no cost).
    pub throughput_ratio: f64,
    /// 95 % bootstrap interval of that median: how well this machine's noise lets the ratio be
    /// known.
    pub throughput_ratio_ci95: (f64, f64),
    /// Median over pairs of the process CPU time per message at saturation with probes /
    /// without (1.0 = no cost): the probes' cost in CPU, which time the host steals from the
    /// virtual machine does not blur (it is not charged to the process), unlike throughput.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_per_message_ratio: Option<f64>,
    /// 95 % bootstrap interval of that median.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_per_message_ratio_ci95: Option<(f64, f64)>,
    /// Interquartile range of the per-pair p99 ratios: how much a single pair's p99 says.
    pub p99_pair_ratio_iqr: (f64, f64),
    /// Median of the per-pair p99 ratios (on / off): the p99 cost to read. A host episode that
    /// pushes a few runs into overload (hundreds of ms of latency) moves it by a few pairs' worth,
    /// where it decides the pooled ratio outright.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_pair_ratio_median: Option<f64>,
    /// 95 % bootstrap interval of that median.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_pair_ratio_ci95: Option<(f64, f64)>,
    /// Fixed-rate p99 latency with probes / without, each the p99 of all messages of all runs of
    /// that side pooled. Owned by whichever side a host episode hit hardest: read
    /// `p99_pair_ratio_median` for the probes' cost.
    pub p99_ratio: f64,
    /// 95 % bootstrap interval of `p99_ratio`, resampling pairs: the range the pooled ratio
    /// would span had other pairs been drawn from the same machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ratio_ci95: Option<(f64, f64)>,
    /// Pooled fixed-rate p99 without probes, ms.
    pub p99_off_ms: f64,
    /// Pooled fixed-rate p99 with probes, ms.
    pub p99_on_ms: f64,
    /// The fixed rate both sides ran at, msg/s.
    pub rate_per_second: f64,
    /// Share of the machine's CPU time the hypervisor took during all the pairs, percent
    /// (Linux): what blurs the throughput and p99 ratios, but not the CPU-per-message one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_steal_pct: Option<f64>,
    /// The probes of the "on" side.
    pub probes: String,
    /// Each pair: throughput off/on, p99 off/on.
    pub runs: Vec<OverheadPair>,
}

/// One pair of overhead runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverheadPair {
    /// Saturation throughput without probes, msg/s.
    pub throughput_off: f64,
    /// Saturation throughput with probes, msg/s.
    pub throughput_on: f64,
    /// Fixed-rate p99 without probes, ms.
    pub p99_off_ms: f64,
    /// Fixed-rate p99 with probes, ms.
    pub p99_on_ms: f64,
    /// Process CPU time per message at saturation without probes, ns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ns_per_message_off: Option<f64>,
    /// Process CPU time per message at saturation with probes, ns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ns_per_message_on: Option<f64>,
    /// Host steal during the fixed-rate window without probes, percent (Linux).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_steal_pct_off: Option<f64>,
    /// Host steal during the fixed-rate window with probes, percent (Linux).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_steal_pct_on: Option<f64>,
}

/// Name and version of the writer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolInfo {
    /// `perfgate`.
    pub name: String,
    /// The profiler's crate version.
    pub version: String,
}

/// The run's circumstances.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// The older tool's `cpu` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CpuSection {
    /// Which phase these figures come from (`saturation` unless it did not run).
    pub phase: String,
    /// Measured messages divided by the measured window.
    pub messages_per_second: f64,
    /// Mean end-to-end latency, ms, from the `latency` section's phase.
    pub avg_latency_ms: Option<f64>,
    /// The measured window, s: first measured message in to last one out.
    pub total_time: f64,
    /// Measured messages.
    pub message_count: u64,
    /// The phase CPU-profiled (`null` if the CPU probe did not run).
    #[serde(default)]
    pub profile_phase: Option<String>,
    /// Samples in the profile.
    #[serde(default)]
    pub samples: Option<u64>,
    /// Requested sampling rate, Hz.
    #[serde(default)]
    pub sample_rate_hz: Option<i32>,
    /// Samples per CPU-second actually taken: below the requested rate when the kernel's timer
    /// tick caps it, and because samples inside libc are dropped.
    #[serde(default)]
    pub effective_sample_rate_hz: Option<f64>,
    /// Process CPU time (all threads, user + system) per message finished in the throughput
    /// window, ns: the pipeline's cost per message, which time the host steals from the VM or
    /// another process takes from the cores does not inflate (unlike messages per second).
    #[serde(default)]
    pub cpu_ns_per_message: Option<f64>,
    /// Process user CPU time during the profiled window, s.
    #[serde(default)]
    pub user_time_s: Option<f64>,
    /// Process system CPU time during the profiled window, s.
    #[serde(default)]
    pub system_time_s: Option<f64>,
    /// Process CPU time / (window × logical cores), %.
    #[serde(default)]
    pub utilisation_percent: Option<f64>,
    /// Top functions by inclusive samples (`cumtime`), the runtime's and pipeline's own plumbing
    /// left out.
    #[serde(default)]
    pub top_functions: Vec<FunctionShare>,
    /// Top functions by self samples: where the CPU actually was.
    #[serde(default)]
    pub hot_functions: Vec<FunctionShare>,
    /// Samples per thread.
    #[serde(default)]
    pub threads: IndexMap<String, u64>,
}

/// End-to-end latency and the rate it was measured at.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatencySection {
    /// `fixed_rate` or `saturation`.
    pub phase: String,
    /// The scheduled rate, messages/s; `null` at saturation.
    pub rate_per_second: Option<f64>,
    /// What latency is measured from.
    pub measured_from: String,
    /// The percentiles.
    #[serde(flatten)]
    pub summary: LatencySummary,
}

/// One stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageSection {
    /// Position in the pipeline, from 0.
    pub index: usize,
    /// Workers running the stage.
    pub workers: usize,
    /// Messages the stage passed on (warm-up included).
    pub processed: u64,
    /// Messages the stage rejected (warm-up included).
    pub errors: u64,
    /// Per-message service time over measured batches.
    pub service_time: Option<ServiceTimeSummary>,
    /// Time spent processing measured batches over the window, per worker (1.0 = always busy).
    pub busy_ratio: f64,
    /// Messages waiting for the stage, sampled during the measured window.
    pub queue_depth: Option<DepthSummary>,
    /// Messages the stage's input channels hold when full.
    pub queue_capacity: usize,
    /// The stage's own counters, summed over workers.
    pub counters: BTreeMap<String, u64>,
}

/// Cache effectiveness.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheSection {
    /// Lookups answered by the cache.
    pub hits: u64,
    /// Lookups that went to the backing store.
    pub misses: u64,
    /// `hits / (hits + misses)`.
    pub hit_rate: f64,
    /// Entries evicted to stay within capacity, if the stage reports it.
    pub evictions: Option<u64>,
}

/// Rejected messages.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorsSection {
    /// All rejected messages.
    pub total: u64,
    /// Per error kind.
    pub by_kind: BTreeMap<String, u64>,
}

/// Fan-out to subscribers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FanoutSection {
    /// Subscribers.
    pub subscribers: usize,
    /// Of which artificially slow.
    pub slow_subscribers: usize,
    /// Deliveries attempted: processed messages × subscribers.
    pub offered: u64,
    /// Deliveries a subscriber received.
    pub delivered: u64,
    /// Deliveries dropped because the subscriber's queue was full.
    pub dropped: u64,
    /// Deliveries received after waiting longer than `lag_threshold_ms` in the queue.
    pub lagged: u64,
    /// The lag threshold, ms.
    pub lag_threshold_ms: f64,
    /// Each subscriber.
    pub per_subscriber: Vec<SubscriberSection>,
}

/// One subscriber.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubscriberSection {
    /// Its index.
    pub index: usize,
    /// Whether it was made slow on purpose.
    pub slow: bool,
    /// Deliveries received.
    pub delivered: u64,
    /// Deliveries dropped.
    pub dropped: u64,
    /// Deliveries received late.
    pub lagged: u64,
}

/// Message accounting.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PipelineSection {
    /// Stage names in order.
    pub stages: Vec<String>,
    /// Messages the source produced, all phases, warm-up included.
    pub generated: u64,
    /// Messages that completed the last stage. `generated = processed + errors`.
    pub processed: u64,
    /// Messages rejected by a stage (same as `errors.total`).
    pub errors: u64,
    /// Saturation throughput divided by `limit` throughput, when both ran.
    pub efficiency: Option<f64>,
}

/// `limit` mode: the stage functions in a plain loop per thread.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LimitSection {
    /// Measured messages per second over all threads.
    pub messages_per_second: f64,
    /// Threads.
    pub threads: usize,
    /// Measured messages.
    pub messages: u64,
    /// The measured window, s.
    pub total_time: f64,
    /// Measured messages that passed every stage.
    pub processed: u64,
    /// Measured messages rejected by a stage.
    pub errors: u64,
}

/// The profiler process.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProcessSection {
    /// Peak resident set size, MiB (`getrusage` `ru_maxrss`).
    pub peak_rss_mb: Option<f64>,
    /// User CPU time of the whole process, s.
    pub cpu_user_s: Option<f64>,
    /// System CPU time of the whole process, s.
    pub cpu_system_s: Option<f64>,
}

/// One phase in full.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseSection {
    /// `saturation` or `fixed_rate`.
    pub mode: String,
    /// The scheduled rate, messages/s (`fixed_rate` only).
    pub target_rate_per_second: Option<f64>,
    /// Measured messages over the measured window.
    pub messages_per_second: f64,
    /// The measured window, s.
    pub window_seconds: f64,
    /// Messages in the measured window.
    pub measured_messages: u64,
    /// Warm-up messages before it.
    pub warmup_messages: u64,
    /// Messages generated (warm-up + measured).
    pub generated: u64,
    /// Messages that completed the last stage.
    pub processed: u64,
    /// Rejected messages.
    pub errors: ErrorsSection,
    /// End-to-end latency of measured messages.
    pub latency: Option<LatencySummary>,
    /// Per stage.
    pub stages: IndexMap<String, StageSection>,
    /// Cache counters.
    pub cache: Option<CacheSection>,
    /// Fan-out.
    pub fanout: Option<FanoutSection>,
    /// Wall time of the phase including warm-up and drain, s.
    pub wall_seconds: f64,
    /// Share of the machine's CPU time the hypervisor took ("steal") during the measured
    /// window, percent (Linux; absent elsewhere). Above a few percent, absolute throughput is
    /// lower and tail latency is set by the host's pauses; ratios within one run still hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_steal_pct: Option<f64>,
    /// Heap during this phase's window.
    #[serde(default)]
    pub memory: Option<MemorySection>,
    /// Event-loop lag during this phase's window.
    #[serde(default)]
    pub asyncio: Option<AsyncioSection>,
    /// Runtime and process during this phase's window.
    #[serde(default)]
    pub runtime: Option<RuntimeSection>,
}

//! The sections of a run that the pipeline itself fills: throughput (`cpu`), latency, stages,
//! cache, errors, fan-out, message accounting, limit mode, the process and every phase in full.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::probes::{AsyncioSection, FunctionShare, MemorySection, RuntimeSection};
use crate::summary::{DepthSummary, LatencySummary, ServiceTimeSummary};

/// The older tool's `cpu` section.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
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
    /// The phases CPU-profiled, joined by `+` (`saturation+fixed_rate` by default: their
    /// profiles are merged); `null` if the CPU probe did not run.
    #[serde(default)]
    pub profile_phase: Option<String>,
    /// Samples in the profile, the ones in libc and the kernel included.
    #[serde(default)]
    pub samples: Option<u64>,
    /// Requested sampling rate, Hz.
    #[serde(default)]
    pub sample_rate_hz: Option<i32>,
    /// Samples per CPU-second actually taken: below the requested rate when the kernel's timer
    /// tick caps it (at `CONFIG_HZ` per CPU-second).
    #[serde(default)]
    pub effective_sample_rate_hz: Option<f64>,
    /// The timer's interval, ms (1 / the requested rate).
    #[serde(default)]
    pub sample_period_ms: Option<f64>,
    /// Samples × sample period, s: the CPU time the samples would stand for had the kernel sent
    /// one per period. (The functions' `selftime` add up to the measured CPU instead.)
    #[serde(default)]
    pub sampled_cpu_s: Option<f64>,
    /// `sampled_cpu_s` / the process CPU time measured over the profiled windows, %: 100 when
    /// every period of CPU got its sample; lower when the kernel's tick capped the rate.
    #[serde(default)]
    pub profile_coverage_percent: Option<f64>,
    /// Samples whose innermost frame was in the kernel (returning from a system call), libc,
    /// the vDSO or libgcc, where the profiler cannot unwind safely: kept as the functions
    /// `[kernel]`, `[libc]`, `[vdso]`, `[libgcc]`, without their callers.
    #[serde(default)]
    pub not_unwound_samples: Option<u64>,
    /// Timer signals that came while the profiler was still busy with another sample: not in
    /// `samples`.
    #[serde(default)]
    pub lost_samples: Option<u64>,
    /// Process CPU time (all threads, user + system) per message finished in the throughput
    /// window, ns: the pipeline's cost per message, which time the host steals from the VM or
    /// another process takes from the cores does not inflate (unlike messages per second).
    #[serde(default)]
    pub cpu_ns_per_message: Option<f64>,
    /// Process user CPU time during the profiled windows, s.
    #[serde(default)]
    pub user_time_s: Option<f64>,
    /// Process system CPU time during the profiled windows, s.
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
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
    /// Time spent processing measured batches over the window, per worker (1.0 = always busy);
    /// `null` when the window had no length.
    pub busy_ratio: Option<f64>,
    /// Messages waiting for the stage, sampled during the measured window.
    pub queue_depth: Option<DepthSummary>,
    /// Messages the stage's input channels hold when full.
    pub queue_capacity: usize,
    /// The stage's own counters, summed over workers.
    pub counters: BTreeMap<String, u64>,
}

/// Cache effectiveness.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
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
#[serde(default)]
pub struct ErrorsSection {
    /// All rejected messages.
    pub total: u64,
    /// Per error kind.
    pub by_kind: BTreeMap<String, u64>,
}

/// Fan-out to subscribers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
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
    /// CPU time (user + system) of the threads' measured windows per measured message, ns; the
    /// pipeline's `cpu.cpu_ns_per_message` minus this is the harness's cost per message.
    pub cpu_ns_per_message: Option<f64>,
}

/// The profiler process.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcessSection {
    /// Peak resident set size, MiB (`getrusage` `ru_maxrss`).
    pub peak_rss_mb: Option<f64>,
    /// User CPU time of the whole process, s.
    pub cpu_user_s: Option<f64>,
    /// System CPU time of the whole process, s.
    pub cpu_system_s: Option<f64>,
}

/// One phase in full.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
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

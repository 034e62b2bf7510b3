//! Result sections filled by the probes: CPU profile entries, memory, event-loop lag, runtime.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::series::TimeSeries;
use crate::summary::LatencySummary;

/// One function's share of the CPU profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FunctionShare {
    /// Demangled function name (inlined functions count as functions).
    pub function: String,
    /// Samples in which it was the innermost function.
    pub self_samples: u64,
    /// `self_samples` as a share of all samples, %.
    pub self_percent: f64,
    /// Samples in which it was anywhere on the stack.
    pub inclusive_samples: u64,
    /// `inclusive_samples` as a share of all samples, %.
    pub inclusive_percent: f64,
    /// CPU seconds spent in the function itself: its share of the samples × the CPU time measured
    /// over the profiled windows.
    pub selftime: f64,
    /// CPU seconds spent in it and what it called: inclusive samples' share × measured CPU (the older
    /// tool's `cumtime`). Never below `selftime`.
    pub cumtime: f64,
}

/// Heap over the throughput phase's measured window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemorySection {
    /// The phase measured.
    pub phase: String,
    /// Heap in use when the window started, MiB.
    pub baseline_mb: f64,
    /// Highest heap in use during the window, MiB (see `peak_method`).
    pub peak_mb: f64,
    /// `final_mb - baseline_mb`.
    pub delta_mb: f64,
    /// Heap in use when the window ended, MiB.
    pub final_mb: f64,
    /// How the peak was obtained.
    pub peak_method: String,
    /// jemalloc `stats.resident` at the end, MiB: physically resident pages of the allocator.
    pub resident_mb: Option<f64>,
    /// jemalloc `stats.retained` at the end, MiB: virtual memory kept for reuse (mostly not RSS).
    pub retained_mb: Option<f64>,
    /// jemalloc `stats.allocated` at the end, MiB.
    pub allocated_mb: Option<f64>,
    /// jemalloc `stats.active` at the end, MiB.
    pub active_mb: Option<f64>,
    /// jemalloc `stats.mapped` at the end, MiB.
    pub mapped_mb: Option<f64>,
    /// Messages that finished during the window.
    pub message_count: u64,
    /// Heap allocations per message during the window; `null` when no message finished in it.
    pub allocations_per_message: Option<f64>,
    /// Bytes allocated per message during the window (allocation volume, not growth); `null`
    /// when no message finished in it.
    pub bytes_allocated_per_message: Option<f64>,
    /// Whether live heap grew steadily and materially (see `leak`).
    pub leak_suspected: bool,
    /// The fit behind `leak_suspected`.
    pub leak: LeakSection,
    /// Heap over time: `live_mb`, `resident_mb` (jemalloc), `messages` finished.
    pub series: TimeSeries,
}

/// Linear fits of live heap against time and messages over the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LeakSection {
    /// Slope against time, bytes/s.
    pub bytes_per_second: f64,
    /// Slope against finished messages, bytes/message.
    pub bytes_per_message: f64,
    /// R² of the fit against messages: 1 is a perfectly steady climb.
    pub r_squared: f64,
    /// Growth the fit predicts over the window, MiB.
    pub projected_growth_mb: f64,
    /// Heap samples fitted.
    pub points: usize,
    /// When `leak_suspected` is set.
    pub rule: String,
}

/// Event-loop lag and task polling, under the older tool's section name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AsyncioSection {
    /// The phase measured.
    pub phase: String,
    /// The 99th percentile of `lag`, ms; `null` when no poll was measured.
    pub event_loop_lag_ms: Option<f64>,
    /// How lag is measured.
    pub method: String,
    /// Time-weighted age of the poll each worker is running (0 while it is between polls or
    /// parked), computed from every poll's duration: how long a task that became ready at a
    /// random moment would wait. `count` is the number of polls.
    pub lag: Option<LatencySummary>,
    /// Polls of pipeline tasks at least `slow_poll_threshold_ms` long.
    pub slow_polls: u64,
    /// The slow-poll threshold, ms.
    pub slow_poll_threshold_ms: f64,
    /// Total time spent in slow polls, ms.
    pub slow_poll_time_ms: f64,
    /// Duration of every poll of a pipeline task.
    pub poll_time: Option<LatencySummary>,
    /// From a pipeline task's wake-up to its next poll.
    pub schedule_delay: Option<LatencySummary>,
    /// The classic probe, for comparison (only with `lag_comparison`): how late a task sleeping
    /// 1 ms wakes up. It cannot see one blocked worker when another worker is free.
    pub timer_lag: Option<LatencySummary>,
    /// Most tasks alive in the runtime during the window.
    pub active_tasks: Option<u64>,
    /// Worst lag per 10 ms: `lag_max_ms`.
    pub series: TimeSeries,
    /// Which polls were timed: `every task` (tokio's poll hooks, `--cfg tokio_unstable`) or
    /// `instrumented tasks` (the pipeline's, or the futures given to the attach API).
    pub coverage: String,
    /// Only when `coverage` is `instrumented tasks` and the runtime probe ran: the workers' busy
    /// time that no instrumented poll accounts for, ms (tasks nobody instrumented, and the
    /// runtime's own scheduling).
    pub uninstrumented_busy_ms: Option<f64>,
    /// Instrumented tasks that were given a name (the attach API), per name.
    pub tasks: IndexMap<String, TaskPollsSection>,
    /// With `every task` coverage: where the tasks with slow polls were spawned (`file:line:column`),
    /// most slow-poll time first, at most 10.
    pub slow_poll_sites: Vec<SlowPollSite>,
}

/// The slow polls of the tasks spawned at one place in the code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlowPollSite {
    /// Where the tasks were spawned, `file:line:column`, as tokio reports it.
    pub spawned_at: String,
    /// Their slow polls in the window.
    pub slow_polls: u64,
    /// Time inside those polls, ms.
    pub slow_poll_time_ms: f64,
    /// The longest of them, ms.
    pub longest_ms: f64,
}

/// The polls of the tasks instrumented under one name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskPollsSection {
    /// Polls in the window.
    pub polls: u64,
    /// Time inside those polls, ms.
    pub busy_ms: f64,
    /// Polls at least the slow-poll threshold long.
    pub slow_polls: u64,
    /// Duration of each poll.
    pub poll_time: Option<LatencySummary>,
}

/// The tokio runtime and the process over a measured window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuntimeSection {
    /// The phase measured.
    pub phase: String,
    /// Worker threads.
    pub workers: usize,
    /// Most alive tasks seen.
    pub alive_tasks_max: u64,
    /// Mean alive tasks over the samples.
    pub alive_tasks_mean: f64,
    /// Deepest global (injection) queue seen.
    pub global_queue_depth_max: u64,
    /// Each worker over the window.
    pub per_worker: Vec<WorkerSection>,
    /// Process CPU over the window, % of one core (200 = two cores busy).
    pub process_cpu_percent: Option<f64>,
    /// Process user CPU time over the window, s.
    pub process_user_s: Option<f64>,
    /// Process system CPU time over the window, s.
    pub process_system_s: Option<f64>,
    /// Largest resident set seen, MiB.
    pub process_rss_max_mb: Option<f64>,
    /// Most threads seen.
    pub process_threads_max: Option<u64>,
    /// Over time: `alive_tasks`, `global_queue_depth`, `worker_busy_ratio` (mean of workers),
    /// `parks_per_second`, `process_cpu_percent`, `rss_mb`, `threads`.
    pub series: TimeSeries,
}

/// One runtime worker over the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkerSection {
    /// Worker index.
    pub index: usize,
    /// Busy time / window.
    pub busy_ratio: f64,
    /// Times it parked.
    pub park_count: u64,
    /// Times it parked or unparked.
    pub park_unpark_count: u64,
}

//! Probes that watch a phase's measured window from the outside: CPU profile (pprof), heap
//! (tracking allocator + jemalloc), event-loop lag (every poll of every pipeline task timed), runtime and
//! process metrics. The sampler thread drives them; none runs on the pipeline's hot path except
//! the per-poll instrumentation of the lag probe and the allocator's counting.

pub(crate) mod cpu;
pub(crate) mod heap;
pub(crate) mod heap_profile;
pub(crate) mod lag;
pub(crate) mod poll_hooks;
pub(crate) mod process;
pub(crate) mod runtime;
pub(crate) mod series;

pub use lag::Instrumented;
pub use poll_hooks::PollHooks;
pub use series::TimeSeries;

/// Everything the probes of one phase produced.
#[derive(Debug, Default)]
pub(crate) struct ProbeOutcome {
    /// Process CPU time over the window (always measured: one `getrusage` at each end) and the
    /// messages finished in it.
    pub(crate) window_cpu: Option<(std::time::Duration, u64)>,
    /// Share of the machine's CPU time the host stole during the window, percent (Linux).
    pub(crate) window_steal_pct: Option<f64>,
    pub(crate) cpu: Option<cpu::CpuWindow>,
    pub(crate) heap: Option<heap::HeapOutcome>,
    pub(crate) lag: Option<lag::LagOutcome>,
    pub(crate) runtime: Option<runtime::RuntimeOutcome>,
    /// The heap profile of the window, until it is symbolized after the phase.
    pub(crate) pending_heap_profile: Option<heap_profile::HeapProfile>,
    /// Gzipped pprof heap profile of the window, when asked for and available.
    pub(crate) heap_profile: Option<Vec<u8>>,
    pub(crate) warnings: Vec<String>,
}

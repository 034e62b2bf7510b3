//! Filling in `results.json`, whose types live in `perfgate-results`, the one contract between the
//! profiler and everything that reads its output. Field names keep those of the older `performance_results.json`
//! (`cpu.messages_per_second`, `cpu.avg_latency_ms`, ...) wherever they mean the same thing, so
//! existing thresholds keep working. Units are in the field names. `docs/results-schema.md`
//! describes every field.

mod assemble;
mod repetitions;

pub(crate) use assemble::assemble;
pub use perfgate_results::{
    Artifact, AsyncioSection, CacheSection, CpuSection, Environment, ErrorsSection, FanoutSection,
    FunctionShare, LatencySection, LeakSection, LimitSection, MemorySection, OverheadPair, OverheadSection,
    PhaseSection, PipelineSection, ProcessSection, ProfilerSection, RepetitionsSection, Results,
    RuntimeSection, SCHEMA_VERSION, SlowPollSite, Spread, StageSection, SubscriberSection, TaskPollsSection,
    ToolInfo, WorkerSection,
};
pub(crate) use repetitions::{key_figures, summarise as summarise_repetitions};

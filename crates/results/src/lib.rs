//! The results contract of perfgate, in one place.
//!
//! - the types of `results.json` ([`Results`] and its sections), which the profiler writes and
//!   everything else reads through serde;
//! - the [`catalogue`] of metric ids: unit, direction, meaning, JSON location, how to read it and
//!   its noise floor;
//! - [`read::parse`], which reads a file into [`Results`] and [`validate`]s it, naming the JSON
//!   pointer of the first problem;
//! - [`judge`], the one rule for "improved / regressed / unchanged" that the report's baseline
//!   check, `compare` and `trend` share;
//! - [`sweep::analyse`], the one rule for "the best value of a knob" that `cargo xtask sweep` and
//!   the profiler's library sweep share.
//!
//! It depends on serde, indexmap for ordered maps and perfgate-stats (a leaf: the median's
//! interval) alone: the profiler, the report and xtask depend on it, never the other way round.
//!
//! Layout rules: `schema_version` is the first field; additive changes keep it (new fields are
//! `Option` or `#[serde(default)]`, so older files still read), renames or changes of meaning
//! bump it; unknown fields are ignored, so a newer writer's file still reads. A figure that was
//! not measured is `null`, never 0.

mod capacity;
pub mod catalogue;
pub mod chaos;
pub mod database;
mod error;
mod example;
pub mod instructions;
pub mod judge;
mod probes;
mod profiler;
pub mod read;
mod repetitions;
mod run;
mod sections;
mod series;
mod summary;
pub mod sweep;
pub mod validate;

pub use capacity::{CapacitySection, CapacityStep};
pub use catalogue::{Better, METRICS, MetricDef, Source, metric};
pub use chaos::{ChaosBand, ChaosScenario, ChaosSection, ChaosTimeline};
pub use database::{DatabaseOutage, DatabasePool, DatabaseSection, DatabaseServerView, DatabaseStatus};
pub use error::{ReadError, escape_pointer_key};
pub use example::example_with;
pub use instructions::InstructionsSection;
pub use probes::{
    AsyncioSection, FunctionShare, LeakSection, MemorySection, RuntimeSection, SlowPollSite,
    TaskPollsSection, WorkerSection,
};
pub use profiler::{OverheadPair, OverheadSection, ProfilerSection};
pub use repetitions::{RepetitionsSection, Spread};
pub use run::{Artifact, Environment, Results, SCHEMA_VERSION, ToolInfo};
pub use sections::{
    CacheSection, CpuSection, ErrorsSection, FanoutSection, LatencySection, LimitSection, PhaseSection,
    PipelineSection, ProcessSection, StageSection, SubscriberSection,
};
pub use series::TimeSeries;
pub use summary::{DepthSummary, LatencySummary, ServiceTimeSummary};
pub use sweep::{
    SweepFigure, SweepMetric, SweepParam, SweepPoint, SweepRecommendation, SweepRun, SweepSection,
};

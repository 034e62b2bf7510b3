//! Where live figures go while a run is under way (`--serve-metrics`): the interface the
//! pipeline's terminals and the lag sampler report to, defined here, below both, so that neither
//! needs to know the endpoint that implements it (`live::LiveMetrics`).
//!
//! The driver takes the sink from `RunConfig::live` and hands it to
//! each terminal and to the lag sampler when it builds them, and tells it the phases as it tells
//! the caller's [`Observer`]. Without a sink the message path pays one branch per measured batch.

use std::fmt;

use crate::observer::Observer;

/// Receives live figures during a run. Called on the pipeline's hot path (once per measured
/// batch) and from the sampler thread, so implementations should only do relaxed atomic work.
///
/// As an [`Observer`] it also hears the phases start and end and the progress, so it can tell
/// which phase a latency belongs to.
pub trait LiveSink: Observer + Send + Sync + fmt::Debug {
    /// A measured batch's messages all finished at `finished_ns`; each started at one of
    /// `started_ns` (both on the run's clock, ns): their end-to-end latencies are the
    /// differences.
    fn record_latencies(&self, finished_ns: u64, started_ns: &[u64]);

    /// The longest task poll of the last moment (about 10 ms), ns; while the lag probe runs.
    fn record_longest_poll(&self, poll_ns: u64);
    /// A stage rejected `count` messages (their kinds are in the run's results). Called from the
    /// stage workers, once per batch that had any; the default ignores them.
    fn record_errors(&self, _count: u64) {}
}

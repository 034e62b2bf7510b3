//! Live metrics while a run is under way, for Prometheus to scrape (`--serve-metrics ADDR`):
//! messages finished and the recent throughput, end-to-end latency as a histogram per phase, the
//! longest task poll of the last second or two (event-loop lag), live heap bytes and the
//! process's resident memory and CPU time.
//!
//! The figures arrive through the run's [`LiveSink`](crate::live_sink::LiveSink): the caller puts a
//! [`LiveMetrics`] in [`RunConfig::live`](crate::config::RunConfig::live), and the driver hands it to the
//! pipeline's terminals and the lag sampler when it builds them, so nothing on the message path
//! looks anything up. Recording is one relaxed atomic add per measured message.
//!
//! [`serve`] answers `GET /metrics` with the Prometheus text format (version 0.0.4), on its own
//! thread, concurrently, each connection within a deadline, at most [`MAX_CONNECTIONS`] at once,
//! rendering at most every [`RENDER_INTERVAL`] and accepting at most [`MAX_ACCEPTS_PER_SECOND`].

mod exposition;
mod metrics;
mod render_cache;
mod server;

pub use metrics::{LATENCY_BUCKETS_S, LiveMetrics};
pub use server::{
    ACCEPT_BURST, MAX_ACCEPTS_PER_SECOND, MAX_CONNECTIONS, MetricsServer, RENDER_INTERVAL, REQUEST_DEADLINE,
    serve,
};

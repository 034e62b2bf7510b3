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
//! [`serve`] answers `GET /metrics` with the Prometheus text format (version 0.0.4).

mod exposition;
mod metrics;
mod server;

pub use metrics::{LATENCY_BUCKETS_S, LiveMetrics};
pub use server::{MetricsServer, serve};

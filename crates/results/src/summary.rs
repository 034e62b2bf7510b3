//! Distribution summaries written to results: latency percentiles (ms), per-message service time
//! (µs) and sampled counts such as queue depths.

use serde::{Deserialize, Serialize};

/// Latency percentiles in milliseconds, the unit the older tool's thresholds use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LatencySummary {
    /// Messages recorded.
    pub count: u64,
    /// Smallest latency, ms.
    pub min_ms: f64,
    /// Arithmetic mean, ms.
    pub mean_ms: f64,
    /// Standard deviation, ms.
    pub stddev_ms: f64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// 99.9th percentile, ms.
    pub p999_ms: f64,
    /// Largest latency, ms.
    pub max_ms: f64,
}

/// Per-message service time of a stage, in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceTimeSummary {
    /// Messages recorded.
    pub count: u64,
    /// Mean, µs.
    pub mean_us: f64,
    /// Median, µs.
    pub p50_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// Largest, µs.
    pub max_us: f64,
}

/// Distribution of a sampled count, such as messages waiting in a queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DepthSummary {
    /// Samples taken.
    pub samples: u64,
    /// Mean depth.
    pub mean: f64,
    /// Median depth.
    pub p50: u64,
    /// 99th percentile depth.
    pub p99: u64,
    /// Largest depth seen.
    pub max: u64,
}

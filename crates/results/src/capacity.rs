//! `--capacity SLO`: the highest offered rate the pipeline sustains while meeting a service-level
//! objective, found by an open-loop rate search, with every step it ran.

use serde::{Deserialize, Serialize};

/// The capacity at an SLO, and the steps of the search that found it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CapacitySection {
    /// The objective as given, e.g. `p99<=2ms`.
    pub slo: String,
    /// The highest offered rate that met the objective in every repeat of the final bracket,
    /// messages/s: the capacity at this SLO.
    pub max_rate_per_second: f64,
    /// The lowest offered rate that missed it (in most repeats), messages/s: the capacity lies
    /// between `max_rate_per_second` and this. `null` when no rate up to the search's ceiling
    /// missed (the capacity is at least `max_rate_per_second`).
    pub failed_rate_per_second: Option<f64>,
    /// Throughput flat out (the saturation phase the search starts from), messages/s.
    pub saturation_messages_per_second: f64,
    /// A step is sustained only if the pipeline finished at least this share of the offered
    /// rate over its window (a backlog that grows makes it smaller).
    pub min_achieved_ratio: f64,
    /// ... and rejected at most this percentage of its messages.
    pub max_error_rate_percent: f64,
    /// Each step's measured window, s.
    pub step_seconds: f64,
    /// The search stops bisecting when the bracket is this narrow, percent of its lower end.
    pub resolution_percent: f64,
    /// Every step, in the order run.
    pub steps: Vec<CapacityStep>,
    /// Wall time of the whole search, s.
    pub duration_seconds: f64,
}

/// One fixed-rate step of the search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CapacityStep {
    /// Why it ran: `step up`, `step down`, `bisect` or `repeat`.
    pub purpose: String,
    /// The offered (scheduled) rate, messages/s.
    pub offered_per_second: f64,
    /// The rate the pipeline finished messages at over the window, messages/s.
    pub achieved_per_second: f64,
    /// End-to-end latency from each message's intended send time, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// 99.9th percentile, ms.
    pub p999_ms: f64,
    /// Largest, ms.
    pub max_ms: f64,
    /// Rejected messages, percent of those generated.
    pub error_rate_percent: f64,
    /// Whether the step met the objective and was sustained.
    pub passed: bool,
    /// What it missed, when it did not pass (`p99 4.1 ms > 2 ms`, `achieved 93.0 % of offered`).
    pub missed: Vec<String>,
}

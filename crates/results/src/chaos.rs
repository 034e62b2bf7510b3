//! Chaos runs: a fault injected into a fixed-rate phase at a set time for a set duration, and
//! what the pipeline did before, during and after it — the steady-state band, the degraded
//! ratio, the recovery time, errors, drops, the backlog — with the timeline they were read from.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// The scenarios perfgate knows, by the name used in `chaos.<scenario>.*` metric ids: what each
/// injects.
pub const CHAOS_SCENARIOS: [(&str, &str); 6] = [
    (
        "slow_dependency",
        "a stage's dependency slows down: its processing takes ten times as long",
    ),
    ("error_burst", "a stage fails a share of its messages (20 %)"),
    (
        "subscriber_stall",
        "a subscriber stops taking deliveries, then disconnects (its queue is lost) and reconnects",
    ),
    (
        "blocked_worker",
        "synchronous work holds one runtime worker thread",
    ),
    (
        "stage_panic",
        "a stage panics on a message; its worker is replaced from the stage's factory",
    ),
    ("load_burst", "the offered rate triples, then returns"),
];

/// Every scenario that ran, by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChaosSection {
    /// The seed of the fault plans: the same seed gives the same fault times, strengths and
    /// injected errors, so two builds can be compared scenario by scenario.
    pub seed: u64,
    /// The rolling window the timeline and the band are read in, ms.
    pub window_ms: f64,
    /// The scenarios by name (a reader may see them in name order: JSON objects have none).
    pub scenarios: IndexMap<String, ChaosScenario>,
}

/// One scenario's run: its fault and what the pipeline did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChaosScenario {
    /// What was injected, in words.
    pub fault: String,
    /// The stage or subscriber it hit; `null` for the whole pipeline.
    pub target: Option<String>,
    /// Its strength: the slowdown factor, the share of messages failed, the load factor.
    pub strength: f64,
    /// The fixed rate offered outside the fault, messages/s.
    pub offered_per_second: f64,
    /// When the fault began, s from the start of the measured window.
    pub fault_start_s: f64,
    /// When it ended, s from the start of the measured window.
    pub fault_end_s: f64,
    /// The measured window's length, s.
    pub window_s: f64,
    /// The steady state before the fault.
    pub band: ChaosBand,
    /// Throughput during the fault over the band's median (1 = unaffected).
    pub degraded_throughput_ratio: f64,
    /// p99 during the fault over the band's median p99 (1 = unaffected); `null` when nothing
    /// finished during the fault.
    pub degraded_p99_ratio: Option<f64>,
    /// Whether throughput and p99 came back inside the band after the fault and stayed there
    /// until the window's end.
    pub recovered: bool,
    /// From the fault's end until both were back inside the band for good, s; `null` when they
    /// did not come back within the run ("did not recover").
    pub recovery_s: Option<f64>,
    /// Messages rejected during the whole phase, by kind.
    pub errors_by_kind: IndexMap<String, u64>,
    /// Deliveries to subscribers dropped during the phase (full or lost queues).
    pub dropped_deliveries: u64,
    /// The most messages waiting in the pipeline at once (generated, not yet finished).
    pub backlog_peak: u64,
    /// From the fault's end until the backlog was back at its level before the fault, s; `null`
    /// when it was not within the run.
    pub backlog_drain_s: Option<f64>,
    /// Messages generated in the phase (warm-up included).
    pub generated: u64,
    /// ... that completed the last stage.
    pub processed: u64,
    /// ... that a stage rejected (the injected errors and panics included).
    pub errors: u64,
    /// The timeline the figures are read from.
    pub timeline: ChaosTimeline,
}

/// The steady state before the fault: each figure's median over the windows before it, and the
/// band around it that counts as "back to normal".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChaosBand {
    /// Windows it was read from.
    pub windows: usize,
    /// Median throughput, messages/s.
    pub throughput_median: f64,
    /// The band's lower edge, messages/s.
    pub throughput_low: f64,
    /// Its upper edge, messages/s: a pipeline still draining a backlog finishes more than it is
    /// offered, and is not back to its steady state yet.
    pub throughput_high: f64,
    /// Median of the windows' p99, ms.
    pub p99_median_ms: f64,
    /// The band's upper edge, ms.
    pub p99_high_ms: f64,
}

/// The phase window by window: each column as long as `t_s`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChaosTimeline {
    /// Each window's end, s from the start of the measured window.
    pub t_s: Vec<f64>,
    /// Messages finished in the window, per second.
    pub throughput: Vec<f64>,
    /// p99 latency of the messages finished in the window, ms; `null` when none finished.
    pub p99_ms: Vec<Option<f64>>,
    /// Messages waiting in the pipeline at the window's end.
    pub backlog: Vec<f64>,
}

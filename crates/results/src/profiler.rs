//! The profiler's view of itself: which probes ran and what they cost (`profiler`).

use serde::{Deserialize, Serialize};

/// Which probes ran, and what they cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfilerSection {
    /// Probes that ran, comma separated (`none` if none).
    pub probes: String,
    /// Measured cost of the probes, when `--overhead` asked for it.
    pub overhead: Option<OverheadSection>,
    /// Heap the CPU profiler holds for itself (its sample table and symbol tables), MiB. It is
    /// left out of the `memory` figures.
    pub cpu_probe_heap_mb: Option<f64>,
    /// Resident memory the CPU profiler added when it first started, MiB; it is part of
    /// `process.peak_rss_mb`.
    pub cpu_probe_rss_mb: Option<f64>,
}

/// The probes' cost, from runs with all probes off and on, interleaved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OverheadSection {
    /// Pairs of runs (probes off, probes on) measured.
    pub pairs: usize,
    /// Order of the runs (e.g. `ABBA`: off, on, on, off, ...).
    pub order: String,
    /// Median over pairs of throughput with probes / without (1.0 = no cost).
    pub throughput_ratio: f64,
    /// 95 % bootstrap interval of that median: how well this machine's noise lets the ratio be
    /// known.
    pub throughput_ratio_ci95: (f64, f64),
    /// Median over pairs of the process CPU time per message at saturation with probes /
    /// without (1.0 = no cost): the probes' cost in CPU, which time the host steals from the
    /// virtual machine does not blur (it is not charged to the process), unlike throughput.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_per_message_ratio: Option<f64>,
    /// 95 % bootstrap interval of that median.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_per_message_ratio_ci95: Option<(f64, f64)>,
    /// Interquartile range of the per-pair p99 ratios: how much a single pair's p99 says.
    pub p99_pair_ratio_iqr: (f64, f64),
    /// Median of the per-pair p99 ratios (on / off): the p99 cost to read. A host episode that
    /// pushes a few runs into overload (hundreds of ms of latency) moves it by a few pairs' worth,
    /// where it decides the pooled ratio outright.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_pair_ratio_median: Option<f64>,
    /// 95 % bootstrap interval of that median.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_pair_ratio_ci95: Option<(f64, f64)>,
    /// Fixed-rate p99 latency with probes / without, each the p99 of all messages of all runs of
    /// that side pooled. Owned by whichever side a host episode hit hardest: read
    /// `p99_pair_ratio_median` for the probes' cost.
    pub p99_ratio: f64,
    /// 95 % bootstrap interval of `p99_ratio`, resampling pairs: the range the pooled ratio
    /// would span had other pairs been drawn from the same machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ratio_ci95: Option<(f64, f64)>,
    /// Pooled fixed-rate p99 without probes, ms.
    pub p99_off_ms: f64,
    /// Pooled fixed-rate p99 with probes, ms.
    pub p99_on_ms: f64,
    /// The fixed rate both sides ran at, msg/s.
    pub rate_per_second: f64,
    /// Share of the machine's CPU time the hypervisor took during all the pairs, percent
    /// (Linux): what blurs the throughput and p99 ratios, but not the CPU-per-message one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_steal_pct: Option<f64>,
    /// The probes of the "on" side.
    pub probes: String,
    /// Each pair: throughput off/on, p99 off/on.
    pub runs: Vec<OverheadPair>,
}

/// One pair of overhead runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OverheadPair {
    /// Saturation throughput without probes, msg/s.
    pub throughput_off: f64,
    /// Saturation throughput with probes, msg/s.
    pub throughput_on: f64,
    /// Fixed-rate p99 without probes, ms.
    pub p99_off_ms: f64,
    /// Fixed-rate p99 with probes, ms.
    pub p99_on_ms: f64,
    /// Process CPU time per message at saturation without probes, ns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ns_per_message_off: Option<f64>,
    /// Process CPU time per message at saturation with probes, ns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ns_per_message_on: Option<f64>,
    /// Host steal during the fixed-rate window without probes, percent (Linux).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_steal_pct_off: Option<f64>,
    /// Host steal during the fixed-rate window with probes, percent (Linux).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_steal_pct_on: Option<f64>,
}

//! `--repeat N`: every repetition's key figures and their spread.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every repetition's key figures and their spread.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepetitionsSection {
    /// Repetitions, the first (the full run whose sections fill the rest of the file) included.
    pub count: usize,
    /// How the repetitions were run (fresh pipelines, warm-up, fixed rate).
    pub policy: String,
    /// Each repetition's key figures by metric id (`cpu.messages_per_second`, `latency.p99_ms`, ...).
    pub runs: Vec<BTreeMap<String, f64>>,
    /// Per metric id, the spread over the repetitions.
    pub summary: BTreeMap<String, Spread>,
}

/// The spread of one figure over the repetitions.
#[derive(Debug, Clone, Default, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Spread {
    /// Median.
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Median absolute deviation from the median.
    pub mad: f64,
    /// `1.4826 · MAD / median` in percent: a robust coefficient of variation.
    pub robust_cv_percent: f64,
}

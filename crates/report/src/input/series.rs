//! The probes' time series as the report reads them: per phase, columns of values over time.

use std::collections::BTreeMap;

/// A time series as the profiler writes it: sample times and value columns of the same length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Sample times from the start of the phase's measured window, ms.
    pub t_ms: Vec<f64>,
    /// Value columns by name (`live_mb`, `lag_max_ms`, `rss_mb`, ...), each as long as `t_ms`;
    /// a `null` sample is NaN.
    pub columns: BTreeMap<String, Vec<f64>>,
}

impl Series {
    /// Whether it has no sample.
    pub fn is_empty(&self) -> bool {
        self.t_ms.is_empty()
    }

    /// A column as `(t_ms, value)` pairs; empty if the series has no such column.
    pub fn points(&self, column: &str) -> Vec<(f64, f64)> {
        self.columns.get(column).map_or_else(Vec::new, |values| {
            self.t_ms.iter().copied().zip(values.iter().copied()).collect()
        })
    }

    /// A counter column as a rate per second: its increase over each interval divided by the
    /// interval's length, at the interval's end. Intervals of no length, and decreases (a reset),
    /// give no point.
    pub fn rate(&self, column: &str) -> Vec<(f64, f64)> {
        self.points(column)
            .windows(2)
            .filter_map(|pair| {
                let ((t0, v0), (t1, v1)) = (pair[0], pair[1]);
                let seconds = (t1 - t0) / 1_000.0;
                (seconds > 0.0 && v1 >= v0).then(|| (t1, (v1 - v0) / seconds))
            })
            .collect()
    }
}

/// The time series of one phase's measured window (`phases.<name>.{memory,asyncio,runtime}.series`,
/// or the top-level sections' in files without per-phase ones).
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseSeries {
    /// The phase: `saturation`, `fixed_rate`, ...
    pub phase: String,
    /// The heap probe's: `live_mb`, `resident_mb`, `messages` (finished so far).
    pub memory: Series,
    /// The lag probe's: `lag_max_ms` (longest poll per interval).
    pub asyncio: Series,
    /// The runtime probe's: `alive_tasks`, `global_queue_depth`, `worker_busy_ratio`,
    /// `parks_per_second`, `process_cpu_percent`, `rss_mb`, `threads`.
    pub runtime: Series,
    /// Heap in use when the window started, MiB.
    pub heap_baseline_mb: Option<f64>,
    /// Highest heap in use during the window (the true peak, not the samples' maximum), MiB.
    pub heap_peak_mb: Option<f64>,
}

impl PhaseSeries {
    pub(crate) fn new(phase: &str) -> Self {
        PhaseSeries {
            phase: phase.to_owned(),
            memory: Series::default(),
            asyncio: Series::default(),
            runtime: Series::default(),
            heap_baseline_mb: None,
            heap_peak_mb: None,
        }
    }

    /// Whether no probe left a series.
    pub fn is_empty(&self) -> bool {
        self.memory.is_empty() && self.asyncio.is_empty() && self.runtime.is_empty()
    }
}

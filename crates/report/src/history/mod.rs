//! Benchmark history and trends: `cargo xtask bench` appends one JSON line per run (metadata and
//! every metric) to a history file, and the trend analysis reads it back to say, per metric,
//! which way it is heading and which runs stand out. Rendering lives in `render::trend`; the
//! file format and the rules are described in `docs/history.md`.
//!
//! ```no_run
//! use std::path::Path;
//! use perfgate_report::history::{self, TrendOptions};
//!
//! let history = history::read(Path::new(history::DEFAULT_HISTORY))?;
//! let trend = history::analyze(&history, &TrendOptions::default());
//! println!("{}", perfgate_report::render::trend::console(&trend));
//! # Ok::<(), perfgate_report::ReportError>(())
//! ```

mod record;
pub mod shared;
mod store;
mod trend;

pub use record::{HISTORY_SCHEMA_VERSION, HistoryRecord};
pub use store::{
    DEFAULT_HISTORY, History, HistoryEntry, Lines, append, append_line, parse_json, read, read_lines,
};
pub use trend::{
    DEFAULT_RUNS, MIN_R_SQUARED, MIN_RUNS, MetricTrend, OUTLIER_SIGMAS, Outlier, Trend, TrendOptions,
    TrendVerdict, Window, analyze,
};

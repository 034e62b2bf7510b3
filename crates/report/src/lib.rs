//! perfgate's report: reads results (perfgate's `results.json`, or the older Python tool's
//! `performance_results.json`), evaluates them against thresholds (`thresholds/*.toml`) and an
//! optional baseline, and renders a Markdown report, an HTML page with charts (also written as SVG
//! files for the Markdown report to show), a console summary and a JSON verdict.
//!
//! The pipeline is `load` → `evaluate` (pure) → [`Report`] → renderers:
//!
//! ```no_run
//! use std::path::Path;
//! use perfgate_report::{Report, ReportOptions, Thresholds, load_results, render};
//!
//! let results = load_results(Path::new("target/perfgate/latest/results.json"))?;
//! let thresholds = Thresholds::from_path(Path::new("thresholds/default.toml"))?;
//! let report = Report::new(results, &thresholds, None, ReportOptions {
//!     now: std::time::SystemTime::now(),
//!     evaluate: Default::default(),
//!     flamegraph_link: None,
//! });
//! println!("{}", render::markdown::render(&report));
//! # Ok::<(), perfgate_report::ReportError>(())
//! ```

pub mod cli;
pub mod compare;
mod confine;
mod error;
pub mod evaluate;
pub mod fuzz;
pub mod history;
pub mod input;
mod input_file;
pub mod loadtest;
mod markdown_escape;
pub mod metric;
mod model;
mod output;
mod reading;
pub mod recommend;
pub mod render;
pub mod thresholds;

pub use error::{ReportError, Result};
pub use evaluate::{Check, Comparison, EvaluateOptions, Evaluation, Movement, Status, evaluate};
pub use input::{RunData, load_results, parse_results};
pub use model::{Report, ReportOptions};
pub use output::{OutputSet, write_atomic};
pub use thresholds::{Limit, Threshold, Thresholds};

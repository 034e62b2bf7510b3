//! What the Markdown report and the HTML page show in their tables, computed once for both: which
//! rows a section has, their labels, their figures as text (and the shares the page draws as
//! bars), and their order. Each renderer marks these up and escapes them its own way; nothing
//! here knows Markdown or HTML. This module holds the cells every table is made of; `frame.rs` the
//! rows of the summary, the environment and the appendix, `run.rs` those of the in-process
//! sections, and `load_tests.rs` those of the "Load tests" section. The Trend section's rows are
//! `render/trend.rs`'s, beside the console table that shares them.

mod frame;
mod load_tests;
mod run;

pub(super) use self::frame::{
    TALLIED, all_within_target, checks, environment, files, gated_regressions, tally, verdict,
};
pub(super) use self::load_tests::{
    ENDPOINT_FIGURES, EndpointCells, HISTORY_COLUMNS, endpoint_groups, endpoint_totals, failures, history,
    history_heading, load_test_runs,
};
pub(super) use self::run::{
    Errors, cache, cpu, database, errors, event_loop, latency, memory, profile, stages,
};

/// The content of a table cell, for each renderer to mark up its own way.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    /// Plain text.
    Text(String),
    /// Code (a commit), then plain text.
    Code(String, &'static str),
    /// A word in bold, then plain text: the leak's "**suspected**: …".
    Strong(&'static str, String),
}

/// A two-column table: labels and their values.
pub(super) type Rows = Vec<(&'static str, Cell)>;

/// What the row modules' tests share: a run from JSON, and a table's labels.
#[cfg(test)]
mod test_support {
    use std::path::Path;

    use super::Rows;
    use crate::input::RunData;

    pub(super) fn run(json: &str) -> RunData {
        crate::input::parse_results(Path::new("r.json"), json).unwrap()
    }

    pub(super) fn labels(rows: &Rows) -> Vec<&str> {
        rows.iter().map(|(label, _)| *label).collect()
    }
}

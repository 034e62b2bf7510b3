//! What the row modules' tests share: a run from JSON, and a table's labels.

use std::path::Path;

use super::cell::Rows;
use crate::input::RunData;

/// A run read from results JSON.
pub(super) fn run(json: &str) -> RunData {
    crate::input::parse_results(Path::new("r.json"), json).unwrap()
}

/// A table's labels, in order.
pub(super) fn labels(rows: &Rows) -> Vec<&str> {
    rows.iter().map(|(label, _)| *label).collect()
}

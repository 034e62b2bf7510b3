//! What the Markdown report and the HTML page show in their tables, computed once for both: which
//! rows a section has, their labels, their figures as text (and the shares the page draws as
//! bars), and their order. Each renderer marks these up and escapes them its own way; nothing
//! here knows Markdown or HTML. `cell.rs` holds the cells every table is made of; `frame.rs` the
//! rows of the summary, the environment and the appendix, `run.rs` those of the in-process
//! sections (and the older files' database), `capacity.rs` those of the capacity search,
//! `sweep.rs` those of a sweep, `chaos.rs` those of the chaos runs, `database.rs` those of a
//! PostgreSQL reference store, and `load_tests.rs` those of the "Load tests" section. The Trend
//! section's rows are `render/trend.rs`'s, beside the console table that shares them.

mod capacity;
mod cell;
mod chaos;
mod database;
mod frame;
mod load_tests;
mod run;
mod sweep;
#[cfg(test)]
mod test_support;

pub(super) use self::capacity::capacity;
pub(super) use self::cell::Cell;
pub(super) use self::chaos::{DID_NOT_RECOVER, chaos};
pub(super) use self::database::{database, summary_line as database_line};
pub(super) use self::frame::{
    TALLIED, all_within_target, checks, environment, files, gated_regressions, tally, verdict,
};
pub(super) use self::load_tests::{
    ENDPOINT_FIGURES, EndpointCells, HISTORY_COLUMNS, endpoint_groups, endpoint_totals, failures, history,
    history_heading, load_test_runs,
};
pub(super) use self::run::{
    Errors, cache, cpu, errors, event_loop, latency, legacy_database, memory, profile, stages,
};
pub(super) use self::sweep::sweep;

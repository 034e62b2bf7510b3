//! Fuzzing every reader of the report (issue 15): structure-aware mutations of the real files in
//! the tree, fed to each reader as the command line reaches it and, when accepted, through the
//! evaluation and every renderer. A reader must accept an input or refuse it with a
//! [`ReportError`](crate::ReportError); a panic, a case slower than its budget or an abort of the
//! process is a bug. `tests/fuzz.rs` runs a few thousand cases; `cargo xtask fuzz` runs a million
//! in a child process (see `docs/fuzzing.md`).
//!
//! Stable Rust only: the generator is `perfgate-stats`' seeded one, so a case is its seed.

mod mutate;
mod reader;
mod runner;
mod seeds;
mod target;

pub use mutate::{MAX_INPUT, case_seed, generate};
pub use reader::{Format, Reader};
pub use runner::{
    Case, CaseFn, Failure, Problem, Progress, ReaderCounts, RunOptions, STACK_BYTES, Slowest, Summary,
    guarded, read_in_flight, run,
};
pub use seeds::Seeds;
pub use target::{Outcome, Scratch, Target};

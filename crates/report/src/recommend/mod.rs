//! Recommendations computed from the data: each names what was measured and what to do about
//! it. Pure: reads the run, its load tests, its evaluation and the rules' cut-offs
//! ([`RecommendationRules`], the thresholds file's `[recommendations]` table) only.
//!
//! A recommendation is data ([`Recommendation`] in `data.rs`, its [`Figure`]s in `figure.rs`),
//! not text: each renderer writes it its own way. Every rule reads `Evidence` (`evidence.rs`);
//! the rules' tests share the helpers of `test_support.rs`. The rules are one module per subject:
//! `load_tests.rs` (failing endpoints, slow endpoints), `cpu.rs` (throughput and perfgate's
//! harness, using `origin.rs` to tell the user's code from perfgate's), `stages.rs` (the
//! bottleneck), `runtime.rs` (event-loop lag), `memory.rs` (heap growth), `workload.rs` (cache,
//! rejected messages, dropped deliveries), `database.rs` (a connection pool too small for its
//! load, failed queries and outages of a PostgreSQL reference store) and `trust.rs` (regressions
//! against the baseline, debug builds).

mod cpu;
mod data;
mod database;
mod evidence;
mod figure;
mod load_tests;
mod memory;
mod origin;
mod runtime;
mod stages;
#[cfg(test)]
mod test_support;
mod trust;
mod workload;

pub use self::data::{Part, Recommendation, Severity, Topic};
use self::evidence::Evidence;
pub use self::figure::{Figure, Notation, Unit};
use crate::evaluate::Evaluation;
use crate::input::RunData;
use crate::loadtest::LoadTest;
use crate::thresholds::RecommendationRules;

/// Recommendations for a run and its load tests, most important first, speaking up at the
/// cut-offs of `rules`.
pub fn recommend(
    run: &RunData,
    load_tests: &[LoadTest],
    evaluation: &Evaluation,
    rules: &RecommendationRules,
) -> Vec<Recommendation> {
    let evidence = Evidence {
        run,
        load_tests,
        evaluation,
        rules,
    };
    let mut out = load_tests::findings(&evidence);
    out.extend(cpu::throughput(&evidence));
    out.extend(cpu::harness(&evidence));
    out.extend(stages::bottleneck(&evidence));
    out.extend(runtime::event_loop(&evidence));
    out.extend(memory::growth(&evidence));
    out.extend(workload::cache(&evidence));
    out.extend(workload::rejected(&evidence));
    out.extend(workload::dropped(&evidence));
    out.extend(database::pool(&evidence));
    out.extend(database::faults(&evidence));
    out.extend(trust::regressions(&evidence));
    out.extend(trust::debug_build(&evidence));
    out
}

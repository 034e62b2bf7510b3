//! Recommendations computed from the data: each names what was measured and what to do about
//! it. Pure: reads the run, its load tests, its evaluation and the rules' cut-offs
//! ([`RecommendationRules`], the thresholds file's `[recommendations]` table) only.
//!
//! A recommendation is data ([`Recommendation`] in `data.rs`, its [`Figure`]s in `figure.rs`),
//! not text: each renderer writes it its own way. The rules are one module per subject:
//! `load_tests.rs` (failing endpoints, slow endpoints), `cpu.rs` (throughput and perfgate's
//! harness, using `origin.rs` to tell the user's code from perfgate's), `stages.rs` (the
//! bottleneck), `runtime.rs` (event-loop lag), `memory.rs` (heap growth), `workload.rs` (cache,
//! rejected messages, dropped deliveries) and `trust.rs` (regressions against the baseline, debug
//! builds).

mod cpu;
mod data;
mod figure;
mod load_tests;
mod memory;
mod origin;
mod runtime;
mod stages;
mod trust;
mod workload;

pub(crate) use self::data::Parts;
pub use self::data::{Part, Recommendation, Severity, Topic};
pub use self::figure::{Figure, Notation, Unit};
// `compare/markdown.rs` takes its code spans from here, where they were written before Markdown
// escaping had a module of its own.
use crate::evaluate::{Evaluation, Status};
use crate::input::RunData;
use crate::loadtest::LoadTest;
pub(crate) use crate::markdown_escape::code;
use crate::thresholds::RecommendationRules;

/// What the rules read: the run, its load tests, its evaluation and the cut-offs.
#[derive(Debug, Clone, Copy)]
struct Evidence<'a> {
    run: &'a RunData,
    load_tests: &'a [LoadTest],
    evaluation: &'a Evaluation,
    rules: &'a RecommendationRules,
}

impl Evidence<'_> {
    /// The run's value of a metric.
    fn metric(&self, id: &str) -> Option<f64> {
        self.run.metrics.get(id).copied()
    }

    /// The verdict of a metric's threshold, if it has one.
    fn status(&self, id: &str) -> Option<Status> {
        self.evaluation
            .checks
            .iter()
            .find(|check| check.id == id)
            .map(|check| check.status)
    }

    /// Whether a metric's threshold warns or fails.
    fn concerning(&self, id: &str) -> bool {
        matches!(self.status(id), Some(Status::Warn | Status::Fail))
    }

    /// [`Severity::Act`] when the threshold of one of `ids` fails, else [`Severity::Warn`].
    fn act_if_failed(&self, ids: &[&str]) -> Severity {
        if ids.iter().any(|id| self.status(id) == Some(Status::Fail)) {
            Severity::Act
        } else {
            Severity::Warn
        }
    }
}

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
    out.extend(trust::regressions(&evidence));
    out.extend(trust::debug_build(&evidence));
    out
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Runs the rules on a results text and a thresholds text, and reads recommendations back as
    //! one line of text each.

    use std::path::Path;

    use super::*;
    use crate::evaluate::{EvaluateOptions, evaluate};
    use crate::input::parse_results;
    use crate::thresholds::Thresholds;

    /// The recommendations for a results file and a thresholds file, given as text.
    pub(crate) fn recommendations(results: &str, thresholds: &str) -> Vec<Recommendation> {
        let run = parse_results(Path::new("r.json"), results).unwrap();
        let thresholds = Thresholds::parse(Path::new("t.toml"), thresholds).unwrap();
        let evaluation = evaluate(&run, &thresholds, None, EvaluateOptions::default());
        recommend(&run, &[], &evaluation, &thresholds.recommendations)
    }

    /// The recommendation on `topic`, if there is one.
    pub(crate) fn on(found: &[Recommendation], topic: Topic) -> Option<&Recommendation> {
        found.iter().find(|recommendation| recommendation.topic == topic)
    }

    /// A recommendation's text on one line, code spans in backticks.
    pub(crate) fn words(recommendation: &Recommendation) -> String {
        recommendation
            .parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.clone(),
                Part::Code(code) => format!("`{code}`"),
                Part::Figure(figure) => figure.text(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn lag_leak_cache_and_bottleneck_are_recognised_in_order() {
        let found = recommendations(
            r#"{"schema_version":1,
                "asyncio":{"event_loop_lag_ms":4.2,"lag":{"max_ms":5.0},"slow_polls":30},
                "memory":{"delta_mb":20.0,"leak_suspected":true,"leak":{"bytes_per_message":1024}},
                "cache":{"hit_rate":0.5},
                "stages":{"decode":{"index":0,"workers":1,"busy_ratio":0.97,"queue_depth":{"p99":1000},"queue_capacity":1024},
                          "enrich":{"index":1,"workers":1,"busy_ratio":0.3}}}"#,
            "",
        );
        let topics: Vec<Topic> = found.iter().map(|r| r.topic).collect();
        assert_eq!(
            topics,
            [Topic::Bottleneck, Topic::EventLoop, Topic::Memory, Topic::Cache]
        );
    }

    #[test]
    fn the_cut_offs_come_from_the_thresholds_file() {
        let run = r#"{"schema_version":1,"cache":{"hit_rate":0.5},"pipeline":{"efficiency":0.65}}"#;
        let topics = |thresholds: &str| -> Vec<Topic> {
            recommendations(run, thresholds).iter().map(|r| r.topic).collect()
        };
        assert_eq!(topics(""), [Topic::Throughput, Topic::Cache]);
        assert!(topics("[recommendations]\nefficiency_below = 0.6\ncache_hit_rate_below = 0.4\n").is_empty());
    }

    #[test]
    fn a_healthy_run_gets_none() {
        let found = recommendations(
            r#"{"schema_version":1,"cpu":{"messages_per_second":2000},"asyncio":{"event_loop_lag_ms":0.2},
                "cache":{"hit_rate":0.95},"errors":{"total":0},"pipeline":{"efficiency":0.9}}"#,
            "[metrics.\"cpu.messages_per_second\"]\nmin = 50\ntarget = 1000\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}

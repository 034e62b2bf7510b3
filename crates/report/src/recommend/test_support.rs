//! Test helpers for the rules: runs them all on a results text and a thresholds text, and reads
//! recommendations back as one line of text each. The tests of the whole set (its order, its
//! cut-offs) live here too, beside the helper they use.

use std::path::Path;

use super::data::{Part, Recommendation, Topic};
use super::recommend;
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

#[cfg(test)]
mod tests {
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

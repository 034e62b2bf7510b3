//! The bottleneck: the busiest stage, when it is busy nearly all the time or its queue is full
//! and the longest. Stage names come from the results file and go into code spans.

use super::data::{Parts, Recommendation, Severity, Topic};
use super::evidence::Evidence;
use super::figure::{Figure, Notation, Unit};
use crate::reading::busiest_stage;

/// The bottleneck finding, at the rules' busy and queue cut-offs.
pub(super) fn bottleneck(evidence: &Evidence<'_>) -> Option<Recommendation> {
    let run = evidence.run;
    let rules = evidence.rules;
    let stage = busiest_stage(run)?;
    let busy = stage.busy_ratio.unwrap_or(0.0);
    let queue_full = match (stage.queue_p99, stage.queue_capacity) {
        (Some(p99), Some(capacity)) if capacity > 0.0 => p99 >= rules.queue_full_at_least * capacity,
        _ => false,
    };
    let longest_queue = run
        .stages
        .iter()
        .filter_map(|s| s.queue_p99.map(|q| (q, s.name.as_str())))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .is_some_and(|(_, name)| name == stage.name);
    if !(busy >= rules.stage_busy_at_least || (queue_full && longest_queue)) {
        return None;
    }
    let figure = |metric: &str, value: f64, unit: Unit, notation: Notation| {
        Figure::new(metric, value, unit, notation).of(&stage.name)
    };
    let mut parts = Parts::default()
        .text("Stage ")
        .code(&stage.name)
        .text(" is the bottleneck: busy ")
        .figure(figure(
            "stage.busy_ratio",
            busy,
            Unit::Ratio,
            Notation::Percentage(0),
        ))
        .text(" of the measured window per worker with ")
        .figure(figure(
            "stage.workers",
            stage.workers as f64,
            Unit::Workers,
            Notation::Fixed(0),
        ));
    if let (Some(p99), Some(capacity)) = (stage.queue_p99, stage.queue_capacity) {
        parts = parts
            .text(", its queue's p99 depth ")
            .figure(figure("stage.queue_p99", p99, Unit::Messages, Notation::Fixed(0)))
            .text(" of a capacity of ")
            .figure(figure(
                "stage.queue_capacity",
                capacity,
                Unit::Messages,
                Notation::Fixed(0),
            ));
    }
    Some(
        parts
            .text(". Give it more workers (")
            .code(format!("--workers {}={}", stage.name, stage.workers + 1))
            .text(") if it keeps no per-key state, or make it cheaper.")
            .into_recommendation(Topic::Bottleneck, Severity::Warn),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::test_support::{on, recommendations, words};

    #[test]
    fn a_saturated_stage_is_the_bottleneck() {
        let found = recommendations(
            r#"{"schema_version":1,"stages":{
                "decode":{"index":0,"workers":1,"busy_ratio":0.97,"queue_depth":{"p99":1000},"queue_capacity":1024},
                "enrich":{"index":1,"workers":1,"busy_ratio":0.3}}}"#,
            "",
        );
        let text = words(on(&found, Topic::Bottleneck).unwrap());
        assert_eq!(
            text,
            "Stage `decode` is the bottleneck: busy 97 % of the measured window per worker with 1 worker(s), its \
             queue's p99 depth 1000 messages of a capacity of 1024 messages. Give it more workers \
             (`--workers decode=2`) if it keeps no per-key state, or make it cheaper."
        );
    }

    #[test]
    fn a_full_queue_counts_only_when_it_is_the_longest() {
        let stages = |enrich_queue: u32| {
            format!(
                r#"{{"schema_version":1,"stages":{{
                    "decode":{{"index":0,"workers":1,"busy_ratio":0.5,"queue_depth":{{"p99":95}},"queue_capacity":100}},
                    "enrich":{{"index":1,"workers":1,"busy_ratio":0.4,"queue_depth":{{"p99":{enrich_queue}}},"queue_capacity":1000}}}}}}"#
            )
        };
        assert!(on(&recommendations(&stages(10), ""), Topic::Bottleneck).is_some());
        assert!(on(&recommendations(&stages(500), ""), Topic::Bottleneck).is_none());
        // A stricter cut-off: 95 of 100 is no longer full.
        let strict = "[recommendations]\nqueue_full_at_least = 0.96\n";
        assert!(on(&recommendations(&stages(10), strict), Topic::Bottleneck).is_none());
    }
}

//! Findings on what the pipeline did with its messages: a cache that misses, rejected messages,
//! deliveries dropped for slow subscribers. Error kinds come from the results file and go into
//! code spans.

use super::data::{Parts, Recommendation, Severity, Topic};
use super::evidence::Evidence;
use super::figure::{Figure, Notation, Unit};

/// The cache finding, when the hit rate is below the rules' cut-off or its threshold warns or
/// fails.
pub(super) fn cache(evidence: &Evidence<'_>) -> Option<Recommendation> {
    let hit_rate = evidence.metric("cache.hit_rate")?;
    if !(hit_rate < evidence.rules.cache_hit_rate_below || evidence.concerning("cache.hit_rate")) {
        return None;
    }
    let mut parts = Parts::default()
        .text("The cache answers only ")
        .figure(Figure::new(
            "cache.hit_rate",
            hit_rate,
            Unit::Ratio,
            Notation::Percentage(1),
        ))
        .text(" of lookups");
    if let Some(capacity) = evidence.run.cache_capacity {
        parts = parts.text(" with a capacity of ").figure(Figure::new(
            "workload.cache_capacity",
            capacity as f64,
            Unit::Entries,
            Notation::Fixed(0),
        ));
    }
    Some(
        parts
            .text("; every miss goes to the slower reference store. Raise the capacity (")
            .code("--cache-capacity")
            .text(") towards the number of symbols that carry most of the traffic.")
            .into_recommendation(Topic::Cache, evidence.act_if_failed(&["cache.hit_rate"])),
    )
}

/// The rejected-messages finding, when any message was rejected.
pub(super) fn rejected(evidence: &Evidence<'_>) -> Option<Recommendation> {
    let total = evidence.metric("errors.total").filter(|&total| total > 0.0)?;
    let kinds = &evidence.run.errors_by_kind;
    let mut parts = Parts::default()
        .figure(Figure::new(
            "errors.total",
            total,
            Unit::Messages,
            Notation::Fixed(0),
        ))
        .text(" were rejected (");
    parts = if kinds.is_empty() {
        parts.text("kinds not recorded")
    } else {
        parts.join(kinds, ", ", |parts, (kind, &count)| {
            parts.code(kind).text(": ").figure(
                Figure::new("errors.by_kind", count as f64, Unit::Messages, Notation::Fixed(0)).of(kind),
            )
        })
    };
    Some(
        parts
            .text(
                "). If the input is not meant to contain them, find where they come from; if it is, make sure \
                 rejecting them is cheap.",
            )
            .into_recommendation(
                Topic::Errors,
                evidence.act_if_failed(&["errors.total", "error_rate.percent"]),
            ),
    )
}

/// The fan-out finding, when any delivery was dropped.
pub(super) fn dropped(evidence: &Evidence<'_>) -> Option<Recommendation> {
    let dropped = evidence
        .metric("fanout.dropped")
        .filter(|&dropped| dropped > 0.0)?;
    Some(
        Parts::default()
            .figure(Figure::new(
                "fanout.dropped",
                dropped,
                Unit::Deliveries,
                Notation::Fixed(0),
            ))
            .text(
                " were dropped because a subscriber's queue was full. At saturation that is expected for slow \
                 clients; if your subscribers should keep up, give them longer queues (",
            )
            .code("--subscriber-queue")
            .text(") or make delivery cheaper.")
            .into_recommendation(Topic::FanOut, Severity::Info),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::test_support::{on, recommendations, words};

    #[test]
    fn a_missing_cache_names_the_hit_rate_as_a_percentage() {
        let found = recommendations(r#"{"schema_version":1,"cache":{"hit_rate":0.5}}"#, "");
        let cache = on(&found, Topic::Cache).unwrap();
        assert!(words(cache).starts_with("The cache answers only 50.0 % of lookups;"));
        let figure = cache.figures().next().unwrap();
        assert_eq!((figure.metric.as_str(), figure.value), ("cache.hit_rate", 0.5));
    }

    #[test]
    fn rejected_messages_are_listed_by_kind() {
        let found = recommendations(
            r#"{"schema_version":1,"errors":{"total":5,"by_kind":{"bad json":3,"unknown symbol":2}}}"#,
            "",
        );
        let text = words(on(&found, Topic::Errors).unwrap());
        assert!(
            text.starts_with(
                "5 messages were rejected (`bad json`: 3 messages, `unknown symbol`: 2 messages)."
            ),
            "{text}"
        );
    }
}

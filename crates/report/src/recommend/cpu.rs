//! Throughput short of its target (or a pipeline that keeps too little of what its stages can
//! do): the hottest functions, and where most of the time goes.

use super::{Evidence, Figure, Notation, Parts, Recommendation, Topic, Unit};
use crate::input::FunctionRow;
use crate::reading::cpu_profile;

/// How many of the hottest functions the finding names.
const HOTTEST_NAMED: usize = 3;

/// The throughput finding, when throughput or efficiency concerns a threshold or efficiency is
/// below the rules' cut-off.
pub(super) fn throughput(evidence: &Evidence<'_>) -> Option<Recommendation> {
    let efficiency_low = evidence
        .metric("pipeline.efficiency")
        .is_some_and(|efficiency| efficiency < evidence.rules.efficiency_below);
    if !(evidence.concerning("cpu.messages_per_second")
        || evidence.concerning("pipeline.efficiency")
        || efficiency_low)
    {
        return None;
    }
    let severity = evidence.act_if_failed(&["cpu.messages_per_second", "pipeline.efficiency"]);
    let profile = cpu_profile(evidence.run);
    let throughput = evidence.metric("cpu.messages_per_second").map(|value| {
        Figure::new(
            "cpu.messages_per_second",
            value,
            Unit::MessagesPerSecond,
            Notation::Table,
        )
    });
    let start = Parts::default()
        .text("Throughput is ")
        .figure_or(throughput, "unknown");
    let hottest: Vec<&FunctionRow> = profile.functions.iter().take(HOTTEST_NAMED).collect();
    if hottest.is_empty() {
        return Some(
            start
                .text(
                    ", short of its target, and there is no CPU profile to say why: run with the cpu probe (",
                )
                .code("cargo xtask bench")
                .text(", on by default) and look at the flamegraph.")
                .into_recommendation(Topic::Throughput, severity),
        );
    }
    let mut parts = start.text(", short of its target.");
    // Where most of the time is spent, counting callees: only meaningful next to self times.
    if profile.by_self_time
        && let Some((row, percent)) = evidence
            .run
            .top_functions
            .first()
            .and_then(|row| row.inclusive_percent.map(|percent| (row, percent)))
    {
        parts = parts
            .text(" Most of the time is under ")
            .code(short(&row.function))
            .text(" (")
            .figure(
                Figure::new(
                    "function.inclusive_percent",
                    percent,
                    Unit::Percent,
                    Notation::Fixed(1),
                )
                .of(&row.function),
            )
            .text(" of samples).");
    }
    Some(
        parts
            .text(" The hottest functions by self time are ")
            .join(hottest, ", ", |parts, row| {
                let parts = parts.code(short(&row.function));
                match cost(row) {
                    Some(figure) => parts.text(" (").figure(figure).text(")"),
                    None => parts,
                }
            })
            .text(": make those cheaper first (the flamegraph shows who calls them).")
            .into_recommendation(Topic::Throughput, severity),
    )
}

/// A function's cost as the profile gives it: its share of samples (self, else inclusive), or
/// else its cumulative time (older files).
fn cost(row: &FunctionRow) -> Option<Figure> {
    let figure = match (row.self_percent, row.inclusive_percent, row.cumtime) {
        (Some(percent), _, _) => Figure::new(
            "function.self_percent",
            percent,
            Unit::Percent,
            Notation::Fixed(1),
        ),
        (None, Some(percent), _) => Figure::new(
            "function.inclusive_percent",
            percent,
            Unit::Percent,
            Notation::Fixed(1),
        ),
        (None, None, Some(cumtime)) => {
            Figure::new("function.cumtime", cumtime, Unit::Seconds, Notation::Fixed(2))
        }
        (None, None, None) => return None,
    };
    Some(figure.of(&row.function))
}

/// A function's name without its generic arguments: trait impls and generics make names long,
/// and the path tells enough.
fn short(function: &str) -> String {
    let trimmed = function
        .split('<')
        .next()
        .unwrap_or(function)
        .trim_end_matches("::");
    if trimmed.is_empty() {
        function.to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::test_support::{on, recommendations, words};

    #[test]
    fn slow_throughput_names_the_hottest_functions() {
        let found = recommendations(
            r#"{"schema_version":1,"cpu":{"messages_per_second":100,
                "hot_functions":[{"function":"serde_json::de::from_slice","self_percent":41.5},
                                 {"function":"<my::Stage as perfgate::Stage<T>>::process","self_percent":9.0}]}}"#,
            "[metrics.\"cpu.messages_per_second\"]\nmin = 50\ntarget = 1000\n",
        );
        let throughput = on(&found, Topic::Throughput).unwrap();
        let text = words(throughput);
        assert!(text.contains("`serde_json::de::from_slice` (41.5 %)"), "{text}");
        assert!(text.starts_with("Throughput is 100 msg/s"), "{text}");
        assert_eq!(throughput.severity, super::super::Severity::Warn);
        let figures: Vec<(&str, Option<&str>, f64)> = throughput
            .figures()
            .map(|figure| (figure.metric.as_str(), figure.subject.as_deref(), figure.value))
            .collect();
        assert_eq!(
            figures,
            [
                ("cpu.messages_per_second", None, 100.0),
                ("function.self_percent", Some("serde_json::de::from_slice"), 41.5),
                (
                    "function.self_percent",
                    Some("<my::Stage as perfgate::Stage<T>>::process"),
                    9.0
                ),
            ]
        );
    }

    #[test]
    fn a_failed_throughput_without_a_profile_says_how_to_get_one() {
        let found = recommendations(
            r#"{"schema_version":1,"cpu":{"messages_per_second":10}}"#,
            "[metrics.\"cpu.messages_per_second\"]\nmin = 50\ntarget = 1000\n",
        );
        let throughput = on(&found, Topic::Throughput).unwrap();
        assert_eq!(throughput.severity, super::super::Severity::Act);
        assert!(
            words(throughput).contains("no CPU profile"),
            "{}",
            words(throughput)
        );
    }

    #[test]
    fn short_names_drop_generic_arguments() {
        assert_eq!(short("alloc::vec::Vec<T,A>::clear"), "alloc::vec::Vec");
        assert_eq!(short("<a::B as c::D>::e"), "<a::B as c::D>::e");
    }
}

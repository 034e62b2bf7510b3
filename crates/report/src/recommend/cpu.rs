//! Throughput short of its target (or a pipeline that keeps too little of what its stages can
//! do): the hottest functions of the user's code, and where most of the time goes. And, as a
//! finding of its own, the share of the CPU that perfgate's harness and synthetic feed take when
//! it is large: those are not the user's to make cheaper (`origin.rs` tells them apart).

use super::data::{Parts, Recommendation, Severity, Topic};
use super::evidence::Evidence;
use super::figure::{Figure, Notation, Unit};
use super::origin::{Origin, origin};
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
    let hottest: Vec<&FunctionRow> = profile
        .functions
        .iter()
        .filter(|row| origin(&row.function) == Origin::User)
        .take(HOTTEST_NAMED)
        .collect();
    // Whether perfgate's own functions ranked among them and were left out, to say so.
    let skipped = hottest.last().is_some_and(|last| {
        profile
            .functions
            .iter()
            .take_while(|row| !std::ptr::eq(*row, *last))
            .any(|row| origin(&row.function) != Origin::User)
    });
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
            .iter()
            .find(|row| origin(&row.function) == Origin::User)
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
            .text(if skipped {
                " The hottest functions of your code by self time (perfgate's own harness and synthetic feed left out) \
                 are "
            } else {
                " The hottest functions by self time are "
            })
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

/// The harness finding: when perfgate's harness and synthetic feed together take at least the
/// rules' share of the CPU samples by self time, how much each takes and its hottest function.
pub(super) fn harness(evidence: &Evidence<'_>) -> Option<Recommendation> {
    let profile = cpu_profile(evidence.run);
    if !profile.by_self_time {
        return None;
    }
    // The profile lists the hottest functions only, so these shares are at least what they say.
    let share = |wanted: Origin| {
        let rows = profile
            .functions
            .iter()
            .filter(|row| origin(&row.function) == wanted);
        let hottest = rows.clone().next();
        let percent: f64 = rows.filter_map(|row| row.self_percent).sum();
        (percent, hottest)
    };
    let (harness, harness_hottest) = share(Origin::Harness);
    let (feed, feed_hottest) = share(Origin::Feed);
    let total = harness + feed;
    if total <= 0.0 || total < evidence.rules.harness_share_at_least * 100.0 {
        return None;
    }
    let percent = |metric: &str, value: f64| Figure::new(metric, value, Unit::Percent, Notation::Fixed(1));
    let mut parts = Parts::default()
        .figure(percent("profile.perfgate_self_percent", total))
        .text(
            " of the CPU samples (self time of the profiled functions) are perfgate's own, not your code's: ",
        );
    let halves = [
        (
            harness,
            harness_hottest,
            "profile.harness_self_percent",
            " in its harness (pipeline plumbing, probes, async runtime",
        ),
        (
            feed,
            feed_hottest,
            "profile.feed_self_percent",
            " in its synthetic feed (the generator",
        ),
    ];
    let present: Vec<_> = halves.into_iter().filter(|half| half.0 > 0.0).collect();
    parts = parts.join(present, ", ", |parts, (value, hottest, metric, what)| {
        let parts = parts.figure(percent(metric, value)).text(what);
        match hottest {
            Some(row) => parts.text("; hottest ").code(short(&row.function)).text(")"),
            None => parts.text(")"),
        }
    });
    Some(
        parts
            .text(
                ". The throughput figure includes that cost; the advice on the hottest functions leaves them out. \
                 Compare with ",
            )
            .code("cargo xtask bench --limit")
            .text(" (the stage functions in a plain loop) to see what your stages alone can do.")
            .into_recommendation(Topic::Harness, Severity::Info),
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
        assert_eq!(throughput.severity, Severity::Warn);
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
        assert_eq!(throughput.severity, Severity::Act);
        assert!(
            words(throughput).contains("no CPU profile"),
            "{}",
            words(throughput)
        );
    }

    /// A default run's profile: perfgate's plumbing and generator rank among the hottest.
    const DEFAULT_RUN: &str = r#"{"schema_version":1,"cpu":{"messages_per_second":500000,
        "hot_functions":[
            {"function":"perfgate_profiler::pipeline::worker::run_worker::{{closure}}","self_percent":14.0},
            {"function":"perfgate_profiler::market::generator::TickSource::write_next","self_percent":9.0},
            {"function":"<perfgate_profiler::market::tick::Tick as serde::Deserialize>::visit_map","self_percent":7.5},
            {"function":"zipf::Zipf::rank","self_percent":3.0},
            {"function":"tokio::runtime::scheduler::multi_thread::worker::Context::run","self_percent":2.0},
            {"function":"serde_json::read::SliceRead::skip_to_escape","self_percent":1.9},
            {"function":"perfgate_profiler::market::enrich::Enrich::enrich","self_percent":1.5}],
        "top_functions":[
            {"function":"perfgate_profiler::pipeline::worker::run_worker","inclusive_percent":95.0},
            {"function":"perfgate_profiler::market::decode::Decode::decode","inclusive_percent":45.0}]}}"#;
    const THROUGHPUT_TARGET: &str = "[metrics.\"cpu.messages_per_second\"]\nmin = 400000\ntarget = 1000000\n";

    #[test]
    fn the_hottest_functions_named_are_the_users_not_perfgates() {
        let found = recommendations(DEFAULT_RUN, THROUGHPUT_TARGET);
        let text = words(on(&found, Topic::Throughput).unwrap());
        assert!(
            text.contains(
                "Most of the time is under `perfgate_profiler::market::decode::Decode::decode` (45.0 % of samples). \
                 The hottest functions of your code by self time (perfgate's own harness and synthetic feed left \
                 out) are `<perfgate_profiler::market::tick::Tick as serde::Deserialize>::visit_map` (7.5 %), \
                 `serde_json::read::SliceRead::skip_to_escape` (1.9 %), `perfgate_profiler::market::enrich::Enrich::enrich` \
                 (1.5 %): make those cheaper first"
            ),
            "{text}"
        );
        for perfgates in ["run_worker", "write_next", "Zipf", "tokio"] {
            assert!(!text.contains(perfgates), "{perfgates} in {text}");
        }
    }

    #[test]
    fn a_large_harness_share_is_a_finding_of_its_own() {
        let found = recommendations(DEFAULT_RUN, THROUGHPUT_TARGET);
        let topics: Vec<Topic> = found.iter().map(|r| r.topic).collect();
        assert_eq!(topics, [Topic::Throughput, Topic::Harness]);
        let harness = on(&found, Topic::Harness).unwrap();
        assert_eq!(harness.severity, Severity::Info);
        assert_eq!(
            words(harness),
            "28.0 % of the CPU samples (self time of the profiled functions) are perfgate's own, not your code's: \
             16.0 % in its harness (pipeline plumbing, probes, async runtime; hottest \
             `perfgate_profiler::pipeline::worker::run_worker::{{closure}}`), 12.0 % in its synthetic feed (the \
             generator; hottest `perfgate_profiler::market::generator::TickSource::write_next`). The throughput \
             figure includes that cost; the advice on the hottest functions leaves them out. Compare with \
             `cargo xtask bench --limit` (the stage functions in a plain loop) to see what your stages alone can do."
        );
        // Below the cut-off: no finding, and none without self times to add up.
        let strict = format!("{THROUGHPUT_TARGET}[recommendations]\nharness_share_at_least = 0.3\n");
        assert!(on(&recommendations(DEFAULT_RUN, &strict), Topic::Harness).is_none());
        let cumulative_only = r#"{"schema_version":1,"cpu":{"top_functions":[
            {"function":"perfgate_profiler::pipeline::worker::run_worker","inclusive_percent":95.0}]}}"#;
        assert!(on(&recommendations(cumulative_only, ""), Topic::Harness).is_none());
    }

    #[test]
    fn nothing_left_out_keeps_the_plain_wording() {
        let found = recommendations(
            r#"{"schema_version":1,"cpu":{"messages_per_second":100,"hot_functions":[
                {"function":"my::decode","self_percent":30.0},
                {"function":"perfgate_profiler::pipeline::worker::run_worker","self_percent":5.0}]}}"#,
            "[metrics.\"cpu.messages_per_second\"]\nmin = 50\ntarget = 1000\n",
        );
        let text = words(on(&found, Topic::Throughput).unwrap());
        assert!(
            text.contains("The hottest functions by self time are `my::decode` (30.0 %): make"),
            "{text}"
        );
        assert!(on(&found, Topic::Harness).is_none());
    }

    #[test]
    fn short_names_drop_generic_arguments() {
        assert_eq!(short("alloc::vec::Vec<T,A>::clear"), "alloc::vec::Vec");
        assert_eq!(short("<a::B as c::D>::e"), "<a::B as c::D>::e");
    }
}

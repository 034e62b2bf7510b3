//! Recommendations computed from the data: each names what was measured and what to do about
//! it. Pure: reads the run and its evaluation only.

use crate::evaluate::{Evaluation, Movement, Status};
use crate::input::RunData;
use crate::loadtest::{EndpointKind, LoadTest};
use crate::metric::format_value;
use crate::reading::{busiest_stage, cpu_profile};
use crate::thresholds::RecommendationRules;

/// One thing to act on.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// What it is about, e.g. `throughput`.
    pub topic: &'static str,
    /// The finding and the advice, in one paragraph.
    pub text: String,
}

fn status_of(evaluation: &Evaluation, id: &str) -> Option<Status> {
    evaluation
        .checks
        .iter()
        .find(|check| check.id == id)
        .map(|check| check.status)
}

fn short(function: &str) -> String {
    // Trait impls and generics make names long; the path tells enough.
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

/// Inline code that stays inline code whatever the text holds (endpoint names are untrusted):
/// the fence is longer than any run of backticks inside, and line breaks become spaces.
pub(crate) fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Load-test findings: endpoints that mostly fail, and the slowest endpoint behind a latency
/// threshold that is not met.
fn load_test_findings(
    load_tests: &[LoadTest],
    evaluation: &Evaluation,
    rules: &RecommendationRules,
    out: &mut Vec<Recommendation>,
) {
    let concerning = |id: &str| matches!(status_of(evaluation, id), Some(Status::Warn | Status::Fail));
    let endpoints = || {
        load_tests
            .iter()
            .flat_map(|test| test.endpoints.iter().map(move |endpoint| (test, endpoint)))
            .filter(|(_, endpoint)| endpoint.kind != EndpointKind::Aggregated)
    };
    let failing: Vec<String> = endpoints()
        .filter(|(_, endpoint)| {
            endpoint
                .error_rate_pct()
                .is_some_and(|rate| rate >= rules.endpoint_failure_at_least * 100.0)
        })
        .map(|(test, endpoint)| {
            let top = test
                .failures
                .iter()
                .find(|failure| failure.name == endpoint.name && failure.method == endpoint.request_type)
                .map_or(String::new(), |failure| {
                    format!(", mostly {}", code(&failure.error))
                });
            let run = if load_tests.len() > 1 {
                format!(" ({})", code(&test.label()))
            } else {
                String::new()
            };
            format!(
                "{}{run} fails {:.0} % of {} requests{top}",
                code(&format!("{} {}", endpoint.request_type, endpoint.name)),
                endpoint.error_rate_pct().unwrap_or(0.0),
                endpoint.requests
            )
        })
        .collect();
    if !failing.is_empty() {
        out.push(Recommendation {
            topic: "failing endpoints",
            text: format!(
                "In the load test, {}. The latency figures of an endpoint that mostly fails describe failures, not \
                 service: fix it, or leave it out of the test, before reading them.",
                failing.join("; ")
            ),
        });
    }
    for (kind, label) in [
        (EndpointKind::Rest, "rest"),
        (EndpointKind::WebSocket, "websocket"),
    ] {
        if !(concerning(&format!("{label}.p95_latency_ms")) || concerning(&format!("{label}.p99_latency_ms")))
        {
            continue;
        }
        let Some((test, slowest)) = endpoints()
            .filter(|(_, endpoint)| endpoint.kind == kind)
            .max_by(|a, b| a.1.p95_ms.unwrap_or(0.0).total_cmp(&b.1.p95_ms.unwrap_or(0.0)))
        else {
            continue;
        };
        out.push(Recommendation {
            topic: if kind == EndpointKind::Rest { "REST latency" } else { "WebSocket latency" },
            text: format!(
                "The slowest endpoint is {} in {}: p95 {}, p99 {} over {} requests. Profile the service under the same \
                 load (`cargo xtask bench` with a pipeline that models it) and start from that endpoint's handler.",
                code(&format!("{} {}", slowest.request_type, slowest.name)),
                code(&test.label()),
                slowest.p95_ms.map_or("n/a".to_owned(), |v| format_value(v, "ms")),
                slowest.p99_ms.map_or("n/a".to_owned(), |v| format_value(v, "ms")),
                slowest.requests
            ),
        });
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
    let mut out = Vec::new();
    load_test_findings(load_tests, evaluation, rules, &mut out);
    let metric = |id: &str| run.metrics.get(id).copied();
    let concerning = |id: &str| matches!(status_of(evaluation, id), Some(Status::Warn | Status::Fail));

    // Throughput below its target, or the pipeline keeping little of what its stages can do.
    let efficiency_low = metric("pipeline.efficiency").is_some_and(|e| e < rules.efficiency_below);
    if concerning("cpu.messages_per_second") || concerning("pipeline.efficiency") || efficiency_low {
        let profile = cpu_profile(run);
        let hottest: Vec<String> = profile
            .functions
            .iter()
            .take(3)
            .map(|row| match row.self_percent.or(row.inclusive_percent) {
                Some(percent) => format!("`{}` ({percent:.1} %)", short(&row.function)),
                None => match row.cumtime {
                    Some(cumtime) => format!("`{}` ({cumtime:.2} s)", short(&row.function)),
                    None => format!("`{}`", short(&row.function)),
                },
            })
            .collect();
        let throughput =
            metric("cpu.messages_per_second").map_or("unknown".to_owned(), |v| format_value(v, "msg/s"));
        let heaviest = run
            .top_functions
            .first()
            .filter(|_| profile.by_self_time)
            .and_then(|row| {
                row.inclusive_percent.map(|percent| {
                    format!(
                        " Most of the time is under `{}` ({percent:.1} % of samples).",
                        short(&row.function)
                    )
                })
            })
            .unwrap_or_default();
        let text = if hottest.is_empty() {
            format!(
                "Throughput is {throughput}, short of its target, and there is no CPU profile to say why: run with the \
                 cpu probe (`cargo xtask bench`, on by default) and look at the flamegraph."
            )
        } else {
            format!(
                "Throughput is {throughput}, short of its target.{heaviest} The hottest functions by self time are {}: \
                 make those cheaper first (the flamegraph shows who calls them).",
                hottest.join(", ")
            )
        };
        out.push(Recommendation {
            topic: "throughput",
            text,
        });
    }

    // A bottleneck stage: the busiest one, when it is saturated or its queue is full.
    if let Some(stage) = busiest_stage(run) {
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
        if busy >= rules.stage_busy_at_least || (queue_full && longest_queue) {
            out.push(Recommendation {
                topic: "bottleneck",
                text: format!(
                    "Stage `{}` is the bottleneck: busy {:.0} % of the measured window per worker with {} worker(s){}. Give \
                     it more workers (`--workers {}={}`) if it keeps no per-key state, or make it cheaper.",
                    stage.name,
                    busy * 100.0,
                    stage.workers,
                    match (stage.queue_p99, stage.queue_capacity) {
                        (Some(p99), Some(capacity)) => format!(", its queue at {p99:.0} of {capacity:.0} messages (p99)"),
                        _ => String::new(),
                    },
                    stage.name,
                    stage.workers + 1
                ),
            });
        }
    }

    // Event-loop lag: a worker stuck in a poll.
    let lag = metric("asyncio.event_loop_lag_ms");
    let slow_polls = metric("asyncio.slow_polls").unwrap_or(0.0);
    if concerning("asyncio.event_loop_lag_ms") || lag.is_some_and(|lag| lag > rules.lag_p99_ms_above) {
        out.push(Recommendation {
            topic: "event loop",
            text: format!(
                "Event-loop lag p99 is {} (max {}), with {} polls over the slow-poll threshold: a runtime worker is \
                 held up inside a poll. Move blocking work (synchronous file or network I/O, long-held locks, heavy \
                 computation) into `tokio::task::spawn_blocking` or a dedicated thread, or split it with \
                 `tokio::task::yield_now`. If no stage does such work, the machine itself paused the process (a shared \
                 VM does): a second run tells.",
                lag.map_or("unknown".to_owned(), |v| format_value(v, "ms")),
                metric("asyncio.lag_max_ms").map_or("unknown".to_owned(), |v| format_value(v, "ms")),
                slow_polls as u64
            ),
        });
    }

    // Memory that grows.
    if run.leak_suspected == Some(true) || concerning("memory.delta_mb") {
        out.push(Recommendation {
            topic: "memory",
            text: format!(
                "Live heap grew by {} over the window{}. Run `cargo xtask bench --heap-profile` and open `heap.pb.gz` \
                 (`go tool pprof -sample_index=inuse_space`) to see which code holds it.",
                metric("memory.delta_mb").map_or("an unknown amount".to_owned(), |v| format_value(v, "MiB")),
                match metric("memory.leak_bytes_per_message") {
                    Some(slope) if run.leak_suspected == Some(true) => {
                        format!(", steadily: {slope:.0} bytes per message, a leak is suspected")
                    }
                    _ => String::new(),
                }
            ),
        });
    }

    // A cache that misses.
    if let Some(hit_rate) = metric("cache.hit_rate")
        && (hit_rate < rules.cache_hit_rate_below || concerning("cache.hit_rate"))
    {
        out.push(Recommendation {
            topic: "cache",
            text: format!(
                "The cache answers only {:.1} % of lookups{}; every miss goes to the slower reference store. Raise the \
                 capacity (`--cache-capacity`) towards the number of symbols that carry most of the traffic.",
                hit_rate * 100.0,
                run.cache_capacity.map_or(String::new(), |capacity| format!(" with a capacity of {capacity}"))
            ),
        });
    }

    // Rejected messages.
    if metric("errors.total").is_some_and(|errors| errors > 0.0) {
        let kinds: Vec<String> = run
            .errors_by_kind
            .iter()
            .map(|(kind, count)| format!("{kind}: {count}"))
            .collect();
        out.push(Recommendation {
            topic: "errors",
            text: format!(
                "{} messages were rejected ({}). If the input is not meant to contain them, find where they come from; \
                 if it is, make sure rejecting them is cheap.",
                metric("errors.total").unwrap_or(0.0) as u64,
                if kinds.is_empty() { "kinds not recorded".to_owned() } else { kinds.join(", ") }
            ),
        });
    }

    // Subscribers that lose deliveries.
    if metric("fanout.dropped").is_some_and(|dropped| dropped > 0.0) {
        out.push(Recommendation {
            topic: "fan-out",
            text: format!(
                "{} deliveries were dropped because a subscriber's queue was full. At saturation that is expected for \
                 slow clients; if your subscribers should keep up, give them longer queues (`--subscriber-queue`) or \
                 make delivery cheaper.",
                metric("fanout.dropped").unwrap_or(0.0) as u64
            ),
        });
    }

    // Regressions against the baseline.
    let regressions: Vec<String> = evaluation
        .comparisons
        .iter()
        .filter(|comparison| comparison.movement == Movement::Regressed)
        .map(|comparison| match comparison.change_pct {
            Some(change) => format!("`{}` ({change:+.1} %)", comparison.id),
            None => format!("`{}` (from 0)", comparison.id),
        })
        .collect();
    if !regressions.is_empty() {
        out.push(Recommendation {
            topic: "regressions",
            text: format!(
                "Against the baseline, {} regressed. Compare the flamegraphs of both runs, starting with the functions \
                 that grew.",
                regressions.join(", ")
            ),
        });
    }

    // Figures that should not be trusted as they are.
    if run
        .environment
        .as_ref()
        .and_then(|env| env.build_profile.as_deref())
        == Some("debug")
    {
        out.push(Recommendation {
            topic: "build",
            text: "These figures come from a debug build and say little about production speed: run `cargo xtask bench`, \
                   which builds in release."
                .to_owned(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::evaluate::{EvaluateOptions, evaluate};
    use crate::input::parse_results;
    use crate::thresholds::Thresholds;

    fn recommendations(results: &str, thresholds: &str) -> Vec<Recommendation> {
        let run = parse_results(Path::new("r.json"), results).unwrap();
        let thresholds = Thresholds::parse(Path::new("t.toml"), thresholds).unwrap();
        let evaluation = evaluate(&run, &thresholds, None, EvaluateOptions::default());
        recommend(&run, &[], &evaluation, &thresholds.recommendations)
    }

    #[test]
    fn slow_throughput_names_the_hottest_functions() {
        let found = recommendations(
            r#"{"schema_version":1,"cpu":{"messages_per_second":100,
                "hot_functions":[{"function":"serde_json::de::from_slice","self_percent":41.5},
                                 {"function":"<my::Stage as perfgate::Stage<T>>::process","self_percent":9.0}]}}"#,
            "[metrics.\"cpu.messages_per_second\"]\nmin = 50\ntarget = 1000\n",
        );
        let throughput = found.iter().find(|r| r.topic == "throughput").unwrap();
        assert!(
            throughput.text.contains("`serde_json::de::from_slice` (41.5 %)"),
            "{}",
            throughput.text
        );
        assert!(throughput.text.contains("100 msg/s"), "{}", throughput.text);
    }

    #[test]
    fn lag_leak_cache_and_bottleneck_are_recognised() {
        let found = recommendations(
            r#"{"schema_version":1,
                "asyncio":{"event_loop_lag_ms":4.2,"lag":{"max_ms":5.0},"slow_polls":30},
                "memory":{"delta_mb":20.0,"leak_suspected":true,"leak":{"bytes_per_message":1024}},
                "cache":{"hit_rate":0.5},
                "stages":{"decode":{"index":0,"workers":1,"busy_ratio":0.97,"queue_depth":{"p99":1000},"queue_capacity":1024},
                          "enrich":{"index":1,"workers":1,"busy_ratio":0.3}}}"#,
            "",
        );
        let topics: Vec<&str> = found.iter().map(|r| r.topic).collect();
        assert_eq!(topics, ["bottleneck", "event loop", "memory", "cache"]);
        assert!(found[0].text.contains("`decode`") && found[0].text.contains("--workers decode=2"));
        assert!(found[1].text.contains("spawn_blocking"));
        assert!(found[2].text.contains("1024 bytes per message"));
    }

    #[test]
    fn code_spans_survive_backticks_and_newlines() {
        assert_eq!(code("GET /a"), "`GET /a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a\nb"), "`a b`");
    }

    #[test]
    fn the_cut_offs_come_from_the_thresholds_file() {
        let run = r#"{"schema_version":1,"cache":{"hit_rate":0.5},"pipeline":{"efficiency":0.65}}"#;
        let topics = |thresholds: &str| -> Vec<&'static str> {
            recommendations(run, thresholds).iter().map(|r| r.topic).collect()
        };
        assert_eq!(topics(""), ["throughput", "cache"]);
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

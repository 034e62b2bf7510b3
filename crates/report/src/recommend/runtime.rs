//! Event-loop lag: a runtime worker held up inside a poll.

use super::data::{Parts, Recommendation, Topic};
use super::evidence::Evidence;
use super::figure::{Figure, Notation, Unit};

/// The event-loop finding, when the lag threshold warns or fails or the lag p99 is above the
/// rules' cut-off.
pub(super) fn event_loop(evidence: &Evidence<'_>) -> Option<Recommendation> {
    let lag = evidence.metric("asyncio.event_loop_lag_ms");
    if !(evidence.concerning("asyncio.event_loop_lag_ms")
        || lag.is_some_and(|lag| lag > evidence.rules.lag_p99_ms_above))
    {
        return None;
    }
    let milliseconds = |id: &str, value: Option<f64>| {
        value.map(|value| Figure::new(id, value, Unit::Milliseconds, Notation::Table))
    };
    let slow_polls = evidence.metric("asyncio.slow_polls").unwrap_or(0.0);
    Some(
        Parts::default()
            .text("Event-loop lag p99 is ")
            .figure_or(milliseconds("asyncio.event_loop_lag_ms", lag), "unknown")
            .text(" (max ")
            .figure_or(
                milliseconds("asyncio.lag_max_ms", evidence.metric("asyncio.lag_max_ms")),
                "unknown",
            )
            .text("), with ")
            .figure(Figure::new(
                "asyncio.slow_polls",
                slow_polls,
                Unit::Polls,
                Notation::Fixed(0),
            ))
            .text(
                " over the slow-poll threshold: a runtime worker is held up inside a poll. Move blocking work \
                 (synchronous file or network I/O, long-held locks, heavy computation) into ",
            )
            .code("tokio::task::spawn_blocking")
            .text(" or a dedicated thread, or split it with ")
            .code("tokio::task::yield_now")
            .text(
                ". If no stage does such work, the machine itself paused the process (a shared VM does): a second \
                 run tells.",
            )
            .into_recommendation(
                Topic::EventLoop,
                evidence.act_if_failed(&["asyncio.event_loop_lag_ms"]),
            ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::test_support::{on, recommendations, words};

    #[test]
    fn lag_above_the_cut_off_points_at_blocking_work() {
        let run = r#"{"schema_version":1,"asyncio":{"event_loop_lag_ms":4.2,"lag":{"max_ms":5.0},"slow_polls":30}}"#;
        let text = words(on(&recommendations(run, ""), Topic::EventLoop).unwrap());
        assert!(
            text.starts_with("Event-loop lag p99 is 4.20 ms (max 5 ms), with 30 polls over"),
            "{text}"
        );
        assert!(text.contains("`tokio::task::spawn_blocking`"), "{text}");
        let relaxed = "[recommendations]\nlag_p99_ms_above = 5\n";
        assert!(on(&recommendations(run, relaxed), Topic::EventLoop).is_none());
    }
}

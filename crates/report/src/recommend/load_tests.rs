//! Load-test findings: endpoints that mostly fail, and the slowest endpoint of each kind behind a
//! latency threshold that is not met. Endpoint names, run labels and error texts come from the
//! load-test files and go into code spans, never into the words.

use super::data::{Parts, Recommendation, Severity, Topic};
use super::evidence::Evidence;
use super::figure::{Figure, Notation, Unit};
use crate::loadtest::{Endpoint, EndpointKind, LoadTest};

/// The load-test findings, failing endpoints first.
pub(super) fn findings(evidence: &Evidence<'_>) -> Vec<Recommendation> {
    let mut out = Vec::new();
    out.extend(failing(evidence));
    for (kind, label, topic) in [
        (EndpointKind::Rest, "rest", Topic::RestLatency),
        (EndpointKind::WebSocket, "websocket", Topic::WebSocketLatency),
    ] {
        out.extend(slowest(evidence, kind, label, topic));
    }
    out
}

/// Every endpoint of every run but the runs' aggregates, with its run.
fn endpoints(load_tests: &[LoadTest]) -> impl Iterator<Item = (&LoadTest, &Endpoint)> {
    load_tests
        .iter()
        .flat_map(|test| test.endpoints.iter().map(move |endpoint| (test, endpoint)))
        .filter(|(_, endpoint)| endpoint.kind != EndpointKind::Aggregated)
}

/// An endpoint as the findings name it: `GET /quotes`.
fn name(endpoint: &Endpoint) -> String {
    format!("{} {}", endpoint.request_type, endpoint.name)
}

/// A number of requests.
fn requests(endpoint: &Endpoint) -> Figure {
    Figure::new(
        "endpoint.requests",
        endpoint.requests as f64,
        Unit::Requests,
        Notation::Fixed(0),
    )
    .of(name(endpoint))
}

/// Endpoints that fail at least the rules' share of their requests.
fn failing(evidence: &Evidence<'_>) -> Option<Recommendation> {
    let load_tests = evidence.load_tests;
    let cut_off_pct = evidence.rules.endpoint_failure_at_least * 100.0;
    let failing: Vec<(&LoadTest, &Endpoint, f64)> = endpoints(load_tests)
        .filter_map(|(test, endpoint)| {
            let rate = endpoint.error_rate_pct()?;
            (rate >= cut_off_pct).then_some((test, endpoint, rate))
        })
        .collect();
    if failing.is_empty() {
        return None;
    }
    Some(
        Parts::default()
            .text("In the load test, ")
            .join(failing, "; ", |parts, (test, endpoint, rate)| {
                let mut parts = parts.code(name(endpoint));
                if load_tests.len() > 1 {
                    parts = parts.text(" (").code(test.label()).text(")");
                }
                parts = parts
                    .text(" fails ")
                    .figure(
                        Figure::new("endpoint.error_rate_pct", rate, Unit::Percent, Notation::Fixed(0))
                            .of(name(endpoint)),
                    )
                    .text(" of ")
                    .figure(requests(endpoint));
                let top = test
                    .failures
                    .iter()
                    .find(|failure| failure.name == endpoint.name && failure.method == endpoint.request_type);
                match top {
                    Some(failure) => parts.text(", mostly ").code(&failure.error),
                    None => parts,
                }
            })
            .text(
                ". The latency figures of an endpoint that mostly fails describe failures, not service: fix it, or \
                 leave it out of the test, before reading them.",
            )
            .into_recommendation(Topic::FailingEndpoints, Severity::Act),
    )
}

/// The slowest endpoint of `kind` (by p95), when its latency thresholds (`{label}.p95_latency_ms`,
/// `{label}.p99_latency_ms`) warn or fail.
fn slowest(evidence: &Evidence<'_>, kind: EndpointKind, label: &str, topic: Topic) -> Option<Recommendation> {
    let ids = [
        format!("{label}.p95_latency_ms"),
        format!("{label}.p99_latency_ms"),
    ];
    if !ids.iter().any(|id| evidence.concerning(id)) {
        return None;
    }
    let (test, slowest) = endpoints(evidence.load_tests)
        .filter(|(_, endpoint)| endpoint.kind == kind)
        .max_by(|a, b| a.1.p95_ms.unwrap_or(0.0).total_cmp(&b.1.p95_ms.unwrap_or(0.0)))?;
    let latency = |metric: &str, value: Option<f64>| {
        value.map(|value| Figure::new(metric, value, Unit::Milliseconds, Notation::Table).of(name(slowest)))
    };
    Some(
        Parts::default()
            .text("The slowest endpoint is ")
            .code(name(slowest))
            .text(" in ")
            .code(test.label())
            .text(": p95 ")
            .figure_or(latency("endpoint.p95_ms", slowest.p95_ms), "n/a")
            .text(", p99 ")
            .figure_or(latency("endpoint.p99_ms", slowest.p99_ms), "n/a")
            .text(" over ")
            .figure(requests(slowest))
            .text(". Profile the service under the same load (")
            .code("cargo xtask bench")
            .text(" with a pipeline that models it) and start from that endpoint's handler.")
            .into_recommendation(topic, evidence.act_if_failed(&[&ids[0], &ids[1]])),
    )
}

//! Load-test results from the tools teams already use: Locust (its final JSON and its CSV
//! family) and oha (its JSON). perfgate does not generate load; it reads what these tools wrote
//! and reports it next to the in-process profile, against the same thresholds.

mod endpoint;
mod load_test;
mod locust;
mod oha;
mod shell;

use std::collections::BTreeMap;

pub use endpoint::{DEFAULT_WEBSOCKET_TYPES, Endpoint, EndpointKind, classify};
pub use load_test::{Failure, HistoryPoint, LoadTest};
pub use locust::load_locust;
pub use oha::{OhaSpec, load_oha};
pub(crate) use shell::shell_quote;

/// The threshold metrics load tests give, over every run: the slowest endpoint of each kind
/// (a gate fails when any endpoint is slow, not when the average one is), the highest failure
/// rate (`load.error_rate_percent`, folded into `error_rate.percent` by the report) and the
/// lowest aggregate request rate.
pub fn metrics(tests: &[LoadTest]) -> BTreeMap<String, f64> {
    let mut metrics = BTreeMap::new();
    let mut worst = |id: &str, value: Option<f64>, higher_is_worse: bool| {
        let Some(value) = value else { return };
        metrics
            .entry(id.to_owned())
            .and_modify(|current: &mut f64| {
                if (value > *current) == higher_is_worse {
                    *current = value;
                }
            })
            .or_insert(value);
    };
    for test in tests {
        for endpoint in &test.endpoints {
            let prefix = match endpoint.kind {
                EndpointKind::Rest => "rest",
                EndpointKind::WebSocket => "websocket",
                EndpointKind::Aggregated => {
                    worst("load.requests_per_second", endpoint.rps, false);
                    worst("load.error_rate_percent", endpoint.error_rate_pct(), true);
                    continue;
                }
                EndpointKind::Other => continue,
            };
            worst(&format!("{prefix}.p95_latency_ms"), endpoint.p95_ms, true);
            worst(&format!("{prefix}.p99_latency_ms"), endpoint.p99_ms, true);
        }
    }
    metrics
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(kind: EndpointKind, p95: f64, requests: u64, failures: u64, rps: f64) -> Endpoint {
        Endpoint {
            kind,
            request_type: String::new(),
            name: String::new(),
            requests,
            failures,
            rps: Some(rps),
            min_ms: None,
            avg_ms: None,
            p50_ms: None,
            p95_ms: Some(p95),
            p99_ms: Some(p95 * 2.0),
            p999_ms: None,
            max_ms: None,
        }
    }

    #[test]
    fn metrics_take_the_worst_endpoint_and_run() {
        let run = |endpoints| LoadTest {
            tool: "Locust",
            version: None,
            sources: Vec::new(),
            endpoints,
            failures: Vec::new(),
            history: Vec::new(),
            notes: Vec::new(),
            argument: String::new(),
        };
        let tests = [
            run(vec![
                endpoint(EndpointKind::Rest, 10.0, 100, 0, 50.0),
                endpoint(EndpointKind::Rest, 40.0, 100, 0, 50.0),
                endpoint(EndpointKind::WebSocket, 12.0, 100, 0, 50.0),
                endpoint(EndpointKind::Aggregated, 30.0, 300, 3, 150.0),
            ]),
            run(vec![
                endpoint(EndpointKind::Rest, 20.0, 100, 10, 80.0),
                endpoint(EndpointKind::Aggregated, 20.0, 100, 10, 80.0),
            ]),
        ];
        let metrics = metrics(&tests);
        assert_eq!(metrics["rest.p95_latency_ms"], 40.0);
        assert_eq!(metrics["rest.p99_latency_ms"], 80.0);
        assert_eq!(metrics["websocket.p95_latency_ms"], 12.0);
        assert_eq!(metrics["load.requests_per_second"], 80.0);
        assert_eq!(metrics["load.error_rate_percent"], 10.0);
        assert!(super::metrics(&[]).is_empty());
    }
}

//! Load-test results from the tools teams already use: Locust (its final JSON and its CSV
//! family) and oha (its JSON). perfgate does not generate load; it reads what these tools wrote
//! and reports it next to the in-process profile, against the same thresholds.

mod locust;
mod oha;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use locust::load_locust;
pub use oha::{OhaSpec, load_oha};

/// What kind of traffic an endpoint carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    /// An HTTP method: REST.
    Rest,
    /// A request type recorded as WebSocket traffic (`WS`, `WSS`, `websocket`, ...).
    WebSocket,
    /// Anything else a tool recorded.
    Other,
    /// The tool's total over all endpoints.
    Aggregated,
}

impl EndpointKind {
    /// Name in the JSON verdict.
    pub fn name(self) -> &'static str {
        match self {
            EndpointKind::Rest => "rest",
            EndpointKind::WebSocket => "websocket",
            EndpointKind::Other => "other",
            EndpointKind::Aggregated => "aggregated",
        }
    }
}

const HTTP_METHODS: [&str; 9] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT",
];

/// Request types counted as WebSocket traffic unless told otherwise.
pub const DEFAULT_WEBSOCKET_TYPES: [&str; 4] = ["WS", "WSS", "WEBSOCKET", "SOCKETIO"];

/// Classifies a request type.
pub fn classify(request_type: &str, websocket_types: &[String]) -> EndpointKind {
    let upper = request_type.trim().to_ascii_uppercase();
    if websocket_types.iter().any(|ws| ws.eq_ignore_ascii_case(&upper)) {
        EndpointKind::WebSocket
    } else if HTTP_METHODS.contains(&upper.as_str()) {
        EndpointKind::Rest
    } else {
        EndpointKind::Other
    }
}

/// One endpoint's figures. Times in milliseconds; `None` where the run had no request.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// REST, WebSocket, other, or the aggregate.
    pub kind: EndpointKind,
    /// Request type as the tool recorded it (an HTTP method, `WS`, ...).
    pub request_type: String,
    /// Endpoint name (untrusted text).
    pub name: String,
    /// Requests made.
    pub requests: u64,
    /// Of which failed.
    pub failures: u64,
    /// Requests per second over the test.
    pub rps: Option<f64>,
    /// Response times, ms.
    pub min_ms: Option<f64>,
    /// Mean, ms.
    pub avg_ms: Option<f64>,
    /// Median, ms.
    pub p50_ms: Option<f64>,
    /// 95th percentile, ms.
    pub p95_ms: Option<f64>,
    /// 99th percentile, ms.
    pub p99_ms: Option<f64>,
    /// 99.9th percentile, ms.
    pub p999_ms: Option<f64>,
    /// Largest, ms.
    pub max_ms: Option<f64>,
}

impl Endpoint {
    /// `failures / requests`, %; `None` without requests.
    pub fn error_rate_pct(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.failures as f64 / self.requests as f64 * 100.0)
    }
}

/// One failure kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Request type.
    pub method: String,
    /// Endpoint.
    pub name: String,
    /// The error as the tool wrote it.
    pub error: String,
    /// How often.
    pub occurrences: u64,
}

/// One point of a load test over time (Locust's `_stats_history.csv`, aggregated row).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPoint {
    /// Unix time, s.
    pub timestamp: u64,
    /// Users running.
    pub users: u64,
    /// Requests per second then.
    pub rps: f64,
    /// Failures per second then.
    pub failures_per_s: f64,
    /// 95th percentile response time then, ms (as the tool wrote it).
    pub p95_ms: Option<f64>,
}

/// One load-test run.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadTest {
    /// `Locust` or `oha`.
    pub tool: &'static str,
    /// The tool's version, if its output says.
    pub version: Option<String>,
    /// The files read.
    pub sources: Vec<PathBuf>,
    /// Endpoints in the tool's order, the aggregate last.
    pub endpoints: Vec<Endpoint>,
    /// Failures, most frequent first.
    pub failures: Vec<Failure>,
    /// Over time.
    pub history: Vec<HistoryPoint>,
    /// Things the reader should know about these figures (e.g. where JSON and CSV disagree).
    pub notes: Vec<String>,
    /// The report's command-line argument that read it (`--locust out/run`), to reproduce it.
    pub argument: String,
}

impl LoadTest {
    /// A short label naming the tool and the run: `Locust locust-run`, `oha oha-quotes` (the file
    /// name without the suffixes Locust and oha add).
    pub fn label(&self) -> String {
        let Some(first) = self.sources.first().and_then(|path| path.file_name()) else {
            return self.tool.to_owned();
        };
        let name = first.to_string_lossy();
        let run = [
            "_stats_history.csv",
            "_stats.csv",
            "_failures.csv",
            "_exceptions.csv",
            ".json",
            ".csv",
        ]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(&name);
        format!("{} {run}", self.tool)
    }

    /// The aggregate row.
    pub fn aggregated(&self) -> Option<&Endpoint> {
        self.endpoints
            .iter()
            .find(|endpoint| endpoint.kind == EndpointKind::Aggregated)
    }
}

/// Quotes a command-line argument for a POSIX shell where it needs it.
pub(crate) fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '=' | ',' | '+'));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

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

/// Downsamples a growing history so it stays bounded however long the test ran: past `limit`
/// points, every other point is dropped.
pub(crate) fn push_bounded(
    history: &mut Vec<HistoryPoint>,
    point: HistoryPoint,
    stride: &mut usize,
    seen: &mut usize,
    limit: usize,
) {
    if (*seen).is_multiple_of(*stride) {
        history.push(point);
        if history.len() >= limit {
            let kept: Vec<HistoryPoint> = history.drain(..).step_by(2).collect();
            *history = kept;
            *stride *= 2;
        }
    }
    *seen += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_types_are_classified() {
        let ws: Vec<String> = DEFAULT_WEBSOCKET_TYPES.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(classify("GET", &ws), EndpointKind::Rest);
        assert_eq!(classify("post", &ws), EndpointKind::Rest);
        assert_eq!(classify("WS", &ws), EndpointKind::WebSocket);
        assert_eq!(classify("websocket", &ws), EndpointKind::WebSocket);
        assert_eq!(classify("grpc", &ws), EndpointKind::Other);
        assert_eq!(classify("grpc", &["GRPC".to_owned()]), EndpointKind::WebSocket);
    }

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

    #[test]
    fn history_stays_bounded() {
        let (mut history, mut stride, mut seen) = (Vec::new(), 1, 0);
        for second in 0..10_000u64 {
            let point = HistoryPoint {
                timestamp: second,
                users: 1,
                rps: 1.0,
                failures_per_s: 0.0,
                p95_ms: None,
            };
            push_bounded(&mut history, point, &mut stride, &mut seen, 600);
        }
        assert!(history.len() < 600 && history.len() > 150, "{}", history.len());
        assert!(history.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
    }
}

//! One endpoint's figures and the kind of traffic it carries, classified from the request type a
//! load-testing tool recorded.

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
}

//! [`LoadTest`], one load-test run as either reader leaves it: its endpoints, failures and
//! history, and the bound that keeps a long run's history small.

use std::path::PathBuf;

use super::endpoint::{Endpoint, EndpointKind};

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

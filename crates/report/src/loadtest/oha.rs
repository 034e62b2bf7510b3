//! oha's JSON output (`oha --output-format json`): one endpoint per run, since oha drives one URL.
//!
//! oha's own figures are kept as oha computed them (its percentiles are exact, from every
//! response; its requests per second divide everything sent by the run's length), so that the
//! report reproduces oha's summary. One figure is re-derived: oha counts every HTTP response as
//! a success whatever its status, where a load test's reader (and Locust) counts a 4xx or 5xx
//! answer as a failure; perfgate counts failures as Locust does and says so.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::endpoint::{Endpoint, EndpointKind, classify};
use super::load_test::{Failure, LoadTest};
use super::shell::shell_quote;
use crate::error::{ReportError, Result};

/// oha's error for requests cut off by `-z DURATION` at the end of the run: not a failure of
/// the server, and oha leaves them out of its success rate too.
const DEADLINE: &str = "aborted due to deadline";

/// What `--oha` names: a file, optionally labelled `NAME=FILE` (oha's output does not carry the
/// URL or method). A label starting with an HTTP method (`POST /orders`) sets the request type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OhaSpec {
    /// As given on the command line.
    pub given: String,
    /// The JSON file.
    pub path: PathBuf,
    /// The endpoint's request type.
    pub request_type: String,
    /// The endpoint's name.
    pub name: String,
}

impl OhaSpec {
    /// Parses `FILE` or `NAME=FILE`. A path that exists as given is a file even if it holds `=`.
    pub fn parse(text: &str) -> Self {
        let (label, path) = match text.split_once('=') {
            Some((label, path)) if !Path::new(text).exists() && !label.is_empty() => (Some(label), path),
            _ => (None, text),
        };
        let path = PathBuf::from(path);
        let label = label.map_or_else(
            || {
                path.file_stem().map_or_else(
                    || path.display().to_string(),
                    |stem| stem.to_string_lossy().into_owned(),
                )
            },
            str::to_owned,
        );
        let (request_type, name) = match label.split_once(' ') {
            Some((method, rest)) if classify(method, &[]) == EndpointKind::Rest => {
                (method.to_ascii_uppercase(), rest.trim().to_owned())
            }
            _ => ("HTTP".to_owned(), label),
        };
        Self {
            given: text.to_owned(),
            path,
            request_type,
            name,
        }
    }
}

/// Reads one oha run.
pub fn load_oha(spec: &OhaSpec) -> Result<LoadTest> {
    let path = spec.path.as_path();
    // Bytes, not a string: serde_json then names the line and column of any invalid UTF-8.
    let bytes = crate::input_file::read_capped(path)?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|error| ReportError::json(path, &error))?;
    let missing = |pointer: &str| {
        ReportError::invalid(
            path,
            pointer,
            "missing: not oha's JSON output (`oha --output-format json`), or from an oha version this report does not know",
        )
    };
    // oha writes NaN (no responses at all) as null.
    let seconds = |pointer: &str| -> Result<Option<f64>> {
        match value.pointer(pointer) {
            None => Err(missing(pointer)),
            Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64().filter(|v| v.is_finite())),
            Some(_) => Err(ReportError::invalid(path, pointer, "expected a number")),
        }
    };
    let counts = |pointer: &str| -> Result<Vec<(String, u64)>> {
        let Some(map) = value.pointer(pointer) else {
            return Err(missing(pointer));
        };
        let Some(map) = map.as_object() else {
            return Err(ReportError::invalid(path, pointer, "expected an object"));
        };
        map.iter()
            .map(|(key, count)| match count.as_u64() {
                Some(count) => Ok((key.clone(), count)),
                None => Err(ReportError::invalid(
                    path,
                    format!("{pointer}/{key}"),
                    "expected a whole number",
                )),
            })
            .collect()
    };
    let statuses = counts("/statusCodeDistribution")?;
    let errors = counts("/errorDistribution")?;
    let mut status_codes = Vec::with_capacity(statuses.len());
    for (code, count) in &statuses {
        let parsed: u16 = code.parse().map_err(|_| {
            ReportError::invalid(
                path,
                format!("/statusCodeDistribution/{code}"),
                "not an HTTP status code",
            )
        })?;
        status_codes.push((parsed, *count));
    }
    let deadline_aborted: u64 = errors.iter().filter(|(e, _)| e == DEADLINE).map(|(_, n)| n).sum();
    let client_errors: u64 = errors.iter().filter(|(e, _)| e != DEADLINE).map(|(_, n)| n).sum();
    let responses: u64 = status_codes.iter().map(|(_, n)| n).sum();
    let error_statuses: u64 = status_codes
        .iter()
        .filter(|(code, _)| *code >= 400)
        .map(|(_, n)| n)
        .sum();
    let ms = |pointer: &str| -> Result<Option<f64>> { Ok(seconds(pointer)?.map(|s| s * 1_000.0)) };
    let percentile = |key: &str| -> Result<Option<f64>> {
        match value.pointer("/latencyPercentiles") {
            None => Err(missing("/latencyPercentiles")),
            Some(map) => match map.get(key) {
                None if responses == 0 => Ok(None),
                None => Err(missing(&format!("/latencyPercentiles/{key}"))),
                Some(Value::Null) => Ok(None),
                Some(v) => v.as_f64().map(|s| Some(s * 1_000.0)).ok_or_else(|| {
                    ReportError::invalid(path, format!("/latencyPercentiles/{key}"), "expected a number")
                }),
            },
        }
    };
    let success_rate = seconds("/summary/successRate")?;
    let endpoint = Endpoint {
        kind: EndpointKind::Rest,
        request_type: spec.request_type.clone(),
        name: spec.name.clone(),
        requests: responses + client_errors,
        failures: error_statuses + client_errors,
        rps: seconds("/summary/requestsPerSec")?,
        min_ms: ms("/summary/fastest")?,
        avg_ms: ms("/summary/average")?,
        p50_ms: percentile("p50")?,
        p95_ms: percentile("p95")?,
        p99_ms: percentile("p99")?,
        p999_ms: percentile("p99.9")?,
        max_ms: ms("/summary/slowest")?,
    };
    let mut failures: Vec<Failure> = status_codes
        .iter()
        .filter(|(code, _)| *code >= 400)
        .map(|(code, count)| Failure {
            method: spec.request_type.clone(),
            name: spec.name.clone(),
            error: format!("HTTP {code}"),
            occurrences: *count,
        })
        .chain(
            errors
                .iter()
                .filter(|(e, _)| e != DEADLINE)
                .map(|(error, count)| Failure {
                    method: spec.request_type.clone(),
                    name: spec.name.clone(),
                    error: error.clone(),
                    occurrences: *count,
                }),
        )
        .collect();
    failures.sort_by(|a, b| {
        b.occurrences
            .cmp(&a.occurrences)
            .then_with(|| a.error.cmp(&b.error))
    });
    let mut notes = vec![format!(
        "oha counts every HTTP response as a success (its success rate: {}); here a 4xx or 5xx response counts as a \
         failure, as in Locust.",
        success_rate.map_or("not reported".to_owned(), |rate| format!("{:.2} %", rate * 100.0))
    )];
    if deadline_aborted > 0 {
        notes.push(format!(
            "{deadline_aborted} request(s) cut off when the run's time ran out (-z) are counted in oha's requests per \
             second, as oha does, but not as requests or failures."
        ));
    }
    let mut aggregated = endpoint.clone();
    aggregated.kind = EndpointKind::Aggregated;
    aggregated.request_type = String::new();
    aggregated.name = "Aggregated".to_owned();
    Ok(LoadTest {
        tool: "oha",
        version: None,
        sources: vec![spec.path.clone()],
        endpoints: vec![endpoint, aggregated],
        failures,
        history: Vec::new(),
        notes,
        argument: format!("--oha {}", shell_quote(&spec.given)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_take_an_optional_label() {
        let spec = OhaSpec::parse("out/oha-quotes.json");
        assert_eq!(
            (spec.request_type.as_str(), spec.name.as_str()),
            ("HTTP", "oha-quotes")
        );
        let spec = OhaSpec::parse("POST /orders=out/o.json");
        assert_eq!(spec.path, PathBuf::from("out/o.json"));
        assert_eq!(
            (spec.request_type.as_str(), spec.name.as_str()),
            ("POST", "/orders")
        );
        let spec = OhaSpec::parse("quotes=o.json");
        assert_eq!(
            (spec.request_type.as_str(), spec.name.as_str()),
            ("HTTP", "quotes")
        );
    }
}

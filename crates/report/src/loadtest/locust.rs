//! Locust's output: the final stats JSON (`--json`, `--json-file`) and the CSV family written by
//! `--csv PREFIX` (`_stats.csv`, `_stats_history.csv`, `_failures.csv`, `_exceptions.csv`).
//!
//! From the JSON, every figure is computed the way Locust computes it from the same data (its
//! response-time buckets, rounded to about two significant digits, and its percentile walk), so
//! that it equals the number in Locust's own `_stats.csv`; the aggregate row, which the JSON does
//! not carry, is built from the merged buckets as Locust builds its own. The one figure the JSON
//! cannot give exactly is requests per second, as it lacks the test's start time: the earliest
//! request of any endpoint stands in for it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::endpoint::{Endpoint, EndpointKind, classify};
use super::load_test::{Failure, HistoryPoint, LoadTest, push_bounded};
use super::shell::shell_quote;
use crate::error::{ReportError, Result};

/// Locust's CSV family, by suffix.
const STATS: &str = "_stats.csv";
const HISTORY: &str = "_stats_history.csv";
const FAILURES: &str = "_failures.csv";
const EXCEPTIONS: &str = "_exceptions.csv";

/// The files of one Locust run.
#[derive(Debug, Default)]
struct Files {
    json: Option<PathBuf>,
    stats: Option<PathBuf>,
    history: Option<PathBuf>,
    failures: Option<PathBuf>,
}

fn existing(path: PathBuf) -> Option<PathBuf> {
    path.is_file().then_some(path)
}

/// Finds a run's files from a prefix or from any one of its files.
fn locate(given: &Path) -> Result<Files> {
    let text = given.to_string_lossy();
    let prefix = [".json", HISTORY, STATS, FAILURES, EXCEPTIONS]
        .iter()
        .find_map(|suffix| text.strip_suffix(suffix))
        .unwrap_or(&text)
        .to_owned();
    let files = Files {
        json: existing(PathBuf::from(format!("{prefix}.json"))),
        stats: existing(PathBuf::from(format!("{prefix}{STATS}"))),
        history: existing(PathBuf::from(format!("{prefix}{HISTORY}"))),
        failures: existing(PathBuf::from(format!("{prefix}{FAILURES}"))),
    };
    if given.is_file() || files.json.is_some() || files.stats.is_some() {
        if files.json.is_none() && files.stats.is_none() {
            return Err(ReportError::invalid(
                given,
                "locust",
                format!(
                    "found neither {prefix}.json (--json-file) nor {prefix}{STATS} (--csv): the per-endpoint figures"
                ),
            ));
        }
        return Ok(files);
    }
    Err(ReportError::read(
        given,
        std::io::Error::from(std::io::ErrorKind::NotFound),
    ))
}

/// Reads one Locust run given as a prefix (`--csv PREFIX`, `--json-file PREFIX`) or any of its
/// files. `websocket_types` are the request types counted as WebSocket traffic.
pub fn load_locust(given: &Path, websocket_types: &[String]) -> Result<LoadTest> {
    let files = locate(given)?;
    let mut test = LoadTest {
        tool: "Locust",
        version: None,
        sources: Vec::new(),
        endpoints: Vec::new(),
        failures: Vec::new(),
        history: Vec::new(),
        notes: Vec::new(),
        argument: format!("--locust {}", shell_quote(&given.to_string_lossy())),
    };
    let from_json = match &files.json {
        Some(path) => {
            test.sources.push(path.clone());
            Some(from_json(path, websocket_types)?)
        }
        None => None,
    };
    let from_csv = match &files.stats {
        Some(path) => {
            test.sources.push(path.clone());
            Some(from_stats_csv(path, websocket_types)?)
        }
        None => None,
    };
    test.endpoints = match (from_json, from_csv) {
        (Some(mut json), Some(csv)) => {
            test.notes.push(reconcile(&mut json, &csv));
            json
        }
        (Some(json), None) => {
            test.notes.push(
                "Requests per second come from the JSON, which lacks the test's start time: the first request stands \
                 in for it (Locust's own figure, from its CSV, can differ by about 1 %)."
                    .to_owned(),
            );
            json
        }
        (None, Some(csv)) => csv,
        (None, None) => unreachable!("locate requires one of them"),
    };
    if let Some(path) = &files.failures {
        test.sources.push(path.clone());
        test.failures = failures_csv(path)?;
    }
    if let Some(path) = &files.history {
        test.sources.push(path.clone());
        test.history = history_csv(path)?;
    }
    Ok(test)
}

/// One entry of Locust's JSON, as Locust keeps it.
struct Entry {
    name: String,
    method: String,
    num_requests: u64,
    num_none_requests: u64,
    num_failures: u64,
    total_response_time: f64,
    min_response_time: Option<f64>,
    max_response_time: f64,
    start_time: f64,
    last_request_timestamp: Option<f64>,
    /// Bucketed response time (ms) → count.
    response_times: BTreeMap<u64, u64>,
}

fn from_json(path: &Path, websocket_types: &[String]) -> Result<Vec<Endpoint>> {
    // Bytes, not a string: serde_json then names the line and column of any invalid UTF-8.
    let bytes = crate::input_file::read_capped(path)?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|error| ReportError::json(path, &error))?;
    let Some(items) = value.as_array() else {
        return Err(ReportError::invalid(
            path,
            "/",
            "expected Locust's JSON stats: a list of endpoint entries (`locust --json` or `--json-file`)",
        ));
    };
    let mut entries = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        entries.push(entry(path, index, item)?);
    }
    // Locust's own tables (console, `_stats.csv`) list entries sorted by (name, method); the JSON
    // keeps first-seen order. Sorting the same way makes both sources read alike.
    entries.sort_by(|a, b| (&a.name, &a.method).cmp(&(&b.name, &b.method)));
    let start = entries.iter().map(|e| e.start_time).fold(f64::INFINITY, f64::min);
    let last = entries
        .iter()
        .filter_map(|e| e.last_request_timestamp)
        .fold(f64::NEG_INFINITY, f64::max);
    let duration = if last > start { last - start } else { 0.0 };
    let mut endpoints: Vec<Endpoint> = entries
        .iter()
        .map(|entry| endpoint(entry, classify(&entry.method, websocket_types), duration))
        .collect();
    let total = merge(&entries);
    endpoints.push(endpoint(&total, EndpointKind::Aggregated, duration));
    Ok(endpoints)
}

fn entry(path: &Path, index: usize, item: &Value) -> Result<Entry> {
    let at = |field: &str| format!("/{index}/{field}");
    let missing = |field: &str| {
        ReportError::invalid(
            path,
            at(field),
            format!(
                "missing `{field}`: not Locust's JSON stats, or from a Locust version this report does not know"
            ),
        )
    };
    let number = |field: &str| -> Result<Option<f64>> {
        match item.get(field) {
            None => Err(missing(field)),
            Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(_) => Err(ReportError::invalid(path, at(field), "expected a number")),
        }
    };
    let count = |field: &str| -> Result<u64> {
        match number(field)? {
            None => Ok(0),
            Some(value) => whole_count(value).ok_or_else(|| {
                ReportError::invalid(path, at(field), format!("{value} is not a count: {COUNT_RANGE}"))
            }),
        }
    };
    let text = |field: &str| -> Result<String> {
        match item.get(field) {
            None => Err(missing(field)),
            Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(ReportError::invalid(path, at(field), "expected a string")),
        }
    };
    let mut response_times = BTreeMap::new();
    match item.get("response_times") {
        Some(Value::Object(map)) => {
            for (key, count) in map {
                let bucket: f64 = key.parse().map_err(|_| {
                    ReportError::invalid(
                        path,
                        at("response_times"),
                        format!("bucket `{key}` is not a number"),
                    )
                })?;
                let count = count
                    .as_u64()
                    .filter(|count| *count <= MAX_COUNT)
                    .ok_or_else(|| {
                        ReportError::invalid(
                            path,
                            at("response_times"),
                            format!("count of bucket `{key}` is not a count: {COUNT_RANGE}"),
                        )
                    })?;
                *response_times.entry(bucket.round() as u64).or_insert(0) += count;
            }
        }
        None => return Err(missing("response_times")),
        Some(_) => {
            return Err(ReportError::invalid(
                path,
                at("response_times"),
                "expected an object",
            ));
        }
    }
    Ok(Entry {
        name: text("name")?,
        method: text("method")?,
        num_requests: count("num_requests")?,
        num_none_requests: match item.get("num_none_requests") {
            None | Some(Value::Null) => 0,
            Some(_) => count("num_none_requests")?,
        },
        num_failures: count("num_failures")?,
        total_response_time: number("total_response_time")?.unwrap_or(0.0),
        min_response_time: number("min_response_time")?,
        max_response_time: number("max_response_time")?.unwrap_or(0.0),
        start_time: number("start_time")?.unwrap_or(0.0),
        last_request_timestamp: number("last_request_timestamp")?,
        response_times,
    })
}

/// The aggregate, as Locust's `stats.total` accumulates its entries.
fn merge(entries: &[Entry]) -> Entry {
    let mut response_times = BTreeMap::new();
    for entry in entries {
        for (&bucket, &count) in &entry.response_times {
            *response_times.entry(bucket).or_insert(0) += count;
        }
    }
    Entry {
        name: "Aggregated".to_owned(),
        method: String::new(),
        num_requests: entries.iter().map(|e| e.num_requests).sum(),
        num_none_requests: entries.iter().map(|e| e.num_none_requests).sum(),
        num_failures: entries.iter().map(|e| e.num_failures).sum(),
        total_response_time: entries.iter().map(|e| e.total_response_time).sum(),
        min_response_time: entries
            .iter()
            .filter_map(|e| e.min_response_time)
            .reduce(f64::min),
        max_response_time: entries.iter().map(|e| e.max_response_time).fold(0.0, f64::max),
        start_time: entries.iter().map(|e| e.start_time).fold(f64::INFINITY, f64::min),
        last_request_timestamp: entries
            .iter()
            .filter_map(|e| e.last_request_timestamp)
            .reduce(f64::max),
        response_times,
    }
}

/// Locust's `calculate_response_time_percentile`: walk the buckets from the slowest down until
/// no more than `int(count × percent)` requests remain below.
pub(crate) fn locust_percentile(response_times: &BTreeMap<u64, u64>, count: u64, percent: f64) -> u64 {
    let wanted = (count as f64 * percent) as i128;
    let mut processed: i128 = 0;
    for (&bucket, &n) in response_times.iter().rev() {
        processed += i128::from(n);
        if i128::from(count) - processed <= wanted {
            return bucket;
        }
    }
    0
}

fn endpoint(entry: &Entry, kind: EndpointKind, duration_s: f64) -> Endpoint {
    let timed = entry.num_requests.saturating_sub(entry.num_none_requests);
    let has = timed > 0 && !entry.response_times.is_empty();
    let percentile = |p: f64| has.then(|| locust_percentile(&entry.response_times, timed, p) as f64);
    Endpoint {
        kind,
        request_type: entry.method.clone(),
        name: entry.name.clone(),
        requests: entry.num_requests,
        failures: entry.num_failures,
        rps: (duration_s > 0.0).then(|| entry.num_requests as f64 / duration_s),
        min_ms: has.then(|| entry.min_response_time.unwrap_or(0.0)),
        avg_ms: (timed > 0).then(|| entry.total_response_time / timed as f64),
        p50_ms: percentile(0.50),
        p95_ms: percentile(0.95),
        p99_ms: percentile(0.99),
        p999_ms: percentile(0.999),
        max_ms: has.then_some(entry.max_response_time),
    }
}

/// A CSV file read by header name, so reordered columns are fine and missing ones are named.
struct Csv {
    path: PathBuf,
    reader: csv::Reader<std::fs::File>,
    columns: Vec<String>,
}

impl Csv {
    fn open(path: &Path) -> Result<Self> {
        crate::input_file::regular_file(path)?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_path(path)
            .map_err(|error| csv_error(path, &error))?;
        let columns = reader
            .byte_headers()
            .map_err(|error| csv_error(path, &error))?
            .iter()
            .map(|column| String::from_utf8_lossy(column).trim().to_owned())
            .collect();
        Ok(Self {
            path: path.to_owned(),
            reader,
            columns,
        })
    }

    fn require(&self, wanted: &[&str]) -> Result<Vec<usize>> {
        wanted
            .iter()
            .map(|name| {
                self.columns
                    .iter()
                    .position(|column| column == name)
                    .ok_or_else(|| {
                        ReportError::invalid(
                            &self.path,
                            "line 1",
                            format!("missing column `{name}` (columns: {})", self.columns.join(", ")),
                        )
                    })
            })
            .collect()
    }

    /// Streams the rows without copying them: a field's text is decoded only when asked for,
    /// leniently (invalid UTF-8 becomes U+FFFD).
    fn rows(&mut self, mut each: impl FnMut(usize, &Row<'_>) -> Result<()>) -> Result<()> {
        let mut record = csv::ByteRecord::new();
        let mut line = 1;
        while self
            .reader
            .read_byte_record(&mut record)
            .map_err(|error| csv_error(&self.path, &error))?
        {
            line = record
                .position()
                .map_or(line + 1, |position| position.line() as usize);
            each(line, &Row(&record))?;
        }
        Ok(())
    }
}

/// One CSV record; a missing field (a short row) reads as empty.
struct Row<'a>(&'a csv::ByteRecord);

impl<'a> Row<'a> {
    fn text(&self, index: usize) -> Cow<'a, str> {
        String::from_utf8_lossy(self.0.get(index).unwrap_or_default())
    }
}

fn csv_error(path: &Path, error: &csv::Error) -> ReportError {
    match error.kind() {
        csv::ErrorKind::Io(io) => ReportError::read(path, std::io::Error::new(io.kind(), io.to_string())),
        _ => ReportError::invalid(
            path,
            error
                .position()
                .map_or("csv".to_owned(), |p| format!("line {}", p.line())),
            error.to_string(),
        ),
    }
}

/// A number from a CSV field: `None` for `N/A` or empty.
/// The most requests (or failures, or observations in one bucket) one entry may count: far above
/// any real load test (a million requests a second for thirty years), and low enough that the
/// sums over entries cannot overflow.
const MAX_COUNT: u64 = 1_000_000_000_000_000;
const COUNT_RANGE: &str = "a whole number from 0 to 10^15";

/// `value` as a count, if it is one: whole, not negative, at most [`MAX_COUNT`]. Locust writes
/// counts as integers; anything else is not its output.
fn whole_count(value: f64) -> Option<u64> {
    (value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= MAX_COUNT as f64)
        .then_some(value as u64)
}

/// A count in a CSV cell; empty and `N/A` read as 0.
fn csv_count(path: &Path, line: usize, column: &str, text: &str) -> Result<u64> {
    match csv_number(path, line, column, text)? {
        None => Ok(0),
        Some(value) => whole_count(value).ok_or_else(|| {
            ReportError::invalid(
                path,
                format!("line {line}, column `{column}`"),
                format!("`{}` is not a count: {COUNT_RANGE}", text.trim()),
            )
        }),
    }
}

fn csv_number(path: &Path, line: usize, column: &str, text: &str) -> Result<Option<f64>> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("N/A") {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(Some(value)),
        _ => Err(ReportError::invalid(
            path,
            format!("line {line}, column `{column}`"),
            format!("`{text}` is not a number"),
        )),
    }
}

fn from_stats_csv(path: &Path, websocket_types: &[String]) -> Result<Vec<Endpoint>> {
    let mut csv = Csv::open(path)?;
    const COLUMNS: [&str; 12] = [
        "Type",
        "Name",
        "Request Count",
        "Failure Count",
        "Average Response Time",
        "Min Response Time",
        "Max Response Time",
        "Requests/s",
        "50%",
        "95%",
        "99%",
        "99.9%",
    ];
    let at = csv.require(&COLUMNS)?;
    let mut endpoints = Vec::new();
    let path = path.to_owned();
    csv.rows(|line, row| {
        let number = |i: usize| csv_number(&path, line, COLUMNS[i], &row.text(at[i]));
        let name = row.text(at[1]).into_owned();
        let request_type = row.text(at[0]).into_owned();
        let kind = if name == "Aggregated" && request_type.is_empty() {
            EndpointKind::Aggregated
        } else {
            classify(&request_type, websocket_types)
        };
        let requests = csv_count(&path, line, COLUMNS[2], &row.text(at[2]))?;
        endpoints.push(Endpoint {
            kind,
            request_type,
            name,
            requests,
            failures: csv_count(&path, line, COLUMNS[3], &row.text(at[3]))?,
            rps: number(7)?,
            min_ms: number(5)?.filter(|_| requests > 0),
            avg_ms: number(4)?.filter(|_| requests > 0),
            p50_ms: number(8)?,
            p95_ms: number(9)?,
            p99_ms: number(10)?,
            p999_ms: number(11)?,
            max_ms: number(6)?.filter(|_| requests > 0),
        });
        Ok(())
    })?;
    Ok(endpoints)
}

fn failures_csv(path: &Path) -> Result<Vec<Failure>> {
    let mut csv = Csv::open(path)?;
    const COLUMNS: [&str; 4] = ["Method", "Name", "Error", "Occurrences"];
    let at = csv.require(&COLUMNS)?;
    let mut failures = Vec::new();
    let path = path.to_owned();
    csv.rows(|line, row| {
        failures.push(Failure {
            method: row.text(at[0]).into_owned(),
            name: row.text(at[1]).into_owned(),
            error: row.text(at[2]).into_owned(),
            occurrences: csv_count(&path, line, COLUMNS[3], &row.text(at[3]))?,
        });
        Ok(())
    })?;
    failures.sort_by(|a, b| {
        b.occurrences
            .cmp(&a.occurrences)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(failures)
}

/// Most history points kept; longer histories are thinned evenly as they stream in.
const HISTORY_POINTS: usize = 600;

fn history_csv(path: &Path) -> Result<Vec<HistoryPoint>> {
    let mut csv = Csv::open(path)?;
    const COLUMNS: [&str; 7] = [
        "Timestamp",
        "User Count",
        "Type",
        "Name",
        "Requests/s",
        "Failures/s",
        "95%",
    ];
    let at = csv.require(&COLUMNS)?;
    let (mut history, mut stride, mut seen) = (Vec::new(), 1, 0);
    let path = path.to_owned();
    csv.rows(|line, row| {
        // Only the aggregate (what Locust writes without --csv-full-history).
        if row.text(at[3]) != "Aggregated" {
            return Ok(());
        }
        let number = |i: usize| csv_number(&path, line, COLUMNS[i], &row.text(at[i]));
        let point = HistoryPoint {
            timestamp: number(0)?.unwrap_or(0.0) as u64,
            users: number(1)?.unwrap_or(0.0) as u64,
            rps: number(4)?.unwrap_or(0.0),
            failures_per_s: number(5)?.unwrap_or(0.0),
            p95_ms: number(6)?,
        };
        push_bounded(&mut history, point, &mut stride, &mut seen, HISTORY_POINTS);
        Ok(())
    })?;
    Ok(history)
}

/// Compares the JSON-derived figures with the CSV's. The JSON wins where they disagree (the CSV
/// may miss the last second); where they agree, requests per second come from the CSV, which
/// Locust computed from the test's true start time. Returns what the reader should be told.
fn reconcile(json: &mut [Endpoint], csv: &[Endpoint]) -> String {
    let row_of = |endpoint: &Endpoint| {
        csv.iter().find(|row| {
            row.name == endpoint.name
                && (row.request_type == endpoint.request_type || row.kind == endpoint.kind)
        })
    };
    for endpoint in json.iter() {
        let Some(row) = row_of(endpoint) else {
            return format!(
                "Locust's _stats.csv has no row for {} {}, which its JSON has: the CSV was written before the run \
                 ended. The JSON's figures are used.",
                endpoint.request_type, endpoint.name
            );
        };
        let same = endpoint.requests == row.requests
            && endpoint.failures == row.failures
            && endpoint.p50_ms == row.p50_ms
            && endpoint.p95_ms == row.p95_ms
            && endpoint.p99_ms == row.p99_ms
            && endpoint.p999_ms == row.p999_ms;
        if !same {
            return format!(
                "Locust's JSON and _stats.csv disagree on {} {} ({} requests in the JSON, {} in the CSV): Locust \
                 rewrites the CSV once a second rather than at shutdown, so it can miss the last second. The JSON's \
                 figures are used.",
                endpoint.request_type, endpoint.name, endpoint.requests, row.requests
            );
        }
    }
    for endpoint in json.iter_mut() {
        endpoint.rps = row_of(endpoint).and_then(|row| row.rps).or(endpoint.rps);
    }
    "Locust's JSON and _stats.csv agree on every endpoint's requests, failures and percentiles; requests per \
     second are the CSV's."
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_locusts_walk() {
        // Expected values are Locust 2.47's `calculate_response_time_percentile` on the same input.
        // 100 requests: 90 at 10 ms, 9 at 100 ms, 1 at 1,000 ms.
        let buckets = BTreeMap::from([(10, 90), (100, 9), (1_000, 1)]);
        let got: Vec<u64> = [0.5, 0.9, 0.95, 0.99, 0.999, 1.0]
            .iter()
            .map(|&p| locust_percentile(&buckets, 100, p))
            .collect();
        assert_eq!(got, [10, 100, 100, 1_000, 1_000, 1_000]);
        let buckets = BTreeMap::from([(1, 3), (2, 1)]);
        let got: Vec<u64> = [0.5, 0.75, 0.76, 0.99]
            .iter()
            .map(|&p| locust_percentile(&buckets, 4, p))
            .collect();
        assert_eq!(got, [1, 2, 2, 2]);
        assert_eq!(locust_percentile(&BTreeMap::new(), 0, 0.5), 0);
    }
}

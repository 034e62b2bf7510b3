//! Load-test inputs, checked against the tools' own numbers for the same run: the fixtures were
//! written by real Locust and real oha (`fixtures/loadtest-tools/make_fixtures.sh`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use perfgate_report::loadtest::{
    DEFAULT_WEBSOCKET_TYPES, Endpoint, EndpointKind, LoadTest, OhaSpec, load_locust, load_oha,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn ws_types() -> Vec<String> {
    DEFAULT_WEBSOCKET_TYPES.iter().map(|s| (*s).to_owned()).collect()
}

/// Copies some of a run's files into a fresh directory, so that only those are found.
fn only(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in files {
        std::fs::copy(fixture(file), dir.path().join(file)).unwrap();
    }
    dir
}

/// Locust's `_stats.csv` rows read straight with the csv crate, by column name: the oracle.
fn locust_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

fn number(row: &HashMap<String, String>, column: &str) -> Option<f64> {
    let text = &row[column];
    (text != "N/A").then(|| text.parse().unwrap())
}

fn find<'a>(test: &'a LoadTest, request_type: &str, name: &str) -> &'a Endpoint {
    test.endpoints
        .iter()
        .find(|e| e.request_type == request_type && e.name == name)
        .unwrap_or_else(|| panic!("no endpoint {request_type} {name} in {:?}", test.endpoints))
}

/// Every figure derived from Locust's JSON equals the one in Locust's own `_stats.csv` of the
/// same run, the aggregated row (which the JSON lacks) included; requests per second within 1 %.
fn json_matches_locusts_csv(run: &str) {
    let json_only = only(&[&format!("{run}.json")]);
    let from_json = load_locust(&json_only.path().join(run), &ws_types()).unwrap();
    let rows = locust_csv(&fixture(&format!("{run}_stats.csv")));
    assert_eq!(from_json.endpoints.len(), rows.len(), "one endpoint per CSV row");
    assert_eq!(from_json.endpoints.last().unwrap().kind, EndpointKind::Aggregated);
    for row in &rows {
        let endpoint = find(&from_json, &row["Type"], &row["Name"]);
        let label = format!("{run}: {} {}", row["Type"], row["Name"]);
        assert_eq!(
            endpoint.requests as f64,
            number(row, "Request Count").unwrap(),
            "{label}"
        );
        assert_eq!(
            endpoint.failures as f64,
            number(row, "Failure Count").unwrap(),
            "{label}"
        );
        for (ours, column) in [
            (endpoint.p50_ms, "50%"),
            (endpoint.p95_ms, "95%"),
            (endpoint.p99_ms, "99%"),
            (endpoint.p999_ms, "99.9%"),
        ] {
            assert_eq!(ours, number(row, column), "{label} {column}");
        }
        if endpoint.requests > 0 {
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
            assert!(
                close(
                    endpoint.avg_ms.unwrap(),
                    number(row, "Average Response Time").unwrap()
                ),
                "{label} avg"
            );
            assert!(
                close(
                    endpoint.min_ms.unwrap(),
                    number(row, "Min Response Time").unwrap()
                ),
                "{label} min"
            );
            assert!(
                close(
                    endpoint.max_ms.unwrap(),
                    number(row, "Max Response Time").unwrap()
                ),
                "{label} max"
            );
            let (ours, theirs) = (endpoint.rps.unwrap(), number(row, "Requests/s").unwrap());
            assert!(
                (ours / theirs - 1.0).abs() < 0.01,
                "{label}: {ours} req/s vs Locust's {theirs}"
            );
        }
    }
}

#[test]
fn locust_json_percentiles_equal_locusts_own_csv() {
    json_matches_locusts_csv("locust-run");
}

#[test]
fn locust_distributed_mode_json_equals_its_csv() {
    json_matches_locusts_csv("locust-distributed");
}

#[test]
fn locust_csv_alone_gives_the_csv_figures_and_json_and_csv_together_agree() {
    let csv_only = only(&[
        "locust-run_stats.csv",
        "locust-run_failures.csv",
        "locust-run_stats_history.csv",
    ]);
    let from_csv = load_locust(&csv_only.path().join("locust-run"), &ws_types()).unwrap();
    let rows = locust_csv(&fixture("locust-run_stats.csv"));
    for row in &rows {
        let endpoint = find(&from_csv, &row["Type"], &row["Name"]);
        assert_eq!(endpoint.rps, number(row, "Requests/s"));
        assert_eq!(endpoint.p95_ms, number(row, "95%"));
    }
    // A prefix finds the whole family; the figures agree, so requests per second are the CSV's.
    let both = load_locust(&fixture("locust-run"), &ws_types()).unwrap();
    assert_eq!(both.sources.len(), 4, "{:?}", both.sources);
    assert!(
        both.notes.iter().any(|note| note.contains("agree")),
        "{:?}",
        both.notes
    );
    for (ours, theirs) in both.endpoints.iter().zip(&from_csv.endpoints) {
        assert_eq!(
            (&ours.name, ours.rps, ours.p99_ms),
            (&theirs.name, theirs.rps, theirs.p99_ms)
        );
    }
    // Any one file of the family names the run as well as the prefix.
    let by_file = load_locust(&fixture("locust-run_stats_history.csv"), &ws_types()).unwrap();
    assert_eq!(by_file.endpoints, both.endpoints);
    assert!(!both.history.is_empty());
    assert!(
        both.history
            .windows(2)
            .all(|pair| pair[0].timestamp <= pair[1].timestamp)
    );
}

/// A plain `--run-time` run stops mid-traffic: Locust's last CSV write happened up to a second
/// before its JSON was written at shutdown. The report keeps the JSON's figures and says so.
#[test]
fn when_the_csv_missed_the_last_second_the_json_wins_and_the_report_says_so() {
    let both = load_locust(&fixture("locust-unsettled"), &ws_types()).unwrap();
    let rows = locust_csv(&fixture("locust-unsettled_stats.csv"));
    let aggregated = both.endpoints.last().unwrap();
    let csv_total = rows.iter().find(|row| row["Name"] == "Aggregated").unwrap();
    assert!(
        aggregated.requests as f64 > number(csv_total, "Request Count").unwrap(),
        "the fixture should show the CSV behind the JSON"
    );
    let json_only = only(&["locust-unsettled.json"]);
    let from_json = load_locust(&json_only.path().join("locust-unsettled"), &ws_types()).unwrap();
    assert_eq!(both.endpoints, from_json.endpoints);
    assert!(
        both.notes
            .iter()
            .any(|note| note.contains("disagree") && note.contains("JSON's figures are used")),
        "{:?}",
        both.notes
    );
}

#[test]
fn rest_and_websocket_traffic_are_told_apart() {
    let run = load_locust(&fixture("locust-run"), &ws_types()).unwrap();
    let kinds: Vec<(EndpointKind, &str)> = run
        .endpoints
        .iter()
        .map(|e| (e.kind, e.request_type.as_str()))
        .collect();
    assert!(kinds.contains(&(EndpointKind::WebSocket, "WS")), "{kinds:?}");
    assert!(kinds.contains(&(EndpointKind::Rest, "GET")) && kinds.contains(&(EndpointKind::Rest, "POST")));
    // Configurable: without WS among the WebSocket types, WS traffic is "other".
    let run = load_locust(&fixture("locust-run"), &["SOCKETIO".to_owned()]).unwrap();
    assert_eq!(find(&run, "WS", "/ws echo").kind, EndpointKind::Other);
}

#[test]
fn an_endpoint_that_always_fails_is_reported_as_such() {
    let run = load_locust(&fixture("locust-run"), &ws_types()).unwrap();
    let down = find(&run, "GET", "/maintenance");
    assert!(down.requests > 0);
    assert_eq!(down.failures, down.requests);
    assert_eq!(down.error_rate_pct(), Some(100.0));
    let failure = run
        .failures
        .iter()
        .find(|f| f.name == "/maintenance")
        .expect("listed among the failures");
    assert_eq!(failure.occurrences, down.failures);
    assert!(failure.error.contains("503"), "{}", failure.error);
}

#[test]
fn a_run_without_requests_gives_an_empty_section_not_an_error() {
    for files in [vec!["locust-empty.json"], vec!["locust-empty_stats.csv"]] {
        let dir = only(&files);
        let run = load_locust(&dir.path().join("locust-empty"), &ws_types()).unwrap();
        let total = run.aggregated().expect("an aggregated row");
        assert_eq!(total.requests, 0, "{files:?}");
        assert_eq!((total.p95_ms, total.error_rate_pct()), (None, None), "{files:?}");
    }
}

/// oha's JSON read back: its summary is reproduced, and the request count re-derived from the
/// status and error distributions agrees with oha's own requests per second × duration.
#[test]
fn oha_summary_is_reproduced() {
    for file in ["oha-quotes.json", "oha-flaky.json"] {
        let text = std::fs::read_to_string(fixture(file)).unwrap();
        let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
        let run = load_oha(&OhaSpec::parse(fixture(file).to_str().unwrap())).unwrap();
        let endpoint = &run.endpoints[0];
        let seconds = |pointer: &str| raw.pointer(pointer).unwrap().as_f64().unwrap();
        assert_eq!(endpoint.rps, Some(seconds("/summary/requestsPerSec")));
        assert_eq!(endpoint.avg_ms, Some(seconds("/summary/average") * 1000.0));
        assert_eq!(endpoint.min_ms, Some(seconds("/summary/fastest") * 1000.0));
        assert_eq!(endpoint.max_ms, Some(seconds("/summary/slowest") * 1000.0));
        assert_eq!(endpoint.p50_ms, Some(seconds("/latencyPercentiles/p50") * 1000.0));
        assert_eq!(endpoint.p99_ms, Some(seconds("/latencyPercentiles/p99") * 1000.0));
        assert_eq!(
            endpoint.p999_ms,
            Some(seconds("/latencyPercentiles/p99.9") * 1000.0)
        );
        let aborted = raw
            .pointer("/errorDistribution/aborted due to deadline")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        let sent = (seconds("/summary/requestsPerSec") * seconds("/summary/total")).round() as u64;
        assert_eq!(endpoint.requests + aborted, sent, "{file}");
        let statuses = raw
            .pointer("/statusCodeDistribution")
            .unwrap()
            .as_object()
            .unwrap();
        let errors: u64 = statuses
            .iter()
            .filter(|(code, _)| code.parse::<u16>().unwrap() >= 400)
            .map(|(_, n)| n.as_u64().unwrap())
            .sum();
        assert_eq!(
            endpoint.failures, errors,
            "{file}: no connection errors in these runs"
        );
        assert_eq!(run.endpoints[1].kind, EndpointKind::Aggregated);
    }
    let flaky = load_oha(&OhaSpec::parse(fixture("oha-flaky.json").to_str().unwrap())).unwrap();
    let rate = flaky.endpoints[0].error_rate_pct().unwrap();
    assert!(
        (20.0..40.0).contains(&rate),
        "the server fails 30 % of /flaky: {rate}"
    );
}

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn report(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_perfgate-report"))
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
            .args(args)
            .args([
                "--out",
                self.path("report.md").to_str().unwrap(),
                "--json",
                self.path("verdict.json").to_str().unwrap(),
            ])
            .output()
            .unwrap()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_owned()
}

#[test]
fn a_report_from_load_tests_alone() {
    let workspace = Workspace::new();
    let locust = fixture("locust-run");
    let distributed = fixture("locust-distributed");
    let oha = format!("GET /quotes={}", fixture("oha-quotes.json").display());
    let output = workspace.report(&[
        "--locust",
        locust.to_str().unwrap(),
        "--locust",
        distributed.to_str().unwrap(),
        "--oha",
        &oha,
    ]);
    // thresholds/loadtest.toml: the fixture's failing endpoints break the error-rate limit.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = workspace.read("report.md");
    for expected in [
        "## Load tests",
        "### REST endpoints",
        "### WebSocket",
        "### All requests",
        "### Failures",
        "### Over time (run 1)",
        "/search?q=\\<script\\>\\|\\*term\\*",
        "| 3 | GET | /quotes |",
        "load tests only",
    ] {
        assert!(report.contains(expected), "missing {expected:?} in\n{report}");
    }
    assert!(!report.contains("<script>"), "endpoint names are escaped");
    assert!(
        !report.contains("## CPU"),
        "no in-process sections without a perfgate run"
    );
    let verdict: serde_json::Value = serde_json::from_str(&workspace.read("verdict.json")).unwrap();
    let tests = verdict["load_tests"].as_array().unwrap();
    assert_eq!(tests.len(), 3);
    assert_eq!(tests[0]["tool"], "Locust");
    assert_eq!(tests[2]["tool"], "oha");
    for test in tests {
        let endpoints = test["endpoints"].as_array().unwrap();
        assert_eq!(endpoints.last().unwrap()["name"], "Aggregated");
        for key in [
            "type",
            "name",
            "requests",
            "failures",
            "error_rate_pct",
            "rps",
            "min_ms",
            "avg_ms",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "p999_ms",
            "max_ms",
        ] {
            assert!(endpoints[0].get(key).is_some(), "{key}");
        }
    }
    let metric = |id: &str| {
        verdict["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(metric("error_rate.percent")["status"], "fail");
    assert!(metric("rest.p95_latency_ms")["value"].as_f64().unwrap() > 0.0);
    assert!(metric("websocket.p99_latency_ms")["value"].as_f64().unwrap() > 0.0);
}

#[test]
fn load_tests_join_a_perfgate_run() {
    let workspace = Workspace::new();
    let results = fixture("results-v1-full.json");
    let thresholds = fixture("thresholds-default.toml");
    let output = workspace.report(&[
        "--results",
        results.to_str().unwrap(),
        "--thresholds",
        thresholds.to_str().unwrap(),
        "--locust",
        fixture("locust-run").to_str().unwrap(),
    ]);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{}", stderr(&output));
    let report = workspace.read("report.md");
    assert!(
        report.contains("## CPU") && report.contains("## Load tests"),
        "{report}"
    );
}

#[test]
fn bad_load_test_input_is_a_one_line_error_with_exit_2() {
    let workspace = Workspace::new();
    let json = std::fs::read(fixture("locust-run.json")).unwrap();
    let stats = std::fs::read_to_string(fixture("locust-run_stats.csv")).unwrap();
    let truncated = workspace.write("truncated.json", &json[..json.len() / 2]);
    let mut invalid_utf8 = json.clone();
    let at = invalid_utf8.windows(6).position(|w| w == b"quotes").unwrap();
    invalid_utf8[at] = 0xFF;
    let invalid_utf8 = workspace.write("bad-utf8.json", &invalid_utf8);
    let not_locust = workspace.write("other.json", br#"{"summary": {}}"#);
    let missing_field = workspace.write("old.json", br#"[{"name": "/", "method": "GET"}]"#);
    let missing_column = workspace.write(
        "nocol_stats.csv",
        stats
            .lines()
            .map(|line| line.split(',').take(9).collect::<Vec<_>>().join(","))
            .collect::<Vec<_>>()
            .join("\n")
            .as_bytes(),
    );
    let oha_truncated = workspace.write(
        "oha.json",
        &std::fs::read(fixture("oha-quotes.json")).unwrap()[..100],
    );
    let cases: [(&str, &str, &str); 7] = [
        ("--locust", &truncated, "truncated.json:"),
        ("--locust", &invalid_utf8, "bad-utf8.json:"),
        ("--locust", &not_locust, "Locust's JSON stats"),
        (
            "--locust",
            &missing_field,
            "/0/response_times: missing `response_times`",
        ),
        ("--locust", &missing_column, "missing column `Requests/s`"),
        ("--locust", "/no/such/run", "/no/such/run: reading"),
        ("--oha", &oha_truncated, "oha.json:"),
    ];
    for (flag, path, expected) in cases {
        let output = workspace.report(&[flag, path]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{path}: {message}");
        assert!(message.contains(expected), "{path}: {message}");
        assert_eq!(message.lines().count(), 1, "{message}");
        assert!(!message.contains("panicked"), "{message}");
    }
}

#[test]
fn csv_columns_are_read_by_name_and_bytes_need_not_be_utf8() {
    let workspace = Workspace::new();
    let stats = std::fs::read_to_string(fixture("locust-run_stats.csv")).unwrap();
    // Reverse the column order.
    let mut reader = csv::Reader::from_reader(stats.as_bytes());
    let mut writer = csv::Writer::from_writer(Vec::new());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .rev()
        .map(str::to_owned)
        .collect();
    writer.write_record(&headers).unwrap();
    for record in reader.records() {
        writer.write_record(record.unwrap().iter().rev()).unwrap();
    }
    workspace.write("reordered_stats.csv", &writer.into_inner().unwrap());
    let reordered = load_locust(&workspace.path("reordered"), &ws_types()).unwrap();
    let original = load_locust(
        &only(&["locust-run_stats.csv"]).path().join("locust-run"),
        &ws_types(),
    )
    .unwrap();
    assert_eq!(reordered.endpoints, original.endpoints);
    // A name with bytes that are not UTF-8 is shown with replacement characters.
    let mut bytes = stats.into_bytes();
    let at = bytes.windows(7).position(|w| w == b"/quotes").unwrap();
    bytes[at + 1] = 0xFF;
    workspace.write("latin_stats.csv", &bytes);
    let run = load_locust(&workspace.path("latin"), &ws_types()).unwrap();
    assert!(run.endpoints.iter().any(|e| e.name.contains('\u{FFFD}')));
}

#[test]
fn a_long_history_is_streamed_and_thinned() {
    // 200,000 seconds of history (55 hours): read in one pass, kept to a bounded number of points.
    let workspace = Workspace::new();
    let mut text = String::from(
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,\
         Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min \
         Response Time,Total Max Response Time,Total Average Content Size\n",
    );
    for second in 0..200_000u64 {
        text.push_str(&format!(
            "{},20,,Aggregated,{}.5,0.0,5,6,7,8,9,{},12,13,14,15,16,{},0,5,5.5,1,16,120\n",
            1_700_000_000 + second,
            100 + second % 7,
            10 + second % 3,
            second * 100
        ));
    }
    workspace.write("long_stats_history.csv", text.as_bytes());
    workspace.write(
        "long_stats.csv",
        std::fs::read(fixture("locust-run_stats.csv")).unwrap().as_slice(),
    );
    let run = load_locust(&workspace.path("long"), &ws_types()).unwrap();
    assert!((150..=600).contains(&run.history.len()), "{}", run.history.len());
    assert_eq!(run.history[0].timestamp, 1_700_000_000);
    assert!(
        run.history
            .windows(2)
            .all(|pair| pair[0].timestamp < pair[1].timestamp)
    );
}

/// Issue 15, point 10: a Locust count that is not a count (huge, negative, fractional) is bad
/// input, not saturated, clamped or wrapped into the aggregate.
#[test]
fn issue_15_impossible_locust_counts_are_bad_input() {
    let workspace = Workspace::new();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("locust-run.json")).unwrap()).unwrap();
    let stats = std::fs::read_to_string(fixture("locust-run_stats.csv")).unwrap();
    for (name, field, value) in [
        ("huge", "num_requests", serde_json::json!(1e308)),
        ("negative", "num_failures", serde_json::json!(-5)),
        ("fraction", "num_requests", serde_json::json!(2.5)),
        ("none", "num_none_requests", serde_json::json!(-1)),
    ] {
        let mut hostile = json.clone();
        hostile[0][field] = value;
        let path = workspace.write(&format!("{name}.json"), hostile.to_string().as_bytes());
        let output = workspace.report(&["--locust", &path]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{name}: {message}");
        assert!(
            message.contains(&format!("/0/{field}")) && message.contains("not a count"),
            "{name}: {message}"
        );
    }
    let mut bucket = json.clone();
    let first = bucket[0]["response_times"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    bucket[0]["response_times"][first] = serde_json::json!(u64::MAX);
    let path = workspace.write("bucket.json", bucket.to_string().as_bytes());
    let output = workspace.report(&["--locust", &path]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    // The CSV family: a request count of 1e308 in the stats file.
    let mut lines: Vec<String> = stats.lines().map(str::to_owned).collect();
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
    cells[2] = "1e308".to_owned();
    lines[1] = cells.join(",");
    workspace.write("huge_stats.csv", lines.join("\n").as_bytes());
    let output = workspace.report(&["--locust", workspace.path("huge").to_str().unwrap()]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("not a count"), "{message}");
}

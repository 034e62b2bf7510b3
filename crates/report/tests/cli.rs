//! The report command line: exit codes (0 pass or warn, 1 fail, 2 bad input), one-line errors
//! naming the file and place, and outputs that are never left half-written.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::images;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
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

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn report(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_perfgate-report"))
            .args(args)
            .args(["--out", self.path("report.md").to_str().unwrap(), "--quiet"])
            .output()
            .unwrap()
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_owned()
}

const FULL: &str = "results-v1-full.json";

#[test]
fn exit_codes_follow_the_verdict() {
    let workspace = Workspace::new();
    let results = fixture(FULL);
    let results = results.to_str().unwrap();
    let passing = workspace.write(
        "pass.toml",
        "[metrics.\"cache.hit_rate\"]\nmin = 0.5\ntarget = 0.6\n",
    );
    let output = workspace.report(&["--results", results, "--thresholds", passing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = std::fs::read_to_string(workspace.path("report.md")).unwrap();
    assert!(report.contains("**Overall: PASS**") && report.contains("All metrics within target."));

    let warning = workspace.write(
        "warn.toml",
        "[metrics.\"cache.hit_rate\"]\nmin = 0.5\ntarget = 0.99\n",
    );
    let warn_args = ["--results", results, "--thresholds", warning.to_str().unwrap()];
    assert_eq!(
        workspace.report(&warn_args).status.code(),
        Some(0),
        "a warning passes"
    );
    let strict: Vec<&str> = warn_args.iter().copied().chain(["--fail-on", "warn"]).collect();
    assert_eq!(workspace.report(&strict).status.code(), Some(1), "--fail-on warn");

    let failing = workspace.write("fail.toml", "[metrics.\"cache.hit_rate\"]\nmin = 0.99\n");
    let output = workspace.report(&[
        "--results",
        results,
        "--thresholds",
        failing.to_str().unwrap(),
        "--json",
        workspace.path("verdict.json").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let verdict: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(workspace.path("verdict.json")).unwrap()).unwrap();
    assert_eq!(verdict["overall"], "fail");
    assert_eq!(verdict["metrics"][0]["id"], "cache.hit_rate");
    assert_eq!(verdict["metrics"][0]["status"], "fail");
    assert_eq!(verdict["metrics"][0]["limit"], 0.99);
}

#[test]
fn a_regression_beyond_the_allowed_maximum_fails() {
    let workspace = Workspace::new();
    // The baseline: the real run with throughput half as high again, so the current run is a
    // third slower.
    let mut baseline: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(FULL)).unwrap()).unwrap();
    let throughput = baseline["cpu"]["messages_per_second"].as_f64().unwrap();
    baseline["cpu"]["messages_per_second"] = serde_json::json!(throughput * 1.5);
    let baseline = workspace.write("baseline.json", &baseline.to_string());
    let thresholds = workspace.write("t.toml", "[metrics.\"cache.hit_rate\"]\nmin = 0.5\n");
    let results = fixture(FULL);
    let args = |limit: &'static str| {
        vec![
            "--results".to_owned(),
            results.to_str().unwrap().to_owned(),
            "--thresholds".to_owned(),
            thresholds.to_str().unwrap().to_owned(),
            "--baseline".to_owned(),
            baseline.to_str().unwrap().to_owned(),
            "--max-regression".to_owned(),
            limit.to_owned(),
        ]
    };
    let strict = args("10");
    let output = workspace.report(&strict.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(output.status.code(), Some(1), "33 % slower with a 10 % limit");
    let report = std::fs::read_to_string(workspace.path("report.md")).unwrap();
    assert!(report.contains("| `cpu.messages_per_second` |") && report.contains("beyond --max-regression"));
    let lenient = args("50");
    let output = workspace.report(&lenient.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        output.status.code(),
        Some(0),
        "33 % slower with a 50 % limit: {}",
        stderr(&output)
    );
}

#[test]
fn bad_input_exits_2_with_one_line_naming_file_and_place() {
    let workspace = Workspace::new();
    let good_results = fixture(FULL);
    let good_results = good_results.to_str().unwrap();
    let good_thresholds = fixture("thresholds-default.toml");
    let good_thresholds = good_thresholds.to_str().unwrap();
    let broken_json = workspace.write(
        "broken.json",
        "{\"schema_version\": 1,\n \"cpu\": {\"messages_per_second\": 12,}\n}",
    );
    let nan_json = workspace.write("nan.json", "{\"cpu\": {\"messages_per_second\": NaN}}");
    let future = workspace.write("future.json", "{\"schema_version\": 99}");
    let typed = workspace.write(
        "typed.json",
        "{\"schema_version\": 1, \"latency\": {\"p99_ms\": \"fast\"}}",
    );
    let broken_toml = workspace.write("broken.toml", "[metrics.\"latency.p99_ms\"\nmax = 1\n");
    let unknown = workspace.write("unknown.toml", "\n\n[metrics.\"latency.p99\"]\nmax = 1\n");
    let missing = workspace.path("missing.json");
    for (results, thresholds, expected) in [
        (
            missing.to_str().unwrap(),
            good_thresholds,
            "missing.json: reading:",
        ),
        (broken_json.to_str().unwrap(), good_thresholds, "broken.json:2:"),
        (nan_json.to_str().unwrap(), good_thresholds, "nan.json:1:"),
        (
            future.to_str().unwrap(),
            good_thresholds,
            "schema version 99 is not supported",
        ),
        (
            typed.to_str().unwrap(),
            good_thresholds,
            "typed.json: /latency/p99_ms: expected a number, found a string",
        ),
        (good_results, broken_toml.to_str().unwrap(), "broken.toml:1:"),
        (
            good_results,
            unknown.to_str().unwrap(),
            "unknown.toml: line 3, key metrics.\"latency.p99\": unknown metric",
        ),
        (
            good_results,
            workspace.path("none.toml").to_str().unwrap(),
            "none.toml: reading:",
        ),
    ] {
        let output = workspace.report(&["--results", results, "--thresholds", thresholds]);
        assert_eq!(output.status.code(), Some(2), "{expected}: {}", stderr(&output));
        let message = stderr(&output);
        assert_eq!(message.lines().count(), 1, "{message}");
        assert!(
            message.starts_with("error: ") && message.contains(expected),
            "{message:?} lacks {expected:?}"
        );
    }
    let output = workspace.report(&["--max-regression", "-5"]);
    assert_eq!(output.status.code(), Some(2), "a bad flag value");
}

#[test]
fn a_failed_run_leaves_the_previous_report_untouched() {
    let workspace = Workspace::new();
    let report = workspace.write("report.md", "the previous report\n");
    let broken = workspace.write("broken.json", "{");
    let output = workspace.report(&["--results", broken.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(report).unwrap(), "the previous report\n");
    let leftovers: Vec<_> = std::fs::read_dir(workspace.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The names of the files in `dir`.
fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn issue_7_the_markdown_report_links_its_charts_written_beside_it() {
    let workspace = Workspace::new();
    // The full fixture, its saturation phase under a name that tries to break out of the SVG.
    let mut results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(FULL)).unwrap()).unwrap();
    let phases = results["phases"].as_object_mut().unwrap();
    let saturation = phases.remove("saturation").unwrap();
    phases.insert(
        "<script>alert(1)</script> \"onload=\"x ' &".to_owned(),
        saturation,
    );
    let results = workspace.write("results.json", &results.to_string());
    let thresholds = fixture("thresholds-default.toml");
    let args = [
        "--results",
        results.to_str().unwrap(),
        "--thresholds",
        thresholds.to_str().unwrap(),
    ];
    // What an earlier report left, and files that are not its charts.
    let img = workspace.path("img");
    std::fs::create_dir_all(&img).unwrap();
    for name in [
        "report-old.svg",
        "keep.txt",
        "report-notes.txt",
        "other-latency.svg",
        "flamegraph.svg",
    ] {
        std::fs::write(img.join(name), "<svg/>").unwrap();
    }

    let output = workspace.report(&args);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the fixture fails a threshold: {}",
        stderr(&output)
    );
    let report = std::fs::read_to_string(workspace.path("report.md")).unwrap();
    let linked: BTreeSet<String> = images(&report)
        .iter()
        .map(|(_, link)| link.strip_prefix("img/").expect("a chart in img/").to_owned())
        .collect();
    assert_eq!(linked.len(), images(&report).len(), "each chart linked once");
    assert!(linked.contains("report-latency.svg") && linked.contains("report-stages.svg"));
    assert!(
        linked.contains("report-over-time-script-alert-1-script-onload-x.svg"),
        "{linked:?}"
    );
    assert!(linked.contains("report-over-time-fixed-rate.svg"), "{linked:?}");
    // Every link has its file, every chart file is linked, the old chart is gone and nothing
    // else was touched.
    let mut expected = linked.clone();
    expected.extend(
        [
            "keep.txt",
            "report-notes.txt",
            "other-latency.svg",
            "flamegraph.svg",
        ]
        .map(String::from),
    );
    assert_eq!(names(&img), expected);
    for name in &linked {
        let svg = std::fs::read_to_string(img.join(name)).unwrap();
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\""),
            "{name}"
        );
        assert!(
            svg.contains("<style>") && svg.contains("prefers-color-scheme: dark"),
            "{name}"
        );
        assert!(svg.contains("<rect class=\"background\""), "{name}");
        // Nothing outside the file: the namespace is the only address in it.
        assert_eq!(svg.matches("://").count(), 1, "{name}");
        for external in ["href", "url(", "@import", "<image", "<foreignObject"] {
            assert!(!svg.contains(external), "{name} has {external}");
        }
        assert!(!svg.to_ascii_lowercase().contains("<script"), "{name}");
        assert!(!svg.contains("\"onload"), "{name}");
    }
    let hostile =
        std::fs::read_to_string(img.join("report-over-time-script-alert-1-script-onload-x.svg")).unwrap();
    assert!(hostile.contains("Phase &lt;script&gt;alert(1)&lt;/script&gt; &quot;onload=&quot;x &#39; &amp;"));

    // Again: the same files, byte for byte.
    let first: Vec<(String, String)> = linked
        .iter()
        .map(|name| (name.clone(), std::fs::read_to_string(img.join(name)).unwrap()))
        .collect();
    let output = workspace.report(&args);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(names(&img), expected);
    for (name, svg) in &first {
        assert_eq!(&std::fs::read_to_string(img.join(name)).unwrap(), svg, "{name}");
    }

    // Without charts: no link, and the charts already there are left alone.
    let no_charts: Vec<&str> = args.iter().copied().chain(["--no-charts"]).collect();
    let output = workspace.report(&no_charts);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = std::fs::read_to_string(workspace.path("report.md")).unwrap();
    assert!(images(&report).is_empty());
    assert_eq!(names(&img), expected);
}

/// Issue 13: a results file that claims the impossible is bad input, named by its JSON pointer,
/// and the report already on disk is left as it was.
#[test]
fn issue_13_impossible_results_exit_2_naming_the_place_and_touch_no_output() {
    let workspace = Workspace::new();
    let full: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(FULL)).unwrap()).unwrap();
    let with = |pointer: &str, value: serde_json::Value| {
        let mut document = full.clone();
        *document.pointer_mut(pointer).unwrap() = value;
        document.to_string()
    };
    let thresholds = fixture("thresholds-default.toml");
    let cases = [
        (
            with("/cpu/messages_per_second", (-5.0).into()),
            "/cpu/messages_per_second: must not be negative",
        ),
        (
            with("/latency/p99_ms", (-0.1).into()),
            "/latency/p99_ms: must not be negative",
        ),
        (
            with("/memory/peak_mb", (-1.0).into()),
            "/memory/peak_mb: must not be negative",
        ),
        (
            with("/cpu/message_count", (-3).into()),
            "/cpu/message_count: expected a whole number of at least 0",
        ),
        (
            with("/latency/p50_ms", 1_000.0.into()),
            "/latency/p50_ms: percentiles out of order: p50_ms is above p90_ms",
        ),
        (
            with("/phases/saturation/latency/p99_ms", 1e9.into()),
            "/phases/saturation/latency/p99_ms: percentiles out of order",
        ),
        (
            with("/cache/hit_rate", 1.5.into()),
            "/cache/hit_rate: must be between 0 and 1",
        ),
        (
            with("/stages/decode/busy_ratio", (-0.5).into()),
            "/stages/decode/busy_ratio: must not be negative",
        ),
        (
            r#"{"schema_version": 1, "cpu": {"messages_per_second": 1e999}}"#.to_owned(),
            "impossible.json:1:",
        ),
        (
            r#"{"schema_version": 1}"#.to_owned(),
            "/: nothing measured: no metric, stage, function or phase",
        ),
        (
            r#"{"schema_version": 1, "warnings": ["x"], "environment": {"os": "Linux"}}"#.to_owned(),
            "/: nothing measured",
        ),
    ];
    let out = workspace.write("report.md", "the report of an earlier run\n");
    for (text, expected) in cases {
        let results = workspace.write("impossible.json", &text);
        let output = workspace.report(&[
            "--results",
            results.to_str().unwrap(),
            "--thresholds",
            thresholds.to_str().unwrap(),
        ]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{expected}: {message}");
        assert_eq!(message.lines().count(), 1, "{message}");
        assert!(
            message.starts_with("error: ")
                && message.contains("impossible.json")
                && message.contains(expected),
            "{message:?} lacks {expected:?}"
        );
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "the report of an earlier run\n"
        );
    }
}

/// Issue 15, point 6: a key holding a newline, ESC or a bidirectional override is echoed as
/// escapes, so the error stays one line without terminal codes.
#[test]
fn issue_15_control_characters_from_an_input_are_escaped_in_the_error() {
    let workspace = Workspace::new();
    let results = fixture(FULL);
    let hostile = workspace.write(
        "hostile.toml",
        "[metrics.\"evil\\nkey\\u001b[31m\\u202e\"]\nmax = 1\n",
    );
    let output = workspace.report(&[
        "--results",
        results.to_str().unwrap(),
        "--thresholds",
        hostile.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message:?}");
    assert!(
        !message.chars().any(|c| c.is_control() || c == '\u{202e}'),
        "{message:?}"
    );
    assert!(message.contains("evil\\nkey\\u{1b}[31m\\u{202e}"), "{message:?}");
}

/// Issue 15, point 4: a thresholds file that names no metric would pass every run; it is bad
/// input instead.
#[test]
fn issue_15_a_thresholds_file_without_a_metric_is_bad_input() {
    let workspace = Workspace::new();
    let results = fixture(FULL);
    for (name, text) in [
        ("empty.toml", ""),
        ("comments.toml", "# nothing to check\n# at all\n"),
        ("table.toml", "[metrics]\n"),
        ("recommendations.toml", "[recommendations]\n"),
    ] {
        let thresholds = workspace.write(name, text);
        let output = workspace.report(&[
            "--results",
            results.to_str().unwrap(),
            "--thresholds",
            thresholds.to_str().unwrap(),
        ]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{name}: {message}");
        assert!(
            message.starts_with("error: ") && message.contains(name) && message.contains("no metric"),
            "{name}: {message:?}"
        );
        assert!(
            !workspace.path("report.md").exists(),
            "{name}: a report was written"
        );
    }
}

/// Issue 15, point 1: `files.flamegraph` in a results file never reaches outside the results
/// file's folder, and the SVG copied into the report cannot run anything.
#[test]
fn issue_15_the_flamegraph_path_is_confined_and_the_copy_is_inert() {
    let workspace = Workspace::new();
    let mut results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(FULL)).unwrap()).unwrap();
    let thresholds = fixture("thresholds-default.toml");
    for outside in [
        "../../../../../../etc/passwd",
        "/proc/self/environ",
        "/etc/hostname",
    ] {
        results["files"] = serde_json::json!({ "flamegraph": outside });
        let path = workspace.write("results.json", &results.to_string());
        let output = workspace.report(&[
            "--results",
            path.to_str().unwrap(),
            "--thresholds",
            thresholds.to_str().unwrap(),
        ]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{outside}: {message}");
        assert!(message.contains("/files/flamegraph"), "{message}");
        assert!(!workspace.path("img").exists(), "{outside}: something was copied");
        assert!(!workspace.path("report.md").exists());
    }
    // A hostile SVG beside the results is copied without its script and handlers.
    workspace.write(
        "flamegraph.svg",
        "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script><rect width=\"1\" height=\"1\"/></svg>",
    );
    results["files"] = serde_json::json!({ "flamegraph": "flamegraph.svg" });
    let path = workspace.write("results.json", &results.to_string());
    let output = workspace.report(&[
        "--results",
        path.to_str().unwrap(),
        "--thresholds",
        thresholds.to_str().unwrap(),
    ]);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{}", stderr(&output));
    let copied = std::fs::read_to_string(workspace.path("img/flamegraph.svg")).unwrap();
    assert!(
        !copied.contains("alert") && !copied.contains("onload"),
        "{copied}"
    );
    assert!(copied.contains("<rect"), "{copied}");
}

/// Issue 15, point 9: a FIFO or a device given as an input is refused at once (a FIFO would
/// block for ever, `/dev/zero` would be read until memory runs out).
#[cfg(unix)]
#[test]
fn issue_15_special_files_are_refused_not_read() {
    let workspace = Workspace::new();
    let fifo = workspace.path("input.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    let results = fixture(FULL);
    let thresholds = fixture("thresholds-default.toml");
    let mut cases: Vec<(Vec<String>, String)> = vec![
        (
            vec![
                "--results".into(),
                "/dev/zero".into(),
                "--thresholds".into(),
                thresholds.display().to_string(),
            ],
            "/dev/zero".into(),
        ),
        (
            vec![
                "--results".into(),
                results.display().to_string(),
                "--thresholds".into(),
                thresholds.display().to_string(),
                "--history".into(),
                "/dev/zero".into(),
            ],
            "/dev/zero".into(),
        ),
    ];
    if made.is_ok_and(|status| status.success()) {
        let fifo = fifo.display().to_string();
        cases.push((
            vec![
                "--results".into(),
                fifo.clone(),
                "--thresholds".into(),
                thresholds.display().to_string(),
            ],
            fifo.clone(),
        ));
        cases.push((
            vec![
                "--results".into(),
                results.display().to_string(),
                "--thresholds".into(),
                fifo.clone(),
            ],
            fifo,
        ));
    }
    for (args, named) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let started = std::time::Instant::now();
        let output = workspace.report(&args);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert!(
            message.contains(&named) && message.contains("not a regular file"),
            "{message}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{args:?} took {:?}",
            started.elapsed()
        );
    }
}

/// Issue 15, point 5: the outputs are a set. One that cannot be written (here the Prometheus
/// file, whose folder is a file) fails the run before any output is replaced, and leaves no
/// temporary behind; a temporary a killed run left is cleaned up by the next run.
#[test]
fn issue_15_one_unwritable_output_replaces_no_other_and_leaves_no_temporary() {
    let workspace = Workspace::new();
    let report = workspace.write("report.md", "previous report\n");
    let verdict = workspace.write("verdict.json", "previous verdict\n");
    let html = workspace.write("report.html", "previous page\n");
    let blocker = workspace.write("blocker", "");
    let thresholds = fixture("thresholds-default.toml");
    let results = fixture(FULL);
    let prometheus = blocker.join("perfgate.prom");
    let mut args = vec![
        "--results",
        results.to_str().unwrap(),
        "--thresholds",
        thresholds.to_str().unwrap(),
        "--json",
        verdict.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--prometheus",
        prometheus.to_str().unwrap(),
    ];
    let output = workspace.report(&args);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("perfgate.prom"), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&report).unwrap(), "previous report\n");
    assert_eq!(std::fs::read_to_string(&verdict).unwrap(), "previous verdict\n");
    assert_eq!(std::fs::read_to_string(&html).unwrap(), "previous page\n");
    let img = workspace.path("img");
    assert!(
        !img.exists() || names(&img).is_empty(),
        "charts written: {:?}",
        names(&img)
    );
    let files = names(workspace.dir.path());
    assert!(
        files
            .iter()
            .all(|name| !name.ends_with(".tmp") && !name.starts_with(".tmp")),
        "{files:?}"
    );

    // A killed run's temporary (its process is gone) is removed by the next run; the outputs
    // are then all written.
    let left_over = workspace.write(".perfgate-4194305-killed.tmp", "half a report");
    let prometheus = workspace.path("perfgate.prom");
    let last = args.len() - 1;
    args[last] = prometheus.to_str().unwrap();
    let output = workspace.report(&args);
    assert_ne!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(!left_over.exists(), "the stale temporary is still there");
    assert_ne!(std::fs::read_to_string(&report).unwrap(), "previous report\n");
    assert_ne!(std::fs::read_to_string(&verdict).unwrap(), "previous verdict\n");
    assert!(
        std::fs::read_to_string(&prometheus)
            .unwrap()
            .contains("perfgate_")
    );
}

/// Issue 15, point 5: killed at any moment, the report leaves every output either whole and old
/// or whole and new — never half-written — and the next run removes the temporaries the kills
/// left behind.
#[test]
fn issue_15_a_kill_at_any_moment_leaves_whole_outputs_and_the_next_run_cleans_up() {
    let workspace = Workspace::new();
    let thresholds = fixture("thresholds-default.toml");
    let results = fixture(FULL);
    let verdict = workspace.path("verdict.json");
    let args = [
        "--results",
        results.to_str().unwrap(),
        "--thresholds",
        thresholds.to_str().unwrap(),
        "--json",
        verdict.to_str().unwrap(),
    ];
    let command = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_perfgate-report"));
        command
            .args(args)
            .args(["--out", workspace.path("report.md").to_str().unwrap(), "--quiet"]);
        command
    };
    // How long a whole run takes here, to spread the kills over it.
    let started = std::time::Instant::now();
    assert!(command().status().unwrap().code().is_some_and(|code| code != 2));
    let whole_run = started.elapsed();
    let new_report = std::fs::read_to_string(workspace.path("report.md")).unwrap();
    let tail = new_report.lines().last().unwrap().to_owned();
    let kills = 40;
    let mut left_behind = 0;
    for kill in 0..kills {
        std::fs::write(workspace.path("report.md"), "previous report\n").unwrap();
        std::fs::write(&verdict, "{\"previous\": true}\n").unwrap();
        let mut child = command().spawn().unwrap();
        std::thread::sleep(whole_run.mul_f64(f64::from(kill) / f64::from(kills) * 1.2));
        let _ = child.kill();
        let _ = child.wait();
        let report = std::fs::read_to_string(workspace.path("report.md")).unwrap();
        assert!(
            report == "previous report\n" || report.lines().last() == Some(tail.as_str()),
            "kill {kill}: a half-written report ({} bytes)",
            report.len()
        );
        let verdict_text = std::fs::read_to_string(&verdict).unwrap();
        assert!(
            serde_json::from_str::<serde_json::Value>(&verdict_text).is_ok(),
            "kill {kill}: a half-written verdict"
        );
        left_behind = left_behind.max(
            names(workspace.dir.path())
                .iter()
                .filter(|name| name.ends_with(".tmp") || name.starts_with(".tmp"))
                .count(),
        );
    }
    eprintln!("{kills} kills over {whole_run:?} runs; at most {left_behind} temporaries left by one");
    assert!(command().status().unwrap().code().is_some_and(|code| code != 2));
    let files = names(workspace.dir.path());
    assert!(
        files
            .iter()
            .all(|name| !name.ends_with(".tmp") && !name.starts_with(".tmp")),
        "temporaries survive the next run: {files:?}"
    );
}

/// Issue 15, point 9: an input over the size cap is refused by its size, before it is parsed
/// (a JSON document held as a value takes up to ~70 bytes of memory per byte of input).
#[test]
fn issue_15_an_input_over_the_cap_is_refused_by_its_size() {
    let workspace = Workspace::new();
    // Valid JSON of 9 MiB: whitespace around an object.
    let mut big = " ".repeat(9 * 1024 * 1024);
    big.push_str("{\"schema_version\": 1}");
    let results = workspace.write("big.json", &big);
    let thresholds = fixture("thresholds-default.toml");
    let output = workspace.report(&[
        "--results",
        results.to_str().unwrap(),
        "--thresholds",
        thresholds.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("big.json") && message.contains("larger than 8 MiB"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
}

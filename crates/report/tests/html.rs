//! The HTML report: fixed inputs and a fixed clock render byte-for-byte the committed pages
//! (regenerate with `UPDATE_GOLDEN=1` and review the diff), text from the inputs is escaped
//! wherever it lands, nothing is fetched from the network, and the command line writes the page
//! beside the Markdown report unless told otherwise.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{fixture, golden, images};
use perfgate_report::history::{self, History, HistoryEntry, HistoryRecord, Trend, TrendOptions};
use perfgate_report::input::{Database, FunctionRow};
use perfgate_report::loadtest::{DEFAULT_WEBSOCKET_TYPES, Failure, LoadTest, OhaSpec, load_locust, load_oha};
use perfgate_report::{EvaluateOptions, Report, ReportOptions, RunData, Thresholds, load_results, render};

/// 2026-11-22T12:00:00Z.
const NOW: u64 = 1_795_348_800;

/// Paths in reports are shown as given; relative ones keep the goldens independent of where the
/// repository is checked out.
fn relative(name: &str) -> PathBuf {
    Path::new("tests/fixtures").join(name)
}

fn run(name: &str) -> RunData {
    let mut run = load_results(&fixture(name)).unwrap();
    run.source = relative(name);
    run
}

fn thresholds() -> Thresholds {
    let mut thresholds = Thresholds::from_path(&fixture("thresholds-default.toml")).unwrap();
    thresholds.path = relative("thresholds-default.toml");
    thresholds
}

fn options() -> ReportOptions {
    ReportOptions {
        now: UNIX_EPOCH + Duration::from_secs(NOW),
        evaluate: EvaluateOptions {
            max_regression_pct: Some(10.0),
            noise_pct: 2.0,
        },
        flamegraph_link: Some("img/flamegraph.svg".to_owned()),
    }
}

/// Eight daily runs of the full fixture's figures, throughput drifting down, one slow outlier.
fn trend(commit: &str) -> Trend {
    let base = HistoryRecord::from_run(&run("results-v1-full.json"), SystemTime::now());
    let entries = (0..8u32)
        .map(|day| {
            let mut record = base.clone();
            let time = UNIX_EPOCH + Duration::from_secs(NOW - u64::from(7 - day) * 86_400);
            record.timestamp = humantime::format_rfc3339_seconds(time).to_string();
            record.git_commit = Some(format!("{commit}{day}"));
            let drift = f64::from(day);
            record
                .metrics
                .insert("cpu.messages_per_second".to_owned(), 520_000.0 - 4_000.0 * drift);
            let p99 = if day == 5 { 45.0 } else { 15.0 + 0.1 * drift };
            record.metrics.insert("latency.p99_ms".to_owned(), p99);
            HistoryEntry {
                line: day as usize + 1,
                time,
                record,
            }
        })
        .collect();
    let history = History {
        path: PathBuf::from("target/perfgate/history.jsonl"),
        entries,
        warnings: Vec::new(),
    };
    history::analyze(
        &history,
        &TrendOptions {
            window: Default::default(),
            metrics: ["cpu.messages_per_second", "latency.p99_ms", "memory.peak_mb"]
                .iter()
                .map(|id| perfgate_report::metric::metric(id).unwrap())
                .collect(),
        },
    )
}

fn load_tests() -> Vec<LoadTest> {
    let ws_types: Vec<String> = DEFAULT_WEBSOCKET_TYPES.iter().map(|t| t.to_string()).collect();
    let mut locust = load_locust(&fixture("locust-run"), &ws_types).unwrap();
    let oha_path = fixture("oha-quotes.json");
    let mut oha = load_oha(&OhaSpec::parse(&format!("GET /quotes={}", oha_path.display()))).unwrap();
    for test in [&mut locust, &mut oha] {
        let fixtures = fixture("");
        for source in &mut test.sources {
            *source = relative(&source.strip_prefix(&fixtures).unwrap().to_string_lossy());
        }
        let absolute = fixtures.display().to_string();
        test.argument = test
            .argument
            .replace(absolute.trim_end_matches('/'), "tests/fixtures");
    }
    vec![locust, oha]
}

/// The full fixture against the older tool's file, with a trend: every section and chart but
/// the load tests'.
fn full_report() -> Report {
    Report::new(
        run("results-v1-full.json"),
        &thresholds(),
        Some(run("performance-results-legacy.json")),
        options(),
    )
    .with_trend(trend("4ff20647a3b6c0de"))
}

fn load_test_report() -> Report {
    let mut thresholds =
        Thresholds::from_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../thresholds/loadtest.toml"))
            .unwrap();
    thresholds.path = PathBuf::from("thresholds/loadtest.toml");
    Report::with_load_tests(
        RunData::load_tests_only(),
        load_tests(),
        &thresholds,
        None,
        ReportOptions {
            flamegraph_link: None,
            ..options()
        },
    )
}

#[test]
fn perfgate_results_render_to_the_golden_html() {
    let html = render::html::render(&full_report());
    golden("report-v1-full.html", &html);
    for expected in [
        "<div class=\"verdict\">FAIL</div>",
        "aria-label=\"End-to-end latency by percentile\"",
        "aria-label=\"Saturation phase: the probes over the measured window\"",
        "aria-label=\"Fixed-rate phase: the probes over the measured window\"",
        "aria-label=\"Service time per stage by percentile\"",
        "aria-label=\"Change of each metric against the baseline\"",
        "aria-label=\"cpu.messages_per_second over the history\"",
        "<img src=\"img/flamegraph.svg\"",
        "<section id=\"trend\">",
        "<section id=\"database\">",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    // Every panel of the time series is there: throughput, heap, resident, lag, CPU, busy.
    for title in [
        "Throughput, messages finished per second",
        "Heap in use, MiB",
        "Resident memory, MiB",
        "Event-loop lag, ms",
        "Process CPU, % of one core",
        "Runtime workers busy, %",
    ] {
        assert_eq!(
            html.matches(&format!(">{title}</text>")).count(),
            2,
            "{title}: once per phase"
        );
    }
}

#[test]
fn load_tests_alone_render_to_the_golden_html() {
    let html = render::html::render(&load_test_report());
    golden("report-load-tests.html", &html);
    assert!(html.contains("aria-label=\"Response time percentiles per endpoint\""));
    assert!(html.contains("aria-label=\"Locust locust-run over time\""));
    assert!(!html.contains("<section id=\"cpu\">"), "no in-process sections");
    assert!(!html.contains("<img"), "no flamegraph");
}

/// Every section and chart at once: the full fixture with load tests beside it, a baseline and a
/// trend.
fn everything() -> Report {
    Report::with_load_tests(
        run("results-v1-full.json"),
        load_tests(),
        &thresholds(),
        Some(run("performance-results-legacy.json")),
        options(),
    )
    .with_trend(trend("4ff20647a3b6c0de"))
}

#[test]
fn issue_7_the_markdown_shows_the_charts_as_svg_files() {
    let report = everything().with_chart_links("img/benchmark-results-");
    let markdown = render::markdown::render(&report);
    golden("report-with-charts.md", &markdown);
    let charts = render::html::chart_files(&report);
    let keys: Vec<&str> = charts.iter().map(|chart| chart.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "latency",
            "over-time-saturation",
            "over-time-fixed-rate",
            "stages",
            "endpoints",
            "load-1",
            "baseline",
            "trend-cpu-messages-per-second",
            "trend-latency-p99-ms",
            "trend-memory-peak-mb",
        ]
    );
    // The same charts as the page, no more, no fewer.
    let html = render::html::render(&report);
    assert_eq!(html.matches("<svg class=\"chart\"").count(), charts.len());
    for chart in &charts {
        assert!(
            html.contains(&format!("aria-label=\"{}\"", chart.title)),
            "{}",
            chart.key
        );
    }
    // Each linked once, in its section.
    let links: Vec<String> = images(&markdown)
        .iter()
        .map(|(_, link)| link.to_string())
        .collect();
    let expected: Vec<String> = keys
        .iter()
        .map(|key| format!("img/benchmark-results-{key}.svg"))
        .collect();
    assert_eq!(links, expected);
    let section = |heading: &str, key: &str| {
        let start = markdown.find(heading).unwrap();
        let end = start + 1 + markdown[start + 1..].find("\n## ").unwrap();
        assert!(
            markdown[start..end].contains(&format!("(img/benchmark-results-{key}.svg)")),
            "{key} is not under {heading}"
        );
    };
    section("## CPU", "latency");
    section("## Event loop and runtime", "over-time-saturation");
    section("## Pipeline stages", "stages");
    section("## Load tests", "endpoints");
    section("### Over time (run 1)", "load-1");
    section("## Baseline comparison", "baseline");
    section("## Trend", "trend-latency-p99-ms");
    golden("report-with-charts-latency.svg", &charts[0].svg);

    // Without a link prefix, not a word about charts: the report is what it was.
    let plain = render::markdown::render(&everything());
    assert!(images(&plain).is_empty());
    let over_time = markdown.find("### Over time\n\nWhat the probes").unwrap();
    let stages = markdown.find("## Pipeline stages").unwrap();
    let unlinked = format!("{}{}", &markdown[..over_time], &markdown[stages..])
        .split("\n\n")
        .filter(|paragraph| !paragraph.starts_with("!["))
        .collect::<Vec<_>>()
        .join("\n\n");
    assert_eq!(unlinked, plain);
}

#[test]
fn issue_7_chart_links_survive_odd_file_names() {
    let report = everything().with_chart_links("img/my report (v2)[x]-");
    let markdown = render::markdown::render(&report);
    for (_, link) in images(&markdown) {
        assert!(link.starts_with("img/my%20report%20%28v2%29%5Bx%5D-"), "{link}");
    }
}

/// Every `src` and `href` in `html`.
fn links(html: &str) -> Vec<&str> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| {
            html.match_indices(attribute).map(|(at, _)| {
                let rest = &html[at + attribute.len()..];
                &rest[..rest.find('"').unwrap()]
            })
        })
        .collect()
}

#[test]
fn the_page_fetches_nothing_from_the_network() {
    for html in [
        render::html::render(&full_report()),
        render::html::render(&load_test_report()),
    ] {
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(!html.contains("url(") && !html.contains("@import"));
        for tag in ["<script", "<link", "<iframe", "<object", "<embed", "<base"] {
            assert!(!html.to_ascii_lowercase().contains(tag), "{tag}");
        }
        for link in links(&html) {
            assert!(
                link.starts_with('#') || (!link.contains(':') && !link.starts_with('/')),
                "{link} is not in the page or beside it"
            );
        }
        assert!(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"));
    }
}

/// All the dangerous characters at once, with a tag saying which field it came through.
fn evil(field: &str) -> String {
    format!("<script>alert(1)</script> \"onmouseover=\"x ' & {field}")
}

fn escaped(field: &str) -> String {
    format!("&lt;script&gt;alert(1)&lt;/script&gt; &quot;onmouseover=&quot;x &#39; &amp; {field}")
}

/// Attribute names of every tag in `html`, which must parse as `name="value"` pairs: a quote
/// that escaped would leave a stray name or an unterminated value.
fn attribute_names(html: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        if rest.starts_with('/') || rest.starts_with('!') {
            continue;
        }
        let end = rest.find('>').expect("every tag is closed");
        let tag = rest[..end].trim_end_matches('/');
        let mut attributes = tag.split_once(char::is_whitespace).map_or("", |(_, a)| a).trim();
        while !attributes.is_empty() {
            let (name, after) = attributes
                .split_once("=\"")
                .unwrap_or_else(|| panic!("attribute without a quoted value in <{tag}>"));
            let close = after
                .find('"')
                .unwrap_or_else(|| panic!("unterminated value in <{tag}>"));
            names.push(name.trim().to_owned());
            attributes = after[close + 1..].trim_start();
        }
        rest = &rest[end..];
    }
    names
}

#[test]
fn text_from_the_inputs_is_escaped_everywhere() {
    let mut results = run("results-v1-full.json");
    results.source = PathBuf::from(evil("results path"));
    results.hot_functions[0].function = evil("hot function");
    results.top_functions.insert(
        0,
        FunctionRow {
            function: evil("top function"),
            self_percent: Some(1.0),
            inclusive_percent: Some(60.0),
            cumtime: Some(0.1),
        },
    );
    results.stages[1].name = evil("stage");
    results.slow_poll_sites.push((evil("spawn site"), 3, 12.0));
    results.metrics.insert("errors.total".to_owned(), 5.0);
    results.errors_by_kind.insert(evil("error kind"), 5);
    results.warnings.push(evil("run warning"));
    results.files.insert(evil("file kind"), evil("file"));
    results.legacy_database = Some(Database {
        status: Some(evil("database status")),
    });
    let environment = results.environment.as_mut().unwrap();
    environment.git_commit = Some(evil("commit"));
    environment.rustc = Some(evil("rustc"));
    environment.cpu_model = Some(evil("cpu"));
    environment.os = Some(evil("os"));
    environment.timestamp = Some(evil("timestamp"));
    environment.workload = serde_json::json!({ evil("setting"): evil("setting value") });
    let mut baseline = run("performance-results-legacy.json");
    baseline.source = PathBuf::from(evil("baseline path"));
    let mut tests = load_tests();
    let locust = &mut tests[0];
    locust.endpoints[0].name = evil("endpoint");
    locust.endpoints[0].request_type = evil("request type");
    locust.failures.push(Failure {
        method: evil("failure method"),
        name: evil("failure name"),
        error: evil("failure error"),
        occurrences: 1_000_000,
    });
    locust.notes.push(evil("note"));
    locust.version = Some(evil("version"));
    locust.sources.push(PathBuf::from(evil("load test file")));
    let mut trend = trend("<script>\"'&");
    trend.source = PathBuf::from(evil("history path"));
    trend.warnings.push(evil("history warning"));
    for outlier in trend.metrics.iter_mut().flat_map(|metric| &mut metric.outliers) {
        outlier.timestamp = evil("outlier time");
    }
    let mut thresholds = thresholds();
    thresholds.path = PathBuf::from(evil("thresholds path"));
    let report =
        Report::with_load_tests(results, tests, &thresholds, Some(baseline), options()).with_trend(trend);
    let html = render::html::render(&report);

    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "no script element"
    );
    assert!(
        !html.contains("\"onmouseover"),
        "no quote breaks out of an attribute"
    );
    let names = attribute_names(&html);
    assert!(!names.is_empty());
    let allowed = [
        "lang",
        "charset",
        "name",
        "content",
        "http-equiv",
        "class",
        "id",
        "href",
        "src",
        "alt",
        "loading",
        "style",
        "aria-label",
        "aria-hidden",
        "scope",
        "viewBox",
        "role",
        "font-size",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "width",
        "height",
        "d",
        "text-anchor",
    ];
    for name in &names {
        assert!(allowed.contains(&name.as_str()), "unexpected attribute {name:?}");
    }
    for field in [
        "results path",
        "hot function",
        "top function",
        "stage",
        "spawn site",
        "error kind",
        "run warning",
        "file kind",
        "file",
        "database status",
        "rustc",
        "cpu",
        "os",
        "timestamp",
        "setting",
        "setting value",
        "baseline path",
        "endpoint",
        "request type",
        "failure method",
        "failure name",
        "failure error",
        "note",
        "version",
        "load test file",
        "history path",
        "history warning",
        "outlier time",
        "thresholds path",
    ] {
        assert!(
            html.contains(&escaped(field)),
            "{field} is missing or not escaped"
        );
    }
    // The commit is cut to 12 characters, in the header and in the trend's outliers.
    assert!(html.contains("<code>&lt;script&gt;aler</code>"));
    assert!(html.contains("<code>&lt;script&gt;&quot;&#39;&amp;5</code>"));
    // Chart labels are cut too, and escaped whole in their tooltips.
    assert!(html.contains(&format!("<title>{} p50: ", escaped("stage"))));

    // The same charts as files: escaped the same way, and named safely.
    let mut report = report.with_chart_links("img/r-");
    report.results.series[0].phase = evil("phase");
    let charts = render::html::chart_files(&report);
    assert_eq!(
        charts[1].key,
        "over-time-script-alert-1-script-onmouseover-x-phase"
    );
    for chart in &charts {
        let svg = &chart.svg;
        assert!(!svg.to_ascii_lowercase().contains("<script"), "{}", chart.key);
        assert!(!svg.contains("\"onmouseover"), "{}", chart.key);
        for name in attribute_names(svg) {
            assert!(
                name == "xmlns" || allowed.contains(&name.as_str()),
                "unexpected attribute {name:?} in {}",
                chart.key
            );
        }
        assert!(
            chart
                .key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        );
    }
    assert!(charts[1].svg.contains(&escaped("phase")));
    assert!(charts.iter().any(|chart| chart.svg.contains(&escaped("stage"))));
    // ...and their titles cannot break the Markdown image that shows them.
    let markdown = render::markdown::render(&report);
    for (alt, link) in images(&markdown) {
        assert!(
            !alt.replace("\\<", "").contains('<') && link.starts_with("img/r-"),
            "{alt}"
        );
    }
    assert!(
        markdown.contains("![Phase \\<script\\>alert(1)\\</script\\>"),
        "{markdown}"
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

    fn report(&self, results: &Path, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_perfgate-report"))
            .arg("--results")
            .arg(results)
            .arg("--thresholds")
            .arg(fixture("thresholds-default.toml"))
            .args(args)
            .arg("--quiet")
            .output()
            .unwrap()
    }
}

#[test]
fn the_page_goes_beside_the_markdown_report_unless_told_otherwise() {
    let workspace = Workspace::new();
    // A results folder with its flamegraph, as `cargo xtask bench` leaves it.
    let results = workspace.path("run/results.json");
    std::fs::create_dir_all(results.parent().unwrap()).unwrap();
    std::fs::copy(fixture("results-v1-full.json"), &results).unwrap();
    std::fs::write(workspace.path("run/flamegraph.svg"), "<svg/>").unwrap();
    let out = workspace.path("docs/report.md");
    let out = out.to_str().unwrap();

    let output = workspace.report(&results, &["--out", out]);
    assert_eq!(output.status.code(), Some(1), "the fixture fails a threshold");
    let html = std::fs::read_to_string(workspace.path("docs/report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    assert!(html.contains("<img src=\"img/flamegraph.svg\""));
    assert!(workspace.path("docs/img/flamegraph.svg").is_file());

    // Elsewhere: the flamegraph goes beside it too, so that its link works.
    let page = workspace.path("site/page.html");
    let output = workspace.report(&results, &["--out", out, "--html", page.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(page.is_file() && workspace.path("site/img/flamegraph.svg").is_file());

    let bare = workspace.path("bare/report.md");
    workspace.report(&results, &["--out", bare.to_str().unwrap(), "--no-html"]);
    assert!(bare.is_file() && !workspace.path("bare/report.html").exists());

    // The page may not overwrite the Markdown report, and nothing is written when it would.
    let clash = workspace.path("clash/report.html");
    let output = workspace.report(&results, &["--out", clash.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--html") && stderr.lines().count() == 1,
        "{stderr}"
    );
    assert!(!workspace.path("clash").exists());

    let output = workspace.report(&results, &["--out", out, "--html", "x.html", "--no-html"]);
    assert_eq!(output.status.code(), Some(2), "--html and --no-html conflict");
}

#[test]
fn a_report_without_series_still_renders() {
    let report = Report::new(
        run("performance-results-legacy.json"),
        &thresholds(),
        None,
        ReportOptions {
            flamegraph_link: None,
            ..options()
        },
    );
    let html = render::html::render(&report);
    assert!(html.contains("No time series in this input."));
    assert!(html.contains("No per-stage figures in this input."));
    assert!(html.contains("<td>connected</td>"));
}

/// Issue 16: the scaling chart `cargo xtask scaling` writes: measured dots, the fit, and the
/// projection dashed with its interval only when there is one.
#[test]
fn the_scaling_chart_draws_the_runs_the_fit_and_the_projection() {
    use perfgate_report::render::html::{ScalingCurves, scaling_chart};
    let curves = ScalingCurves {
        measured: vec![(1.0, 300_000.0), (2.0, 520_000.0), (4.0, 610_000.0)],
        fitted: vec![(1.0, 305_000.0), (2.0, 515_000.0), (4.0, 612_000.0)],
        projected: vec![
            (8.0, 500_000.0, 640_000.0, 700_000.0),
            (16.0, 400_000.0, 600_000.0, 720_000.0),
        ],
    };
    let svg = scaling_chart("Scaling <test>", &curves).expect("a chart");
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{svg}");
    assert!(
        svg.contains("Scaling &lt;test&gt;"),
        "the title is escaped: {svg}"
    );
    for legend in ["measured runs", "fitted law", "projection", "95 % interval"] {
        assert!(svg.contains(legend), "{legend} missing");
    }
    let refused = ScalingCurves {
        projected: Vec::new(),
        ..curves
    };
    let svg = scaling_chart("Scaling", &refused).unwrap();
    assert!(!svg.contains("projection"), "a refused fit draws no projection");
    assert!(scaling_chart("Scaling", &ScalingCurves::default()).is_none());
}

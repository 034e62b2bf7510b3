//! Golden tests: fixed inputs and a fixed clock must render byte-for-byte the committed
//! Markdown and JSON. Regenerate with `UPDATE_GOLDEN=1` and review the diff.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use common::{fixture, golden};
use perfgate_report::{EvaluateOptions, Report, ReportOptions, Thresholds, load_results, render};

/// Paths in reports are shown as given; give them relative so goldens do not depend on where
/// the repository is checked out.
fn relative(name: &str) -> PathBuf {
    Path::new("tests/fixtures").join(name)
}

fn report(results: &str, baseline: Option<&str>, options: EvaluateOptions) -> Report {
    let mut run = load_results(&fixture(results)).unwrap();
    run.source = relative(results);
    let baseline = baseline.map(|name| {
        let mut base = load_results(&fixture(name)).unwrap();
        base.source = relative(name);
        base
    });
    let mut thresholds = Thresholds::from_path(&fixture("thresholds-default.toml")).unwrap();
    thresholds.path = relative("thresholds-default.toml");
    Report::new(
        run,
        &thresholds,
        baseline,
        ReportOptions {
            // 2026-11-22T12:00:00Z
            now: UNIX_EPOCH + Duration::from_secs(1_795_348_800),
            evaluate: options,
            flamegraph_link: Some("img/flamegraph.svg".to_owned()),
        },
    )
}

#[test]
fn perfgate_results_render_to_the_golden_markdown_and_json() {
    let report = report("results-v1-full.json", None, EvaluateOptions::default());
    golden("report-v1-full.md", &render::markdown::render(&report));
    golden("report-v1-full.json", &render::json::render(&report));
}

#[test]
fn an_older_performance_results_file_gets_a_full_report() {
    let report = report(
        "performance-results-legacy.json",
        None,
        EvaluateOptions::default(),
    );
    let markdown = render::markdown::render(&report);
    golden("report-legacy.md", &markdown);
    for expected in [
        "48,214 msg/s",
        "`pipeline.py:88(decode_message)`",
        "| Status | connected |",
        "| Pool size | 20 connections |",
        "| Leak | not assessed in this input |",
        "No per-stage figures in this input.",
    ] {
        assert!(markdown.contains(expected), "missing {expected:?}");
    }
}

#[test]
fn a_baseline_comparison_renders_with_directions() {
    let report = report(
        "results-v1-full.json",
        Some("performance-results-legacy.json"),
        EvaluateOptions {
            max_regression_pct: Some(10.0),
            noise_pct: 2.0,
        },
    );
    let markdown = render::markdown::render(&report);
    golden("report-v1-vs-legacy.md", &markdown);
    // Throughput went up tenfold against the old Python tool: an improvement, not a regression.
    let row = markdown
        .lines()
        .find(|line| line.starts_with("| `cpu.messages_per_second` |"))
        .unwrap();
    assert!(row.contains("improved"), "{row}");
    let verdict = render::json::verdict(&report);
    let throughput = verdict["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "cpu.messages_per_second")
        .unwrap();
    assert_eq!(throughput["baseline"], 48213.7);
    assert!(throughput["change_pct"].as_f64().unwrap() > 100.0);
}

#[test]
fn user_supplied_text_cannot_break_the_markdown_table() {
    let mut run = load_results(&fixture("results-v1-full.json")).unwrap();
    run.hot_functions[0].function = "evil | function\nname".to_owned();
    let thresholds = Thresholds::from_path(&fixture("thresholds-default.toml")).unwrap();
    let report = Report::new(
        run,
        &thresholds,
        None,
        ReportOptions {
            now: UNIX_EPOCH,
            evaluate: EvaluateOptions::default(),
            flamegraph_link: None,
        },
    );
    let markdown = render::markdown::render(&report);
    assert!(
        markdown.contains("`evil \\| function name`"),
        "pipe escaped, newline removed"
    );
}

#[test]
fn load_tests_alone_render_to_the_golden_markdown_and_json() {
    use perfgate_report::RunData;
    use perfgate_report::loadtest::{DEFAULT_WEBSOCKET_TYPES, OhaSpec, load_locust, load_oha};

    let ws_types: Vec<String> = DEFAULT_WEBSOCKET_TYPES.iter().map(|t| t.to_string()).collect();
    let mut locust = load_locust(&fixture("locust-run"), &ws_types).unwrap();
    let oha_path = fixture("oha-quotes.json");
    let mut oha = load_oha(&OhaSpec::parse(&format!("GET /quotes={}", oha_path.display()))).unwrap();
    // As for the results file above: paths as a user in the crate directory would give them.
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
    let mut thresholds =
        Thresholds::from_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../thresholds/loadtest.toml"))
            .unwrap();
    thresholds.path = PathBuf::from("thresholds/loadtest.toml");
    let report = Report::with_load_tests(
        RunData::load_tests_only(),
        vec![locust, oha],
        &thresholds,
        None,
        ReportOptions {
            now: UNIX_EPOCH + Duration::from_secs(1_795_348_800),
            evaluate: EvaluateOptions::default(),
            flamegraph_link: None,
        },
    );
    golden("report-load-tests.md", &render::markdown::render(&report));
    golden("report-load-tests.json", &render::json::render(&report));
}

/// Issue 16: a run with a capacity search (`results-capacity.json`, from a real `--capacity`
/// run) gets a "Capacity" section in both reports: the answer, the latency-against-rate chart
/// and every step; the metric is there for thresholds, trend and compare.
#[test]
fn a_capacity_search_renders_its_section_and_chart() {
    let searched = report("results-capacity.json", None, EvaluateOptions::default());
    let capacity = searched
        .results
        .capacity
        .clone()
        .expect("the fixture has a capacity search");
    assert_eq!(
        searched.results.metrics.get("capacity.max_rate_per_second"),
        Some(&capacity.max_rate_per_second)
    );
    let markdown = render::markdown::render(&searched);
    golden("report-capacity.md", &markdown);
    assert!(markdown.contains("## Capacity\n"), "{markdown}");
    // One table row per step.
    let rows = markdown
        .lines()
        .skip_while(|line| !line.starts_with("## Capacity"))
        .take_while(|line| !line.starts_with("## Baseline"))
        .filter(|line| line.starts_with("| ") && !line.starts_with("| Step"))
        .count();
    assert_eq!(rows, capacity.steps.len());
    let html = render::html::render(&searched);
    assert!(html.contains("<section id=\"capacity\""), "no capacity section");
    let charts = render::html::chart_files(&searched);
    let chart = charts
        .iter()
        .find(|chart| chart.key == "capacity")
        .expect("a capacity chart");
    assert!(
        chart.svg.contains("Latency against offered rate"),
        "{}",
        chart.svg
    );
    // The reports without a search are as they were: no section, no chart.
    let plain = report("results-v1-full.json", None, EvaluateOptions::default());
    assert!(!render::markdown::render(&plain).contains("## Capacity"));
    assert!(
        render::html::chart_files(&plain)
            .iter()
            .all(|chart| chart.key != "capacity")
    );
}

/// Issue 16: a sweep's results file (`results-sweep.json`, from a real `cargo xtask sweep`) gets a
/// "Sweep" section in both reports: what was swept, the recommendation with its evidence, three
/// charts and a row per point with each median and its interval.
#[test]
fn a_sweep_renders_its_section_and_charts() {
    let swept = report("results-sweep.json", None, EvaluateOptions::default());
    let sweep = swept.results.sweep.clone().expect("the fixture is a sweep");
    let markdown = render::markdown::render(&swept);
    golden("report-sweep.md", &markdown);
    let section: Vec<&str> = markdown
        .lines()
        .skip_while(|line| !line.starts_with("## Sweep"))
        .take_while(|line| !line.starts_with("## Load tests"))
        .collect();
    assert!(!section.is_empty(), "no Sweep section");
    let rows: Vec<&&str> = section
        .iter()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| Point"))
        .collect();
    assert_eq!(rows.len(), sweep.points.len());
    for (row, point) in rows.iter().zip(&sweep.points) {
        assert!(
            row.starts_with(&format!("| {} | {} |", point.label(), point.runs.len())),
            "{row}"
        );
    }
    let recommendation = section
        .iter()
        .find(|line| line.starts_with("**Recommendation.**"))
        .expect("the recommendation");
    assert!(
        recommendation.contains(&sweep.recommendation.evidence[..20]),
        "{recommendation}"
    );
    let html = render::html::render(&swept);
    assert!(html.contains("<section id=\"sweep\""), "no sweep section");
    assert!(
        html.contains("<a href=\"#sweep\">Sweep</a>"),
        "not in the contents"
    );
    let keys: Vec<String> = render::html::chart_files(&swept)
        .into_iter()
        .filter(|chart| chart.section == "sweep")
        .map(|chart| chart.key)
        .collect();
    assert_eq!(keys, ["sweep-throughput", "sweep-latency", "sweep-cpu"]);
    // Knob names and values come from the file: markup in them stays text on the page and in
    // the charts.
    let mut hostile = swept;
    let sweep = hostile.results.sweep.as_mut().unwrap();
    let payload = "<img src=x onerror=alert(1)>";
    sweep.points[0].knobs = [(payload.to_owned(), payload.to_owned())].into_iter().collect();
    sweep.recommendation.evidence = payload.to_owned();
    let html = render::html::render(&hostile);
    assert!(
        !html.contains("<img src=x"),
        "raw markup from a knob reached the page"
    );
    assert!(html.contains("&lt;img src=x"), "the knob is not shown");
    for chart in render::html::chart_files(&hostile) {
        assert!(!chart.svg.contains("<img src=x"), "{}: raw markup", chart.key);
    }
    // A run that is not a sweep is as it was.
    let plain = report("results-v1-full.json", None, EvaluateOptions::default());
    assert!(!render::markdown::render(&plain).contains("## Sweep"));
    assert!(!render::html::render(&plain).contains("id=\"sweep\""));
}

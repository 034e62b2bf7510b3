//! Golden tests: fixed inputs and a fixed clock must render byte-for-byte the committed
//! Markdown and JSON. Regenerate with `UPDATE_GOLDEN=1` and review the diff.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use common::{fixture, golden, images};
use perfgate_report::{EvaluateOptions, Report, ReportOptions, Thresholds, load_results, render};
use perfgate_results::{ChaosBand, ChaosScenario, ChaosSection, ChaosTimeline};
use pulldown_cmark::{Event, Parser, Tag};

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

/// A synthetic chaos scenario, made up in code (no profiler run behind it): 10 s at 1,000 msg/s,
/// the fault from 4 to 6 s cutting throughput to a quarter and raising p99 tenfold, then
/// throughput back at `after` msg/s; back inside the band 1.5 s after the fault when `after` is
/// in it.
fn synthetic_scenario(fault: &str, after: f64) -> ChaosScenario {
    let t_s: Vec<f64> = (1..=40).map(|window| f64::from(window) * 0.25).collect();
    let phase = |t: f64| match t {
        t if t <= 4.0 => 0,
        t if t <= 6.0 => 1,
        _ => 2,
    };
    let recovered = (950.0..=1_050.0).contains(&after);
    ChaosScenario {
        fault: fault.to_owned(),
        target: Some("decode".to_owned()),
        strength: 10.0,
        offered_per_second: 1_000.0,
        fault_start_s: 4.0,
        fault_end_s: 6.0,
        window_s: 10.0,
        band: ChaosBand {
            windows: 16,
            throughput_median: 1_000.0,
            throughput_low: 950.0,
            throughput_high: 1_050.0,
            p99_median_ms: 2.0,
            p99_high_ms: 3.0,
        },
        degraded_throughput_ratio: 0.25,
        degraded_p99_ratio: Some(10.0),
        recovered,
        recovery_s: recovered.then_some(1.5),
        errors_by_kind: [("injected_fault".to_owned(), 400)].into_iter().collect(),
        dropped_deliveries: 12,
        backlog_peak: 1_500,
        backlog_drain_s: recovered.then_some(1.25),
        generated: 12_000,
        processed: 11_600,
        errors: 400,
        timeline: ChaosTimeline {
            throughput: t_s.iter().map(|&t| [1_000.0, 250.0, after][phase(t)]).collect(),
            // Nothing finished in the fault's first window: a gap in the p99 line.
            p99_ms: t_s
                .iter()
                .map(|&t| (t != 4.25).then_some([2.0, 20.0, 2.5][phase(t)]))
                .collect(),
            backlog: t_s.iter().map(|&t| [10.0, 1_500.0, 40.0][phase(t)]).collect(),
            t_s,
        },
    }
}

/// A synthetic chaos section (the real fixture comes when the profiler can run chaos): one
/// scenario that recovered, one that did not.
fn synthetic_chaos() -> ChaosSection {
    ChaosSection {
        seed: 42,
        window_ms: 250.0,
        scenarios: [
            (
                "slow_dependency".to_owned(),
                synthetic_scenario("slowdown", 1_000.0),
            ),
            ("error_burst".to_owned(), synthetic_scenario("errors", 600.0)),
        ]
        .into_iter()
        .collect(),
    }
}

/// The Markdown section `heading` up to the next `## `.
fn markdown_section<'a>(markdown: &'a str, heading: &str) -> Vec<&'a str> {
    let mut lines = markdown.lines().skip_while(|line| *line != heading);
    let first = lines.next().into_iter();
    first
        .chain(lines.take_while(|line| !line.starts_with("## ")))
        .collect()
}

/// Issue 17: a run with chaos scenarios gets a "Chaos" section after Sweep in both reports: the
/// seed and window in a sentence, a row per scenario and a timeline per scenario.
#[test]
fn chaos_runs_render_their_section_and_a_timeline_per_scenario() {
    let mut with_chaos =
        report("results-v1-full.json", None, EvaluateOptions::default()).with_chart_links("img/r-");
    with_chaos.results.chaos = Some(synthetic_chaos());
    let markdown = render::markdown::render(&with_chaos);
    let section = markdown_section(&markdown, "## Chaos");
    assert!(!section.is_empty(), "no Chaos section");
    assert!(
        markdown.find("## Chaos").unwrap() > markdown.find("## Database").unwrap()
            && markdown.find("## Chaos").unwrap() < markdown.find("## Load tests").unwrap(),
        "the Chaos section goes after the run's other sections"
    );
    assert!(section[2].starts_with("2 scenarios ran"), "{}", section[2]);
    assert!(section[2].contains("seed 42") && section[2].contains("250 ms"));
    let rows: Vec<&&str> = section
        .iter()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| Scenario"))
        .collect();
    assert_eq!(rows.len(), 2, "one row per scenario: {rows:?}");
    assert!(
        rows[0].starts_with("| slow\\_dependency | slowdown on decode (strength 10), 4–6 s |"),
        "{}",
        rows[0]
    );
    assert!(
        rows[0].contains("| 1.50 s |") && rows[0].contains("| conserved |"),
        "{}",
        rows[0]
    );
    assert!(rows[1].contains("| did not recover |"), "{}", rows[1]);
    assert!(rows[1].contains("| injected\\_fault 400 |"), "{}", rows[1]);
    let charts = render::html::chart_files(&with_chaos);
    let keys: Vec<&str> = charts
        .iter()
        .filter(|chart| chart.section == "chaos")
        .map(|chart| chart.key.as_str())
        .collect();
    assert_eq!(keys, ["chaos-slow-dependency", "chaos-error-burst"]);
    let section_text = section.join("\n");
    let embedded: Vec<&str> = images(&section_text).into_iter().map(|(_, link)| link).collect();
    assert_eq!(
        embedded,
        ["img/r-chaos-slow-dependency.svg", "img/r-chaos-error-burst.svg"]
    );
    let recovered = &charts
        .iter()
        .find(|chart| chart.key == "chaos-slow-dependency")
        .unwrap()
        .svg;
    let stuck = &charts
        .iter()
        .find(|chart| chart.key == "chaos-error-burst")
        .unwrap()
        .svg;
    for svg in [recovered, stuck] {
        for panel in ["Throughput, messages", "p99 latency, ms", "Backlog, messages"] {
            assert!(svg.contains(panel), "no {panel} panel");
        }
        // The fault's window: shaded in each of the three panels (and its legend swatch).
        assert_eq!(svg.matches("<rect class=\"shade ").count(), 4);
    }
    assert!(recovered.contains(">fault 4–6 s</text>"));
    assert!(
        stuck.contains(">fault 4–6 s, did not recover</text>"),
        "the legend says so"
    );
    assert!(recovered.contains(">recovered 1.50 s after the fault</text>"));
    assert_eq!(recovered.matches("<line class=\"mark c2 dashed\"").count(), 3);
    assert!(
        !stuck.contains("recovered 1.50 s"),
        "no recovery line when it did not recover"
    );
    assert!(stuck.contains(
        "<title>error_burst: throughput, p99 and backlog around the fault, did not recover</title>"
    ));

    let html = render::html::render(&with_chaos);
    assert!(html.contains("<section id=\"chaos\">"), "no chaos section");
    let nav = &html[html.find("<nav").unwrap()..html.find("</nav>").unwrap()];
    assert!(
        nav.contains(
            "<a href=\"#database\">Database</a><a href=\"#chaos\">Chaos</a><a href=\"#load-tests\">"
        ),
        "{nav}"
    );
    let section = &html[html.find("<section id=\"chaos\">").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert_eq!(section.matches("<figure").count(), 2, "a timeline per scenario");
    assert_eq!(section.matches("<tr><td>").count(), 2, "a row per scenario");
    assert!(section.contains("<td class=\"num\">did not recover</td>"));
    assert!(section.contains("; did not recover: throughput and p99 were not back"));

    // After the Sweep section when both are there.
    let mut swept = report("results-sweep.json", None, EvaluateOptions::default());
    swept.results.chaos = Some(synthetic_chaos());
    let markdown = render::markdown::render(&swept);
    assert!(markdown.find("## Sweep").unwrap() < markdown.find("## Chaos").unwrap());
    assert!(
        render::html::render(&swept).contains("<a href=\"#sweep\">Sweep</a><a href=\"#chaos\">Chaos</a>")
    );

    // The reports without chaos are as they were.
    let plain = report("results-v1-full.json", None, EvaluateOptions::default());
    assert!(!render::markdown::render(&plain).contains("## Chaos"));
    assert!(!render::html::render(&plain).contains("id=\"chaos\""));
    assert!(
        render::html::chart_files(&plain)
            .iter()
            .all(|chart| chart.section != "chaos")
    );
}

/// Scenario names, faults, targets and error kinds come from the file: markup in them stays text
/// in the Markdown, on the page and in the charts.
#[test]
fn chaos_text_from_the_input_stays_text() {
    let payload = "<img src=x onerror=alert(1)> [x](javascript:alert(1))";
    let mut scenario = synthetic_scenario(payload, 600.0);
    scenario.target = Some(payload.to_owned());
    scenario.errors_by_kind = [(payload.to_owned(), 400)].into_iter().collect();
    let mut hostile =
        report("results-v1-full.json", None, EvaluateOptions::default()).with_chart_links("img/r-");
    hostile.results.chaos = Some(ChaosSection {
        seed: 1,
        window_ms: 250.0,
        scenarios: [(payload.to_owned(), scenario)].into_iter().collect(),
    });

    let markdown = render::markdown::render(&hostile);
    for event in Parser::new_ext(&markdown, pulldown_cmark::Options::all()) {
        match event {
            Event::Html(html) | Event::InlineHtml(html) => {
                assert!(!html.contains("alert"), "raw HTML from the input: {html}");
            }
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                // The chart's file name holds the name's letters (`…-javascript-alert-1.svg`):
                // what must not get through is a link to a script.
                assert!(
                    !dest_url.contains("javascript:"),
                    "a link from the input: {dest_url}"
                );
            }
            _ => {}
        }
    }
    let section = markdown_section(&markdown, "## Chaos").join("\n");
    assert!(
        section.contains("\\<img src=x onerror=alert(1)\\> \\[x\\](javascript:alert(1))"),
        "{section}"
    );

    let html = render::html::render(&hostile);
    assert!(
        !html.contains("<img src=x"),
        "raw markup from the input reached the page"
    );
    assert!(!html.contains("href=\"javascript"));
    let section = &html[html.find("<section id=\"chaos\">").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    // The name (sentence, row, heading, chart title), the fault, the target, the error kind.
    assert!(
        section
            .matches("&lt;img src=x onerror=alert(1)&gt; [x](javascript:alert(1))")
            .count()
            >= 6,
        "{section}"
    );
    let charts: Vec<_> = render::html::chart_files(&hostile)
        .into_iter()
        .filter(|chart| chart.section == "chaos")
        .collect();
    assert_eq!(charts.len(), 1);
    assert_eq!(
        charts[0].key,
        "chaos-img-src-x-onerror-alert-1-x-javascript-alert-1"
    );
    assert!(!charts[0].svg.contains("<img src=x"), "raw markup in the chart");
    assert!(charts[0].svg.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

/// Issue 17: a real chaos run (`results-chaos.json`, from `cargo xtask chaos --quick`, every
/// scenario on the default workload) renders its section: a row and a timeline per scenario, and
/// its figures reach thresholds, compare and trend through the catalogue.
#[test]
fn a_real_chaos_run_renders_its_section() {
    let run = report("results-chaos.json", None, EvaluateOptions::default());
    let chaos = run.results.chaos.clone().expect("the fixture is a chaos run");
    assert_eq!(chaos.scenarios.len(), 6);
    let markdown = render::markdown::render(&run);
    golden("report-chaos.md", &markdown);
    let section: Vec<&str> = markdown
        .lines()
        .skip_while(|line| !line.starts_with("## Chaos"))
        .take_while(|line| !line.starts_with("## Load tests"))
        .collect();
    for name in chaos.scenarios.keys() {
        // Markdown escapes the underscores of the names.
        let shown = format!("| {} |", name.replace('_', "\\_"));
        assert!(
            section.iter().any(|line| line.starts_with(&shown)),
            "no row for {name}"
        );
    }
    for (name, scenario) in &chaos.scenarios {
        assert_eq!(
            scenario.generated,
            scenario.processed + scenario.errors,
            "{name}: the fixture conserves"
        );
        if let Some(recovery) = scenario.recovery_s {
            assert_eq!(
                run.results.metrics.get(&format!("chaos.{name}.recovery_s")),
                Some(&recovery),
                "{name}: the catalogue reads the recovery time"
            );
        }
    }
    let charts = render::html::chart_files(&run);
    assert_eq!(charts.iter().filter(|chart| chart.section == "chaos").count(), 6);
}

/// Issue 17: thresholds hold a chaos run to account — a recovery slower than its limit fails, a
/// degraded ratio above its minimum passes, and a run without that scenario is "not available".
#[test]
fn thresholds_judge_chaos_figures() {
    use perfgate_report::{Status, Thresholds, evaluate};
    let run = load_results(&fixture("results-chaos.json")).unwrap();
    let chaos = run.chaos.clone().unwrap();
    let slow = &chaos.scenarios["slow_dependency"];
    let recovery = slow.recovery_s.expect("the fixture's slow dependency recovered");
    let ratio = chaos.scenarios["error_burst"].degraded_throughput_ratio;
    let text = format!(
        "[metrics.\"chaos.slow_dependency.recovery_s\"]\nmax = {}\n\n[metrics.\"chaos.error_burst.degraded_throughput_ratio\"]\nmin = {}\n",
        recovery / 2.0,
        ratio / 2.0
    );
    let thresholds = Thresholds::parse(Path::new("chaos.toml"), &text).unwrap();
    let status = |evaluation: &perfgate_report::Evaluation, id: &str| {
        evaluation
            .checks
            .iter()
            .find(|check| check.id == id)
            .map(|check| check.status)
    };
    let evaluation = evaluate(&run, &thresholds, None, EvaluateOptions::default());
    if recovery > 0.0 {
        assert_eq!(
            status(&evaluation, "chaos.slow_dependency.recovery_s"),
            Some(Status::Fail)
        );
    }
    assert_eq!(
        status(&evaluation, "chaos.error_burst.degraded_throughput_ratio"),
        Some(Status::Pass)
    );
    let plain = load_results(&fixture("results-v1-full.json")).unwrap();
    let evaluation = evaluate(&plain, &thresholds, None, EvaluateOptions::default());
    assert_eq!(
        status(&evaluation, "chaos.slow_dependency.recovery_s"),
        Some(Status::NotAvailable)
    );
}

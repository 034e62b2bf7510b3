//! Issue 18: a run whose reference store is PostgreSQL gets a "Database" section in the Markdown
//! report, on the HTML page (with a pool-use chart per phase, also as SVG files for the Markdown)
//! and a line in the console summary; its pool and faults reach the recommendations; every text
//! from the section stays text. The golden report of a real run is
//! `a_real_database_run_renders_to_the_golden_markdown`, once `fixtures/results-database.json`
//! exists (`fixtures/make_database_fixture.sh`).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use common::{fixture, golden, images, synthetic_database};
use perfgate_report::{Report, ReportOptions, Thresholds, parse_results, render};
use perfgate_results::{DatabaseSection, DatabaseStatus};
use pulldown_cmark::{Event, Parser, Tag};
use serde_json::Value;

fn relative(name: &str) -> PathBuf {
    Path::new("tests/fixtures").join(name)
}

fn thresholds() -> Thresholds {
    let mut thresholds = Thresholds::from_path(&fixture("thresholds-default.toml")).unwrap();
    thresholds.path = relative("thresholds-default.toml");
    thresholds
}

fn options() -> ReportOptions {
    ReportOptions {
        // 2026-11-22T12:00:00Z
        now: UNIX_EPOCH + Duration::from_secs(1_795_348_800),
        evaluate: Default::default(),
        flamegraph_link: Some("img/flamegraph.svg".to_owned()),
    }
}

/// The full results fixture with `database` as its database section, through the real reader
/// (so the recommendations see it as a report of such a file would), its charts linked as
/// `img/r-<key>.svg`.
fn report_with(database: Option<&DatabaseSection>) -> Report {
    let mut document: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("results-v1-full.json")).unwrap()).unwrap();
    if let Some(database) = database {
        document["database"] = serde_json::to_value(database).unwrap();
    }
    let mut run = parse_results(&fixture("results-v1-full.json"), &document.to_string()).unwrap();
    run.source = relative("results-v1-full.json");
    Report::new(run, &thresholds(), None, options()).with_chart_links("img/r-")
}

/// The Markdown section `heading` up to the next `## `.
fn markdown_section<'a>(markdown: &'a str, heading: &str) -> Vec<&'a str> {
    let mut lines = markdown.lines().skip_while(|line| *line != heading);
    let first = lines.next().into_iter();
    first
        .chain(lines.take_while(|line| !line.starts_with("## ")))
        .collect()
}

/// The HTML section `id`.
fn html_section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("<section id=\"{id}\">")).unwrap();
    let section = &html[start..];
    &section[..section.find("</section>").unwrap()]
}

/// The value cell of the Markdown key-value row `label`.
fn row<'a>(section: &[&'a str], label: &str) -> &'a str {
    let prefix = format!("| {label} | ");
    let line = section
        .iter()
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no row {label}:\n{}", section.join("\n")));
    line[prefix.len()..].trim_end_matches(" |")
}

#[test]
fn a_database_run_renders_its_section_in_both_reports_and_the_console() {
    let database = synthetic_database();
    let report = report_with(Some(&database));
    let markdown = render::markdown::render(&report);
    let section = markdown_section(&markdown, "## Database");
    assert_eq!(row(&section, "Status"), "connected");
    assert_eq!(row(&section, "Endpoint"), format!("`{}`", database.endpoint));
    assert_eq!(row(&section, "Server version"), "15.18 (Debian 15.18-0+deb12u1)");
    assert_eq!(row(&section, "Table"), "`reference_records`");
    assert_eq!(
        row(&section, "Connections in use, peak / mean"),
        format!("{} (the whole pool) / 5.50", database.pool.in_use_peak)
    );
    assert_eq!(
        row(&section, "Waited over 1 ms for a connection"),
        "1,500 of 20,000 queries (7.5 %)"
    );
    assert_eq!(row(&section, "Queries"), "20,000 (4,000 queries/s)");
    // In the file's order (written here through serde_json's sorted map).
    assert_eq!(row(&section, "Errors and timeouts"), "connection 120; timeout 6");
    assert!(
        row(&section, "Outage").ends_with("; recovered 0.750 s after the first failure"),
        "{}",
        row(&section, "Outage")
    );
    assert_eq!(
        row(&section, "Server's count"),
        "the server counted 20,000 calls (pg\\_stat\\_statements); the client made 20,000: they agree"
    );
    // The time per query, acquire wait and query, at p50, p95, p99 and max.
    assert!(
        section.contains(&"| Time per query | p50 | p95 | p99 | max |"),
        "{section:?}"
    );
    assert!(section.contains(&"| Acquire wait | 0.020 ms | 1.20 ms | 2.50 ms | 40 ms |"));
    assert!(section.contains(&"| Query | 0.300 ms | 0.900 ms | 1.80 ms | 25 ms |"));
    // A pool-use chart per phase, as images of the chart files.
    let section_text = section.join("\n");
    let embedded: Vec<&str> = images(&section_text).into_iter().map(|(_, link)| link).collect();
    assert_eq!(
        embedded,
        ["img/r-database-saturation.svg", "img/r-database-fixed-rate.svg"]
    );
    let charts = render::html::chart_files(&report);
    let pool_charts: Vec<_> = charts
        .iter()
        .filter(|chart| chart.section == "database")
        .collect();
    assert_eq!(pool_charts.len(), 2);
    for chart in &pool_charts {
        for text in [
            ">Connections</text>",
            ">Tasks waiting for a connection</text>",
            ">in use</text>",
            ">open</text>",
            ">waiting</text>",
            ">pool max 8</text>",
        ] {
            assert!(chart.svg.contains(text), "{} lacks {text}", chart.key);
        }
    }
    assert!(
        pool_charts[0]
            .title
            .starts_with("Saturation phase: database pool use")
    );

    // The pool and the faults reach the recommendations.
    let recommendations = markdown_section(&markdown, "## Recommendations").join("\n");
    assert!(
        recommendations.contains("- **database pool**: The connection pool to `postgres://perfgate@127.0.0.1:5432/perfgate` is too small for its load"),
        "{recommendations}"
    );
    assert!(
        recommendations.contains("- **database**: 126 queries failed in the database stage"),
        "{recommendations}"
    );

    let html = render::html::render(&report);
    let nav = &html[html.find("<nav").unwrap()..html.find("</nav>").unwrap()];
    assert!(nav.contains("<a href=\"#database\">Database</a>"), "{nav}");
    let section = html_section(&html, "database");
    assert!(section.contains(
        "<th scope=\"row\">Endpoint</th><td><code>postgres://perfgate@127.0.0.1:5432/perfgate</code></td>"
    ));
    assert!(
        section.contains("<td class=\"num\">2.50 ms</td>"),
        "the acquire wait's p99"
    );
    assert_eq!(section.matches("<figure").count(), 2, "a chart per phase");
    assert!(section.contains("<h3>Saturation phase</h3>") && section.contains("<h3>Fixed-rate phase</h3>"));

    let console = render::console::render(&report, false);
    let line = console
        .lines()
        .find(|line| line.starts_with("  db    "))
        .expect("a database line");
    assert_eq!(
        line,
        "  db    postgres://perfgate@127.0.0.1:5432/perfgate: 20,000 queries (4,000 queries/s), query p95 0.900 ms, acquire wait p99 2.50 ms, pool in use peak 8 of 8, errors connection 120; timeout 6"
    );
}

#[test]
fn an_unavailable_database_says_why_and_nothing_more() {
    let database = DatabaseSection {
        status: DatabaseStatus::Unavailable,
        error: Some("connection refused (os error 111)".to_owned()),
        endpoint: "postgres://perfgate@127.0.0.1:1/perfgate".to_owned(),
        ..DatabaseSection::default()
    };
    let report = report_with(Some(&database));
    let markdown = render::markdown::render(&report);
    let section = markdown_section(&markdown, "## Database");
    assert_eq!(
        row(&section, "Status"),
        "unavailable: connection refused (os error 111)"
    );
    assert!(
        !section.iter().any(|line| line.starts_with("| Pool")
            || line.starts_with("| Queries")
            || line.starts_with("| Time per query")),
        "no figures for a database that was not reached: {section:?}"
    );
    assert!(images(&section.join("\n")).is_empty());
    let recommendations = markdown_section(&markdown, "## Recommendations").join("\n");
    assert!(
        recommendations.contains("- **database**: The database at `postgres://perfgate@127.0.0.1:1/perfgate` was unavailable (`connection refused (os error 111)`)"),
        "{recommendations}"
    );
    let console = render::console::render(&report, false);
    assert!(console.contains(
        "  db    postgres://perfgate@127.0.0.1:1/perfgate unavailable: connection refused (os error 111)\n"
    ));
}

#[test]
fn a_run_without_a_database_is_as_it_was() {
    let report = report_with(None);
    let markdown = render::markdown::render(&report);
    assert_eq!(
        markdown_section(&markdown, "## Database"),
        ["## Database", "", "No database figures in this input.", ""]
    );
    assert!(
        render::html::chart_files(&report)
            .iter()
            .all(|chart| chart.section != "database")
    );
    assert!(!render::console::render(&report, false).contains("  db  "));
    assert!(
        report
            .recommendations
            .iter()
            .all(|r| !r.topic.label().starts_with("database"))
    );
}

/// The error, endpoint, server version, table, error kinds and phase names come from the file:
/// markup in them stays text in the Markdown, on the page, in the charts and on the terminal.
#[test]
fn database_text_from_the_input_stays_text() {
    let payload = "<img src=x onerror=alert(1)> [x](javascript:alert(1)) | `tick`\r\n# heading \u{1b}[2J";
    let mut database = synthetic_database();
    database.error = Some(payload.to_owned());
    database.endpoint = payload.to_owned();
    database.server_version = Some(payload.to_owned());
    database.table = payload.to_owned();
    database.errors_by_kind = [(payload.to_owned(), 5)].into_iter().collect();
    database.server.as_mut().unwrap().source = payload.to_owned();
    let series = database.timeline.shift_remove("saturation").unwrap();
    database.timeline.insert(payload.to_owned(), series);
    let mut unavailable = database.clone();
    unavailable.status = DatabaseStatus::Unavailable;

    for database in [database, unavailable] {
        let report = report_with(Some(&database));
        let markdown = render::markdown::render(&report);
        let benign = render::markdown::render(&report_with(Some(&synthetic_database())));
        for event in Parser::new_ext(&markdown, pulldown_cmark::Options::all()) {
            match event {
                Event::Html(html) | Event::InlineHtml(html) => {
                    assert!(!html.contains("alert"), "raw HTML from the input: {html}");
                }
                Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                    assert!(
                        !dest_url.contains("javascript:"),
                        "a link from the input: {dest_url}"
                    );
                }
                _ => {}
            }
        }
        let headings = |text: &str| {
            Parser::new_ext(text, pulldown_cmark::Options::all())
                .filter(|event| matches!(event, Event::Start(Tag::Heading { .. })))
                .count()
        };
        assert_eq!(headings(&markdown), headings(&benign), "a heading from the input");
        let section = markdown_section(&markdown, "## Database");
        assert!(
            section.iter().any(
                |line| line.contains("\\<img src=x onerror=alert(1)\\> \\[x\\](javascript:alert(1)) \\|")
            ),
            "{section:?}"
        );

        let html = render::html::render(&report);
        assert!(
            !html.contains("<img src=x"),
            "raw markup from the input reached the page"
        );
        assert!(!html.contains("href=\"javascript"));
        assert!(
            html_section(&html, "database").contains("&lt;img src=x onerror=alert(1)&gt;"),
            "escaped, not dropped"
        );
        for chart in render::html::chart_files(&report) {
            assert!(!chart.svg.contains("<img src=x"), "raw markup in {}", chart.key);
            assert!(
                chart
                    .key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                chart.key
            );
        }

        let console = render::console::render(&report, false);
        assert!(
            !console.contains('\u{1b}'),
            "a terminal escape from the input: {console:?}"
        );
        let line = console.lines().find(|line| line.starts_with("  db    ")).unwrap();
        assert!(
            line.contains("<img src=x"),
            "the console shows the text, made inert: {line}"
        );
        assert!(
            console.lines().all(|line| !line.starts_with("# heading")),
            "a line break from the input: {console}"
        );
    }
}

/// A real run against a throwaway PostgreSQL (`fixtures/make_database_fixture.sh`: the release
/// profiler, `--quick --reference-store URL` with a small cache) renders to the golden Markdown,
/// and its section holds the run's own figures.
#[test]
fn a_real_database_run_renders_to_the_golden_markdown() {
    let path = fixture("results-database.json");
    let mut run = perfgate_report::load_results(&path).unwrap();
    run.source = relative("results-database.json");
    let database = run.database.clone().expect("the fixture is a database run");
    assert_eq!(database.status, DatabaseStatus::Connected);
    assert!(database.queries > 0, "a cache small enough for queries to happen");
    let report = Report::new(run, &thresholds(), None, options()).with_chart_links("img/r-");
    let markdown = render::markdown::render(&report);
    golden("report-database.md", &markdown);
    let section = markdown_section(&markdown, "## Database");
    assert_eq!(row(&section, "Status"), "connected");
    assert!(
        row(&section, "Queries").starts_with(&perfgate_report::metric::format_value(
            database.queries as f64,
            ""
        )),
        "{section:?}"
    );
    let server = database.server.as_ref().expect("the server's count was read");
    assert_eq!(server.calls, database.queries, "the server counted every query");
    assert!(row(&section, "Server's count").ends_with(": they agree"));
    let charts = render::html::chart_files(&report);
    assert_eq!(
        charts.iter().filter(|chart| chart.section == "database").count(),
        database
            .timeline
            .values()
            .filter(|series| !series.is_empty())
            .count()
    );
}

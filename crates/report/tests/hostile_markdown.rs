//! Hostile text in every field of every input, rendered to Markdown by the real command and read
//! back by a real CommonMark parser (pulldown-cmark with GitHub's extensions, raw HTML allowed,
//! as GitHub's and most viewers' renderers allow it): nothing from the inputs becomes an HTML
//! element, a link, an image, a heading, a code block or a table row, and what the reader sees
//! is the input's text, character for character (line breaks as spaces, other control
//! characters as U+FFFD).
//!
//! The fields are found, not listed: every string and every object key of a real results file is
//! replaced in turn, and each replacement the reader accepts and the report shows is kept. So a
//! field added to the results later is covered without touching this test.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use common::{fixture, synthetic_database};
use perfgate_report::{Report, ReportOptions, Thresholds, parse_results, render};
use perfgate_results::{ChaosBand, ChaosScenario, ChaosSection, ChaosTimeline};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::Value;

const MARK: &str = "HOSTILE";

/// Everything a Markdown viewer could act on, with `n` to tell the fields apart.
fn payload(n: usize) -> String {
    format!(
        "{MARK}{n}X <img src=x onerror=alert({n})> [a{n}](javascript:alert({n})) ![i](x.png) \
         *em* _u_ ~~s~~ `tick` | pipe\r\n# heading{n}\n```\n<script>s{n}</script> &amp; \\ \
         \u{1b}[31m {MARK}END"
    )
}

/// What a reader must see for a payload: its text with line breaks as spaces and other
/// control characters as U+FFFD.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\r' | '\n' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// One place in a JSON document: a string value or an object key, by the path to it.
#[derive(Debug, Clone)]
enum Spot {
    Value(Vec<Step>),
    Key(Vec<Step>),
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn spots(value: &Value, path: &mut Vec<Step>, out: &mut Vec<Spot>) {
    match value {
        Value::String(_) => out.push(Spot::Value(path.clone())),
        // Two elements of each array are enough: the renderers treat the rest alike.
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate().take(2) {
                path.push(Step::Index(index));
                spots(item, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            // A chaos scenario's name is part of its metric ids (`chaos.<name>.recovery_s`):
            // renaming it takes those rows out of the metrics table, a change of structure that
            // is not an injection. tests/render.rs's `chaos_text_from_the_input_stays_text`
            // gives the names their hostile payloads.
            let names_metrics = matches!(path.as_slice(), [Step::Key(chaos), Step::Key(scenarios)] if chaos == "chaos" && scenarios == "scenarios");
            for (key, item) in map {
                path.push(Step::Key(key.clone()));
                if !names_metrics {
                    out.push(Spot::Key(path.clone()));
                }
                spots(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(value: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(value, |value, step| match step {
        Step::Key(key) => &mut value[key.as_str()],
        Step::Index(index) => &mut value[*index],
    })
}

fn apply(value: &mut Value, spot: &Spot, text: &str) {
    match spot {
        Spot::Value(path) => *at(value, path) = Value::String(text.to_owned()),
        Spot::Key(path) => {
            let (Step::Key(key), parent) = path.split_last().unwrap() else {
                unreachable!("a key's path ends in a key")
            };
            let map = at(value, parent).as_object_mut().unwrap();
            let item = map.remove(key).unwrap();
            map.insert(text.to_owned(), item);
        }
    }
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM
}

/// The document as a viewer builds it: its structure (every tag, in order, without text) and
/// the text of each block.
#[derive(Debug, Default, PartialEq)]
struct Reading {
    structure: Vec<String>,
    html: Vec<String>,
    link_targets: Vec<String>,
    headings: Vec<String>,
    blocks: Vec<String>,
}

fn read(markdown: &str) -> Reading {
    let mut reading = Reading::default();
    let mut block = String::new();
    let mut in_heading = false;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(tag) => {
                match &tag {
                    Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                        reading.link_targets.push(dest_url.to_string());
                    }
                    Tag::Heading { .. } => in_heading = true,
                    _ => {}
                }
                reading.structure.push(
                    format!("{tag:?}")
                        .split([' ', '{', '('])
                        .next()
                        .unwrap()
                        .to_owned(),
                );
            }
            Event::End(end) => {
                if matches!(
                    end,
                    TagEnd::Paragraph
                        | TagEnd::TableCell
                        | TagEnd::Heading(_)
                        | TagEnd::CodeBlock
                        | TagEnd::Item
                ) {
                    if in_heading {
                        reading.headings.push(block.clone());
                        in_heading = false;
                    }
                    reading.blocks.push(std::mem::take(&mut block));
                }
                reading.structure.push(format!("/{end:?}"));
            }
            Event::Text(text) | Event::Code(text) => block.push_str(&text),
            Event::SoftBreak | Event::HardBreak => block.push(' '),
            Event::Html(html) | Event::InlineHtml(html) => reading.html.push(html.to_string()),
            other => reading.structure.push(format!("{other:?}")),
        }
    }
    reading
}

fn now() -> ReportOptions {
    ReportOptions {
        now: UNIX_EPOCH + Duration::from_secs(1_795_348_800),
        evaluate: Default::default(),
        flamegraph_link: None,
    }
}

/// The full results fixture with the capacity search and the sweep of other real runs added, and
/// a chaos and a database section, so that every section the report can have is there. The
/// database section is made up in code until a real run's exists (`results-database.json`, from
/// `make_database_fixture.sh`); then it is that run's, so the search below finds every field a
/// real file has.
fn base_results() -> Value {
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
    };
    let mut base = read("results-v1-full.json");
    base["capacity"] = read("results-capacity.json")["capacity"].clone();
    base["sweep"] = read("results-sweep.json")["sweep"].clone();
    base["chaos"] = serde_json::to_value(synthetic_chaos()).unwrap();
    base["database"] = match std::fs::read_to_string(fixture("results-database.json")) {
        Ok(text) => serde_json::from_str::<Value>(&text).unwrap()["database"].clone(),
        Err(_) => serde_json::to_value(synthetic_database()).unwrap(),
    };
    assert!(base["database"].is_object(), "no database section to fill");
    base
}

/// A chaos section made up in code, not measured (no fixture from a real chaos run exists yet):
/// every text field the section has (scenario names, fault, target, error kinds), in a scenario
/// that recovered and one that did not, for the search above to fill with payloads.
fn synthetic_chaos() -> ChaosSection {
    let scenario = |fault: &str, target: Option<&str>, recovery_s: Option<f64>| ChaosScenario {
        fault: fault.to_owned(),
        target: target.map(str::to_owned),
        strength: 10.0,
        offered_per_second: 1_000.0,
        fault_start_s: 1.0,
        fault_end_s: 2.0,
        window_s: 4.0,
        band: ChaosBand {
            windows: 4,
            throughput_median: 1_000.0,
            throughput_low: 950.0,
            throughput_high: 1_050.0,
            p99_median_ms: 2.0,
            p99_high_ms: 3.0,
        },
        degraded_throughput_ratio: 0.5,
        degraded_p99_ratio: Some(4.0),
        recovered: recovery_s.is_some(),
        recovery_s,
        errors_by_kind: [("injected_fault".to_owned(), 20), ("panic".to_owned(), 1)]
            .into_iter()
            .collect(),
        dropped_deliveries: 3,
        backlog_peak: 200,
        backlog_drain_s: recovery_s,
        generated: 4_000,
        processed: 3_979,
        errors: 21,
        timeline: ChaosTimeline {
            t_s: vec![1.0, 2.0, 3.0, 4.0],
            throughput: vec![1_000.0, 500.0, 1_000.0, 1_000.0],
            p99_ms: vec![Some(2.0), None, Some(2.5), Some(2.0)],
            backlog: vec![0.0, 200.0, 10.0, 0.0],
        },
    };
    ChaosSection {
        seed: 7,
        window_ms: 1_000.0,
        scenarios: [
            (
                "slow_dependency".to_owned(),
                scenario("slowdown", Some("decode"), Some(0.5)),
            ),
            ("error_burst".to_owned(), scenario("errors", None, None)),
        ]
        .into_iter()
        .collect(),
    }
}

/// The results fixture with every field the report shows holding a payload; the payloads by
/// number.
fn hostile_results(thresholds: &Thresholds) -> (Value, BTreeMap<usize, String>) {
    let path = fixture("results-v1-full.json");
    let base = base_results();
    let mut found = Vec::new();
    spots(&base, &mut Vec::new(), &mut found);
    let mut shown = Vec::new();
    for (n, spot) in found.iter().enumerate() {
        let mut candidate = base.clone();
        apply(&mut candidate, spot, &payload(n));
        let Ok(run) = parse_results(&path, &candidate.to_string()) else {
            continue; // a field the reader refuses to take as text (an enumeration, a number)
        };
        let markdown = render::markdown::render(&Report::new(run, thresholds, None, now()));
        if markdown.contains(&format!("{MARK}{n}X")) {
            shown.push((n, spot.clone()));
        }
    }
    assert!(
        shown.len() >= 40,
        "only {} of {} fields reach the report: the search is broken",
        shown.len(),
        found.len()
    );
    // The database section's text is shown, so the search reaches it: a real connected run has
    // four such fields (endpoint, server version, table, the server count's source); the error
    // and the error kinds of a failing run are covered by tests/database.rs.
    let in_database = shown
        .iter()
        .filter(|(_, spot)| {
            let (Spot::Value(path) | Spot::Key(path)) = spot;
            matches!(path.first(), Some(Step::Key(section)) if section == "database")
        })
        .count();
    assert!(
        in_database >= 4,
        "only {in_database} database fields reach the report"
    );
    // Values first (their paths name the original keys), then keys, deepest first.
    let mut hostile = base;
    let mut payloads = BTreeMap::new();
    shown.sort_by_key(|(_, spot)| match spot {
        Spot::Value(_) => (0, 0),
        Spot::Key(path) => (1, usize::MAX - path.len()),
    });
    for (n, spot) in &shown {
        apply(&mut hostile, spot, &payload(*n));
        payloads.insert(*n, payload(*n));
    }
    (hostile, payloads)
}

fn assert_inert(markdown: &str, benign: &str, payloads: &BTreeMap<usize, String>) {
    let hostile = read(markdown);
    let benign = read(benign);
    assert!(
        hostile
            .html
            .iter()
            .all(|html| !html.contains("alert") && !html.contains("script")),
        "raw HTML from the inputs: {:?}",
        hostile.html
    );
    assert_eq!(
        hostile.html, benign.html,
        "raw HTML differs from the benign report's"
    );
    for target in &hostile.link_targets {
        assert!(
            !target.contains("alert") && !target.contains("x.png"),
            "a link from the inputs: {target}"
        );
    }
    for heading in &hostile.headings {
        assert!(
            !heading.starts_with("heading"),
            "a heading from the inputs: {heading}"
        );
    }
    // The same tags in the same order: no block, row, cell, list item, emphasis or code span
    // was added or lost.
    if hostile.structure != benign.structure {
        let at = hostile
            .structure
            .iter()
            .zip(&benign.structure)
            .position(|(a, b)| a != b)
            .unwrap_or(hostile.structure.len().min(benign.structure.len()));
        panic!(
            "the document's structure changed at tag {at}: hostile {:?}, benign {:?}\n{markdown}",
            &hostile.structure[at.saturating_sub(3)..(at + 3).min(hostile.structure.len())],
            &benign.structure[at.saturating_sub(3)..(at + 3).min(benign.structure.len())],
        );
    }
    // What the reader sees is the input's text: whole, or cut short where the report shortens
    // a name (a function's generic arguments), but never with an escape showing.
    let (mut seen, mut whole) = (0, 0);
    for (n, payload) in payloads {
        let mark = format!("{MARK}{n}X");
        let expected = visible(payload);
        for block in hostile.blocks.iter().filter(|block| block.contains(&mark)) {
            seen += 1;
            let shown = &block[block.find(&mark).unwrap()..];
            let same = shown
                .chars()
                .zip(expected.chars())
                .take_while(|(a, b)| a == b)
                .count();
            if same == expected.chars().count() {
                whole += 1;
                continue;
            }
            let diverges = shown.chars().nth(same);
            assert!(
                !matches!(diverges, Some('\\' | '&' | ';')),
                "payload {n} shows an escape:\n  shown:    {:?}\n  expected: {expected:?}",
                shown
                    .chars()
                    .take(expected.chars().count() + 20)
                    .collect::<String>()
            );
        }
    }
    eprintln!(
        "{} payloads; {seen} places show one, {whole} whole",
        payloads.len()
    );
    assert!(
        seen > 0 && whole * 10 >= seen * 8,
        "{whole} of {seen} payloads shown whole"
    );
}

fn write_inputs(dir: &Path, hostile: bool) -> BTreeMap<usize, String> {
    let thresholds_text = std::fs::read_to_string(fixture("thresholds-default.toml")).unwrap();
    let thresholds = Thresholds::from_path(&fixture("thresholds-default.toml")).unwrap();
    let (results, mut payloads) = if hostile {
        hostile_results(&thresholds)
    } else {
        (base_results(), BTreeMap::new())
    };
    std::fs::write(dir.join("results.json"), results.to_string()).unwrap();
    // Thresholds: a description and a unit on every metric.
    let mut thresholds_out = String::new();
    for (index, line) in thresholds_text.lines().enumerate() {
        thresholds_out.push_str(line);
        thresholds_out.push('\n');
        if line.starts_with("[metrics.") {
            let (description, unit) = if hostile {
                let n = 100_000 + 2 * index;
                payloads.insert(n, payload(n));
                payloads.insert(n + 1, payload(n + 1));
                (payload(n), payload(n + 1))
            } else {
                ("a description".to_owned(), "units".to_owned())
            };
            let toml_string = |text: &str| toml_escape(text);
            thresholds_out.push_str(&format!(
                "description = {}\nunit = {}\n",
                toml_string(&description),
                toml_string(&unit)
            ));
        }
    }
    std::fs::write(dir.join("thresholds.toml"), thresholds_out).unwrap();
    // A history whose one corrupt line is echoed as "line skipped" in the trend.
    let run = perfgate_report::load_results(&fixture("results-v1-full.json")).unwrap();
    let mut history = String::new();
    for day in 0..5 {
        let mut record = perfgate_report::history::HistoryRecord::from_run(&run, UNIX_EPOCH);
        record.timestamp = format!("2026-11-{:02}T12:00:00Z", 10 + day);
        history.push_str(&serde_json::to_string(&record).unwrap());
        history.push('\n');
    }
    let corrupt = if hostile {
        payloads.insert(200_000, payload(200_000));
        payload(200_000).replace(['\r', '\n'], " ")
    } else {
        "not json".to_owned()
    };
    history.push_str(&corrupt);
    history.push('\n');
    std::fs::write(dir.join("history.jsonl"), history).unwrap();
    payloads
}

fn toml_escape(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Runs the report command on the inputs in `dir`; returns its Markdown.
fn report(dir: &Path, oha_label: &str) -> String {
    let out = dir.join("report.md");
    let args = <perfgate_report::cli::Args as clap::Parser>::parse_from([
        "perfgate-report".to_owned(),
        "--results".to_owned(),
        dir.join("results.json").display().to_string(),
        "--thresholds".to_owned(),
        dir.join("thresholds.toml").display().to_string(),
        "--baseline".to_owned(),
        dir.join("results.json").display().to_string(),
        "--history".to_owned(),
        dir.join("history.jsonl").display().to_string(),
        "--oha".to_owned(),
        format!("{oha_label}={}", fixture("oha-quotes.json").display()),
        "--out".to_owned(),
        out.display().to_string(),
        "--no-html".to_owned(),
        "--no-charts".to_owned(),
        "--quiet".to_owned(),
    ]);
    let _ = perfgate_report::cli::run(&args).expect("the report is written");
    std::fs::read_to_string(out)
        .unwrap()
        // The generated time and the folder differ between the two runs.
        .lines()
        .filter(|line| !line.starts_with("Generated "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn hostile_text_in_every_field_renders_as_inert_text() {
    let benign_dir = tempfile::tempdir().unwrap();
    write_inputs(benign_dir.path(), false);
    let benign = report(benign_dir.path(), "GET /quotes");
    let hostile_dir = tempfile::tempdir().unwrap();
    let mut payloads = write_inputs(hostile_dir.path(), true);
    payloads.insert(300_000, payload(300_000).replace('=', " "));
    let hostile = report(hostile_dir.path(), &payload(300_000).replace('=', " "));
    assert_inert(&hostile, &benign, &payloads);
}

#[test]
fn the_checks_catch_live_markdown() {
    // The checks above must be able to fail: raw HTML, a new heading and a broken table row.
    let benign = "| a | b |\n|---|---|\n| x | y |\n";
    let payloads = BTreeMap::from([(1, payload(1))]);
    for hostile in [
        "| a | b |\n|---|---|\n| x <img src=x onerror=alert(1)> | y |\n",
        "| a | b |\n|---|---|\n| x\r# heading1 | y |\n",
        "| a | b |\n|---|---|\n| HOSTILE1X \\<img | y |\n",
    ] {
        let caught = std::panic::catch_unwind(|| assert_inert(hostile, benign, &payloads));
        assert!(caught.is_err(), "not caught: {hostile:?}");
    }
}

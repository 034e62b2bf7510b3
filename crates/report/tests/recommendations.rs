//! Recommendations quote names from the inputs (functions, stages, error kinds, endpoints, load
//! test errors), which are untrusted: whatever they hold, the Markdown and HTML reports must stay
//! inert (no markup of theirs, no heading, no table cell break), the console must get no control
//! characters, and the JSON must carry the names unchanged.

mod common;

use std::time::UNIX_EPOCH;

use common::fixture;
use perfgate_report::loadtest::{DEFAULT_WEBSOCKET_TYPES, load_locust};
use perfgate_report::recommend::{Part, Topic};
use perfgate_report::{EvaluateOptions, Report, ReportOptions, Thresholds, load_results, render};

const IMG: &str = "<img src=x onerror=alert(1)>";
const FUNCTION: &str = "evil`|`fn\r\n# heading *x* _y_ [z]";
const KIND: &str = "a|b*_[x](javascript:y)\\";
const ENDPOINT: &str = "/x``<script>alert(1)</script>\r\n# h";
const ERROR: &str = "\u{1b}[31mred|pipe & <i>";

/// The v1 fixture and a Locust run, with hostile names wherever a recommendation quotes one.
fn hostile_report() -> Report {
    let mut run = load_results(&fixture("results-v1-full.json")).unwrap();
    run.hot_functions[0].function = FUNCTION.to_owned();
    run.top_functions[0].function = IMG.to_owned();
    for stage in &mut run.stages {
        stage.busy_ratio = Some(0.1);
    }
    run.stages[0].name = IMG.to_owned();
    run.stages[0].busy_ratio = Some(0.99);
    run.errors_by_kind.insert(KIND.to_owned(), 3);
    run.metrics.insert("errors.total".to_owned(), 3.0);
    let ws_types: Vec<String> = DEFAULT_WEBSOCKET_TYPES.iter().map(|t| t.to_string()).collect();
    let mut locust = load_locust(&fixture("locust-run"), &ws_types).unwrap();
    let maintenance = locust
        .endpoints
        .iter_mut()
        .find(|endpoint| endpoint.name == "/maintenance")
        .unwrap();
    maintenance.name = ENDPOINT.to_owned();
    for failure in &mut locust.failures {
        if failure.name == "/maintenance" {
            failure.name = ENDPOINT.to_owned();
            failure.error = ERROR.to_owned();
        }
    }
    let thresholds = Thresholds::from_path(&fixture("thresholds-default.toml")).unwrap();
    Report::with_load_tests(
        run,
        vec![locust],
        &thresholds,
        None,
        ReportOptions {
            now: UNIX_EPOCH,
            evaluate: EvaluateOptions::default(),
            flamegraph_link: None,
        },
    )
}

/// The text between a section's heading and the next one.
fn section<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start}"));
    let to = text[from..].find(end).map_or(text.len(), |at| from + at);
    &text[from..to]
}

/// Splits a Markdown line into code spans and the text outside them, as CommonMark does: a run
/// of backticks opens a span that the next run of the same length closes; an unmatched run is
/// literal text. Backslash-escaped backticks open nothing.
fn code_spans(line: &str) -> (Vec<String>, String) {
    let chars: Vec<char> = line.chars().collect();
    let (mut spans, mut outside) = (Vec::new(), String::new());
    let mut index = 0;
    while index < chars.len() {
        if chars[index] == '\\' && index + 1 < chars.len() {
            outside.push(chars[index]);
            outside.push(chars[index + 1]);
            index += 2;
            continue;
        }
        if chars[index] != '`' {
            outside.push(chars[index]);
            index += 1;
            continue;
        }
        let run = chars[index..].iter().take_while(|&&c| c == '`').count();
        let mut close = index + run;
        let mut found = None;
        while close < chars.len() {
            if chars[close] == '`' {
                let other = chars[close..].iter().take_while(|&&c| c == '`').count();
                if other == run {
                    found = Some(close);
                    break;
                }
                close += other;
            } else {
                close += 1;
            }
        }
        match found {
            Some(close) => {
                let content: String = chars[index + run..close].iter().collect();
                let stripped = match content.strip_prefix(' ').and_then(|c| c.strip_suffix(' ')) {
                    Some(inner) if !inner.trim().is_empty() => inner.to_owned(),
                    _ => content,
                };
                spans.push(stripped);
                index = close + run;
            }
            None => {
                outside.push_str(&"`".repeat(run));
                index += run;
            }
        }
    }
    (spans, outside)
}

#[test]
fn hostile_names_stay_inert_in_the_markdown_report() {
    let report = hostile_report();
    let topics: Vec<Topic> = report.recommendations.iter().map(|r| r.topic).collect();
    for topic in [
        Topic::FailingEndpoints,
        Topic::Throughput,
        Topic::Bottleneck,
        Topic::Errors,
    ] {
        assert!(topics.contains(&topic), "{topic:?} missing from {topics:?}");
    }
    let markdown = render::markdown::render(&report);
    let recommendations = section(&markdown, "## Recommendations\n\n", "\n## ");
    let lines: Vec<&str> = recommendations
        .lines()
        .skip(2)
        .filter(|line| !line.is_empty())
        .collect();
    // One list item per recommendation: no name broke a line or started a heading.
    assert_eq!(lines.len(), report.recommendations.len(), "{recommendations}");
    let mut quoted = Vec::new();
    for line in lines {
        assert!(line.starts_with("- **"), "{line}");
        let (spans, outside) = code_spans(line);
        // Outside code spans, every character Markdown or HTML could read as syntax is escaped.
        let chars: Vec<char> = outside.chars().collect();
        for (index, c) in chars.iter().enumerate() {
            if "<>|[]`".contains(*c) {
                let backslashes = chars[..index].iter().rev().take_while(|&&b| b == '\\').count();
                assert!(backslashes % 2 == 1, "unescaped {c:?} in {outside:?}");
            }
        }
        quoted.extend(spans);
    }
    // The names themselves arrive whole inside code spans, line breaks as spaces.
    for name in [IMG, FUNCTION, KIND, ENDPOINT] {
        let expected = name.replace(['\r', '\n'], " ");
        assert!(
            quoted.iter().any(|span| span.contains(&expected)),
            "{expected:?} not quoted whole in {quoted:?}"
        );
    }
}

#[test]
fn hostile_names_stay_inert_in_the_html_report() {
    let html = render::html::render(&hostile_report());
    let recommendations = section(&html, "<section id=\"recommendations\">", "</section>");
    let mut rest = recommendations;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let tag = &rest[..rest.find('>').unwrap() + 1];
        assert!(
            [
                "<section id=\"recommendations\">",
                "<h2>",
                "</h2>",
                "<ul class=\"recs\">",
                "</ul>",
                "<li>",
                "</li>",
                "<strong>",
                "</strong>",
                "<code>",
                "</code>",
            ]
            .contains(&tag),
            "unexpected markup {tag}"
        );
        rest = &rest[tag.len()..];
    }
    assert!(recommendations.contains("<code>&lt;img src=x onerror=alert(1)&gt;</code>"));
    assert!(recommendations.contains("<code>GET /x``&lt;script&gt;alert(1)&lt;/script&gt;\r\n# h</code>"));
}

#[test]
fn the_console_gets_no_control_characters_and_the_json_gets_the_names_unchanged() {
    let report = hostile_report();
    let console = render::console::render(&report, false);
    let recommendations = &console[console.find("recommendations:\n").unwrap()..];
    assert_eq!(
        recommendations.lines().count(),
        report.recommendations.len() + 1,
        "{recommendations}"
    );
    assert!(!recommendations.chars().any(|c| c.is_control() && c != '\n'));
    let verdict = render::json::verdict(&report);
    let codes: Vec<&str> = verdict["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|recommendation| recommendation["parts"].as_array().unwrap())
        .filter(|part| part["kind"] == "code")
        .map(|part| part["text"].as_str().unwrap())
        .collect();
    for name in [IMG, FUNCTION, KIND, ERROR] {
        assert!(codes.contains(&name), "{name:?} not in {codes:?}");
    }
    let in_data = report
        .recommendations
        .iter()
        .flat_map(|recommendation| &recommendation.parts)
        .any(|part| *part == Part::Code(format!("GET {ENDPOINT}")));
    assert!(in_data, "the endpoint's name is a code part of its own");
}

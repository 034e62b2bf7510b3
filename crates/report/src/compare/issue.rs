//! The GitHub issue the nightly workflow keeps for a confirmed regression on the main branch:
//! read from the JSON verdict `cargo xtask compare --confirm --json FILE` wrote (the nightly run
//! compares main's head with the last commit that passed), it says whether to open (or update)
//! the issue or close it, and renders the body — the verdict table of the failing metrics, every
//! other metric that moved, and how to reproduce. A pure function of the verdict; the workflow
//! does the GitHub calls.
//!
//! The verdict is an input like any other (it may be an artifact of a fork's job): it is read
//! through the capped reader, a file that does not parse is one line naming the place, and every
//! string from it is escaped for Markdown.

use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use crate::error::{ReportError, Result};
use crate::markdown_escape::{code, escape, table_code};
use crate::metric::format_value;

/// The label the nightly workflow finds its issue by.
pub const ISSUE_LABEL: &str = "perfgate-regression";

/// The issue's title (one issue at a time: the workflow updates it while the regression stays).
pub const ISSUE_TITLE: &str = "perfgate: confirmed performance regression on main";

/// What the workflow should do with the issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueAction {
    /// The gate failed with confirmation: open the issue, or update the open one.
    Open,
    /// The gate passed: the metrics are back; close the open issue (if any) with the body as
    /// its last comment.
    Close,
    /// Not confirmed (a warning): leave the issue as it is.
    Keep,
}

impl IssueAction {
    /// `open`, `close` or `keep`, as the workflow reads it.
    pub fn name(self) -> &'static str {
        match self {
            IssueAction::Open => "open",
            IssueAction::Close => "close",
            IssueAction::Keep => "keep",
        }
    }
}

/// Where the verdict came from, for the body's links and reproduction line.
#[derive(Debug, Clone, Default)]
pub struct IssueContext {
    /// The run that produced the verdict (the workflow run's URL), if known.
    pub run_url: Option<String>,
    /// When the verdict was made, as the body should show it (`2026-11-26`), if given.
    pub date: Option<String>,
}

/// The decision and the body.
#[derive(Debug, Clone)]
pub struct RegressionIssue {
    /// Open, close or keep.
    pub action: IssueAction,
    /// The issue body (open) or closing comment (close), Markdown.
    pub body: String,
}

#[derive(Debug, Deserialize)]
struct VerdictFile {
    overall: String,
    #[serde(default)]
    base: String,
    #[serde(default)]
    candidate: String,
    #[serde(default = "default_confidence")]
    confidence: f64,
    #[serde(default)]
    max_regression_pct: f64,
    metrics: Vec<VerdictMetric>,
}

fn default_confidence() -> f64 {
    0.95
}

#[derive(Debug, Deserialize)]
struct VerdictMetric {
    id: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    direction: String,
    base_median: Option<f64>,
    candidate_median: Option<f64>,
    ratio: Option<f64>,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
    verdict: String,
    gate: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    rounds: usize,
}

/// Reads the verdict at `path` and renders the issue.
pub fn regression_issue(path: &Path, context: &IssueContext) -> Result<RegressionIssue> {
    let bytes = crate::input_file::read_capped(path)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ReportError::invalid(path, "the file", "is not UTF-8 text"))?;
    let verdict: VerdictFile = {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let place = perfgate_results::read::json_pointer(error.path());
            match error.inner().classify() {
                serde_json::error::Category::Data => {
                    ReportError::invalid(path, place, strip(&error.inner().to_string()))
                }
                _ => ReportError::json(path, error.inner()),
            }
        })?
    };
    let action = match verdict.overall.as_str() {
        "fail" => IssueAction::Open,
        "pass" => IssueAction::Close,
        "warn" => IssueAction::Keep,
        other => {
            return Err(ReportError::invalid(
                path,
                "/overall",
                format!("{:?} is not pass, warn or fail", truncate(other)),
            ));
        }
    };
    for (index, metric) in verdict.metrics.iter().enumerate() {
        for (field, value) in [
            ("base_median", metric.base_median),
            ("candidate_median", metric.candidate_median),
            ("ratio", metric.ratio),
            ("ci_low", metric.ci_low),
            ("ci_high", metric.ci_high),
        ] {
            if value.is_some_and(|v| !v.is_finite()) {
                return Err(ReportError::invalid(
                    path,
                    format!("/metrics/{index}/{field}"),
                    "is not a finite number",
                ));
            }
        }
    }
    let body = match action {
        IssueAction::Open | IssueAction::Keep => open_body(&verdict, context),
        IssueAction::Close => close_body(&verdict, context),
    };
    Ok(RegressionIssue { action, body })
}

fn strip(message: &str) -> String {
    message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at])
        .to_owned()
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

fn pct(ratio: Option<f64>) -> String {
    ratio.map_or("—".to_owned(), |r| format!("{:+.1} %", (r - 1.0) * 100.0))
}

fn interval(metric: &VerdictMetric) -> String {
    match (metric.ci_low, metric.ci_high) {
        (Some(low), Some(high)) if low != high => format!("{} … {}", pct(Some(low)), pct(Some(high))),
        (Some(_), Some(_)) => "exact".to_owned(),
        _ => "—".to_owned(),
    }
}

fn arrow(metric: &VerdictMetric) -> &'static str {
    match metric.direction.as_str() {
        "higher_is_better" => "↑",
        "lower_is_better" => "↓",
        _ => "=",
    }
}

/// The table of `metrics`: both sides' medians over the same rounds and the paired change (the
/// median of the per-round ratios, which need not equal the ratio of the two medians).
fn table(out: &mut String, metrics: &[&VerdictMetric], confidence: f64) {
    let _ = writeln!(
        out,
        "| Metric | Base median | Candidate median | Ratio of medians | Paired change (median of per-round ratios) | {:.0} % interval | Verdict | Rounds |\n|---|---|---|---|---|---|---|---|",
        confidence * 100.0
    );
    for metric in metrics {
        let value = |v: Option<f64>| v.map_or("—".to_owned(), |v| escape(&format_value(v, &metric.unit)));
        let medians_ratio = match (metric.base_median, metric.candidate_median) {
            (Some(base), Some(candidate)) if base != 0.0 => pct(Some(candidate / base)),
            _ => "—".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} | {} | {} | {} | {} |",
            table_code(&metric.id),
            arrow(metric),
            value(metric.base_median),
            value(metric.candidate_median),
            medians_ratio,
            pct(metric.ratio),
            interval(metric),
            escape(&metric.verdict),
            metric.rounds,
        );
    }
}

fn header(out: &mut String, verdict: &VerdictFile, context: &IssueContext) {
    let _ = write!(
        out,
        "Nightly comparison of {} (candidate) with {} (base, the last nightly that passed){}",
        code(&verdict.candidate),
        code(&verdict.base),
        context
            .date
            .as_deref()
            .map_or(String::new(), |date| format!(", {}", escape(date))),
    );
    match &context.run_url {
        Some(url) => {
            let _ = writeln!(out, " — [the run]({}).\n", url_for_link(url));
        }
        None => {
            let _ = writeln!(out, ".\n");
        }
    }
}

/// A URL as a Markdown link target: only http(s) links are kept (a `javascript:` link from a
/// hostile input becomes plain text), and characters that end a link target are percent-encoded.
fn url_for_link(url: &str) -> String {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return "#".to_owned();
    }
    url.chars()
        .map(|c| match c {
            ' ' => "%20".to_owned(),
            '(' => "%28".to_owned(),
            ')' => "%29".to_owned(),
            '<' => "%3C".to_owned(),
            '>' => "%3E".to_owned(),
            '"' => "%22".to_owned(),
            c if c.is_control() => String::new(),
            c => c.to_string(),
        })
        .collect()
}

fn open_body(verdict: &VerdictFile, context: &IssueContext) -> String {
    let mut out = String::new();
    let failing: Vec<&VerdictMetric> = verdict.metrics.iter().filter(|m| m.gate == "fail").collect();
    let _ = writeln!(
        out,
        "## ❌ A confirmed regression on main\n\n{} beyond the allowed {:.0} %, confirmed by a second set of rounds.\n",
        match failing.len() {
            1 => "One metric regressed".to_owned(),
            n => format!("{n} metrics regressed"),
        },
        verdict.max_regression_pct,
    );
    header(&mut out, verdict, context);
    table(&mut out, &failing, verdict.confidence);
    let _ = writeln!(out);
    for metric in &failing {
        let _ = writeln!(out, "- {}: {}", code(&metric.id), escape(&metric.reason));
    }
    let moved: Vec<&VerdictMetric> = verdict
        .metrics
        .iter()
        .filter(|m| m.gate != "fail" && matches!(m.verdict.as_str(), "regressed" | "improved"))
        .collect();
    if !moved.is_empty() {
        let _ = writeln!(out, "\n### Other metrics that moved\n");
        table(&mut out, &moved, verdict.confidence);
    }
    let _ = writeln!(
        out,
        "\n### Reproduce\n\n```sh\ncargo xtask compare --base {} --quick --confirm\n```\n\n\
         This issue is updated by each nightly run while the regression stays, and closed by the \
         first nightly run in which the gate passes again.",
        shell_word(&verdict.base),
    );
    out
}

fn close_body(verdict: &VerdictFile, context: &IssueContext) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## ✅ Recovered\n\nNo metric is beyond the allowed {:.0} % any more.\n",
        verdict.max_regression_pct
    );
    header(&mut out, verdict, context);
    let watched: Vec<&VerdictMetric> = verdict
        .metrics
        .iter()
        .filter(|m| m.verdict != "unchanged" || m.gate != "pass")
        .collect();
    if watched.is_empty() {
        let _ = writeln!(out, "Every metric is unchanged.");
    } else {
        table(&mut out, &watched, verdict.confidence);
    }
    out
}

/// A revision as one shell word inside the reproduce block. compare labels a side `REV (SHA)`:
/// the commit inside the parentheses is what reproduces it (`HEAD` moves). Letters, digits and
/// `._/@^~-` stay; anything else is dropped (a revision from a hostile verdict cannot run a
/// command when pasted). The fence is plain ``` because nothing here can contain a backtick.
fn shell_word(label: &str) -> String {
    let revision = label
        .rsplit_once('(')
        .and_then(|(_, inside)| inside.split_once(')'))
        .map_or(label, |(sha, _)| sha);
    let revision = revision.split_whitespace().next().unwrap_or_default();
    let word: String = revision
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._/@^~-".contains(*c))
        .take(80)
        .collect();
    if word.is_empty() { "BASE".to_owned() } else { word }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(overall: &str, base: &str) -> String {
        format!(
            r#"{{"overall":"{overall}","base":"{base}","candidate":"main@abc","confidence":0.95,"max_regression_pct":10,
               "metrics":[{{"id":"cpu.messages_per_second","unit":"msg/s","direction":"higher_is_better",
                 "base_median":1000,"candidate_median":800,"ratio":0.79,"ci_low":0.75,"ci_high":0.83,
                 "verdict":"regressed","gate":"{gate}","reason":"slower","rounds":20}}]}}"#,
            gate = if overall == "fail" { "fail" } else { "pass" }
        )
    }

    fn render(text: &str) -> Result<RegressionIssue> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("verdict.json");
        std::fs::write(&path, text).unwrap();
        regression_issue(&path, &IssueContext::default())
    }

    #[test]
    fn the_action_follows_the_gate() {
        assert_eq!(render(&verdict("fail", "x")).unwrap().action, IssueAction::Open);
        assert_eq!(render(&verdict("pass", "x")).unwrap().action, IssueAction::Close);
        assert_eq!(render(&verdict("warn", "x")).unwrap().action, IssueAction::Keep);
    }

    #[test]
    fn the_reproduce_line_cannot_run_a_command() {
        for hostile in [
            "main; rm -rf ~ $(id)",
            "a`id`b",
            "x && curl e | sh",
            "$(id) (y;z)",
        ] {
            let body = render(&verdict("fail", hostile)).unwrap().body;
            let line = body
                .lines()
                .find(|line| line.starts_with("cargo xtask compare"))
                .unwrap();
            let base = line
                .strip_prefix("cargo xtask compare --base ")
                .and_then(|rest| rest.strip_suffix(" --quick --confirm"))
                .unwrap_or_else(|| panic!("{line}"));
            assert!(
                base.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._/@^~-".contains(c)),
                "{line}"
            );
        }
        let body = render(&verdict("fail", "HEAD (ce0b81b24f)")).unwrap().body;
        assert!(
            body.contains("cargo xtask compare --base ce0b81b24f --quick"),
            "{body}"
        );
    }

    #[test]
    fn a_bad_verdict_is_one_line_naming_the_place() {
        let error = render(r#"{"overall":"fail","metrics":[{"id":3}]}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("/metrics/0/id"), "{error}");
        assert!(!error.contains('\n'));
        let error = render(r#"{"overall":"maybe","metrics":[]}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("/overall"), "{error}");
    }

    #[test]
    fn only_web_links_are_links() {
        assert_eq!(url_for_link("javascript:alert(1)"), "#");
        assert_eq!(url_for_link("https://x/a b)"), "https://x/a%20b%29");
    }
}

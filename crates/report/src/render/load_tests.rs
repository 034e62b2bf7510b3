//! The Markdown "Load tests" section: every run given with `--locust` / `--oha`, REST and
//! WebSocket endpoints side by side, totals, top failures and the run over time. Endpoint names
//! and error texts are untrusted and escaped.

use std::fmt::Write;

use super::html::load_test_key;
use super::markdown::Charts;
use crate::loadtest::{Endpoint, EndpointKind, HistoryPoint, LoadTest};
use crate::metric::format_value;
use crate::model::Report;

/// Most failure rows shown.
const TOP_FAILURES: usize = 10;
/// Most history rows shown; longer histories are shown evenly thinned.
const HISTORY_ROWS: usize = 24;

/// Inline code inside a table cell: GitHub splits cells at a `|` even inside a code span unless it
/// is backslash-escaped (and then shows it without the backslash).
fn table_code(text: &str) -> String {
    crate::recommend::code(text).replace('|', "\\|")
}

/// Escapes untrusted text for Markdown: every character Markdown (or inline HTML) could read as
/// syntax is backslash-escaped, `&` becomes an entity and line breaks become spaces.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '!' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn ms(value: Option<f64>) -> String {
    value.map_or("—".to_owned(), |v| format_value(v, ""))
}

/// Renders the section, with the endpoints' chart and each run's over time from `charts`.
pub(super) fn markdown(out: &mut String, report: &Report, charts: &Charts) {
    let _ = writeln!(out, "## Load tests\n");
    let tests = &report.load_tests;
    if tests.is_empty() {
        let _ = writeln!(
            out,
            "No load test given (`cargo xtask report --locust PREFIX --oha FILE` reads Locust's and oha's output).\n"
        );
        return;
    }
    let several = tests.len() > 1;
    let _ = writeln!(out, "| Run | Tool | Files | Notes |\n|---|---|---|---|");
    for (index, test) in tests.iter().enumerate() {
        let files: Vec<String> = test
            .sources
            .iter()
            .map(|path| table_code(&path.display().to_string()))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {}{} | {} | {} |",
            index + 1,
            test.tool,
            test.version
                .as_ref()
                .map_or(String::new(), |version| format!(" {}", escape(version))),
            files.join(", "),
            if test.notes.is_empty() {
                "—".to_owned()
            } else {
                escape(&test.notes.join(" "))
            }
        );
    }
    let _ = writeln!(out);
    charts.embed(out, "endpoints");
    for (kind, heading) in [
        (EndpointKind::Rest, "REST endpoints"),
        (EndpointKind::WebSocket, "WebSocket"),
        (EndpointKind::Other, "Other request types"),
    ] {
        let mut rows: Vec<(usize, &Endpoint)> = tests
            .iter()
            .enumerate()
            .flat_map(|(index, test)| test.endpoints.iter().map(move |endpoint| (index, endpoint)))
            .filter(|(_, endpoint)| endpoint.kind == kind)
            .collect();
        if rows.is_empty() {
            if kind != EndpointKind::Other {
                let _ = writeln!(out, "### {heading}\n\nNone in these load tests.\n");
            }
            continue;
        }
        // The same endpoint of every run next to each other.
        rows.sort_by(|a, b| (&a.1.name, &a.1.request_type, a.0).cmp(&(&b.1.name, &b.1.request_type, b.0)));
        let _ = writeln!(out, "### {heading}\n");
        endpoint_table(out, &rows, several);
    }
    let totals: Vec<(usize, &Endpoint)> = tests
        .iter()
        .enumerate()
        .filter_map(|(index, test)| test.aggregated().map(|endpoint| (index, endpoint)))
        .collect();
    let _ = writeln!(out, "### All requests\n");
    endpoint_table(out, &totals, true);
    failures(out, tests, several);
    for (index, test) in tests
        .iter()
        .enumerate()
        .filter(|(_, test)| !test.history.is_empty())
    {
        history(out, index, test, several, charts);
    }
}

fn endpoint_table(out: &mut String, rows: &[(usize, &Endpoint)], with_run: bool) {
    let run_header = if with_run { "Run | " } else { "" };
    let run_rule = if with_run { "---|" } else { "" };
    let _ = writeln!(
        out,
        "| {run_header}Type | Name | Requests | Failures | Error rate | Req/s | Min ms | Avg ms | p50 ms | p95 ms | p99 ms \
         | p99.9 ms | Max ms |\n|{run_rule}---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for (index, endpoint) in rows {
        let run = if with_run {
            format!("{} | ", index + 1)
        } else {
            String::new()
        };
        let name = if endpoint.kind == EndpointKind::Aggregated {
            "**Aggregated**".to_owned()
        } else {
            escape(&endpoint.name)
        };
        let _ = writeln!(
            out,
            "| {run}{} | {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            escape(&endpoint.request_type),
            format_value(endpoint.requests as f64, ""),
            format_value(endpoint.failures as f64, ""),
            endpoint
                .error_rate_pct()
                .map_or("—".to_owned(), |rate| format!("{rate:.2} %")),
            endpoint.rps.map_or("—".to_owned(), |rps| format!("{rps:.1}")),
            ms(endpoint.min_ms),
            ms(endpoint.avg_ms),
            ms(endpoint.p50_ms),
            ms(endpoint.p95_ms),
            ms(endpoint.p99_ms),
            ms(endpoint.p999_ms),
            ms(endpoint.max_ms),
        );
    }
    let _ = writeln!(out);
}

fn failures(out: &mut String, tests: &[LoadTest], with_run: bool) {
    let mut rows: Vec<(usize, &crate::loadtest::Failure)> = tests
        .iter()
        .enumerate()
        .flat_map(|(index, test)| test.failures.iter().map(move |failure| (index, failure)))
        .collect();
    let _ = writeln!(out, "### Failures\n");
    if rows.is_empty() {
        let _ = writeln!(out, "No failed requests recorded.\n");
        return;
    }
    rows.sort_by(|a, b| b.1.occurrences.cmp(&a.1.occurrences).then(a.0.cmp(&b.0)));
    let shown = rows.len().min(TOP_FAILURES);
    if rows.len() > shown {
        let _ = writeln!(out, "The {shown} most frequent of {} kinds.\n", rows.len());
    }
    let (run_header, run_rule) = if with_run { ("Run | ", "---|") } else { ("", "") };
    let _ = writeln!(
        out,
        "| {run_header}Type | Name | Error | Count |\n|{run_rule}---|---|---|---|"
    );
    for (index, failure) in rows.iter().take(shown) {
        let run = if with_run {
            format!("{} | ", index + 1)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| {run}{} | {} | {} | {} |",
            escape(&failure.method),
            escape(&failure.name),
            escape(&failure.error),
            format_value(failure.occurrences as f64, "")
        );
    }
    let _ = writeln!(out);
}

fn history(out: &mut String, index: usize, test: &LoadTest, several: bool, charts: &Charts) {
    let heading = if several {
        format!(" (run {})", index + 1)
    } else {
        String::new()
    };
    let _ = writeln!(out, "### Over time{heading}\n");
    charts.embed(out, &load_test_key(index));
    let points = &test.history;
    let step = points.len().div_ceil(HISTORY_ROWS).max(1);
    let start = points[0].timestamp;
    if step > 1 {
        let _ = writeln!(out, "One point in {step} of {}.\n", points.len());
    }
    let _ = writeln!(
        out,
        "| Time s | Users | Req/s | Failures/s | p95 ms |\n|---|---|---|---|---|"
    );
    let last = points.len() - 1;
    let shown = points
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i == last)
        .map(|(_, point)| point);
    for point in shown {
        let HistoryPoint {
            timestamp,
            users,
            rps,
            failures_per_s,
            p95_ms,
        } = point;
        let _ = writeln!(
            out,
            "| {} | {users} | {rps:.1} | {failures_per_s:.1} | {} |",
            timestamp.saturating_sub(start),
            ms(*p95_ms)
        );
    }
    let _ = writeln!(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_cannot_inject_markdown_or_html() {
        assert_eq!(escape("/api/<script>|x"), "/api/\\<script\\>\\|x");
        assert_eq!(escape("[a](javascript:x)"), "\\[a\\](javascript:x)");
        assert_eq!(escape("a\nb & `c`"), "a b &amp; \\`c\\`");
        assert_eq!(escape("**bold** _i_"), "\\*\\*bold\\*\\* \\_i\\_");
    }
}

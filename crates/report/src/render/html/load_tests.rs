//! The HTML report's "Load tests" section: every `--locust` / `--oha` run, REST and WebSocket
//! endpoints side by side, totals, top failures, each endpoint's percentiles on one chart and
//! each run over time. Endpoint names and error texts are untrusted and escaped.

use std::fmt::Write;

use super::escape::esc;
use super::{charts, close, figure, num, open, table_end, table_head};
use crate::loadtest::{Endpoint, EndpointKind, Failure, LoadTest};
use crate::metric::format_value;
use crate::model::Report;

/// Most failure rows shown.
const TOP_FAILURES: usize = 10;

fn ms(value: Option<f64>) -> String {
    value.map_or("—".to_owned(), |v| format_value(v, ""))
}

pub(super) fn section(out: &mut String, report: &Report) {
    open(out, "load-tests", "Load tests");
    let tests = &report.load_tests;
    if tests.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"note\">No load test given (<code>cargo xtask report --locust PREFIX --oha FILE</code> reads Locust's and oha's output).</p>"
        );
        close(out);
        return;
    }
    let several = tests.len() > 1;
    table_head(out, &["Run", "Tool", "Files", "Notes"]);
    for (index, test) in tests.iter().enumerate() {
        let files: Vec<String> = test
            .sources
            .iter()
            .map(|path| format!("<code>{}</code>", esc(&path.display().to_string())))
            .collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
            index + 1,
            esc(test.tool),
            test.version
                .as_ref()
                .map_or(String::new(), |version| format!(" {}", esc(version))),
            files.join(", "),
            if test.notes.is_empty() {
                "—".to_owned()
            } else {
                esc(&test.notes.join(" "))
            }
        );
    }
    table_end(out);
    if let Some(svg) = charts::endpoint_percentiles(tests) {
        figure(
            out,
            &svg,
            "Each endpoint's median, 95th and 99th percentile response times; the line spans them.",
        );
    }
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
                let _ = writeln!(
                    out,
                    "<h3>{heading}</h3>\n<p class=\"note\">None in these load tests.</p>"
                );
            }
            continue;
        }
        rows.sort_by(|a, b| (&a.1.name, &a.1.request_type, a.0).cmp(&(&b.1.name, &b.1.request_type, b.0)));
        let _ = writeln!(out, "<h3>{heading}</h3>");
        endpoint_table(out, &rows, several);
    }
    let totals: Vec<(usize, &Endpoint)> = tests
        .iter()
        .enumerate()
        .filter_map(|(index, test)| test.aggregated().map(|endpoint| (index, endpoint)))
        .collect();
    let _ = writeln!(out, "<h3>All requests</h3>");
    endpoint_table(out, &totals, true);
    failures(out, tests, several);
    for (index, test) in tests.iter().enumerate() {
        if let Some(svg) = charts::load_test_history(test) {
            let heading = if several {
                format!("Over time (run {})", index + 1)
            } else {
                "Over time".to_owned()
            };
            let _ = writeln!(out, "<h3>{heading}</h3>");
            figure(
                out,
                &svg,
                "Requests and failures per second, users and the 95th percentile response time as the tool recorded them, on one time axis.",
            );
            history_table(out, test);
        }
    }
    close(out);
}

fn endpoint_table(out: &mut String, rows: &[(usize, &Endpoint)], with_run: bool) {
    let mut columns = Vec::new();
    if with_run {
        columns.push("#Run");
    }
    columns.extend([
        "Type",
        "Name",
        "#Requests",
        "#Failures",
        "#Error rate",
        "#Req/s",
        "#Min ms",
        "#Avg ms",
        "#p50 ms",
        "#p95 ms",
        "#p99 ms",
        "#p99.9 ms",
        "#Max ms",
    ]);
    table_head(out, &columns);
    for (index, endpoint) in rows {
        out.push_str("<tr>");
        if with_run {
            out.push_str(&num(&(index + 1).to_string()));
        }
        let name = if endpoint.kind == EndpointKind::Aggregated {
            "<strong>Aggregated</strong>".to_owned()
        } else {
            esc(&endpoint.name)
        };
        let _ = writeln!(
            out,
            "<td>{}</td><td>{name}</td>{}{}{}{}{}{}{}{}{}{}{}</tr>",
            esc(&endpoint.request_type),
            num(&format_value(endpoint.requests as f64, "")),
            num(&format_value(endpoint.failures as f64, "")),
            num(&endpoint
                .error_rate_pct()
                .map_or("—".to_owned(), |rate| format!("{rate:.2} %"))),
            num(&endpoint.rps.map_or("—".to_owned(), |rps| format!("{rps:.1}"))),
            num(&ms(endpoint.min_ms)),
            num(&ms(endpoint.avg_ms)),
            num(&ms(endpoint.p50_ms)),
            num(&ms(endpoint.p95_ms)),
            num(&ms(endpoint.p99_ms)),
            num(&ms(endpoint.p999_ms)),
            num(&ms(endpoint.max_ms)),
        );
    }
    table_end(out);
}

fn failures(out: &mut String, tests: &[LoadTest], with_run: bool) {
    let mut rows: Vec<(usize, &Failure)> = tests
        .iter()
        .enumerate()
        .flat_map(|(index, test)| test.failures.iter().map(move |failure| (index, failure)))
        .collect();
    let _ = writeln!(out, "<h3>Failures</h3>");
    if rows.is_empty() {
        let _ = writeln!(out, "<p class=\"note\">No failed requests recorded.</p>");
        return;
    }
    rows.sort_by(|a, b| b.1.occurrences.cmp(&a.1.occurrences).then(a.0.cmp(&b.0)));
    let shown = rows.len().min(TOP_FAILURES);
    if rows.len() > shown {
        let _ = writeln!(out, "<p>The {shown} most frequent of {} kinds.</p>", rows.len());
    }
    let mut columns = Vec::new();
    if with_run {
        columns.push("#Run");
    }
    columns.extend(["Type", "Name", "Error", "#Count"]);
    table_head(out, &columns);
    for (index, failure) in rows.iter().take(shown) {
        out.push_str("<tr>");
        if with_run {
            out.push_str(&num(&(index + 1).to_string()));
        }
        let _ = writeln!(
            out,
            "<td>{}</td><td>{}</td><td><code>{}</code></td>{}</tr>",
            esc(&failure.method),
            esc(&failure.name),
            esc(&failure.error),
            num(&format_value(failure.occurrences as f64, ""))
        );
    }
    table_end(out);
}

/// The history's figures, folded away under the chart.
fn history_table(out: &mut String, test: &LoadTest) {
    let Some(first) = test.history.first() else {
        return;
    };
    let _ = writeln!(
        out,
        "<details><summary>The figures ({} points)</summary>",
        test.history.len()
    );
    table_head(out, &["#Time s", "#Users", "#Req/s", "#Failures/s", "#p95 ms"]);
    for point in &test.history {
        let _ = writeln!(
            out,
            "<tr>{}{}{}{}{}</tr>",
            num(&point.timestamp.saturating_sub(first.timestamp).to_string()),
            num(&point.users.to_string()),
            num(&format!("{:.1}", point.rps)),
            num(&format!("{:.1}", point.failures_per_s)),
            num(&ms(point.p95_ms))
        );
    }
    table_end(out);
    out.push_str("</details>\n");
}

//! The rows of the "Load tests" section: the runs, the endpoints by kind, each run's totals, the
//! most frequent failures and each run over time.

use crate::loadtest::{Endpoint, EndpointKind, Failure, LoadTest};
use crate::metric::format_value;

/// One load-test run of the runs table.
#[derive(Debug)]
pub(in crate::render) struct RunCells<'a> {
    /// Its number, from 1, as the other tables refer to it.
    pub(in crate::render) number: usize,
    /// The tool and its version, if known.
    pub(in crate::render) tool: &'static str,
    /// See `tool`.
    pub(in crate::render) version: Option<&'a str>,
    /// The files read, as paths.
    pub(in crate::render) files: Vec<String>,
    /// The notes on reading them, in one paragraph, if any.
    pub(in crate::render) notes: Option<String>,
}

/// The runs table, in the order the load tests were given.
pub(in crate::render) fn load_test_runs(tests: &[LoadTest]) -> Vec<RunCells<'_>> {
    tests
        .iter()
        .enumerate()
        .map(|(index, test)| RunCells {
            number: index + 1,
            tool: test.tool,
            version: test.version.as_deref(),
            files: test
                .sources
                .iter()
                .map(|path| path.display().to_string())
                .collect(),
            notes: (!test.notes.is_empty()).then(|| test.notes.join(" ")),
        })
        .collect()
}

/// The endpoint tables' columns after the type and the name, all figures.
pub(in crate::render) const ENDPOINT_FIGURES: [&str; 11] = [
    "Requests",
    "Failures",
    "Error rate",
    "Req/s",
    "Min ms",
    "Avg ms",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "p99.9 ms",
    "Max ms",
];

/// One endpoint of an endpoint table.
#[derive(Debug)]
pub(in crate::render) struct EndpointCells<'a> {
    /// The number of its run.
    pub(in crate::render) run: usize,
    /// Its request type.
    pub(in crate::render) request_type: &'a str,
    /// Its name; `None` for a run's aggregated row, shown as a bold "Aggregated".
    pub(in crate::render) name: Option<&'a str>,
    /// Its figures as text, in the order of [`ENDPOINT_FIGURES`].
    pub(in crate::render) figures: [String; 11],
}

/// A time in ms as text, or "—".
fn ms(value: Option<f64>) -> String {
    value.map_or("—".to_owned(), |v| format_value(v, ""))
}

fn endpoint_cells(index: usize, endpoint: &Endpoint) -> EndpointCells<'_> {
    EndpointCells {
        run: index + 1,
        request_type: &endpoint.request_type,
        name: (endpoint.kind != EndpointKind::Aggregated).then_some(endpoint.name.as_str()),
        figures: [
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
        ],
    }
}

/// The endpoints of one kind, under their heading.
#[derive(Debug)]
pub(in crate::render) struct EndpointGroup<'a> {
    /// "REST endpoints".
    pub(in crate::render) heading: &'static str,
    /// Its endpoints, the same endpoint of every run next to each other; empty when the load
    /// tests have none of that kind (the section then says so).
    pub(in crate::render) rows: Vec<EndpointCells<'a>>,
}

/// The endpoint tables: REST and WebSocket always, other request types when there are any.
pub(in crate::render) fn endpoint_groups(tests: &[LoadTest]) -> Vec<EndpointGroup<'_>> {
    let mut groups = Vec::new();
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
        if rows.is_empty() && kind == EndpointKind::Other {
            continue;
        }
        rows.sort_by(|a, b| (&a.1.name, &a.1.request_type, a.0).cmp(&(&b.1.name, &b.1.request_type, b.0)));
        groups.push(EndpointGroup {
            heading,
            rows: rows
                .into_iter()
                .map(|(index, endpoint)| endpoint_cells(index, endpoint))
                .collect(),
        });
    }
    groups
}

/// The "All requests" table: each run's aggregated row, in run order.
pub(in crate::render) fn endpoint_totals(tests: &[LoadTest]) -> Vec<EndpointCells<'_>> {
    tests
        .iter()
        .enumerate()
        .filter_map(|(index, test)| Some(endpoint_cells(index, test.aggregated()?)))
        .collect()
}

/// Most failure rows shown.
const TOP_FAILURES: usize = 10;

/// One kind of failure of the failures table.
#[derive(Debug)]
pub(in crate::render) struct FailureCells<'a> {
    /// The number of its run.
    pub(in crate::render) run: usize,
    /// The failure, as the tool recorded it.
    pub(in crate::render) failure: &'a Failure,
    /// How often it happened, as text.
    pub(in crate::render) count: String,
}

/// The failures table.
#[derive(Debug)]
pub(in crate::render) struct Failures<'a> {
    /// The most frequent kinds, most frequent first (the earlier run first among equals).
    pub(in crate::render) rows: Vec<FailureCells<'a>>,
    /// How many kinds there are in all.
    pub(in crate::render) kinds: usize,
}

/// The failures table over every run.
pub(in crate::render) fn failures(tests: &[LoadTest]) -> Failures<'_> {
    let mut all: Vec<(usize, &Failure)> = tests
        .iter()
        .enumerate()
        .flat_map(|(index, test)| test.failures.iter().map(move |failure| (index, failure)))
        .collect();
    all.sort_by(|a, b| b.1.occurrences.cmp(&a.1.occurrences).then(a.0.cmp(&b.0)));
    Failures {
        kinds: all.len(),
        rows: all
            .into_iter()
            .take(TOP_FAILURES)
            .map(|(index, failure)| FailureCells {
                run: index + 1,
                failure,
                count: format_value(failure.occurrences as f64, ""),
            })
            .collect(),
    }
}

/// "Over time", or "Over time (run 2)" when the report has several load tests.
pub(in crate::render) fn history_heading(index: usize, several: bool) -> String {
    if several {
        format!("Over time (run {})", index + 1)
    } else {
        "Over time".to_owned()
    }
}

/// The history table's columns.
pub(in crate::render) const HISTORY_COLUMNS: [&str; 5] = ["Time s", "Users", "Req/s", "Failures/s", "p95 ms"];

/// A load test's history as a table, a row per point in the order recorded, the time counted
/// from the first point; in the order of [`HISTORY_COLUMNS`].
pub(in crate::render) fn history(test: &LoadTest) -> Vec<[String; 5]> {
    let Some(first) = test.history.first() else {
        return Vec::new();
    };
    test.history
        .iter()
        .map(|point| {
            [
                point.timestamp.saturating_sub(first.timestamp).to_string(),
                point.users.to_string(),
                format!("{:.1}", point.rps),
                format!("{:.1}", point.failures_per_s),
                ms(point.p95_ms),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::loadtest::HistoryPoint;

    fn endpoint(kind: EndpointKind, request_type: &str, name: &str, requests: u64) -> Endpoint {
        Endpoint {
            kind,
            request_type: request_type.to_owned(),
            name: name.to_owned(),
            requests,
            failures: 0,
            rps: None,
            min_ms: None,
            avg_ms: None,
            p50_ms: None,
            p95_ms: Some(12.5),
            p99_ms: None,
            p999_ms: None,
            max_ms: None,
        }
    }

    fn load_test(endpoints: Vec<Endpoint>, failures: Vec<(&str, u64)>) -> LoadTest {
        LoadTest {
            tool: "locust",
            version: None,
            sources: vec![PathBuf::from("a_stats.csv")],
            endpoints,
            failures: failures
                .into_iter()
                .map(|(error, occurrences)| Failure {
                    method: "GET".to_owned(),
                    name: "/a".to_owned(),
                    error: error.to_owned(),
                    occurrences,
                })
                .collect(),
            history: Vec::new(),
            notes: Vec::new(),
            argument: String::new(),
        }
    }

    #[test]
    fn endpoints_are_grouped_by_kind_with_each_endpoint_of_every_run_together() {
        let tests = [
            load_test(
                vec![
                    endpoint(EndpointKind::Rest, "GET", "/b", 1),
                    endpoint(EndpointKind::Rest, "GET", "/a", 2),
                    endpoint(EndpointKind::Aggregated, "", "Aggregated", 3),
                ],
                Vec::new(),
            ),
            load_test(vec![endpoint(EndpointKind::Rest, "GET", "/a", 4)], Vec::new()),
        ];
        let groups = endpoint_groups(&tests);
        let headings: Vec<&str> = groups.iter().map(|group| group.heading).collect();
        assert_eq!(headings, ["REST endpoints", "WebSocket"]);
        let rest: Vec<(usize, Option<&str>)> = groups[0].rows.iter().map(|row| (row.run, row.name)).collect();
        assert_eq!(rest, [(1, Some("/a")), (2, Some("/a")), (1, Some("/b"))]);
        assert!(groups[1].rows.is_empty());
        let totals = endpoint_totals(&tests);
        assert_eq!(totals.len(), 1);
        assert_eq!((totals[0].run, totals[0].name), (1, None));
        assert_eq!(totals[0].figures[0], "3");
        assert_eq!(totals[0].figures[2], "0.00 %");
        assert_eq!(totals[0].figures[3], "—");
        assert_eq!(totals[0].figures[8], "—");
        assert_eq!(groups[0].rows[0].figures[7], "12.50");
    }

    #[test]
    fn failures_are_the_most_frequent_first_and_counted_in_all() {
        let many: Vec<(&str, u64)> = (0..12).map(|n| ("e", n)).collect();
        let tests = [load_test(Vec::new(), vec![("x", 5)]), load_test(Vec::new(), many)];
        let table = failures(&tests);
        assert_eq!(table.kinds, 13);
        assert_eq!(table.rows.len(), TOP_FAILURES);
        let top: Vec<(usize, &str)> = table.rows[..3]
            .iter()
            .map(|row| (row.run, row.count.as_str()))
            .collect();
        assert_eq!(top, [(2, "11"), (2, "10"), (2, "9")]);
        assert_eq!((table.rows[6].run, table.rows[6].count.as_str()), (1, "5"));
    }

    #[test]
    fn history_rows_count_time_from_the_first_point() {
        let mut test = load_test(Vec::new(), Vec::new());
        assert!(history(&test).is_empty());
        test.history = vec![
            HistoryPoint {
                timestamp: 100,
                users: 1,
                rps: 2.34,
                failures_per_s: 0.0,
                p95_ms: None,
            },
            HistoryPoint {
                timestamp: 105,
                users: 10,
                rps: 20.0,
                failures_per_s: 0.5,
                p95_ms: Some(3.0),
            },
        ];
        assert_eq!(
            history(&test),
            [["0", "1", "2.3", "0.0", "—"], ["5", "10", "20.0", "0.5", "3"]]
        );
    }
}

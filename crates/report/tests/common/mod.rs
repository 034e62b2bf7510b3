//! Helpers shared by the integration tests.
// Each test crate uses a different subset of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A file under `tests/fixtures`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Compares `actual` with the golden file `tests/golden/NAME`, or rewrites it with
/// `UPDATE_GOLDEN=1`.
pub(crate) fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing: run with UPDATE_GOLDEN=1", path.display()));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{name} differs from the golden file at line {}:\n expected: {:?}\n   actual: {:?}\n(run with UPDATE_GOLDEN=1 to accept)",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

/// The images of a Markdown report: `(alt text, link)`.
pub(crate) fn images(markdown: &str) -> Vec<(&str, &str)> {
    markdown
        .match_indices("![")
        .map(|(at, _)| {
            let rest = &markdown[at + 2..];
            let (alt, rest) = rest.split_once("](").unwrap();
            (alt, &rest[..rest.find(')').unwrap()])
        })
        .collect()
}

/// A database section made up in code, not measured (the fixture from a real run comes with the
/// profiler's database stage, `fixtures/make_database_fixture.sh`): 20,000 queries through a
/// pool of 8 that ran out (every connection in use, 7.5 % of the queries waiting over 1 ms), a
/// few timeouts and an outage the server recovered from, the server's count agreeing, and the
/// pool's use over two phases. Every text field the section has is filled, for the hostile-text
/// tests to replace.
pub(crate) fn synthetic_database() -> perfgate_results::DatabaseSection {
    use perfgate_results::{
        DatabaseOutage, DatabasePool, DatabaseSection, DatabaseServerView, DatabaseStatus, LatencySummary,
        TimeSeries,
    };
    let timeline = |offset: f64| TimeSeries {
        interval_ms: 10.0,
        t_ms: vec![0.0, 10.0, 20.0, 30.0, 40.0],
        columns: [
            ("in_use".to_owned(), vec![2.0, 8.0, 8.0, 6.0 + offset, 3.0]),
            ("open".to_owned(), vec![4.0, 8.0, 8.0, 8.0, 8.0]),
            ("waiting".to_owned(), vec![0.0, 12.0, 30.0, 4.0, 0.0]),
        ]
        .into_iter()
        .collect(),
    };
    DatabaseSection {
        status: DatabaseStatus::Connected,
        error: None,
        endpoint: "postgres://perfgate@127.0.0.1:5432/perfgate".to_owned(),
        server_version: Some("15.18 (Debian 15.18-0+deb12u1)".to_owned()),
        table: "reference_records".to_owned(),
        pool: DatabasePool {
            max_size: 8,
            open_peak: 8,
            in_use_peak: 8,
            in_use_mean: 5.5,
            waiting_peak: 30,
            waited_over_1ms: 1_500,
            acquire_timeout_ms: 5_000.0,
        },
        acquire_wait: LatencySummary {
            count: 20_000,
            p50_ms: 0.02,
            p90_ms: 0.6,
            p95_ms: 1.2,
            p99_ms: 2.5,
            max_ms: 40.0,
            ..LatencySummary::default()
        },
        query: LatencySummary {
            count: 20_000,
            p50_ms: 0.3,
            p90_ms: 0.7,
            p95_ms: 0.9,
            p99_ms: 1.8,
            max_ms: 25.0,
            ..LatencySummary::default()
        },
        queries: 20_000,
        queries_per_second: 4_000.0,
        errors_by_kind: [("timeout".to_owned(), 6), ("connection".to_owned(), 120)]
            .into_iter()
            .collect(),
        outage: Some(DatabaseOutage {
            first_failure_s: 2.0,
            last_failure_s: 2.5,
            failed_queries: 120,
            recovered: true,
            recovery_s: Some(0.75),
        }),
        server: Some(DatabaseServerView {
            source: "pg_stat_statements".to_owned(),
            calls: 20_000,
            total_exec_ms: Some(2_000.0),
            client_total_ms: 7_000.0,
        }),
        timeline: [
            ("saturation".to_owned(), timeline(0.0)),
            ("fixed_rate".to_owned(), timeline(1.0)),
        ]
        .into_iter()
        .collect(),
    }
}

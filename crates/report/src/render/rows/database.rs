//! The rows of the "Database" section of a run whose reference store was PostgreSQL: where the
//! server is and whether the pool reached it, the pool's size and use, the time per query waiting
//! for a connection and in the query itself, the errors by kind, an outage, and the server's own
//! count of the queries beside the client's. Every string here may come from the input (error,
//! endpoint, server version, table, error kinds): the renderers escape them.

use perfgate_results::{DatabaseSection, DatabaseStatus, LatencySummary};

use super::cell::{Cell, Rows};
use super::chaos::DID_NOT_RECOVER;
use crate::metric::format_value;

/// The section's content.
#[derive(Debug)]
pub(in crate::render) struct DatabaseRows {
    /// Status, endpoint, server, table, pool, queries, errors, outage and the server's count.
    pub(in crate::render) facts: Rows,
    /// Column heads of the time-per-query table (a leading `#` right-aligns a column).
    pub(in crate::render) columns: [&'static str; 5],
    /// Acquire wait and query time at each percentile; empty when no query was made.
    pub(in crate::render) latency: Vec<[String; 5]>,
    /// What the pool-use chart shows.
    pub(in crate::render) chart_caption: String,
}

/// The section for `database`.
pub(in crate::render) fn database(database: &DatabaseSection) -> DatabaseRows {
    let mut facts: Rows = vec![("Status", status(database))];
    facts.push(("Endpoint", Cell::Code(database.endpoint.clone(), "")));
    facts.push((
        "Server version",
        Cell::Text(
            database
                .server_version
                .clone()
                .unwrap_or_else(|| "not read".to_owned()),
        ),
    ));
    if !database.table.is_empty() {
        facts.push(("Table", Cell::Code(database.table.clone(), "")));
    }
    let connected = database.status == DatabaseStatus::Connected;
    let mut latency = Vec::new();
    if connected {
        facts.extend(pool(database));
        facts.push((
            "Queries",
            Cell::Text(format!(
                "{} ({})",
                count(database.queries),
                format_value(database.queries_per_second, "queries/s")
            )),
        ));
        if database.queries > 0 {
            latency.push(percentiles("Acquire wait", &database.acquire_wait));
            latency.push(percentiles("Query", &database.query));
        }
    }
    facts.push(("Errors and timeouts", Cell::Text(errors_by_kind(database))));
    if connected || database.outage.is_some() {
        facts.push(("Outage", Cell::Text(outage(database))));
    }
    if connected {
        facts.extend(server(database));
    }
    DatabaseRows {
        facts,
        columns: ["Time per query", "#p50", "#p95", "#p99", "#max"],
        latency,
        chart_caption: chart_caption(database),
    }
}

fn status(database: &DatabaseSection) -> Cell {
    match (database.status, &database.error) {
        (DatabaseStatus::Unavailable, Some(error)) => Cell::Text(format!("unavailable: {error}")),
        (status, _) => Cell::Text(status.name().to_owned()),
    }
}

/// The pool's limit, its peaks, and the queries that waited for a connection.
fn pool(database: &DatabaseSection) -> Rows {
    let pool = &database.pool;
    let waited = if database.queries > 0 {
        format!(
            "{} of {} queries ({:.1} %)",
            count(pool.waited_over_1ms),
            count(database.queries),
            pool.waited_over_1ms as f64 / database.queries as f64 * 100.0
        )
    } else {
        count(pool.waited_over_1ms)
    };
    vec![
        (
            "Pool",
            Cell::Text(format!(
                "at most {} connections, acquire timeout {}",
                count(pool.max_size),
                format_value(pool.acquire_timeout_ms, "ms")
            )),
        ),
        ("Connections open, peak", Cell::Text(count(pool.open_peak))),
        (
            "Connections in use, peak / mean",
            Cell::Text(format!(
                "{}{} / {}",
                count(pool.in_use_peak),
                if pool.max_size > 0 && pool.in_use_peak >= pool.max_size {
                    " (the whole pool)"
                } else {
                    ""
                },
                format_value(pool.in_use_mean, "")
            )),
        ),
        (
            "Tasks waiting for a connection, peak",
            Cell::Text(count(pool.waiting_peak)),
        ),
        ("Waited over 1 ms for a connection", Cell::Text(waited)),
    ]
}

fn percentiles(label: &str, summary: &LatencySummary) -> [String; 5] {
    [
        label.to_owned(),
        format_value(summary.p50_ms, "ms"),
        format_value(summary.p95_ms, "ms"),
        format_value(summary.p99_ms, "ms"),
        format_value(summary.max_ms, "ms"),
    ]
}

/// `timeout 3; connection 2`, in the file's order (`;` apart: the counts hold commas); `none`
/// when nothing failed.
fn errors_by_kind(database: &DatabaseSection) -> String {
    let failed: Vec<String> = database
        .errors_by_kind
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(kind, failures)| format!("{kind} {}", count(*failures)))
        .collect();
    if failed.is_empty() {
        "none".to_owned()
    } else {
        failed.join("; ")
    }
}

/// `none`, or the first and last failure, the failed queries and the recovery.
fn outage(database: &DatabaseSection) -> String {
    let Some(outage) = &database.outage else {
        return "none".to_owned();
    };
    let recovery = match (outage.recovered, outage.recovery_s) {
        (true, Some(seconds)) => format!("recovered {} after the first failure", format_value(seconds, "s")),
        (true, None) => "recovered".to_owned(),
        (false, _) => format!("{DID_NOT_RECOVER} by the run's end"),
    };
    format!(
        "failures from {} to {} into the run, {} failed queries; {recovery}",
        format_value(outage.first_failure_s, "s"),
        format_value(outage.last_failure_s, "s"),
        count(outage.failed_queries),
    )
}

/// The server's count of the queries beside the client's, and their times.
fn server(database: &DatabaseSection) -> Rows {
    let Some(server) = &database.server else {
        return vec![(
            "Server's count",
            Cell::Text("not read: the server's statistics were not available".to_owned()),
        )];
    };
    let agreement = if server.calls == database.queries {
        "they agree".to_owned()
    } else {
        format!(
            "MISMATCH: {} apart",
            count(server.calls.abs_diff(database.queries))
        )
    };
    let counted = format!(
        "the server counted {} calls ({}); the client made {}: {agreement}",
        count(server.calls),
        server.source,
        count(database.queries),
    );
    let time = match server.total_exec_ms {
        Some(server_ms) => {
            let verdict = if server.client_total_ms >= server_ms {
                "the client's includes the round trip and waiting for the reply"
            } else {
                "MISMATCH: the client's time is below the server's, which cannot be"
            };
            format!(
                "client {} in total, server {} executing; {verdict}",
                format_value(server.client_total_ms, "ms"),
                format_value(server_ms, "ms"),
            )
        }
        None => format!(
            "client {} in total; the server's execution time is not in {}",
            format_value(server.client_total_ms, "ms"),
            server.source
        ),
    };
    vec![
        ("Server's count", Cell::Text(counted)),
        ("Client and server time", Cell::Text(time)),
    ]
}

fn count(value: u64) -> String {
    format_value(value as f64, "")
}

/// The section in one line, for the console summary: where, how many queries, how fast, how
/// full the pool got, what failed.
pub(in crate::render) fn summary_line(database: &DatabaseSection) -> String {
    if database.status == DatabaseStatus::Unavailable {
        return format!(
            "{} unavailable: {}",
            database.endpoint,
            database.error.as_deref().unwrap_or("no error given")
        );
    }
    let mut line = format!(
        "{}: {} queries ({}), query p95 {}, acquire wait p99 {}, pool in use peak {} of {}, errors {}",
        database.endpoint,
        count(database.queries),
        format_value(database.queries_per_second, "queries/s"),
        format_value(database.query.p95_ms, "ms"),
        format_value(database.acquire_wait.p99_ms, "ms"),
        count(database.pool.in_use_peak),
        count(database.pool.max_size),
        errors_by_kind(database),
    );
    if database.outage.as_ref().is_some_and(|outage| !outage.recovered) {
        line.push_str(&format!(", outage: {DID_NOT_RECOVER}"));
    }
    line
}

fn chart_caption(database: &DatabaseSection) -> String {
    format!(
        "Connections lent out (in use) and held open by the pool, and tasks waiting for one, sampled every 10 ms through each phase; the dashed line is the pool's limit ({} connections). In use at the limit while tasks wait is a pool too small for its load.",
        count(database.pool.max_size)
    )
}

#[cfg(test)]
mod tests {
    use perfgate_results::{DatabaseOutage, DatabasePool, DatabaseServerView};

    use super::*;

    /// A synthetic section (not measured): 10,000 queries through a pool of 8.
    fn section() -> DatabaseSection {
        DatabaseSection {
            status: DatabaseStatus::Connected,
            error: None,
            endpoint: "postgres://perfgate@127.0.0.1:5432/perfgate".to_owned(),
            server_version: Some("15.18".to_owned()),
            table: "reference".to_owned(),
            pool: DatabasePool {
                max_size: 8,
                open_peak: 8,
                in_use_peak: 6,
                in_use_mean: 2.5,
                waiting_peak: 0,
                waited_over_1ms: 250,
                acquire_timeout_ms: 5_000.0,
            },
            acquire_wait: LatencySummary {
                count: 10_000,
                p50_ms: 0.01,
                p95_ms: 0.02,
                p99_ms: 0.05,
                max_ms: 3.0,
                ..LatencySummary::default()
            },
            query: LatencySummary {
                count: 10_000,
                p50_ms: 0.2,
                p95_ms: 0.4,
                p99_ms: 0.9,
                max_ms: 12.0,
                ..LatencySummary::default()
            },
            queries: 10_000,
            queries_per_second: 2_000.0,
            errors_by_kind: Default::default(),
            outage: None,
            server: Some(DatabaseServerView {
                source: "pg_stat_statements".to_owned(),
                calls: 10_000,
                total_exec_ms: Some(900.0),
                client_total_ms: 2_500.0,
            }),
            timeline: Default::default(),
        }
    }

    fn fact<'a>(rows: &'a DatabaseRows, label: &str) -> &'a Cell {
        &rows
            .facts
            .iter()
            .find(|(name, _)| *name == label)
            .unwrap_or_else(|| panic!("no {label} row"))
            .1
    }

    fn text(cell: &Cell) -> &str {
        match cell {
            Cell::Text(text) | Cell::Code(text, _) => text,
            Cell::Strong(word, _) => word,
        }
    }

    #[test]
    fn a_connected_run_shows_its_pool_queries_and_the_servers_agreement() {
        let rows = database(&section());
        assert_eq!(text(fact(&rows, "Status")), "connected");
        assert_eq!(
            fact(&rows, "Endpoint"),
            &Cell::Code("postgres://perfgate@127.0.0.1:5432/perfgate".to_owned(), "")
        );
        assert_eq!(
            text(fact(&rows, "Pool")),
            "at most 8 connections, acquire timeout 5,000 ms"
        );
        assert_eq!(text(fact(&rows, "Connections in use, peak / mean")), "6 / 2.50");
        assert_eq!(
            text(fact(&rows, "Waited over 1 ms for a connection")),
            "250 of 10,000 queries (2.5 %)"
        );
        assert_eq!(text(fact(&rows, "Queries")), "10,000 (2,000 queries/s)");
        assert_eq!(text(fact(&rows, "Errors and timeouts")), "none");
        assert_eq!(text(fact(&rows, "Outage")), "none");
        assert_eq!(
            text(fact(&rows, "Server's count")),
            "the server counted 10,000 calls (pg_stat_statements); the client made 10,000: they agree"
        );
        assert!(
            text(fact(&rows, "Client and server time"))
                .starts_with("client 2,500 ms in total, server 900 ms executing; the client's"),
        );
        assert_eq!(
            rows.latency,
            [
                ["Acquire wait", "0.010 ms", "0.020 ms", "0.050 ms", "3 ms"],
                ["Query", "0.200 ms", "0.400 ms", "0.900 ms", "12 ms"],
            ]
        );
        assert_eq!(rows.columns.len(), rows.latency[0].len());
    }

    #[test]
    fn a_full_pool_errors_an_outage_and_disagreement_are_visible() {
        let mut broken = section();
        broken.pool.in_use_peak = 8;
        broken.errors_by_kind = [
            ("timeout".to_owned(), 1_200),
            ("connection".to_owned(), 3),
            ("query".to_owned(), 0),
        ]
        .into_iter()
        .collect();
        broken.outage = Some(DatabaseOutage {
            first_failure_s: 2.5,
            last_failure_s: 4.0,
            failed_queries: 1_203,
            recovered: false,
            recovery_s: None,
        });
        let server = broken.server.as_mut().unwrap();
        server.calls = 9_000;
        server.client_total_ms = 800.0;
        let rows = database(&broken);
        assert_eq!(
            text(fact(&rows, "Connections in use, peak / mean")),
            "8 (the whole pool) / 2.50"
        );
        assert_eq!(
            text(fact(&rows, "Errors and timeouts")),
            "timeout 1,200; connection 3"
        );
        assert_eq!(
            text(fact(&rows, "Outage")),
            "failures from 2.50 s to 4 s into the run, 1,203 failed queries; did not recover by the run's end"
        );
        assert!(
            text(fact(&rows, "Server's count")).ends_with("the client made 10,000: MISMATCH: 1,000 apart")
        );
        assert!(text(fact(&rows, "Client and server time")).contains("MISMATCH"));

        let outage = broken.outage.as_mut().unwrap();
        outage.recovered = true;
        outage.recovery_s = Some(1.75);
        assert!(
            text(fact(&database(&broken), "Outage")).ends_with("; recovered 1.75 s after the first failure")
        );
    }

    #[test]
    fn an_unavailable_database_shows_its_error_and_no_figures() {
        let unavailable = DatabaseSection {
            status: DatabaseStatus::Unavailable,
            error: Some("connection refused".to_owned()),
            endpoint: "postgres://perfgate@db:5432/perfgate".to_owned(),
            ..DatabaseSection::default()
        };
        let rows = database(&unavailable);
        assert_eq!(text(fact(&rows, "Status")), "unavailable: connection refused");
        assert_eq!(text(fact(&rows, "Server version")), "not read");
        let labels: Vec<&str> = rows.facts.iter().map(|(label, _)| *label).collect();
        assert_eq!(
            labels,
            ["Status", "Endpoint", "Server version", "Errors and timeouts"]
        );
        assert!(rows.latency.is_empty());
    }

    #[test]
    fn the_console_line_says_where_how_much_and_what_failed() {
        let mut run = section();
        assert_eq!(
            summary_line(&run),
            "postgres://perfgate@127.0.0.1:5432/perfgate: 10,000 queries (2,000 queries/s), query p95 0.400 ms, acquire wait p99 0.050 ms, pool in use peak 6 of 8, errors none"
        );
        run.errors_by_kind = [("timeout".to_owned(), 4)].into_iter().collect();
        run.outage = Some(DatabaseOutage {
            failed_queries: 4,
            ..DatabaseOutage::default()
        });
        assert!(
            summary_line(&run).ends_with(", errors timeout 4, outage: did not recover"),
            "{}",
            summary_line(&run)
        );
        run.status = DatabaseStatus::Unavailable;
        run.error = Some("password authentication failed".to_owned());
        assert_eq!(
            summary_line(&run),
            "postgres://perfgate@127.0.0.1:5432/perfgate unavailable: password authentication failed"
        );
    }

    #[test]
    fn a_server_without_statements_statistics_says_what_it_lacks() {
        let mut plain = section();
        plain.server = Some(DatabaseServerView {
            source: "pg_stat_database".to_owned(),
            calls: 10_000,
            total_exec_ms: None,
            client_total_ms: 2_500.0,
        });
        let rows = database(&plain);
        assert_eq!(
            text(fact(&rows, "Client and server time")),
            "client 2,500 ms in total; the server's execution time is not in pg_stat_database"
        );
        plain.server = None;
        assert!(text(fact(&database(&plain), "Server's count")).starts_with("not read"));
    }
}

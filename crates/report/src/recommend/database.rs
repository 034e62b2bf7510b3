//! Findings on a PostgreSQL reference store (the results' `database` section): a connection pool
//! too small for its load, and queries that failed, an outage the server did not recover from, or
//! a database that could not be reached at all. The endpoint, the error and the error kinds come
//! from the results file and go into code spans.

use perfgate_results::{DatabaseSection, DatabaseStatus};

use super::data::{Parts, Recommendation, Severity, Topic};
use super::evidence::Evidence;
use super::figure::{Figure, Notation, Unit};

/// The catalogue's database metrics whose failed threshold makes the pool finding urgent.
const POOL_METRICS: [&str; 3] = [
    "database.acquire_wait_p99_ms",
    "database.query_p95_ms",
    "database.query_p99_ms",
];

/// The pool finding: every connection was in use at the peak, and queries waited for one — a
/// share of them over 1 ms at or above the rules' cut-off, or an acquire wait p99 comparable to
/// the query's own p99, or a threshold on the acquire wait that warns or fails.
pub(super) fn pool(evidence: &Evidence<'_>) -> Option<Recommendation> {
    let database = connected(evidence)?;
    let pool = &database.pool;
    let full = pool.max_size > 0 && pool.in_use_peak >= pool.max_size;
    if !full || database.queries == 0 {
        return None;
    }
    let rules = evidence.rules;
    let waited_share = pool.waited_over_1ms as f64 / database.queries as f64;
    let acquire_p99 = database.acquire_wait.p99_ms;
    let query_p99 = database.query.p99_ms;
    let wait_rivals_query =
        acquire_p99 > 0.0 && acquire_p99 >= rules.pool_wait_p99_ratio_at_least * query_p99;
    if !(waited_share >= rules.pool_waited_share_at_least
        || wait_rivals_query
        || evidence.concerning("database.acquire_wait_p99_ms"))
    {
        return None;
    }
    let connections =
        |metric: &str, value: u64| Figure::new(metric, value as f64, Unit::Connections, Notation::Fixed(0));
    Some(
        Parts::default()
            .text("The connection pool to ")
            .code(database.endpoint.clone())
            .text(" is too small for its load: at the peak ")
            .figure(connections("database.pool.in_use_peak", pool.in_use_peak))
            .text(" were in use (the pool's limit: ")
            .figure(connections("database.pool.max_size", pool.max_size))
            .text("), ")
            .figure(Figure::new(
                "database.pool.waited_over_1ms",
                pool.waited_over_1ms as f64,
                Unit::Queries,
                Notation::Fixed(0),
            ))
            .text(" (")
            .figure(Figure::new(
                "database.pool.waited_share",
                waited_share,
                Unit::Ratio,
                Notation::Percentage(1),
            ))
            .text(") waited over 1 ms for a connection with up to ")
            .figure(Figure::new(
                "database.pool.waiting_peak",
                pool.waiting_peak as f64,
                Unit::Tasks,
                Notation::Fixed(0),
            ))
            .text(" waiting at once, and getting a connection took ")
            .figure(Figure::new(
                "database.acquire_wait_p99_ms",
                acquire_p99,
                Unit::Milliseconds,
                Notation::Table,
            ))
            .text(" at p99 against ")
            .figure(Figure::new(
                "database.query_p99_ms",
                query_p99,
                Unit::Milliseconds,
                Notation::Table,
            ))
            .text(" for the query itself. Try a larger pool, up to what the server allows (its ")
            .code("max_connections")
            .text(" less the connections other clients hold), or fewer concurrent enrich workers (")
            .code("--workers enrich=N")
            .text(") so that fewer lookups compete for a connection.")
            .into_recommendation(Topic::DatabasePool, evidence.act_if_failed(&POOL_METRICS)),
    )
}

/// The faults finding: a database that could not be reached, queries or acquisitions that
/// failed (by kind), and an outage with its recovery or the lack of one.
pub(super) fn faults(evidence: &Evidence<'_>) -> Option<Recommendation> {
    let database = evidence.run.database.as_ref()?;
    if database.status == DatabaseStatus::Unavailable {
        return Some(unavailable(database));
    }
    let failed: u64 = database.errors_by_kind.values().sum();
    if failed == 0 && database.outage.is_none() {
        return None;
    }
    let queries =
        |metric: &str, value: u64| Figure::new(metric, value as f64, Unit::Queries, Notation::Fixed(0));
    let seconds = |metric: &str, value: f64| Figure::new(metric, value, Unit::Seconds, Notation::Fixed(2));
    let kinds: Vec<(&String, &u64)> = database
        .errors_by_kind
        .iter()
        .filter(|(_, count)| **count > 0)
        .collect();
    let mut parts = Parts::default()
        .figure(queries("database.errors", failed))
        .text(" failed in the database stage");
    if !kinds.is_empty() {
        parts = parts
            .text(" (")
            .join(kinds.iter().copied(), ", ", |parts, (kind, &count)| {
                parts
                    .code(kind.clone())
                    .text(": ")
                    .figure(queries("database.errors", count).of(kind.clone()))
            })
            .text(")");
    }
    let mut severity = evidence.act_if_failed(&["database.errors", "database.outage_recovery_s"]);
    if let Some(outage) = &database.outage {
        parts = parts
            .text(". The server went away ")
            .figure(seconds("database.outage.first_failure_s", outage.first_failure_s))
            .text(" into the run");
        parts = match outage.recovery_s.filter(|_| outage.recovered) {
            Some(recovery) => parts
                .text(" and was back ")
                .figure(seconds("database.outage_recovery_s", recovery))
                .text(" after the first failure, ")
                .figure(queries("database.outage.failed_queries", outage.failed_queries))
                .text(" failing in between"),
            None => {
                severity = Severity::Act;
                parts
                    .text(" and had not come back by the run's end (the last failure ")
                    .figure(seconds("database.outage.last_failure_s", outage.last_failure_s))
                    .text(" into the run, ")
                    .figure(queries("database.outage.failed_queries", outage.failed_queries))
                    .text(" failed)")
            }
        };
    }
    if database
        .errors_by_kind
        .get("timeout")
        .is_some_and(|count| *count > 0)
    {
        parts = parts
            .text(". A timeout is a wait for a connection longer than the pool's acquire timeout (")
            .figure(Figure::new(
                "database.pool.acquire_timeout_ms",
                database.pool.acquire_timeout_ms,
                Unit::Milliseconds,
                Notation::Table,
            ))
            .text("): a pool too small for its load or a server too slow to answer");
    }
    Some(
        parts
            .text(". Find the cause in the server's log and its sessions (")
            .code("pg_stat_activity")
            .text(
                "); a pipeline that must ride out an outage needs lookups that fail fast and a \
                 fallback for the records they miss.",
            )
            .into_recommendation(Topic::Database, severity),
    )
}

/// The database section of a run whose pool connected.
fn connected<'a>(evidence: &Evidence<'a>) -> Option<&'a DatabaseSection> {
    evidence
        .run
        .database
        .as_ref()
        .filter(|database| database.status == DatabaseStatus::Connected)
}

fn unavailable(database: &DatabaseSection) -> Recommendation {
    let mut parts = Parts::default()
        .text("The database at ")
        .code(database.endpoint.clone())
        .text(" was unavailable");
    if let Some(error) = &database.error {
        parts = parts.text(" (").code(error.clone()).text(")");
    }
    parts
        .text(
            ": no lookup reached it, so the run has no database figures. Check that the server \
             runs and accepts this user from this host, then run again.",
        )
        .into_recommendation(Topic::Database, Severity::Act)
}

#[cfg(test)]
mod tests {
    use perfgate_results::{
        DatabaseOutage, DatabasePool, DatabaseSection, DatabaseServerView, LatencySummary,
    };

    use super::*;
    use crate::recommend::test_support::{on, recommendations, words};

    /// A synthetic section (not measured) of a pool with room to spare: 20,000 queries through 8
    /// connections, at most 5 in use, 40 of the queries waiting over 1 ms (0.2 %).
    fn roomy() -> DatabaseSection {
        DatabaseSection {
            status: DatabaseStatus::Connected,
            endpoint: "postgres://perfgate@127.0.0.1:5432/perfgate".to_owned(),
            server_version: Some("15.18".to_owned()),
            table: "reference".to_owned(),
            pool: DatabasePool {
                max_size: 8,
                open_peak: 8,
                in_use_peak: 5,
                in_use_mean: 2.0,
                waiting_peak: 0,
                waited_over_1ms: 40,
                acquire_timeout_ms: 5_000.0,
            },
            acquire_wait: LatencySummary {
                count: 20_000,
                p50_ms: 0.01,
                p99_ms: 0.05,
                max_ms: 2.0,
                ..LatencySummary::default()
            },
            query: LatencySummary {
                count: 20_000,
                p50_ms: 0.2,
                p95_ms: 0.5,
                p99_ms: 1.0,
                max_ms: 9.0,
                ..LatencySummary::default()
            },
            queries: 20_000,
            queries_per_second: 4_000.0,
            server: Some(DatabaseServerView {
                source: "pg_stat_statements".to_owned(),
                calls: 20_000,
                total_exec_ms: Some(1_000.0),
                client_total_ms: 4_000.0,
            }),
            ..DatabaseSection::default()
        }
    }

    /// The same load through a pool that ran out: every connection in use, 1,500 queries (7.5 %)
    /// waiting over 1 ms, up to 30 tasks waiting.
    fn exhausted() -> DatabaseSection {
        let mut database = roomy();
        database.pool.in_use_peak = database.pool.max_size;
        database.pool.waited_over_1ms = 1_500;
        database.pool.waiting_peak = 30;
        database.acquire_wait.p99_ms = 0.4;
        database
    }

    /// A results file of the section and a throughput (a file of a database section alone is
    /// "nothing measured" to the reader).
    fn results(database: &DatabaseSection) -> String {
        serde_json::json!({
            "schema_version": 1,
            "cpu": {"messages_per_second": 1_000.0},
            "database": database,
        })
        .to_string()
    }

    fn found(database: &DatabaseSection, thresholds: &str) -> Vec<Recommendation> {
        recommendations(&results(database), thresholds)
    }

    #[test]
    fn a_pool_that_ran_out_is_named_with_its_figures() {
        let database = exhausted();
        let found = found(&database, "");
        let pool = on(&found, Topic::DatabasePool).expect("the pool finding");
        let text = words(pool);
        assert!(
            text.starts_with(&format!(
                "The connection pool to `{}` is too small for its load: at the peak {} connections were in use (the pool's limit: {} connections), {} queries (7.5 %) waited over 1 ms",
                database.endpoint, database.pool.in_use_peak, database.pool.max_size, database.pool.waited_over_1ms
            )),
            "{text}"
        );
        assert!(
            text.contains("`max_connections`") && text.contains("`--workers enrich=N`"),
            "{text}"
        );
        let figures: Vec<(&str, f64)> = pool
            .figures()
            .map(|figure| (figure.metric.as_str(), figure.value))
            .collect();
        assert!(figures.contains(&("database.acquire_wait_p99_ms", database.acquire_wait.p99_ms)));
        assert!(figures.contains(&("database.query_p99_ms", database.query.p99_ms)));
        assert_eq!(pool.severity, Severity::Warn);
        // Waits, not failures: no faults finding.
        assert!(on(&found, Topic::Database).is_none());
    }

    #[test]
    fn a_pool_with_room_or_with_few_waits_stays_silent() {
        assert!(on(&found(&roomy(), ""), Topic::DatabasePool).is_none());
        // Every connection in use at the peak, but few waits and a short acquire wait.
        let mut busy = roomy();
        busy.pool.in_use_peak = busy.pool.max_size;
        assert!(on(&found(&busy, ""), Topic::DatabasePool).is_none());
        // Many waits, but the pool never ran out: the wait was for something else.
        let mut not_full = exhausted();
        not_full.pool.in_use_peak = not_full.pool.max_size - 1;
        assert!(on(&found(&not_full, ""), Topic::DatabasePool).is_none());
    }

    #[test]
    fn an_acquire_wait_that_rivals_the_query_is_enough() {
        let mut database = roomy();
        database.pool.in_use_peak = database.pool.max_size;
        database.acquire_wait.p99_ms = database.query.p99_ms * 0.8;
        assert!(on(&found(&database, ""), Topic::DatabasePool).is_some());
        // The cut-offs come from the thresholds file.
        assert!(
            on(
                &found(
                    &database,
                    "[recommendations]\npool_wait_p99_ratio_at_least = 1.0\n"
                ),
                Topic::DatabasePool
            )
            .is_none()
        );
        assert!(
            on(
                &found(
                    &exhausted(),
                    "[recommendations]\npool_waited_share_at_least = 0.1\n"
                ),
                Topic::DatabasePool
            )
            .is_none()
        );
    }

    #[test]
    fn failed_queries_and_a_recovered_outage_are_a_warning() {
        let mut database = roomy();
        database.errors_by_kind = [("timeout".to_owned(), 12), ("connection".to_owned(), 300)]
            .into_iter()
            .collect();
        database.outage = Some(DatabaseOutage {
            first_failure_s: 3.0,
            last_failure_s: 4.5,
            failed_queries: 300,
            recovered: true,
            recovery_s: Some(1.75),
        });
        let found = found(&database, "");
        // In the file's order (this test's file is written through a sorted map).
        let faults = on(&found, Topic::Database).expect("the faults finding");
        let text = words(faults);
        assert!(
            text.starts_with(
                "312 queries failed in the database stage (`connection`: 300 queries, `timeout`: 12 queries). The server went away 3.00 s into the run and was back 1.75 s after the first failure, 300 queries failing in between."
            ),
            "{text}"
        );
        assert!(text.contains("acquire timeout (5,000 ms)"), "{text}");
        assert_eq!(faults.severity, Severity::Warn);
    }

    #[test]
    fn an_outage_that_did_not_recover_is_to_act_on() {
        let mut database = roomy();
        database.errors_by_kind = [("connection".to_owned(), 900)].into_iter().collect();
        database.outage = Some(DatabaseOutage {
            first_failure_s: 5.0,
            last_failure_s: 9.5,
            failed_queries: 900,
            recovered: false,
            recovery_s: None,
        });
        let found = found(&database, "");
        let faults = on(&found, Topic::Database).unwrap();
        assert!(
            words(faults).contains("had not come back by the run's end (the last failure 9.50 s into the run, 900 queries failed)"),
            "{}",
            words(faults)
        );
        assert!(
            !words(faults).contains("acquire timeout"),
            "no timeouts, no word on them"
        );
        assert_eq!(faults.severity, Severity::Act);
    }

    #[test]
    fn a_healthy_database_gets_no_finding_and_an_unreachable_one_does() {
        let healthy = found(&roomy(), "");
        assert!(
            healthy
                .iter()
                .all(|r| !matches!(r.topic, Topic::Database | Topic::DatabasePool)),
            "{healthy:?}"
        );
        // Kinds listed with no failures are no finding either.
        let mut zeros = roomy();
        zeros.errors_by_kind = [("timeout".to_owned(), 0)].into_iter().collect();
        assert!(on(&found(&zeros, ""), Topic::Database).is_none());

        let unreachable = DatabaseSection {
            status: DatabaseStatus::Unavailable,
            error: Some("connection refused".to_owned()),
            endpoint: "postgres://perfgate@db:5432/perfgate".to_owned(),
            ..DatabaseSection::default()
        };
        let found = found(&unreachable, "");
        let faults = on(&found, Topic::Database).unwrap();
        assert!(
            words(faults).starts_with(
                "The database at `postgres://perfgate@db:5432/perfgate` was unavailable (`connection refused`): no lookup reached it"
            ),
            "{}",
            words(faults)
        );
        assert_eq!(faults.severity, Severity::Act);
        assert!(on(&found, Topic::DatabasePool).is_none());
    }
}

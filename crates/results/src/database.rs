//! The `database` section: what a pipeline's database stage saw of its PostgreSQL server through
//! its connection pool — whether it connected, the pool's size and use over time, the time spent
//! waiting for a connection, the queries' latency and rate, their errors by kind, an outage and
//! the recovery from it — and the server's own count of the same queries, read back after the
//! run so that the client's figures can be checked against it.
//!
//! Every figure covers every query the run made (all phases, warm-ups included): that is the set
//! the server counts too.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::series::TimeSeries;
use crate::summary::LatencySummary;

/// Whether the profiler reached the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseStatus {
    /// The pool connected and the run's queries went to the server.
    #[default]
    Connected,
    /// No connection could be made before the run; `error` says why.
    Unavailable,
}

impl DatabaseStatus {
    /// The name written to results and reports.
    pub fn name(self) -> &'static str {
        match self {
            DatabaseStatus::Connected => "connected",
            DatabaseStatus::Unavailable => "unavailable",
        }
    }
}

/// The database section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseSection {
    /// Connected or unavailable.
    pub status: DatabaseStatus,
    /// Why the database was unavailable (never the password).
    pub error: Option<String>,
    /// Where the server is: `postgres://USER@HOST:PORT/DATABASE`, without the password.
    pub endpoint: String,
    /// The server's `server_version`, e.g. `15.18 (Debian 15.18-0+deb12u1)`.
    pub server_version: Option<String>,
    /// The table the stage reads.
    pub table: String,
    /// The pool: its limit, the connections it opened, their use.
    pub pool: DatabasePool,
    /// Time to get a connection from the pool, per query (ms).
    pub acquire_wait: LatencySummary,
    /// Time from sending a query until its rows were read, per query (ms), acquire wait excluded.
    pub query: LatencySummary,
    /// Queries made.
    pub queries: u64,
    /// Queries per second over the run's measured time.
    pub queries_per_second: f64,
    /// Queries or acquisitions that failed, by kind (`timeout`, `connection`, `query`, ...).
    pub errors_by_kind: IndexMap<String, u64>,
    /// When the server went away during the run: the first and last failure and the recovery.
    /// `null` when no query failed for lack of a connection.
    pub outage: Option<DatabaseOutage>,
    /// The server's own count of the run's queries; `null` when it could not be read.
    pub server: Option<DatabaseServerView>,
    /// Pool use over time: columns `in_use` (connections lent out), `open` (connections the
    /// pool holds) and `waiting` (tasks waiting for one), sampled every 10 ms, by phase.
    pub timeline: IndexMap<String, TimeSeries>,
}

/// The connection pool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabasePool {
    /// The most connections it may open.
    pub max_size: u64,
    /// The most it held open at once.
    pub open_peak: u64,
    /// The most lent out at once.
    pub in_use_peak: u64,
    /// Mean connections lent out over the samples.
    pub in_use_mean: f64,
    /// The most tasks waiting for a connection at once.
    pub waiting_peak: u64,
    /// Queries whose wait for a connection exceeded 1 ms: a pool too small for its load shows
    /// here first.
    pub waited_over_1ms: u64,
    /// How long a task may wait for a connection before it counts as a `timeout` error, ms.
    pub acquire_timeout_ms: f64,
}

/// The server went away and (perhaps) came back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseOutage {
    /// The first failed query, s from the start of the run.
    pub first_failure_s: f64,
    /// The last failed query, s from the start of the run.
    pub last_failure_s: f64,
    /// Queries that failed in between.
    pub failed_queries: u64,
    /// Whether a query succeeded after the last failure.
    pub recovered: bool,
    /// From the first failure to the first success after the last failure, s; `null` when the
    /// server did not come back within the run.
    pub recovery_s: Option<f64>,
}

/// The server's view of the same queries, from `pg_stat_statements` (reset before the run) or,
/// without that extension, `pg_stat_database`'s transaction count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseServerView {
    /// `pg_stat_statements` or `pg_stat_database`.
    pub source: String,
    /// Executions the server counted of the stage's statement.
    pub calls: u64,
    /// Their total execution time on the server, ms; `null` from `pg_stat_database`.
    pub total_exec_ms: Option<f64>,
    /// The client's total query time for the same queries, ms: never below the server's.
    pub client_total_ms: f64,
}

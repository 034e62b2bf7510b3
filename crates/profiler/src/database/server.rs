//! The pool's own work with the server, on a connection of its own that no figure counts: the
//! check that the server is there (and its version), resetting its statement statistics before a
//! run and reading them back after it. Each runs on a thread with a runtime of its own, so it
//! works from inside or outside a tokio runtime and leaves nothing running after it.

use std::future::Future;
use std::time::Duration;

use perfgate_results::DatabaseServerView;
use tokio_postgres::{Client, Config, NoTls};

use super::error::{DatabaseError, describe};

/// Runs `future` to completion on a new thread's current-thread runtime.
pub(crate) fn block_on<F>(future: F) -> Result<F::Output, DatabaseError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let thread = std::thread::Builder::new()
        .name("pg-database".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            Ok::<_, std::io::Error>(runtime.block_on(future))
        })?;
    match thread.join() {
        Ok(result) => Ok(result?),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// A connection of the pool's own (not lent out, not counted), within `timeout`.
pub(crate) async fn connect(config: &Config, timeout: Duration) -> Result<Client, DatabaseError> {
    let (client, connection) = tokio::time::timeout(timeout, config.connect(NoTls))
        .await
        .map_err(|_| DatabaseError::Timeout { what: "connecting" })?
        .map_err(|error| DatabaseError::connecting(&error))?;
    tokio::spawn(connection);
    Ok(client)
}

/// The server's `server_version`, or why it could not be reached.
pub(crate) async fn probe(
    config: Config,
    endpoint: String,
    timeout: Duration,
) -> Result<String, DatabaseError> {
    let unavailable = |reason: String| DatabaseError::Unavailable {
        endpoint: endpoint.clone(),
        reason,
    };
    let client = connect(&config, timeout)
        .await
        .map_err(|error| unavailable(reason(&error)))?;
    let row = tokio::time::timeout(timeout, client.query_one("SHOW server_version", &[]))
        .await
        .map_err(|_| unavailable("timed out reading server_version".to_owned()))?
        .map_err(|error| unavailable(describe(&error)))?;
    Ok(row.get(0))
}

fn reason(error: &DatabaseError) -> String {
    match error {
        DatabaseError::Connection { detail } | DatabaseError::Query { detail } => detail.clone(),
        other => other.to_string(),
    }
}

/// What was read from the server before the run, to compare with after it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Baseline {
    /// `pg_stat_statements` was reset: its counts are the run's.
    Statements,
    /// No `pg_stat_statements` (or no right to reset it): the database's transactions so far.
    Transactions(i64),
    /// Neither could be read.
    Unknown,
}

/// Resets the server's statement statistics, or reads its transaction count.
pub(crate) async fn begin(config: Config, timeout: Duration) -> Baseline {
    let Ok(client) = connect(&config, timeout).await else {
        return Baseline::Unknown;
    };
    // Creating the extension needs rights a team's server may not give: then it is either
    // there already or the transaction count stands in.
    let _ = tokio::time::timeout(
        timeout,
        client.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"),
    )
    .await;
    if let Ok(Ok(_)) =
        tokio::time::timeout(timeout, client.batch_execute("SELECT pg_stat_statements_reset()")).await
    {
        return Baseline::Statements;
    }
    match tokio::time::timeout(timeout, client.query_one(TRANSACTIONS, &[])).await {
        Ok(Ok(row)) => Baseline::Transactions(row.get(0)),
        _ => Baseline::Unknown,
    }
}

const TRANSACTIONS: &str = "SELECT (xact_commit + xact_rollback)::int8 FROM pg_stat_database \
                            WHERE datname = current_database()";

/// The server's count and time of `statements` since [`begin`].
pub(crate) async fn view(
    config: Config,
    timeout: Duration,
    baseline: Baseline,
    statements: Vec<String>,
    client_total_ms: f64,
) -> Option<DatabaseServerView> {
    let client = connect(&config, timeout).await.ok()?;
    // pg_stat_statements keeps a statement's text with its literals replaced by `$n`: look
    // for both forms (the same for statements that take their values as parameters).
    let mut statements: Vec<String> = statements
        .iter()
        .flat_map(|text| [text.clone(), normalise(text)])
        .collect();
    statements.dedup();
    match baseline {
        Baseline::Statements => {
            let row = tokio::time::timeout(
                timeout,
                client.query_one(
                    "SELECT coalesce(sum(calls), 0)::int8, coalesce(sum(total_exec_time), 0)::float8 \
                 FROM pg_stat_statements WHERE query = ANY($1) \
                 AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
                    &[&statements],
                ),
            )
            .await
            .ok()?
            .ok()?;
            Some(DatabaseServerView {
                source: "pg_stat_statements".to_owned(),
                calls: row.get::<_, i64>(0).max(0) as u64,
                total_exec_ms: Some(row.get(1)),
                client_total_ms,
            })
        }
        Baseline::Transactions(before) => {
            // The statistics collector publishes a backend's counts when it goes idle, within
            // a second: give it that long.
            tokio::time::sleep(Duration::from_millis(1_100)).await;
            let row = tokio::time::timeout(timeout, client.query_one(TRANSACTIONS, &[]))
                .await
                .ok()?
                .ok()?;
            let after: i64 = row.get(0);
            Some(DatabaseServerView {
                source: "pg_stat_database".to_owned(),
                calls: (after - before).max(0) as u64,
                total_exec_ms: None,
                client_total_ms,
            })
        }
        Baseline::Unknown => None,
    }
}

/// `statement` as `pg_stat_statements` keeps it: each literal (a number or a quoted string
/// outside identifiers) replaced by `$n`, numbered on from the statement's highest parameter.
/// Covers the plain forms; a statement it gets wrong is simply not found (`calls` then 0, and
/// the truth tests would say so).
pub(crate) fn normalise(statement: &str) -> String {
    let bytes = statement.as_bytes();
    let highest = {
        let mut highest = 0u32;
        let mut index = 0;
        while index < bytes.len() {
            if bytes[index] == b'$' {
                let digits: String = statement[index + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(n) = digits.parse::<u32>() {
                    highest = highest.max(n);
                }
            }
            index += 1;
        }
        highest
    };
    let mut next = highest + 1;
    let mut out = String::with_capacity(statement.len());
    let mut index = 0;
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    while index < bytes.len() {
        let b = bytes[index];
        let after_ident = index > 0 && ident(bytes[index - 1]);
        if b == b'\'' {
            // A string literal, '' standing for a quote inside it.
            let mut end = index + 1;
            while end < bytes.len() {
                if bytes[end] == b'\'' {
                    if bytes.get(end + 1) == Some(&b'\'') {
                        end += 2;
                        continue;
                    }
                    break;
                }
                end += 1;
            }
            out.push_str(&format!("${next}"));
            next += 1;
            index = end + 1;
        } else if b == b'"' {
            let end = statement[index + 1..]
                .find('"')
                .map_or(bytes.len(), |at| index + 1 + at + 1);
            out.push_str(&statement[index..end]);
            index = end;
        } else if (b.is_ascii_digit() || (b == b'.' && bytes.get(index + 1).is_some_and(u8::is_ascii_digit)))
            && !after_ident
        {
            let mut end = index;
            while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
                end += 1;
            }
            if end < bytes.len() && (bytes[end] == b'e' || bytes[end] == b'E') {
                end += 1;
                if end < bytes.len() && (bytes[end] == b'+' || bytes[end] == b'-') {
                    end += 1;
                }
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    end += 1;
                }
            }
            out.push_str(&format!("${next}"));
            next += 1;
            index = end;
        } else {
            let char_len = statement[index..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&statement[index..index + char_len]);
            index += char_len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn literals_become_parameters_numbered_after_the_statements_own() {
        for (statement, kept) in [
            (
                "SELECT record FROM t WHERE symbol = $1",
                "SELECT record FROM t WHERE symbol = $1",
            ),
            ("SELECT 1 FROM pg_sleep(0.002)", "SELECT $1 FROM pg_sleep($2)"),
            (
                "SELECT a FROM t1 WHERE b = $1 AND c = 'x''y' LIMIT 10",
                "SELECT a FROM t1 WHERE b = $1 AND c = $2 LIMIT $3",
            ),
            (
                "SELECT \"col 2\" FROM t WHERE x > 1e-3",
                "SELECT \"col 2\" FROM t WHERE x > $1",
            ),
        ] {
            assert_eq!(normalise(statement), kept, "{statement}");
        }
    }
}

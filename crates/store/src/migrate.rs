//! Versioned migrations, applied on first use: the `schema_migrations` table records each
//! version applied, and one transaction holds a transaction-scoped advisory lock while it reads
//! that table and applies what is missing, so many CI jobs starting at once apply each
//! migration exactly once (the others wait, then find nothing to do).

use postgres::Client;

use crate::error::{Result, StoreError, describe};
use crate::url::StoreUrl;

/// The migrations, in order: version, name, SQL.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[(
    1,
    "runs, insights and A/A noise, insert-only",
    include_str!("../migrations/0001_results.sql"),
)];

/// The advisory lock's key: "perfgate" in ASCII, so that it does not collide with another
/// application's lock on the same server by accident.
const LOCK_KEY: i64 = 0x7065_7266_6761_7465;

/// Applies the migrations `client`'s database lacks; returns the versions applied now.
pub(crate) fn migrate(client: &mut Client, url: &StoreUrl) -> Result<Vec<i32>> {
    let failed = |action| {
        move |error: postgres::Error| StoreError::Query {
            url: url.to_string(),
            action,
            detail: url.scrub(&describe(&error)),
        }
    };
    let mut transaction = client.transaction().map_err(failed("migrating"))?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .map_err(failed("waiting for the migration lock"))?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    integer PRIMARY KEY,
                 name       text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .map_err(failed("creating schema_migrations"))?;
    let applied: Vec<i32> = transaction
        .query("SELECT version FROM schema_migrations ORDER BY version", &[])
        .map_err(failed("reading schema_migrations"))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let known = MIGRATIONS.last().map_or(0, |&(version, _, _)| version);
    if let Some(&found) = applied.last()
        && found > known
    {
        return Err(StoreError::TooNew {
            url: url.to_string(),
            found,
            known,
        });
    }
    let mut now = Vec::new();
    for &(version, name, sql) in MIGRATIONS {
        if applied.contains(&version) {
            continue;
        }
        transaction
            .batch_execute(sql)
            .map_err(failed("applying a migration"))?;
        transaction
            .execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&version, &name],
            )
            .map_err(failed("recording a migration"))?;
        now.push(version);
    }
    transaction
        .commit()
        .map_err(failed("committing the migrations"))?;
    Ok(now)
}

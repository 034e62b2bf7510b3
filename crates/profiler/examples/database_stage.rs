//! A stage of your own that looks data up in PostgreSQL, profiled with the database's figures:
//! an order enricher that reads each order's account limit from an `accounts` table through an
//! [`InstrumentedPool`], so that the run's results carry the pool's acquire waits, the query
//! times, errors by kind and the server's own count of the statement (`results.database`).
//!
//! Run it against a server of your own (the password stays out of every output):
//!
//! ```text
//! PERFGATE_REFERENCE_STORE=postgres://USER:PASSWORD@HOST:5432/DB \
//!     cargo run --release -p perfgate-profiler --example database_stage
//! ```
//!
//! It creates and fills its `perfgate_example_accounts` table first (idempotent).

use perfgate_profiler::database::{DatabaseError, DatabaseOptions, InstrumentedPool, block_on};
use perfgate_profiler::{Length, Pipeline, ResultsFiles, RunConfig, Silent, Source, StageError, stage_fn};

/// Accounts in the table.
pub const ACCOUNTS: i32 = 1_000;
/// The one statement of the stage.
pub const LIMIT_OF_ACCOUNT: &str = "SELECT limit_cents FROM perfgate_example_accounts WHERE account = $1";

/// An order: its account and its value.
#[derive(Debug, Clone, Copy)]
pub struct Order {
    /// The trading account.
    pub account: i32,
    /// The order's value in cents.
    pub value_cents: i64,
}

/// Orders over [`ACCOUNTS`] accounts, one in 100 for an account the table does not hold.
#[derive(Debug, Default)]
pub struct Orders(i64);

impl Source for Orders {
    type Item = Order;

    fn next_item(&mut self) -> Order {
        self.0 += 1;
        let account = if self.0 % 100 == 0 {
            ACCOUNTS + 1
        } else {
            (self.0 * 7_919 % i64::from(ACCOUNTS)) as i32
        };
        Order {
            account,
            value_cents: self.0 % 50_000,
        }
    }
}

/// Creates and fills the accounts table (idempotent).
pub fn seed(pool: &InstrumentedPool) -> Result<(), DatabaseError> {
    let pool = pool.clone();
    block_on(async move {
        let connection = pool.acquire().await?;
        connection
            .client()
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS perfgate_example_accounts (account int PRIMARY KEY, limit_cents int8 NOT NULL);
                 INSERT INTO perfgate_example_accounts SELECT a, 10000 + a * 100 FROM generate_series(0, {}) a
                 ON CONFLICT (account) DO NOTHING",
                ACCOUNTS - 1
            ))
            .await
            .map_err(|error| DatabaseError::Query {
                detail: error.to_string(),
            })
    })?
}

/// Orders → `limit` (one query per order through `pool`; an order over its account's limit is
/// rejected as `over_limit`, one for an unknown account as `unknown_account`, one whose query
/// failed as `database_timeout` / `database_connection` / `database_query`).
pub fn order_pipeline(pool: &InstrumentedPool) -> Pipeline<Orders> {
    let pool = pool.clone();
    Pipeline::builder(|_| Orders::default())
        .stage("limit", move |_| {
            let pool = pool.clone();
            stage_fn(move |order: Order| {
                let pool = pool.clone();
                async move {
                    // `?` turns a failed query into the message's error of its kind.
                    let rows = pool.query(LIMIT_OF_ACCOUNT, &[&order.account]).await?;
                    let limit: i64 = rows.first().ok_or(StageError::new("unknown_account"))?.get(0);
                    if order.value_cents > limit {
                        return Err(StageError::new("over_limit"));
                    }
                    Ok(order)
                }
            })
        })
        .build()
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("PERFGATE_REFERENCE_STORE")
        .map_err(|_| "set PERFGATE_REFERENCE_STORE=postgres://USER:PASSWORD@HOST:PORT/DB")?;
    let mut options = DatabaseOptions::new(url);
    options.table = "perfgate_example_accounts".to_owned();
    let pool = InstrumentedPool::connect(options)?;
    seed(&pool)?;
    let config = RunConfig {
        length: Length::Messages(50_000),
        warmup: Length::Messages(5_000),
        workers: [("limit".to_owned(), 4)].into(),
        // The run gives each phase connections of its own and writes the pool's figures.
        database: Some(pool.clone()),
        ..RunConfig::default()
    };
    let results = perfgate_profiler::run(&order_pipeline(&pool), &config, &Silent, serde_json::Value::Null)?;
    let database = results.database.as_ref().expect("the run had a pool");
    println!(
        "{} queries at {:.0}/s: p50 {:.3} ms, p99 {:.3} ms; acquire wait p99 {:.3} ms; server counted {}",
        database.queries,
        database.queries_per_second,
        database.query.p50_ms,
        database.query.p99_ms,
        database.acquire_wait.p99_ms,
        database
            .server
            .as_ref()
            .map_or("—".to_owned(), |server| server.calls.to_string()),
    );
    let path = results.write_to_dir(std::path::Path::new("target/perfgate/database-example"))?;
    println!("results: {}", path.display());
    Ok(())
}

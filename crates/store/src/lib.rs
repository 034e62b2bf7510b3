//! The shared results store: perfgate's benchmark runs, the report's verdicts and
//! recommendations beside them, and the A/A noise records of `cargo xtask compare`, in
//! PostgreSQL (`docs/store.md`). Tables are insert-only, in the database too (a trigger refuses
//! UPDATE, DELETE and TRUNCATE); recording the same run twice adds one row (a unique content
//! key); the schema is migrated on first use, once even when many jobs connect at once.
//!
//! This crate knows the tables and their columns; what a run's record holds (the JSON Lines
//! history line) is the report's business, so it is kept here as JSON.
//!
//! ```no_run
//! use perfgate_store::{RunFilter, Store, StoreUrl};
//!
//! let url: StoreUrl = "postgres://ci:secret@db.example/perf".parse()?;
//! let mut store = Store::open(&url)?;
//! let runs = store.runs(&RunFilter { branch: Some("main".into()), host: None })?;
//! println!("{} runs of main in {url}", runs.len());
//! # Ok::<(), perfgate_store::StoreError>(())
//! ```

mod error;
mod migrate;
mod url;

use std::fmt;

use perfgate_results::Results;
use postgres::{Client, NoTls};
use serde_json::Value;

pub use error::{Result, StoreError};
pub use migrate::MIGRATIONS;
pub use url::{MASK, STORE_VAR, StoreArg, StoreUrl};

use error::describe;

/// The machine a run or an A/A comparison was made on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Machine {
    /// Host name.
    pub host: Option<String>,
    /// CPU model.
    pub cpu_model: Option<String>,
    /// Logical cores.
    pub logical_cores: Option<i32>,
}

/// A run to record.
#[derive(Debug, Clone, Copy)]
pub struct NewRun<'a> {
    /// When the run was made, RFC 3339.
    pub timestamp: &'a str,
    /// The commit it was built from.
    pub git_commit: Option<&'a str>,
    /// Whether the tree had uncommitted changes.
    pub git_dirty: Option<bool>,
    /// The branch (git's current branch, CI's ref name or `--branch`).
    pub branch: Option<&'a str>,
    /// Where it ran.
    pub machine: &'a Machine,
    /// The workload's name.
    pub workload: Option<&'a str>,
    /// The settings fingerprint.
    pub settings: Option<&'a str>,
    /// The run's line of the JSON Lines history (what `history export` writes back out, and
    /// what makes the content key: the same record twice is one run).
    pub record: &'a Value,
    /// The whole results, when there are (none for a run imported from a history file).
    pub results: Option<&'a Results>,
}

/// Whether [`Store::record_run`] added a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new row, with its id.
    New(i64),
    /// The same record was already there, with this id: nothing was added.
    AlreadyThere(i64),
}

impl Recorded {
    /// The run's id either way.
    pub fn id(self) -> i64 {
        match self {
            Recorded::New(id) | Recorded::AlreadyThere(id) => id,
        }
    }
}

/// Which runs to read: every one that matches all the fields given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// Only this branch.
    pub branch: Option<String>,
    /// Only this machine (its host name).
    pub host: Option<String>,
}

/// A run read back.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    /// Its id (the order runs were recorded in).
    pub id: i64,
    /// Its branch.
    pub branch: Option<String>,
    /// Its record, as recorded.
    pub record: Value,
    /// Its whole results, if recorded with them.
    pub results: Option<Value>,
}

/// The verdict and recommendations of one report.
#[derive(Debug, Clone, Copy)]
pub struct NewInsight<'a> {
    /// The results the report was made on (the run is linked when it is in the store).
    pub results: Option<&'a Value>,
    /// `pass`, `warn` or `fail`.
    pub overall: &'a str,
    /// The JSON verdict (`report --json`).
    pub verdict: &'a Value,
    /// The recommendations.
    pub recommendations: &'a Value,
}

/// The connection to a store, migrated.
pub struct Store {
    client: Client,
    url: StoreUrl,
    migrated_now: Vec<i32>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Connects to the store at `url` and applies the migrations it lacks.
    pub fn open(url: &StoreUrl) -> Result<Store> {
        let mut client = url
            .config()?
            .connect(NoTls)
            .map_err(|error| StoreError::Connect {
                url: url.to_string(),
                detail: url.scrub(&describe(&error)),
            })?;
        let migrated_now = migrate::migrate(&mut client, url)?;
        Ok(Store {
            client,
            url: url.clone(),
            migrated_now,
        })
    }

    /// The store's URL (masked when shown).
    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    /// The migrations this connection applied (empty when the store was up to date).
    pub fn migrated_now(&self) -> &[i32] {
        &self.migrated_now
    }

    /// The newest migration applied to the store.
    pub fn schema_version(&mut self) -> Result<i32> {
        let row = self
            .client
            .query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[])
            .map_err(self.failed("reading the schema version"))?;
        Ok(row.get(0))
    }

    /// Records a run; the same record twice adds nothing the second time.
    pub fn record_run(&mut self, run: &NewRun<'_>) -> Result<Recorded> {
        let results = match run.results {
            Some(results) => Some(serde_json::to_value(results).map_err(|error| StoreError::Query {
                url: self.url.to_string(),
                action: "encoding the results",
                detail: error.to_string(),
            })?),
            None => None,
        };
        let environment = results.as_ref().map(|results| results["environment"].clone());
        let row = self
            .client
            .query_opt(
                "INSERT INTO benchmark_runs (run_at, git_commit, git_dirty, branch, host, cpu_model,
                     logical_cores, workload, settings, record, results, environment, content_key,
                     results_key)
                 VALUES ($1::text::timestamptz, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                     sha256(convert_to($10::jsonb::text, 'UTF8')),
                     sha256(convert_to($11::jsonb::text, 'UTF8')))
                 ON CONFLICT (content_key) DO NOTHING
                 RETURNING id",
                &[
                    &run.timestamp,
                    &run.git_commit,
                    &run.git_dirty,
                    &run.branch,
                    &run.machine.host,
                    &run.machine.cpu_model,
                    &run.machine.logical_cores,
                    &run.workload,
                    &run.settings,
                    &run.record,
                    &results,
                    &environment,
                ],
            )
            .map_err(self.failed("recording a run"))?;
        if let Some(row) = row {
            return Ok(Recorded::New(row.get(0)));
        }
        let row = self
            .client
            .query_one(
                "SELECT id FROM benchmark_runs
                 WHERE content_key = sha256(convert_to($1::jsonb::text, 'UTF8'))",
                &[&run.record],
            )
            .map_err(self.failed("finding a run already recorded"))?;
        Ok(Recorded::AlreadyThere(row.get(0)))
    }

    /// The runs that match `filter`, oldest first (by the run's own time, then the order they
    /// were recorded in).
    pub fn runs(&mut self, filter: &RunFilter) -> Result<Vec<StoredRun>> {
        let rows = self
            .client
            .query(
                "SELECT id, branch, record, results FROM benchmark_runs
                 WHERE ($1::text IS NULL OR branch = $1) AND ($2::text IS NULL OR host = $2)
                 ORDER BY run_at, id",
                &[&filter.branch, &filter.host],
            )
            .map_err(self.failed("reading runs"))?;
        Ok(rows
            .iter()
            .map(|row| StoredRun {
                id: row.get(0),
                branch: row.get(1),
                record: row.get(2),
                results: row.get(3),
            })
            .collect())
    }

    /// Records a report's verdict and recommendations, linked to the run it was made on when
    /// that run's results are in the store; returns the row's id and the run's.
    pub fn record_insight(&mut self, insight: &NewInsight<'_>) -> Result<(i64, Option<i64>)> {
        let row = self
            .client
            .query_one(
                "INSERT INTO performance_insights (run_id, overall, verdict, recommendations)
                 VALUES ((SELECT max(id) FROM benchmark_runs
                          WHERE results_key = sha256(convert_to($1::jsonb::text, 'UTF8'))),
                         $2, $3, $4)
                 RETURNING id, run_id",
                &[
                    &insight.results,
                    &insight.overall,
                    &insight.verdict,
                    &insight.recommendations,
                ],
            )
            .map_err(self.failed("recording the verdict"))?;
        Ok((row.get(0), row.get(1)))
    }

    /// Records an A/A outcome (`{"design": ..., "metrics": {"id": change_pct}}`).
    pub fn record_noise(&mut self, record: &Value, branch: Option<&str>, machine: &Machine) -> Result<i64> {
        let row = self
            .client
            .query_one(
                "INSERT INTO aa_noise (branch, host, cpu_model, logical_cores, record)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[
                    &branch,
                    &machine.host,
                    &machine.cpu_model,
                    &machine.logical_cores,
                    &record,
                ],
            )
            .map_err(self.failed("recording an A/A outcome"))?;
        Ok(row.get(0))
    }

    /// The A/A outcomes that match `filter`, in the order they were recorded.
    pub fn noise(&mut self, filter: &RunFilter) -> Result<Vec<Value>> {
        let rows = self
            .client
            .query(
                "SELECT record FROM aa_noise
                 WHERE ($1::text IS NULL OR branch = $1) AND ($2::text IS NULL OR host = $2)
                 ORDER BY id",
                &[&filter.branch, &filter.host],
            )
            .map_err(self.failed("reading A/A outcomes"))?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn failed(&self, action: &'static str) -> impl Fn(postgres::Error) -> StoreError + '_ {
        move |error| StoreError::Query {
            url: self.url.to_string(),
            action,
            detail: self.url.scrub(&describe(&error)),
        }
    }
}

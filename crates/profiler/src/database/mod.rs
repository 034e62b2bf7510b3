//! A PostgreSQL connection pool that measures itself, for pipeline stages that look data up in a
//! database: the default workload's `enrich` stage (`--reference-store postgres://...`) and a
//! user's own. [`InstrumentedPool::acquire`] times the wait for a connection,
//! [`Connection::query`] the query (one prepared statement per text, cached per connection), and
//! the run's `database` section is made from those figures, the pool sampled every 10 ms and the
//! server's own count of the same statements.
//!
//! ```no_run
//! use perfgate_profiler::database::{DatabaseOptions, InstrumentedPool};
//! use perfgate_profiler::{Pipeline, RunConfig, Silent, StageError, source_fn, stage_fn};
//!
//! let pool = InstrumentedPool::connect(DatabaseOptions::new("postgres://app:secret@db:5432/app"))?;
//! let lookup = pool.clone();
//! let pipeline = Pipeline::builder(|_| source_fn(|| async { Some(42_i64) }))
//!     .stage("customer", move |_| {
//!         let pool = lookup.clone();
//!         stage_fn(move |id: i64| {
//!             let pool = pool.clone();
//!             async move {
//!                 // `?`: a failed query is this message's error, of its kind.
//!                 let rows = pool.query("SELECT name FROM customers WHERE id = $1", &[&id]).await?;
//!                 rows.first().map(|row| row.get::<_, String>(0)).ok_or(StageError::new("unknown"))
//!             }
//!         })
//!     })
//!     .build();
//! // Give the pool to the run, so that each phase gets connections of its own and the
//! // results carry the pool's figures (`results.database`).
//! let config = RunConfig { database: Some(pool), ..RunConfig::smoke() };
//! let results = perfgate_profiler::run(&pipeline, &config, &Silent, serde_json::Value::Null)?;
//! println!("{:?}", results.database.map(|database| database.query.p99_ms));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Runtimes.** A tokio-postgres connection is a task on the runtime that opened it, and each
//! phase of a run has a runtime of its own: connections opened in one phase would die with it.
//! So the driver gives every phase a pool of its own, made when the phase begins and closed after
//! its runtime shut down, and every `limit` thread (a current-thread runtime each) one of its own
//! too, which share one limit of `max_size` connections. Outside a run (a service attached to
//! the profiler) the pool is made on first use, and a connection whose runtime went away is
//! found closed when it comes back to the pool, and replaced.
//!
//! What it does not do: retry. A failed acquisition or query is the caller's error, counted by
//! kind; the stage decides what a message whose lookup failed becomes.

mod error;
mod record;
mod server;

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use perfgate_results::{DatabasePool, DatabaseSection, DatabaseStatus};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Config, NoTls};

pub use error::DatabaseError;
pub use tokio_postgres::Row;
pub use tokio_postgres::types::ToSql;

use record::{Recorder, Sample};
use server::Baseline;

/// Runs `future` to completion on a thread of its own with a current-thread runtime, and waits
/// for it: for the pool's work before or after a run (seeding a table), from inside or outside a
/// runtime. What it opens on that runtime closes with it.
pub fn block_on<F>(future: F) -> Result<F::Output, DatabaseError>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    server::block_on(future)
}

/// How to reach the server and how the pool behaves.
#[derive(Clone)]
pub struct DatabaseOptions {
    /// `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (any form tokio-postgres reads). Never
    /// printed: results and messages show [`InstrumentedPool::endpoint`], without the password.
    pub url: String,
    /// The most connections the pool opens. Default 16.
    pub max_size: usize,
    /// How long a task waits for a free connection before the acquisition is a `timeout` error.
    /// Default 2 s.
    pub acquire_timeout: Duration,
    /// How long opening (or checking) a connection may take. Default 2 s.
    pub connect_timeout: Duration,
    /// How long a query may take, from sending it to reading its rows. Default 5 s.
    pub query_timeout: Duration,
    /// How often the pool is sampled for the timeline. Default 10 ms.
    pub sample_interval: Duration,
    /// The table the queries read, as the results name it (descriptive only).
    pub table: String,
}

impl DatabaseOptions {
    /// The defaults, for the server at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_size: 16,
            acquire_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
            query_timeout: Duration::from_secs(5),
            sample_interval: Duration::from_millis(10),
            table: String::new(),
        }
    }
}

impl fmt::Debug for DatabaseOptions {
    // By hand: the derived form would print the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseOptions")
            .field(
                "url",
                &endpoint_of(&self.url).unwrap_or_else(|_| "(invalid)".to_owned()),
            )
            .field("max_size", &self.max_size)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("query_timeout", &self.query_timeout)
            .field("sample_interval", &self.sample_interval)
            .field("table", &self.table)
            .finish()
    }
}

/// The warning for a connection string with a password given as the flag `flag` on the command
/// line rather than through the environment variable `env_var`: cargo's `Running` line (for
/// `cargo xtask ...`), the process list and the shell's history show a command line, so the
/// password is out of perfgate's hands there. `None` when the value came from `env_var` (it
/// equals the variable's value) or holds no password.
pub fn command_line_password_warning(flag: &str, url: &str, env_var: &str) -> Option<String> {
    if std::env::var(env_var).is_ok_and(|value| value == url) {
        return None;
    }
    let config: Config = url.parse().ok()?;
    config.get_password().is_some_and(|p| !p.is_empty()).then(|| {
        format!(
            "warning: {flag} carries a password on the command line, where cargo's `Running` \
             line, the process list and shell history show it; set {env_var} instead"
        )
    })
}

/// Where `url` points, as `postgres://USER@HOST:PORT/DATABASE`: the password left out.
pub fn endpoint_of(url: &str) -> Result<String, DatabaseError> {
    parse(url).map(|config| endpoint(&config))
}

fn parse(url: &str) -> Result<Config, DatabaseError> {
    let config: Config = url.parse().map_err(|error| DatabaseError::InvalidUrl {
        reason: error::describe(&error),
    })?;
    if config.get_hosts().is_empty() {
        return Err(DatabaseError::InvalidUrl {
            reason: "it names no host".to_owned(),
        });
    }
    Ok(config)
}

fn endpoint(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => String::new(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        config.get_user().unwrap_or(""),
        config.get_dbname().unwrap_or("")
    )
}

/// The `database` section of a run whose server could not be reached (the run went on without
/// it, as asked).
pub fn unavailable_section(url: &str, error: &DatabaseError) -> DatabaseSection {
    DatabaseSection {
        status: DatabaseStatus::Unavailable,
        error: Some(error.to_string()),
        endpoint: endpoint_of(url).unwrap_or_default(),
        ..DatabaseSection::default()
    }
}

/// A measured connection pool; cheap to clone (clones share the pool and its figures).
#[derive(Clone)]
pub struct InstrumentedPool {
    inner: Arc<Inner>,
}

struct Inner {
    id: u64,
    options: DatabaseOptions,
    config: Config,
    endpoint: String,
    server_version: Option<String>,
    recorder: Recorder,
    baseline: Mutex<Baseline>,
    /// The pool of the phase under way, made by the driver.
    phase: Mutex<Option<Pool>>,
    /// Every pool open now (the phase's and the limit threads'), for the timeline.
    open: Mutex<Vec<(u64, Pool)>>,
    /// The pool made on first use outside a run's phases.
    fallback: Mutex<Option<Pool>>,
    /// The `max_size` limit the limit threads' pools share.
    permits: Arc<Semaphore>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// A `limit` thread's own pool, by the id of the pool it stands in for.
    static THREAD_POOLS: RefCell<Vec<(u64, Pool)>> = const { RefCell::new(Vec::new()) };
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl fmt::Debug for InstrumentedPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstrumentedPool")
            .field("endpoint", &self.inner.endpoint)
            .field("max_size", &self.inner.options.max_size)
            .finish_non_exhaustive()
    }
}

impl PartialEq for InstrumentedPool {
    /// The same pool (clones of one), not pools with equal settings.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl InstrumentedPool {
    /// Checks that the server answers (reading its version) and makes the pool. Blocking: it
    /// runs on a thread of its own, so it may be called inside or outside a runtime.
    ///
    /// Fails with [`DatabaseError::Unavailable`] when the server cannot be reached, and
    /// [`DatabaseError::InvalidUrl`] when `options.url` is not a connection string.
    pub fn connect(options: DatabaseOptions) -> Result<Self, DatabaseError> {
        let mut config = parse(&options.url)?;
        config.connect_timeout(options.connect_timeout);
        config.application_name("perfgate");
        let endpoint = endpoint(&config);
        let version = server::block_on(server::probe(
            config.clone(),
            endpoint.clone(),
            options.connect_timeout,
        ))??;
        Ok(Self {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                permits: Arc::new(Semaphore::new(options.max_size.max(1))),
                options,
                config,
                endpoint,
                server_version: Some(version),
                recorder: Recorder::default(),
                baseline: Mutex::new(Baseline::Unknown),
                phase: Mutex::new(None),
                open: Mutex::new(Vec::new()),
                fallback: Mutex::new(None),
            }),
        })
    }

    /// Where the server is, without the password.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The server's `server_version`, read when the pool was made.
    pub fn server_version(&self) -> Option<&str> {
        self.inner.server_version.as_deref()
    }

    /// The pool's settings.
    pub fn options(&self) -> &DatabaseOptions {
        &self.inner.options
    }

    fn build(&self, max_size: usize) -> Pool {
        let options = &self.inner.options;
        let manager = Manager::from_config(
            self.inner.config.clone(),
            NoTls,
            ManagerConfig {
                // A closed connection is found without a round trip; a broken one that still
                // looks open fails its next query, which counts it.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        Pool::builder(manager)
            .max_size(max_size.max(1))
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.connect_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .expect("a pool with a runtime for its timeouts always builds")
    }

    /// The pool this task should use, and whether it is a limit thread's (which takes a permit
    /// of the shared limit first).
    fn current(&self) -> (Pool, bool) {
        let id = self.inner.id;
        let local = THREAD_POOLS.with(|pools| {
            pools
                .borrow()
                .iter()
                .find(|(owner, _)| *owner == id)
                .map(|(_, pool)| pool.clone())
        });
        if let Some(pool) = local {
            return (pool, true);
        }
        if let Some(pool) = lock(&self.inner.phase).clone() {
            return (pool, false);
        }
        let mut fallback = lock(&self.inner.fallback);
        let pool = fallback.get_or_insert_with(|| self.build(self.inner.options.max_size));
        (pool.clone(), false)
    }

    /// Takes a connection from the pool, timing the wait. Fails with a `timeout` error after
    /// `acquire_timeout` (or `connect_timeout` while opening one), a `connection` error when
    /// none can be opened.
    pub async fn acquire(&self) -> Result<Connection, DatabaseError> {
        let (pool, shared_limit) = self.current();
        let recorder = &self.inner.recorder;
        recorder.wait_started();
        let started = Instant::now();
        let outcome = async {
            let permit = match shared_limit {
                true => Some(
                    tokio::time::timeout(
                        self.inner.options.acquire_timeout,
                        Arc::clone(&self.inner.permits).acquire_owned(),
                    )
                    .await
                    .map_err(|_| DatabaseError::Timeout {
                        what: "waiting for a connection",
                    })?
                    .expect("the semaphore is never closed"),
                ),
                false => None,
            };
            let object = pool.get().await.map_err(from_pool)?;
            Ok::<_, DatabaseError>((object, permit))
        }
        .await;
        match outcome {
            Ok((object, permit)) => {
                recorder.wait_ended(started.elapsed(), Some(pool.status().size as u64));
                Ok(Connection {
                    object,
                    pool: self.clone(),
                    _permit: permit,
                })
            }
            Err(error) => {
                recorder.wait_ended(started.elapsed(), None);
                recorder.failed(error.kind(), error.is_outage(), Instant::now());
                Err(error)
            }
        }
    }

    /// Acquires a connection and runs `statement` on it: [`acquire`](Self::acquire) then
    /// [`Connection::query`].
    pub async fn query(
        &self,
        statement: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, DatabaseError> {
        self.acquire().await?.query(statement, params).await
    }

    /// Starts a run's figures afresh: forgets the pool's figures so far and resets the server's
    /// statement statistics (`pg_stat_statements_reset()`), or, where that cannot be done,
    /// notes the database's transaction count. Blocking. [`crate::run`] calls it.
    pub fn begin_run(&self) {
        self.inner.recorder.reset();
        let baseline = server::block_on(server::begin(
            self.inner.config.clone(),
            self.inner.options.connect_timeout,
        ))
        .unwrap_or(Baseline::Unknown);
        *lock(&self.inner.baseline) = baseline;
    }

    /// The figures so far, without the server's view.
    pub fn section(&self) -> DatabaseSection {
        let recorder = &self.inner.recorder;
        let queries = recorder.queries.load(Ordering::Relaxed);
        let active = match recorder.active() {
            span if span.is_zero() => recorder.elapsed(),
            span => span,
        };
        DatabaseSection {
            status: DatabaseStatus::Connected,
            error: None,
            endpoint: self.inner.endpoint.clone(),
            server_version: self.inner.server_version.clone(),
            table: self.inner.options.table.clone(),
            pool: DatabasePool {
                max_size: self.inner.options.max_size as u64,
                open_peak: recorder.open_peak.load(Ordering::Relaxed),
                in_use_peak: recorder.in_use_peak.load(Ordering::Relaxed),
                in_use_mean: recorder.in_use_mean(),
                waiting_peak: recorder.waiting_peak.load(Ordering::Relaxed),
                waited_over_1ms: recorder.waited_over_1ms.load(Ordering::Relaxed),
                acquire_timeout_ms: self.inner.options.acquire_timeout.as_secs_f64() * 1e3,
            },
            acquire_wait: recorder.acquire_summary(),
            query: recorder.query_summary(),
            queries,
            queries_per_second: match active.as_secs_f64() {
                seconds if seconds > 0.0 => queries as f64 / seconds,
                _ => 0.0,
            },
            errors_by_kind: recorder.errors_by_kind(),
            outage: recorder.outage(),
            server: None,
            timeline: recorder.timeline(),
        }
    }

    /// The figures of the run, with the server's own count of the statements the queries used
    /// (`server`, `null` when it could not be read). Blocking.
    pub fn finish(&self) -> DatabaseSection {
        let mut section = self.section();
        let client_total_ms = self.inner.recorder.query_total_ns.load(Ordering::Relaxed) as f64 / 1e6;
        section.server = server::block_on(server::view(
            self.inner.config.clone(),
            self.inner.options.connect_timeout,
            *lock(&self.inner.baseline),
            self.inner.recorder.statements(),
            client_total_ms,
        ))
        .ok()
        .flatten();
        section
    }

    /// A phase begins: its own pool, and the timeline sampled under `name` until the returned
    /// scope ends (after the phase's runtime shut down).
    pub(crate) fn begin_phase(&self, name: &str) -> PhaseScope {
        let pool = self.build(self.inner.options.max_size);
        let key = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        lock(&self.inner.open).push((key, pool.clone()));
        *lock(&self.inner.phase) = Some(pool);
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let sampler = {
            let (this, stop, name) = (self.clone(), Arc::clone(&stop), name.to_owned());
            std::thread::Builder::new()
                .name("pg-db-sampler".into())
                .spawn(move || this.sample_until(&name, started, &stop))
                .ok()
        };
        PhaseScope {
            pool: self.clone(),
            key,
            started,
            stop,
            sampler,
        }
    }

    fn sample_until(&self, phase: &str, started: Instant, stop: &AtomicBool) {
        let interval = self.inner.options.sample_interval;
        let mut next = started;
        loop {
            next += interval;
            let now = Instant::now();
            if next > now {
                std::thread::park_timeout(next - now);
            } else {
                // Behind (a stalled host): skip the missed samples rather than bursting.
                next = now;
            }
            if stop.load(Ordering::Acquire) {
                return;
            }
            let open = lock(&self.inner.open)
                .iter()
                .map(|(_, pool)| pool.status().size as u64)
                .sum();
            self.inner.recorder.sample(
                phase,
                interval,
                Sample {
                    t: started.elapsed(),
                    open,
                },
            );
        }
    }

    /// A `limit` thread's pool, for as long as the returned scope lives on this thread: one
    /// connection (the loop awaits one lookup at a time), under the limit all threads share.
    pub(crate) fn thread_scope(&self) -> ThreadScope {
        let pool = self.build(1);
        let key = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        lock(&self.inner.open).push((key, pool.clone()));
        THREAD_POOLS.with(|pools| pools.borrow_mut().push((self.inner.id, pool)));
        ThreadScope {
            pool: self.clone(),
            key,
        }
    }

    fn close(&self, key: u64) {
        let mut open = lock(&self.inner.open);
        if let Some(index) = open.iter().position(|(k, _)| *k == key) {
            let (_, pool) = open.remove(index);
            pool.close();
        }
    }
}

fn from_pool(error: PoolError) -> DatabaseError {
    match error {
        PoolError::Timeout(deadpool_postgres::TimeoutType::Wait) => DatabaseError::Timeout {
            what: "waiting for a connection",
        },
        PoolError::Timeout(_) => DatabaseError::Timeout { what: "connecting" },
        PoolError::Backend(error) => DatabaseError::connecting(&error),
        other => DatabaseError::Connection {
            detail: error::describe(&other),
        },
    }
}

/// A connection lent by an [`InstrumentedPool`]; it goes back when dropped.
pub struct Connection {
    object: deadpool_postgres::Object,
    pool: InstrumentedPool,
    _permit: Option<OwnedSemaphorePermit>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("endpoint", &self.pool.inner.endpoint)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Runs `statement` (prepared once per connection and cached) with `params` and reads its
    /// rows, timing it; fails with a `timeout` error after `query_timeout`, a `query` error when
    /// the server rejects it, a `connection` error when the connection breaks.
    pub async fn query(
        &self,
        statement: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, DatabaseError> {
        let recorder = &self.pool.inner.recorder;
        let sent = Instant::now();
        let outcome = tokio::time::timeout(self.pool.inner.options.query_timeout, async {
            let prepared = self.object.prepare_cached(statement).await?;
            self.object.query(&prepared, params).await
        })
        .await;
        let took = sent.elapsed();
        let error = match outcome {
            Ok(Ok(rows)) => {
                recorder.query_succeeded(statement, sent, took);
                return Ok(rows);
            }
            Ok(Err(error)) => DatabaseError::from_client(&error),
            Err(_) => DatabaseError::Timeout {
                what: "waiting for the query",
            },
        };
        recorder.failed(error.kind(), error.is_outage(), Instant::now());
        Err(error)
    }

    /// The client itself, for what [`query`](Self::query) does not cover (transactions,
    /// `COPY`); what it does is not timed.
    pub fn client(&self) -> &tokio_postgres::Client {
        &self.object
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.pool.inner.recorder.released();
    }
}

/// A phase's pool and timeline; ends when dropped.
#[derive(Debug)]
pub(crate) struct PhaseScope {
    pool: InstrumentedPool,
    key: u64,
    started: Instant,
    stop: Arc<AtomicBool>,
    sampler: Option<std::thread::JoinHandle<()>>,
}

impl Drop for PhaseScope {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(sampler) = self.sampler.take() {
            sampler.thread().unpark();
            let _ = sampler.join();
        }
        let inner = &self.pool.inner;
        inner.recorder.add_active(self.started.elapsed());
        *lock(&inner.phase) = None;
        self.pool.close(self.key);
    }
}

/// A limit thread's pool; removed when dropped.
#[derive(Debug)]
pub(crate) struct ThreadScope {
    pool: InstrumentedPool,
    key: u64,
}

impl Drop for ThreadScope {
    fn drop(&mut self) {
        let id = self.pool.inner.id;
        THREAD_POOLS.with(|pools| pools.borrow_mut().retain(|(owner, _)| *owner != id));
        self.pool.close(self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_on_the_command_line_is_warned_about_without_showing_it() {
        let var = "PERFGATE_TEST_VARIABLE_NOBODY_SETS";
        let warning = command_line_password_warning("--reference-store", "postgres://a:s3cr3t@h/db", var)
            .expect("a warning");
        assert!(warning.contains(var) && !warning.contains("s3cr3t"), "{warning}");
        assert_eq!(
            command_line_password_warning("--x", "postgres://a@h/db", var),
            None
        );
        assert_eq!(command_line_password_warning("--x", "nonsense", var), None);
    }

    #[test]
    fn endpoints_leave_the_password_out() {
        let url = "postgres://app:s3cr3t-pw@db.example:6543/orders";
        assert_eq!(endpoint_of(url).unwrap(), "postgres://app@db.example:6543/orders");
        let options = DatabaseOptions::new(url);
        assert!(!format!("{options:?}").contains("s3cr3t-pw"));
        let error = endpoint_of("postgres://app:s3cr3t-pw@db:notaport/orders").unwrap_err();
        assert!(!error.to_string().contains("s3cr3t-pw"), "{error}");
        assert!(endpoint_of("postgres:///orders").is_err());
    }

    #[test]
    fn errors_have_kinds_for_results_and_for_stages() {
        let timeout = DatabaseError::Timeout { what: "connecting" };
        assert_eq!(
            (timeout.kind(), timeout.stage_kind()),
            ("timeout", "database_timeout")
        );
        assert!(timeout.is_outage());
        let query = DatabaseError::Query {
            detail: "ERROR 42P01".into(),
        };
        assert_eq!((query.kind(), query.stage_kind()), ("query", "database_query"));
        assert!(!query.is_outage());
        let connection = DatabaseError::Connection {
            detail: "refused".into(),
        };
        assert_eq!(connection.stage_kind(), "database_connection");
    }

    #[test]
    fn an_unreachable_server_is_unavailable_with_one_clear_line() {
        // A port nothing listens on: bound, then released.
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|listener| listener.local_addr())
            .unwrap()
            .port();
        let url = format!("postgres://app:pw-not-shown@127.0.0.1:{port}/orders");
        let error = InstrumentedPool::connect(DatabaseOptions::new(url.clone())).unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, DatabaseError::Unavailable { .. }), "{error:?}");
        assert!(
            text.starts_with(&format!("postgres://app@127.0.0.1:{port}/orders: cannot connect")),
            "{text}"
        );
        assert!(!text.contains("pw-not-shown") && !text.contains('\n'), "{text}");
        let section = unavailable_section(&url, &error);
        assert_eq!(section.status, DatabaseStatus::Unavailable);
        assert_eq!(section.error.as_deref(), Some(text.as_str()));
    }
}

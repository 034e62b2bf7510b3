//! What the pool's users did, recorded as they did it: acquire waits and query times in
//! histograms, counts, the connections in use and the tasks waiting (exact counters, their peaks),
//! errors by kind, the outage, and the pool timeline the sampler adds every 10 ms. It holds no
//! connection and knows nothing of the server: `server.rs` adds the server's view.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use indexmap::IndexMap;
use perfgate_results::{DatabaseOutage, LatencySummary, TimeSeries};

use crate::stats::{FromHistogram, ns_histogram};

/// A wait for a connection longer than this counts in `waited_over_1ms`.
const WAITED_NS: u64 = 1_000_000;
/// A phase's timeline keeps at most this many points; past it, every other point is dropped and
/// the interval doubles, so an hour-long phase stays a few hundred kilobytes.
const MAX_POINTS: usize = 4_096;

/// The figures of every query since the run began.
#[derive(Debug)]
pub(crate) struct Recorder {
    started: Mutex<Instant>,
    acquire: Mutex<Histogram<u64>>,
    query: Mutex<Histogram<u64>>,
    pub(crate) queries: AtomicU64,
    pub(crate) query_total_ns: AtomicU64,
    pub(crate) waited_over_1ms: AtomicU64,
    timeouts: AtomicU64,
    connection_errors: AtomicU64,
    query_errors: AtomicU64,
    in_use: AtomicU64,
    pub(crate) in_use_peak: AtomicU64,
    waiting: AtomicU64,
    pub(crate) waiting_peak: AtomicU64,
    pub(crate) open_peak: AtomicU64,
    outage: Mutex<OutageState>,
    /// Set by a failure, cleared by the first success after it: successes look at the outage
    /// only while one is open, so the common path takes no lock for it.
    outage_open: AtomicBool,
    timeline: Mutex<Timeline>,
    /// Time the pool was in use by the run's phases, ns (the denominator of the query rate).
    active_ns: AtomicU64,
    statements: Mutex<Vec<String>>,
}

#[derive(Debug, Default)]
struct OutageState {
    first_failure: Option<Duration>,
    last_failure: Duration,
    failed: u64,
    recovered_at: Option<Duration>,
}

#[derive(Debug, Default)]
struct Timeline {
    phases: IndexMap<String, TimeSeries>,
    in_use_sum: f64,
    samples: u64,
}

/// One sample of the pool.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) t: Duration,
    pub(crate) open: u64,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            started: Mutex::new(Instant::now()),
            acquire: Mutex::new(ns_histogram()),
            query: Mutex::new(ns_histogram()),
            queries: AtomicU64::new(0),
            query_total_ns: AtomicU64::new(0),
            waited_over_1ms: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            connection_errors: AtomicU64::new(0),
            query_errors: AtomicU64::new(0),
            in_use: AtomicU64::new(0),
            in_use_peak: AtomicU64::new(0),
            waiting: AtomicU64::new(0),
            waiting_peak: AtomicU64::new(0),
            open_peak: AtomicU64::new(0),
            outage: Mutex::new(OutageState::default()),
            outage_open: AtomicBool::new(false),
            timeline: Mutex::new(Timeline::default()),
            active_ns: AtomicU64::new(0),
            statements: Mutex::new(Vec::new()),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain counters behind: still readable.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Recorder {
    /// Forgets everything: a new run begins now.
    pub(crate) fn reset(&self) {
        *lock(&self.started) = Instant::now();
        lock(&self.acquire).reset();
        lock(&self.query).reset();
        for counter in [
            &self.queries,
            &self.query_total_ns,
            &self.waited_over_1ms,
            &self.timeouts,
            &self.connection_errors,
            &self.query_errors,
            &self.in_use_peak,
            &self.waiting_peak,
            &self.open_peak,
            &self.active_ns,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        // In use and waiting are live counts, not totals: connections lent out stay lent out.
        self.in_use_peak
            .store(self.in_use.load(Ordering::Relaxed), Ordering::Relaxed);
        *lock(&self.outage) = OutageState::default();
        self.outage_open.store(false, Ordering::Relaxed);
        *lock(&self.timeline) = Timeline::default();
        lock(&self.statements).clear();
    }

    fn since_start(&self, at: Instant) -> Duration {
        at.saturating_duration_since(*lock(&self.started))
    }

    /// A task starts waiting for a connection.
    pub(crate) fn wait_started(&self) {
        let now = self.waiting.fetch_add(1, Ordering::Relaxed) + 1;
        self.waiting_peak.fetch_max(now, Ordering::Relaxed);
    }

    /// The wait ended: with a connection (`Some(open)`: the pool's open connections then) or not.
    pub(crate) fn wait_ended(&self, waited: Duration, open: Option<u64>) {
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        let ns = waited.as_nanos() as u64;
        lock(&self.acquire).saturating_record(ns.max(1));
        if ns > WAITED_NS {
            self.waited_over_1ms.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(open) = open {
            let now = self.in_use.fetch_add(1, Ordering::Relaxed) + 1;
            self.in_use_peak.fetch_max(now, Ordering::Relaxed);
            self.open_peak.fetch_max(open.max(now), Ordering::Relaxed);
        }
    }

    /// A connection went back to the pool.
    pub(crate) fn released(&self) {
        self.in_use.fetch_sub(1, Ordering::Relaxed);
    }

    /// A query succeeded: it was sent at `sent` and its rows were read `took` later.
    pub(crate) fn query_succeeded(&self, statement: &str, sent: Instant, took: Duration) {
        let ns = took.as_nanos() as u64;
        lock(&self.query).saturating_record(ns.max(1));
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.query_total_ns.fetch_add(ns, Ordering::Relaxed);
        {
            let mut statements = lock(&self.statements);
            if !statements.iter().any(|known| known == statement) {
                statements.push(statement.to_owned());
            }
        }
        if self.outage_open.load(Ordering::Relaxed) {
            let sent_at = self.since_start(sent);
            let done_at = self.since_start(sent + took);
            let mut outage = lock(&self.outage);
            // Only a query sent after the last failure shows the server back: one in flight
            // from before may have been answered by a connection that broke just after.
            if outage.recovered_at.is_none() && sent_at >= outage.last_failure {
                outage.recovered_at = Some(done_at);
                self.outage_open.store(false, Ordering::Relaxed);
            }
        }
    }

    /// An acquisition or a query failed with an error of `kind` at `at`.
    pub(crate) fn failed(&self, kind: &str, outage: bool, at: Instant) {
        let counter = match kind {
            "timeout" => &self.timeouts,
            "query" => &self.query_errors,
            _ => &self.connection_errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if outage {
            let at = self.since_start(at);
            let mut state = lock(&self.outage);
            state.first_failure.get_or_insert(at);
            state.last_failure = state.last_failure.max(at);
            state.failed += 1;
            state.recovered_at = None;
            self.outage_open.store(true, Ordering::Relaxed);
        }
    }

    /// The errors by kind, the kinds that happened only.
    pub(crate) fn errors_by_kind(&self) -> IndexMap<String, u64> {
        [
            ("timeout", &self.timeouts),
            ("connection", &self.connection_errors),
            ("query", &self.query_errors),
        ]
        .into_iter()
        .map(|(kind, counter)| (kind.to_owned(), counter.load(Ordering::Relaxed)))
        .filter(|(_, count)| *count > 0)
        .collect()
    }

    /// The outage, if any connection or timeout failure happened.
    pub(crate) fn outage(&self) -> Option<DatabaseOutage> {
        let state = lock(&self.outage);
        let first = state.first_failure?;
        Some(DatabaseOutage {
            first_failure_s: first.as_secs_f64(),
            last_failure_s: state.last_failure.as_secs_f64(),
            failed_queries: state.failed,
            recovered: state.recovered_at.is_some(),
            recovery_s: state
                .recovered_at
                .map(|at| at.saturating_sub(first).as_secs_f64()),
        })
    }

    pub(crate) fn acquire_summary(&self) -> LatencySummary {
        LatencySummary::from_histogram(&lock(&self.acquire)).unwrap_or_default()
    }

    pub(crate) fn query_summary(&self) -> LatencySummary {
        LatencySummary::from_histogram(&lock(&self.query)).unwrap_or_default()
    }

    /// The statements the run's queries used, in the order first seen.
    pub(crate) fn statements(&self) -> Vec<String> {
        lock(&self.statements).clone()
    }

    /// The phases' time with the pool, for the query rate.
    pub(crate) fn active(&self) -> Duration {
        Duration::from_nanos(self.active_ns.load(Ordering::Relaxed))
    }

    pub(crate) fn add_active(&self, span: Duration) {
        self.active_ns
            .fetch_add(span.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Time since the run began.
    pub(crate) fn elapsed(&self) -> Duration {
        lock(&self.started).elapsed()
    }

    /// Adds a sample of the pool to `phase`'s timeline.
    pub(crate) fn sample(&self, phase: &str, interval: Duration, sample: Sample) {
        let in_use = self.in_use.load(Ordering::Relaxed);
        let waiting = self.waiting.load(Ordering::Relaxed);
        self.open_peak.fetch_max(sample.open, Ordering::Relaxed);
        let mut timeline = lock(&self.timeline);
        timeline.in_use_sum += in_use as f64;
        timeline.samples += 1;
        let series = timeline
            .phases
            .entry(phase.to_owned())
            .or_insert_with(|| TimeSeries {
                interval_ms: interval.as_secs_f64() * 1e3,
                t_ms: Vec::new(),
                columns: ["in_use", "open", "waiting"]
                    .into_iter()
                    .map(|name| (name.to_owned(), Vec::new()))
                    .collect(),
            });
        let step = series.interval_ms;
        let t_ms = sample.t.as_secs_f64() * 1e3;
        // After a halving, keep a point only every `interval_ms`.
        if let Some(&last) = series.t_ms.last()
            && t_ms - last < step * 0.5
        {
            return;
        }
        series.t_ms.push(t_ms);
        for (name, value) in [("in_use", in_use), ("open", sample.open), ("waiting", waiting)] {
            series.columns[name].push(value as f64);
        }
        if series.t_ms.len() > MAX_POINTS {
            halve(series);
        }
    }

    /// The mean connections in use over every sample.
    pub(crate) fn in_use_mean(&self) -> f64 {
        let timeline = lock(&self.timeline);
        if timeline.samples == 0 {
            0.0
        } else {
            timeline.in_use_sum / timeline.samples as f64
        }
    }

    pub(crate) fn timeline(&self) -> IndexMap<String, TimeSeries> {
        lock(&self.timeline).phases.clone()
    }
}

/// Keeps every other point and doubles the interval.
fn halve(series: &mut TimeSeries) {
    let keep = |values: &mut Vec<f64>| {
        let mut index = 0;
        values.retain(|_| {
            index += 1;
            index % 2 == 1
        });
    };
    keep(&mut series.t_ms);
    for values in series.columns.values_mut() {
        keep(values);
    }
    series.interval_ms *= 2.0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_recovers_only_with_a_query_sent_after_the_last_failure() {
        let recorder = Recorder::default();
        let start = *lock(&recorder.started);
        let at = |ms: u64| start + Duration::from_millis(ms);
        recorder.failed("connection", true, at(100));
        // In flight since before the last failure: not a recovery.
        recorder.failed("timeout", true, at(300));
        recorder.query_succeeded("q", at(250), Duration::from_millis(100));
        assert!(!recorder.outage().unwrap().recovered);
        recorder.query_succeeded("q", at(1_300), Duration::from_millis(2));
        let outage = recorder.outage().unwrap();
        assert_eq!(outage.failed_queries, 2);
        assert!(outage.recovered);
        assert!((outage.recovery_s.unwrap() - 1.202).abs() < 1e-9, "{outage:?}");
        assert!((outage.first_failure_s - 0.1).abs() < 1e-9);
        assert!((outage.last_failure_s - 0.3).abs() < 1e-9);
        // A query error is no outage.
        recorder.failed("query", false, at(2_000));
        assert!(recorder.outage().unwrap().recovered);
        assert_eq!(
            recorder.errors_by_kind(),
            IndexMap::from([
                ("timeout".to_owned(), 1),
                ("connection".to_owned(), 1),
                ("query".to_owned(), 1)
            ])
        );
    }

    #[test]
    fn a_failure_after_a_recovery_reopens_the_outage() {
        let recorder = Recorder::default();
        let start = *lock(&recorder.started);
        recorder.failed("connection", true, start + Duration::from_millis(10));
        recorder.query_succeeded("q", start + Duration::from_millis(20), Duration::from_millis(1));
        recorder.failed("connection", true, start + Duration::from_millis(30));
        let outage = recorder.outage().unwrap();
        assert!(!outage.recovered);
        assert_eq!(outage.recovery_s, None);
    }

    #[test]
    fn peaks_and_the_timeline_halve_instead_of_growing() {
        let recorder = Recorder::default();
        recorder.wait_started();
        recorder.wait_started();
        recorder.wait_ended(Duration::from_millis(2), Some(1));
        recorder.wait_ended(Duration::from_micros(10), Some(2));
        assert_eq!(recorder.waiting_peak.load(Ordering::Relaxed), 2);
        assert_eq!(recorder.in_use_peak.load(Ordering::Relaxed), 2);
        assert_eq!(recorder.waited_over_1ms.load(Ordering::Relaxed), 1);
        for index in 0..(MAX_POINTS as u64 + 1) {
            recorder.sample(
                "saturation",
                Duration::from_millis(10),
                Sample {
                    t: Duration::from_millis(10 * index),
                    open: 2,
                },
            );
        }
        let series = &recorder.timeline()["saturation"];
        assert_eq!(series.interval_ms, 20.0);
        assert_eq!(series.len(), MAX_POINTS / 2 + 1);
        assert_eq!(series.columns["in_use"][0], 2.0);
        assert!((recorder.in_use_mean() - 2.0).abs() < 1e-12);
    }
}

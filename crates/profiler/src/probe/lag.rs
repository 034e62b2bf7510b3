//! Event-loop lag on a multi-threaded runtime.
//!
//! A sleeping "tick" task cannot see a blocked worker: on two workers it simply runs on the other
//! one. So every pipeline task is instrumented instead, and every poll is timed. A poll of `d`
//! keeps its worker from everything else for `d`; over the window, the time a worker spends more
//! than `x` into a poll is the sum of `max(0, d - x)` over its polls. Dividing by the workers'
//! total time gives, for every `x`, the share of time a task that became ready would have waited
//! at least `x` for that worker: the lag distribution, exactly, with no sampling and no sampling
//! interval to miss short stalls. (A watchdog thread reading each worker's current poll every
//! millisecond measures the same distribution by sampling; computing it costs nothing at run time.)
//!
//! Which polls are timed: with tokio's task poll hooks (`--cfg tokio_unstable`, [`PollHooks`]
//! installed on the runtime's builder) every task's polls are, whoever spawned it, so a blocking
//! task a stage spawned shows up. Without them only instrumented tasks are, and the results
//! compare the workers' busy time with the instrumented polls to name what is not covered.
//!
//! Each worker also keeps the longest poll since it was last asked, which the sampler thread
//! reads every 10 ms for the lag time series. For comparison only (`RunConfig::lag_comparison`),
//! a waker wrapper times each wake-up to its next poll and the classic tick task runs as
//! `timer_lag`: neither sees a blocked worker, both cost more.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use hdrhistogram::Histogram;
use indexmap::IndexMap;

use super::series::{Merge, SeriesBuilder};
use crate::clock::Clock;
use crate::live_sink::LiveSink;
use crate::stats::{merge_into, ns_histogram};
use crate::window::WindowState;

static NEXT_RUN: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's longest-poll slot: (run it belongs to, index).
    static SLOT: Cell<(u64, usize)> = const { Cell::new((0, usize::MAX)) };
    /// When the poll this thread is running began, ns on the hooked run's clock (poll hooks).
    static POLL_STARTED: Cell<u64> = const { Cell::new(0) };
}

/// State shared by the instrumented tasks, the sampler and the tick task of one phase.
#[derive(Debug)]
pub(crate) struct LagShared {
    run: u64,
    clock: Clock,
    window: Arc<WindowState>,
    /// Per worker thread: the longest instrumented poll since the sampler last read it, ns.
    slots: Box<[AtomicU64]>,
    assigned: AtomicUsize,
    slow_poll_ns: u64,
    /// Also time wake-up to poll, through a waker wrapper (costs a clock read per wake-up).
    schedule_delay: bool,
    reports: Mutex<TaskLagReport>,
    /// Instrumented tasks that were given a name, one report per name that their polls record
    /// into as they happen: such tasks (a service's handlers) often outlive the window.
    named: Mutex<IndexMap<String, Arc<Mutex<TaskLagReport>>>>,
    /// Whether tokio's poll hooks time every task's polls for this run; then they, not the
    /// instrumented tasks, give the lag distribution.
    hooked: std::sync::atomic::AtomicBool,
    /// What the poll hooks recorded, per worker thread (each locks only its own, uncontended),
    /// and for threads beyond the workers.
    hook_reports: Box<[Mutex<TaskLagReport>]>,
    timer_lag: Mutex<Histogram<u64>>,
}

/// What instrumented tasks recorded, merged.
#[derive(Debug)]
pub(crate) struct TaskLagReport {
    pub(crate) poll_ns: Histogram<u64>,
    pub(crate) schedule_ns: Histogram<u64>,
    pub(crate) slow_polls: u64,
    pub(crate) slow_poll_ns: u64,
    /// Time inside the polls, summed, ns.
    pub(crate) total_poll_ns: u64,
    /// Slow polls by where their task was spawned (poll hooks only: tokio tells them the site).
    pub(crate) slow_sites: Vec<SlowSite>,
}

/// The slow polls of the tasks spawned at one place in the code.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlowSite {
    pub(crate) spawned_at: &'static std::panic::Location<'static>,
    pub(crate) polls: u64,
    pub(crate) total_ns: u64,
    pub(crate) longest_ns: u64,
}

impl SlowSite {
    fn same_place(&self, other: &std::panic::Location<'static>) -> bool {
        self.spawned_at.file() == other.file()
            && self.spawned_at.line() == other.line()
            && self.spawned_at.column() == other.column()
    }
}

impl TaskLagReport {
    pub(crate) fn new() -> Self {
        Self {
            poll_ns: ns_histogram(),
            schedule_ns: ns_histogram(),
            slow_polls: 0,
            slow_poll_ns: 0,
            total_poll_ns: 0,
            slow_sites: Vec::new(),
        }
    }

    /// Adds a slow poll of a task spawned at `spawned_at`. Slow polls are rare, so a short list
    /// searched in order is enough.
    #[cfg_attr(not(tokio_unstable), allow(dead_code))]
    fn record_slow_site(&mut self, spawned_at: &'static std::panic::Location<'static>, took_ns: u64) {
        let site = match self
            .slow_sites
            .iter_mut()
            .find(|site| site.same_place(spawned_at))
        {
            Some(site) => site,
            None => {
                self.slow_sites.push(SlowSite {
                    spawned_at,
                    polls: 0,
                    total_ns: 0,
                    longest_ns: 0,
                });
                self.slow_sites.last_mut().expect("just pushed")
            }
        };
        site.polls += 1;
        site.total_ns += took_ns;
        site.longest_ns = site.longest_ns.max(took_ns);
    }

    fn record_poll(&mut self, took_ns: u64, slow_poll_ns: u64) {
        self.poll_ns.saturating_record(took_ns);
        self.total_poll_ns += took_ns;
        if took_ns >= slow_poll_ns {
            self.slow_polls += 1;
            self.slow_poll_ns += took_ns;
        }
    }

    fn merge(&mut self, other: &TaskLagReport) {
        merge_into(&mut self.poll_ns, &other.poll_ns);
        merge_into(&mut self.schedule_ns, &other.schedule_ns);
        self.slow_polls += other.slow_polls;
        self.slow_poll_ns += other.slow_poll_ns;
        self.total_poll_ns += other.total_poll_ns;
        for site in &other.slow_sites {
            match self
                .slow_sites
                .iter_mut()
                .find(|known| known.same_place(site.spawned_at))
            {
                Some(known) => {
                    known.polls += site.polls;
                    known.total_ns += site.total_ns;
                    known.longest_ns = known.longest_ns.max(site.longest_ns);
                }
                None => self.slow_sites.push(*site),
            }
        }
    }
}

impl LagShared {
    /// State for a runtime with `workers` worker threads.
    pub(crate) fn new(
        clock: Clock,
        window: Arc<WindowState>,
        workers: usize,
        slow_poll: Duration,
        schedule_delay: bool,
    ) -> Arc<Self> {
        Arc::new(Self {
            run: NEXT_RUN.fetch_add(1, Ordering::Relaxed),
            clock,
            window,
            slots: (0..workers.max(1)).map(|_| AtomicU64::new(0)).collect(),
            assigned: AtomicUsize::new(0),
            slow_poll_ns: slow_poll.as_nanos() as u64,
            schedule_delay,
            reports: Mutex::new(TaskLagReport::new()),
            named: Mutex::new(IndexMap::new()),
            hooked: std::sync::atomic::AtomicBool::new(false),
            // One more than the workers: threads that are not workers (none, normally) share it.
            hook_reports: (0..workers.max(1) + 1)
                .map(|_| Mutex::new(TaskLagReport::new()))
                .collect(),
            timer_lag: Mutex::new(ns_histogram()),
        })
    }

    /// From now on poll hooks time every task's polls for this run.
    pub(crate) fn mark_hooked(&self) {
        self.hooked.store(true, Ordering::Relaxed);
    }

    /// Whether poll hooks time every task's polls for this run.
    pub(crate) fn hooked(&self) -> bool {
        self.hooked.load(Ordering::Relaxed)
    }

    /// A poll hook: the poll this thread is about to run begins.
    #[cfg_attr(not(tokio_unstable), allow(dead_code))]
    pub(crate) fn poll_starts(&self) {
        POLL_STARTED.with(|started| started.set(self.clock.now_ns().max(1)));
    }

    /// A poll hook: the poll this thread ran, of a task spawned at `spawned_at`, has ended; it is
    /// timed if the window is open.
    #[cfg_attr(not(tokio_unstable), allow(dead_code))]
    pub(crate) fn poll_ends(&self, spawned_at: &'static std::panic::Location<'static>) {
        let started = POLL_STARTED.with(|started| started.replace(0));
        if started == 0 || !self.window.is_measuring() {
            return;
        }
        let took_ns = self.clock.now_ns().saturating_sub(started);
        let index = self.slot_index();
        if let Some(slot) = self.slots.get(index) {
            slot.fetch_max(took_ns, Ordering::Relaxed);
        }
        let report = &self.hook_reports[index.min(self.hook_reports.len() - 1)];
        let mut report = report.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        report.record_poll(took_ns, self.slow_poll_ns);
        if took_ns >= self.slow_poll_ns {
            report.record_slow_site(spawned_at, took_ns);
        }
    }

    /// Records an instrumented poll: in the task's report, and in its worker's longest-poll slot
    /// unless the poll hooks keep that.
    fn record(&self, report: &mut TaskLagReport, took_ns: u64, hooked: bool) {
        if hooked {
            report.record_poll(took_ns, self.slow_poll_ns);
        } else {
            self.record_poll(report, took_ns);
        }
    }

    /// Records a poll in the task's report and in its worker's longest-poll slot.
    fn record_poll(&self, report: &mut TaskLagReport, took_ns: u64) {
        report.record_poll(took_ns, self.slow_poll_ns);
        if let Some(slot) = self.slot() {
            // Only this worker's thread writes its slot (the sampler swaps it), so this stays
            // in the thread's cache.
            slot.fetch_max(took_ns, Ordering::Relaxed);
        }
    }

    /// This thread's slot, assigned on its first instrumented poll.
    fn slot(&self) -> Option<&AtomicU64> {
        self.slots.get(self.slot_index())
    }

    fn slot_index(&self) -> usize {
        SLOT.with(|slot| {
            let (run, index) = slot.get();
            if run == self.run {
                return index;
            }
            let index = self.assigned.fetch_add(1, Ordering::Relaxed);
            slot.set((self.run, index));
            index
        })
    }

    /// Each worker's longest poll since the last call, ns; resets them.
    pub(crate) fn take_longest_polls(&self) -> u64 {
        let assigned = self.assigned.load(Ordering::Relaxed).min(self.slots.len());
        self.slots[..assigned]
            .iter()
            .map(|slot| slot.swap(0, Ordering::Relaxed))
            .max()
            .unwrap_or(0)
    }

    /// What the instrumented tasks recorded (the named ones up to now, the others when they
    /// ended).
    pub(crate) fn take_reports(&self) -> TaskLagReport {
        let mut all = std::mem::replace(
            &mut *self.reports.lock().expect("lag report lock"),
            TaskLagReport::new(),
        );
        for report in self.named.lock().expect("named lag lock").values() {
            all.merge(&report.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        }
        all
    }

    /// The report the tasks instrumented under `name` record into.
    fn named_report(&self, name: &str) -> Arc<Mutex<TaskLagReport>> {
        let mut named = self.named.lock().expect("named lag lock");
        Arc::clone(
            named
                .entry(name.to_owned())
                .or_insert_with(|| Arc::new(Mutex::new(TaskLagReport::new()))),
        )
    }

    /// What the poll hooks recorded, every worker merged.
    pub(crate) fn take_hook_reports(&self) -> TaskLagReport {
        let mut all = TaskLagReport::new();
        for report in &self.hook_reports {
            let mut report = report.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            all.merge(&report);
            *report = TaskLagReport::new();
        }
        all
    }

    /// The named tasks' reports, in the order they were first seen.
    pub(crate) fn take_named(&self) -> IndexMap<String, TaskLagReport> {
        self.named
            .lock()
            .expect("named lag lock")
            .iter()
            .map(|(name, report)| {
                let report = report.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let mut copy = TaskLagReport::new();
                copy.merge(&report);
                (name.clone(), copy)
            })
            .collect()
    }

    pub(crate) fn take_timer_lag(&self) -> Histogram<u64> {
        std::mem::replace(
            &mut *self.timer_lag.lock().expect("timer lag lock"),
            ns_histogram(),
        )
    }

    /// The classic probe: sleep 1 ms, record how late the wake-up was. Runs until the runtime
    /// shuts down.
    pub(crate) async fn tick(self: Arc<Self>) {
        const TICK: Duration = Duration::from_millis(1);
        loop {
            let before = self.clock.now_ns();
            tokio::time::sleep(TICK).await;
            let late = self
                .clock
                .now_ns()
                .saturating_sub(before + TICK.as_nanos() as u64);
            if self.window.is_measuring() {
                self.timer_lag
                    .lock()
                    .expect("timer lag lock")
                    .saturating_record(late);
            }
        }
    }
}

/// Wraps a pipeline task so its polls mark the worker busy and are timed.
pub(crate) fn instrument<F: Future>(future: F, shared: Arc<LagShared>) -> Instrumented<F> {
    instrument_named(future, shared, None)
}

/// Wraps a task so its polls are timed, and reported under `name` as well when it has one.
pub(crate) fn instrument_named<F: Future>(
    future: F,
    shared: Arc<LagShared>,
    name: Option<String>,
) -> Instrumented<F> {
    let named = name.as_deref().map(|name| shared.named_report(name));
    Instrumented {
        inner: Box::pin(future),
        shared,
        stamp: None,
        last_poll_end_ns: 0,
        report: Some(TaskLagReport::new()),
        named,
    }
}

/// A future that times its inner future's polls.
pub struct Instrumented<F> {
    inner: Pin<Box<F>>,
    shared: Arc<LagShared>,
    stamp: Option<(Arc<WakeStamp>, Waker)>,
    last_poll_end_ns: u64,
    report: Option<TaskLagReport>,
    /// A named task's report, shared with the other tasks of its name and read at the window's
    /// end; an unnamed task keeps its own and hands it in when it ends.
    named: Option<Arc<Mutex<TaskLagReport>>>,
}

impl<F> std::fmt::Debug for Instrumented<F> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Instrumented")
            .field("named", &self.named.is_some())
            .finish_non_exhaustive()
    }
}

/// Wraps the task's waker to note when it was first woken since its last poll.
struct WakeStamp {
    inner: Waker,
    clock: Clock,
    woken_ns: AtomicU64,
}

impl Wake for WakeStamp {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let now = self.clock.now_ns().max(1);
        let _ = self
            .woken_ns
            .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        self.inner.wake_by_ref();
    }
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        // Cloning copies a few words (the counter's calibration); no reference count.
        let clock = this.shared.clock.clone();
        let started = clock.now_ns().max(1);
        let measuring = this.shared.window.is_measuring();
        let report = this.report.as_mut().expect("present until completion");
        // With poll hooks every poll is timed there; an unnamed task then needs nothing more.
        let hooked = this.shared.hooked();
        if hooked && this.named.is_none() && !this.shared.schedule_delay {
            let output = this.inner.as_mut().poll(cx);
            if output.is_ready() {
                this.hand_in();
            }
            return output;
        }
        if !this.shared.schedule_delay {
            // Poll times only: no waker wrapper, two clock reads a poll.
            let output = this.inner.as_mut().poll(cx);
            let ended = clock.now_ns();
            if measuring {
                let took = ended.saturating_sub(started);
                match &this.named {
                    Some(named) => {
                        let mut named = named.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                        this.shared.record(&mut named, took, hooked);
                    }
                    None => this.shared.record(report, took, hooked),
                }
            }
            if output.is_ready() {
                this.hand_in();
            }
            return output;
        }
        let reuse = matches!(&this.stamp, Some((stamp, _)) if stamp.inner.will_wake(cx.waker()));
        if !reuse {
            let stamp = Arc::new(WakeStamp {
                inner: cx.waker().clone(),
                clock: clock.clone(),
                woken_ns: AtomicU64::new(0),
            });
            let waker = Waker::from(Arc::clone(&stamp));
            this.stamp = Some((stamp, waker));
        }
        let (stamp, waker) = this.stamp.as_ref().expect("set above");
        let woken = stamp.woken_ns.swap(0, Ordering::Relaxed);
        if measuring && woken != 0 {
            // A wake-up during the previous poll only starts counting when that poll ended.
            let ready_since = woken.max(this.last_poll_end_ns);
            report
                .schedule_ns
                .saturating_record(started.saturating_sub(ready_since));
        }
        let output = this.inner.as_mut().poll(&mut Context::from_waker(waker));
        let ended = clock.now_ns();
        this.last_poll_end_ns = ended;
        if measuring {
            this.shared.record(report, ended.saturating_sub(started), hooked);
        }
        if output.is_ready() {
            this.hand_in();
        }
        output
    }
}

impl<F> Instrumented<F> {
    fn hand_in(&mut self) {
        if let Some(report) = self.report.take() {
            self.shared
                .reports
                .lock()
                .expect("lag report lock")
                .merge(&report);
        }
    }
}

impl<F> Drop for Instrumented<F> {
    fn drop(&mut self) {
        self.hand_in();
    }
}

/// The sampler thread's side: the longest poll per 10 ms for the time series (and the live
/// endpoint, when the run has one).
#[derive(Debug)]
pub(crate) struct LagSampler {
    shared: Arc<LagShared>,
    live: Option<Arc<dyn LiveSink>>,
    series: SeriesBuilder,
    bucket_start_ns: u64,
    window_start_ns: u64,
    window_end_ns: u64,
}

/// Lag time-series resolution.
const LAG_BUCKET: Duration = Duration::from_millis(10);

impl LagSampler {
    pub(crate) fn new(shared: Arc<LagShared>, live: Option<Arc<dyn LiveSink>>) -> Self {
        Self {
            shared,
            live,
            series: SeriesBuilder::new(LAG_BUCKET.as_secs_f64() * 1e3, &[("lag_max_ms", Merge::Max)]),
            bucket_start_ns: 0,
            window_start_ns: 0,
            window_end_ns: 0,
        }
    }

    pub(crate) fn start(&mut self, now_ns: u64) {
        self.window_start_ns = now_ns;
        self.bucket_start_ns = now_ns;
        self.shared.take_longest_polls();
    }

    pub(crate) fn sample(&mut self, now_ns: u64) {
        if now_ns >= self.bucket_start_ns + LAG_BUCKET.as_nanos() as u64 {
            self.close_bucket(now_ns);
        }
    }

    fn close_bucket(&mut self, now_ns: u64) {
        let t_ms = (self.bucket_start_ns - self.window_start_ns) as f64 / 1e6;
        let longest_ns = self.shared.take_longest_polls();
        self.series.push(t_ms, &[longest_ns as f64 / 1e6]);
        if let Some(live) = &self.live {
            live.record_longest_poll(longest_ns);
        }
        self.bucket_start_ns = now_ns;
    }

    pub(crate) fn end(&mut self, now_ns: u64) {
        if now_ns > self.bucket_start_ns {
            self.close_bucket(now_ns);
        }
        self.window_end_ns = now_ns;
    }

    /// Everything the lag probe saw over the window.
    pub(crate) fn finish(self, slow_poll_threshold_ns: u64) -> LagOutcome {
        let workers = self.shared.slots.len();
        let window_ns = self.window_end_ns.saturating_sub(self.window_start_ns);
        let worker_time = window_ns as f64 * workers as f64;
        let hooked = self.shared.hooked();
        let instrumented = self.shared.take_reports();
        let all = hooked.then(|| self.shared.take_hook_reports());
        let tasks = all.as_ref().unwrap_or(&instrumented);
        LagOutcome {
            lag: lag_distribution(&tasks.poll_ns, worker_time),
            series: self.series.finish(),
            timer_lag_ns: self.shared.take_timer_lag(),
            slow_poll_threshold_ns,
            named: self.shared.take_named(),
            every_task: hooked,
            window_ns,
            workers,
            instrumented_poll_ns: instrumented.total_poll_ns,
            tasks: all.unwrap_or(instrumented),
        }
    }
}

/// The lag probe's figures.
#[derive(Debug)]
pub(crate) struct LagOutcome {
    /// The lag distribution computed from every poll's duration.
    pub(crate) lag: Option<LagDistribution>,
    pub(crate) series: super::series::TimeSeries,
    /// The polls the distribution is computed from: every task's (with poll hooks) or the
    /// instrumented tasks'.
    pub(crate) tasks: TaskLagReport,
    /// The classic sleep-1-ms probe's overshoot, ns.
    pub(crate) timer_lag_ns: Histogram<u64>,
    pub(crate) slow_poll_threshold_ns: u64,
    /// Instrumented tasks that were given a name, per name.
    pub(crate) named: indexmap::IndexMap<String, TaskLagReport>,
    /// Whether poll hooks timed every task's polls.
    pub(crate) every_task: bool,
    /// The window's length, ns, and the runtime's workers.
    pub(crate) window_ns: u64,
    pub(crate) workers: usize,
    /// Time inside instrumented polls, summed, ns.
    pub(crate) instrumented_poll_ns: u64,
}

/// The lag distribution implied by poll durations over `worker_time_ns` of worker time: how
/// long a task that became ready at a random moment would wait for a worker busy in a poll.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LagDistribution {
    /// Polls it is computed from.
    pub(crate) polls: u64,
    pub(crate) mean_ns: f64,
    pub(crate) stddev_ns: f64,
    pub(crate) p50_ns: f64,
    pub(crate) p90_ns: f64,
    pub(crate) p95_ns: f64,
    pub(crate) p99_ns: f64,
    pub(crate) p999_ns: f64,
    pub(crate) max_ns: f64,
}

/// Computes [`LagDistribution`] from a histogram of poll durations.
pub(crate) fn lag_distribution(polls: &Histogram<u64>, worker_time_ns: f64) -> Option<LagDistribution> {
    if polls.is_empty() || worker_time_ns <= 0.0 {
        return None;
    }
    let buckets: Vec<(f64, f64)> = polls
        .iter_recorded()
        .map(|value| {
            (
                polls.highest_equivalent(value.value_iterated_to()) as f64,
                value.count_at_value() as f64,
            )
        })
        .collect();
    // Time spent more than `x` into a poll, over all polls.
    let beyond = |x: f64| -> f64 { buckets.iter().map(|&(d, n)| n * (d - x).max(0.0)).sum() };
    let quantile = |q: f64| -> f64 {
        let allowed = (1.0 - q) * worker_time_ns;
        if beyond(0.0) <= allowed {
            return 0.0;
        }
        let (mut low, mut high) = (0.0, polls.max() as f64);
        for _ in 0..64 {
            let middle = (low + high) / 2.0;
            if beyond(middle) > allowed {
                low = middle;
            } else {
                high = middle;
            }
        }
        high
    };
    // Moments of the age: a poll of d contributes ∫₀ᵈ a da = d²/2 and ∫₀ᵈ a² da = d³/3.
    let first: f64 = buckets.iter().map(|&(d, n)| n * d * d / 2.0).sum::<f64>() / worker_time_ns;
    let second: f64 = buckets.iter().map(|&(d, n)| n * d * d * d / 3.0).sum::<f64>() / worker_time_ns;
    Some(LagDistribution {
        polls: polls.len(),
        mean_ns: first,
        stddev_ns: (second - first * first).max(0.0).sqrt(),
        p50_ns: quantile(0.50),
        p90_ns: quantile(0.90),
        p95_ns: quantile(0.95),
        p99_ns: quantile(0.99),
        p999_ns: quantile(0.999),
        max_ns: polls.max() as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_polls_are_kept_per_worker_and_reset_when_read() {
        let clock = Clock::start();
        let window = Arc::new(WindowState::default());
        let shared = LagShared::new(clock, window, 2, Duration::from_millis(1), false);
        let mut report = TaskLagReport::new();
        shared.record_poll(&mut report, 3_000);
        shared.record_poll(&mut report, 9_000);
        shared.record_poll(&mut report, 4_000);
        assert_eq!(shared.take_longest_polls(), 9_000);
        assert_eq!(shared.take_longest_polls(), 0);
        assert_eq!(report.poll_ns.len(), 3);
    }

    #[test]
    fn lag_distribution_is_time_weighted() {
        // One worker, 100 ms of time: one poll of 5 ms, the rest idle. 5 % of the time the
        // worker is inside that poll, at an age spread evenly over 0..5 ms.
        let mut polls = ns_histogram();
        polls.record(5_000_000).unwrap();
        let lag = lag_distribution(&polls, 100_000_000.0).unwrap();
        assert_eq!(lag.p50_ns, 0.0);
        assert_eq!(lag.p90_ns, 0.0);
        // 1 % of the time it is past 4 ms into the poll (the last 1 ms of 100).
        assert!((lag.p99_ns - 4_000_000.0).abs() < 10_000.0, "{}", lag.p99_ns);
        assert!((lag.p999_ns - 4_900_000.0).abs() < 10_000.0, "{}", lag.p999_ns);
        assert!((lag.max_ns - 5_000_000.0).abs() < 5_000.0);
        // Mean age: 5 ms² / 2 / 100 ms = 0.125 ms.
        assert!((lag.mean_ns - 125_000.0).abs() < 500.0, "{}", lag.mean_ns);
    }

    #[test]
    fn many_short_polls_make_little_lag() {
        let mut polls = ns_histogram();
        polls.record_n(10_000, 1_000).unwrap();
        let lag = lag_distribution(&polls, 1_000_000_000.0).unwrap();
        assert!(lag.p99_ns < 10_000.0, "{}", lag.p99_ns);
        assert_eq!(lag.polls, 1_000);
    }
}

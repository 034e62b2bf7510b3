//! Event-loop lag on a multi-threaded runtime.
//!
//! A sleeping "tick" task cannot see a blocked worker: on two workers it simply runs on the other
//! one. So every pipeline task is instrumented instead. Each poll marks its worker as busy since
//! the poll began, and a watchdog thread reads every worker's mark every millisecond: a sample is
//! "how long has this worker been stuck in the poll it is running?" (0 when it is between polls
//! or parked). Their distribution is the lag: the time a task that became ready at a random moment
//! would wait for that worker. A worker blocked for 5 ms shows samples up to 5 ms, whichever
//! worker the watchdog would otherwise have run on.
//!
//! The instrumentation also records each poll's duration (slow polls), and, through a waker
//! wrapper, the delay from a task's wake-up to its next poll. The classic tick task is kept for
//! comparison as `timer_lag`.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use hdrhistogram::Histogram;

use super::WindowState;
use crate::clock::Clock;
use crate::stats::{merge_into, ns_histogram};

static NEXT_RUN: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's watchdog slot: (run it belongs to, index).
    static SLOT: Cell<(u64, usize)> = const { Cell::new((0, usize::MAX)) };
}

/// State shared by the instrumented tasks, the watchdog and the tick task of one phase.
#[derive(Debug)]
pub(crate) struct LagShared {
    run: u64,
    clock: Clock,
    window: Arc<WindowState>,
    /// Per worker thread: when its current instrumented poll began (ns, at least 1), 0 if none.
    slots: Box<[AtomicU64]>,
    assigned: AtomicUsize,
    slow_poll_ns: u64,
    reports: Mutex<TaskLagReport>,
    timer_lag: Mutex<Histogram<u64>>,
}

/// What instrumented tasks recorded, merged.
#[derive(Debug)]
pub(crate) struct TaskLagReport {
    pub(crate) poll_ns: Histogram<u64>,
    pub(crate) schedule_ns: Histogram<u64>,
    pub(crate) slow_polls: u64,
    pub(crate) slow_poll_ns: u64,
}

impl TaskLagReport {
    fn new() -> Self {
        Self {
            poll_ns: ns_histogram(),
            schedule_ns: ns_histogram(),
            slow_polls: 0,
            slow_poll_ns: 0,
        }
    }

    fn merge(&mut self, other: &TaskLagReport) {
        merge_into(&mut self.poll_ns, &other.poll_ns);
        merge_into(&mut self.schedule_ns, &other.schedule_ns);
        self.slow_polls += other.slow_polls;
        self.slow_poll_ns += other.slow_poll_ns;
    }
}

impl LagShared {
    /// State for a runtime with `workers` worker threads.
    pub(crate) fn new(
        clock: Clock,
        window: Arc<WindowState>,
        workers: usize,
        slow_poll: Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            run: NEXT_RUN.fetch_add(1, Ordering::Relaxed),
            clock,
            window,
            slots: (0..workers.max(1)).map(|_| AtomicU64::new(0)).collect(),
            assigned: AtomicUsize::new(0),
            slow_poll_ns: slow_poll.as_nanos() as u64,
            reports: Mutex::new(TaskLagReport::new()),
            timer_lag: Mutex::new(ns_histogram()),
        })
    }

    /// This thread's slot, assigned on its first instrumented poll.
    fn slot(&self) -> Option<&AtomicU64> {
        let index = SLOT.with(|slot| {
            let (run, index) = slot.get();
            if run == self.run {
                return index;
            }
            let index = self.assigned.fetch_add(1, Ordering::Relaxed);
            slot.set((self.run, index));
            index
        });
        self.slots.get(index)
    }

    /// How long each worker has been in its current poll, ns (0 when idle).
    pub(crate) fn read_lags(&self, now_ns: u64, out: &mut Vec<u64>) {
        out.clear();
        let assigned = self.assigned.load(Ordering::Relaxed).min(self.slots.len());
        for slot in &self.slots[..assigned] {
            let started = slot.load(Ordering::Relaxed);
            out.push(if started == 0 {
                0
            } else {
                now_ns.saturating_sub(started)
            });
        }
    }

    pub(crate) fn take_reports(&self) -> TaskLagReport {
        std::mem::replace(
            &mut *self.reports.lock().expect("lag report lock"),
            TaskLagReport::new(),
        )
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
    Instrumented {
        inner: Box::pin(future),
        shared,
        stamp: None,
        last_poll_end_ns: 0,
        report: Some(TaskLagReport::new()),
    }
}

/// A future that times its inner future's polls.
pub(crate) struct Instrumented<F> {
    inner: Pin<Box<F>>,
    shared: Arc<LagShared>,
    stamp: Option<(Arc<WakeStamp>, Waker)>,
    last_poll_end_ns: u64,
    report: Option<TaskLagReport>,
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
        let measuring = this.shared.window.is_measuring();
        let report = this.report.as_mut().expect("present until completion");
        if measuring && woken != 0 {
            // A wake-up during the previous poll only starts counting when that poll ended.
            let ready_since = woken.max(this.last_poll_end_ns);
            report
                .schedule_ns
                .saturating_record(started.saturating_sub(ready_since));
        }
        let slot = this.shared.slot();
        if let Some(slot) = slot {
            slot.store(started, Ordering::Relaxed);
        }
        let output = this.inner.as_mut().poll(&mut Context::from_waker(waker));
        let ended = clock.now_ns();
        if let Some(slot) = slot {
            slot.store(0, Ordering::Relaxed);
        }
        this.last_poll_end_ns = ended;
        if measuring {
            let took = ended.saturating_sub(started);
            report.poll_ns.saturating_record(took);
            if took >= this.shared.slow_poll_ns {
                report.slow_polls += 1;
                report.slow_poll_ns += took;
            }
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

/// The watchdog's side: samples every worker's lag at each sampler tick.
#[derive(Debug)]
pub(crate) struct LagSampler {
    shared: Arc<LagShared>,
    pub(crate) lag_ns: Histogram<u64>,
    readings: Vec<u64>,
    series: super::series::SeriesBuilder,
    bucket_ns: u64,
    bucket_start_ns: u64,
    bucket_max_ns: u64,
    window_start_ns: u64,
}

/// Lag time-series resolution.
const LAG_BUCKET: Duration = Duration::from_millis(10);

impl LagSampler {
    pub(crate) fn new(shared: Arc<LagShared>) -> Self {
        Self {
            shared,
            lag_ns: ns_histogram(),
            readings: Vec::new(),
            series: super::series::SeriesBuilder::new(
                LAG_BUCKET.as_secs_f64() * 1e3,
                &[("lag_max_ms", super::series::Merge::Max)],
            ),
            bucket_ns: LAG_BUCKET.as_nanos() as u64,
            bucket_start_ns: 0,
            bucket_max_ns: 0,
            window_start_ns: 0,
        }
    }

    pub(crate) fn start(&mut self, now_ns: u64) {
        self.window_start_ns = now_ns;
        self.bucket_start_ns = now_ns;
    }

    pub(crate) fn sample(&mut self, now_ns: u64) {
        self.shared.read_lags(now_ns, &mut self.readings);
        for &lag in &self.readings {
            self.lag_ns.saturating_record(lag);
            self.bucket_max_ns = self.bucket_max_ns.max(lag);
        }
        if now_ns >= self.bucket_start_ns + self.bucket_ns {
            let t_ms = (self.bucket_start_ns - self.window_start_ns) as f64 / 1e6;
            self.series.push(t_ms, &[self.bucket_max_ns as f64 / 1e6]);
            self.bucket_start_ns = now_ns;
            self.bucket_max_ns = 0;
        }
    }

    pub(crate) fn finish(
        self,
    ) -> (
        Histogram<u64>,
        super::series::TimeSeries,
        TaskLagReport,
        Histogram<u64>,
    ) {
        let tasks = self.shared.take_reports();
        let timer = self.shared.take_timer_lag();
        (self.lag_ns, self.series.finish(), tasks, timer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_report_time_in_the_current_poll() {
        let clock = Clock::start();
        let window = Arc::new(WindowState::default());
        let shared = LagShared::new(clock, window, 2, Duration::from_millis(1));
        let slot = shared.slot().expect("first thread gets slot 0");
        slot.store(1_000, Ordering::Relaxed);
        let mut lags = Vec::new();
        shared.read_lags(6_000, &mut lags);
        assert_eq!(lags, vec![5_000]);
        slot.store(0, Ordering::Relaxed);
        shared.read_lags(9_000, &mut lags);
        assert_eq!(lags, vec![0]);
        let same = shared.slot().unwrap() as *const AtomicU64;
        assert_eq!(
            same, slot as *const AtomicU64,
            "a thread keeps its slot within a run"
        );
    }
}

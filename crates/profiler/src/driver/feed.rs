//! The feeder: pulls messages from the source and pushes them into the pipeline, flat out
//! (saturation) or on a fixed schedule (open loop). It is driven from a thread of its own, which
//! does the window's handshake and the drain. At a fixed rate the sending stays on that thread,
//! whose precise sleeps keep the schedule; at saturation it runs as a task on the pipeline's
//! runtime, as a socket-reading task does in a service (see [`PumpTask`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::length::Length;
use crate::pipeline::{AsyncSource, Batch, Downstream, Envelope};
use crate::probe::lag::{LagShared, instrument};
use crate::window::WindowState;

/// How messages are paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Pacing {
    /// As fast as the pipeline accepts them; latency is measured from creation.
    Saturation,
    /// Messages per second on a fixed schedule; latency is measured from each message's
    /// intended send time, so a stall cannot hide the messages it delayed.
    Rate(f64),
}

/// The feeder sleeps at least this long between wake-ups at high rates, emitting everything
/// that fell due meanwhile: at most 20,000 wake-ups a second, and at most this much of a
/// message's measured latency is the feeder's own granularity.
pub(crate) const FEED_TICK_NS: u64 = 50_000;

/// How long the feeder waits, at the start of the measured window, for the probes to read their
/// baselines before it sends the first measured message anyway.
pub(crate) const OPEN_LIMIT: Duration = Duration::from_secs(1);
/// How long the feeder waits, at the end of the window, for the measured messages still in the
/// pipeline to finish before the probes read the end anyway.
pub(crate) const DRAIN_LIMIT: Duration = Duration::from_secs(5);
/// How long the pipeline is kept whole for the probes to read the end of the window.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy)]
pub(crate) struct FeedPlan {
    pub(crate) warmup: Length,
    pub(crate) length: Length,
    pub(crate) pacing: Pacing,
    pub(crate) batch_size: usize,
    /// A burst of offered load (a `LoadBurst` fault) at a fixed rate: the rate times `factor`
    /// from `after` to `until`, both from the measured window's start.
    pub(crate) burst: Option<Burst>,
}

/// See [`FeedPlan::burst`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Burst {
    pub(crate) after: Duration,
    pub(crate) until: Duration,
    pub(crate) factor: f64,
}

/// The fixed-rate schedule as the feeder runs it, published when the measured window begins so
/// that the fault controller can count the messages due by any moment (the open-loop backlog
/// includes messages the feeder could not send yet).
#[derive(Debug, Default)]
pub(crate) struct DueCount {
    schedule: std::sync::OnceLock<(Vec<RateSegment>, u64)>,
    /// Every message the feeder generated, once it has stopped: nothing more is due.
    total: std::sync::OnceLock<u64>,
}

impl DueCount {
    /// Messages due by `now_ns` (run clock), warm-up included; `None` before the window began.
    pub(crate) fn due_by(&self, now_ns: u64) -> Option<u64> {
        let (segments, _) = self.schedule.get()?;
        let due = count_at(segments, now_ns);
        Some(self.total.get().map_or(due, |total| due.min(*total)))
    }

    /// The measured window's start on the schedule, ns; `None` before it began.
    pub(crate) fn window_start_ns(&self) -> Option<u64> {
        self.schedule.get().map(|(_, start)| *start)
    }
}

/// What the feeder sent.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FeedReport {
    pub(crate) warmup_messages: u64,
    pub(crate) measured_messages: u64,
    /// Start time (creation or intended) of the first measured message, ns since the epoch.
    pub(crate) first_measured_ns: Option<u64>,
    /// Whether the pipeline went away before everything was sent (a stage panicked).
    pub(crate) disconnected: bool,
    /// Whether the probes had not read their baselines within [`OPEN_LIMIT`], so that measured
    /// messages were sent before the window's probes had started.
    pub(crate) opened_late: bool,
    /// Messages still in the pipeline when the probes read the end of the window, because they
    /// had not finished within [`DRAIN_LIMIT`].
    pub(crate) unfinished_at_close: u64,
    /// Whether the source ended (an [`AsyncSource`] returned `None`) before the plan was done.
    pub(crate) source_ended: bool,
}

impl FeedReport {
    pub(crate) fn generated(&self) -> u64 {
        self.warmup_messages + self.measured_messages
    }
}

/// Where the feeder is in its plan.
struct Segment {
    measured: bool,
    length: Length,
    started_ns: u64,
    sent: u64,
}

impl Segment {
    fn remaining(&self, schedule_ns: u64) -> Option<u64> {
        match self.length {
            Length::Messages(count) => Some(count - self.sent).filter(|left| *left > 0),
            Length::Duration(span) => {
                let elapsed = schedule_ns.saturating_sub(self.started_ns);
                (elapsed < span.as_nanos() as u64).then_some(u64::MAX)
            }
        }
    }
}

pub(crate) async fn feed<Src>(
    source: Src,
    inlet: Downstream<Src::Item>,
    plan: FeedPlan,
    clock: Clock,
    window: &WindowState,
    (finished, due): (&AtomicU64, &DueCount),
    on_runtime: Option<PumpTask>,
) -> FeedReport
where
    Src: AsyncSource,
    Src::Item: Sync,
{
    let origin_ns = clock.now_ns();
    let mut pump = Pump {
        source,
        inlet,
        schedule: Schedule::new(plan.pacing, origin_ns),
        scheduled: 0,
        segment: Segment {
            measured: false,
            length: plan.warmup,
            started_ns: origin_ns,
            sent: 0,
        },
        plan,
        clock,
        report: FeedReport::default(),
        stopped: false,
    };
    loop {
        pump = match &on_runtime {
            Some(task) => task.run(pump).await,
            None => pump.run_segment().await,
        };
        if pump.stopped || pump.segment.measured {
            break;
        }
        // The handshake: no measured message is sent before the probes have read the start of
        // the window. The wait is the profiler's, not the pipeline's, so a fixed schedule
        // resumes after it instead of charging it to the first messages.
        let waiting = Instant::now();
        window.begin();
        pump.report.opened_late = !window.wait_opened(OPEN_LIMIT);
        pump.schedule.postpone(waiting.elapsed());
        let started_ns = pump.schedule.position(pump.scheduled, &pump.clock);
        if let Some(burst) = plan.burst {
            pump.schedule.add_burst(started_ns, burst);
        }
        if let Pacing::Rate(_) = plan.pacing {
            let _ = due.schedule.set((pump.schedule.segments.clone(), started_ns));
        }
        pump.segment = Segment {
            measured: true,
            length: plan.length,
            started_ns,
            sent: 0,
        };
    }
    let Pump {
        mut report, inlet, ..
    } = pump;
    let _ = due.total.set(report.generated());
    // The window ends when its last measured message has finished (messages leave the pipeline
    // in any order, so when all of them have), not when it was sent.
    if !report.disconnected {
        report.unfinished_at_close = wait_finished(finished, report.generated(), DRAIN_LIMIT);
    }
    window.end();
    // Dropping the inlet winds the pipeline down; the probes read the end of the window first.
    window.wait_closed(CLOSE_LIMIT);
    drop(inlet);
    report
}

/// Runs each segment's sending as a task on the pipeline's runtime instead of on the feeder's
/// own thread: at saturation the feed then shares the workers' cores with the stages, as a
/// socket-reading task does in a service, instead of a third thread contending for two cores and
/// parking and being woken for every batch (issue 19: about 40,000 context switches per million
/// messages). The feeder's thread still does the waiting between segments (the window's
/// handshake, the drain), which must not block a worker.
pub(crate) struct PumpTask {
    /// The lag probe's state, so the task's polls are timed like the stages'.
    pub(crate) lag: Option<Arc<LagShared>>,
}

impl PumpTask {
    async fn run<Src>(&self, pump: Pump<Src>) -> Pump<Src>
    where
        Src: AsyncSource,
        Src::Item: Sync,
    {
        let handle = match &self.lag {
            Some(lag) => tokio::spawn(instrument(pump.run_segment(), Arc::clone(lag))),
            None => tokio::spawn(pump.run_segment()),
        };
        match handle.await {
            Ok(pump) => pump,
            // The source or a stage's inlet panicked: the feeder fails as it would inline.
            Err(error) => match error.try_into_panic() {
                Ok(payload) => std::panic::resume_unwind(payload),
                Err(error) => panic!("the feed task was cancelled: {error}"),
            },
        }
    }
}

/// The feeder's sending side: the source, the first stage's inlet and where the plan stands.
/// It moves into a runtime task for a segment and back (see [`PumpTask`]).
struct Pump<Src: AsyncSource> {
    source: Src,
    inlet: Downstream<Src::Item>,
    schedule: Schedule,
    /// Messages generated on the fixed-rate schedule so far.
    scheduled: u64,
    segment: Segment,
    plan: FeedPlan,
    clock: Clock,
    report: FeedReport,
    /// The source ended or the pipeline went away: nothing more is sent.
    stopped: bool,
}

impl<Src> Pump<Src>
where
    Src: AsyncSource,
    Src::Item: Sync,
{
    /// Sends the current segment's batches until it is complete (or the source ends, or the
    /// pipeline goes away).
    async fn run_segment(mut self) -> Self {
        let plan = self.plan;
        loop {
            let schedule_ns = self.schedule.position(self.scheduled, &self.clock);
            let Some(remaining) = self.segment.remaining(schedule_ns) else {
                return self;
            };
            let want = remaining.min(plan.batch_size as u64) as usize;
            let mut items = Vec::with_capacity(want);
            match plan.pacing {
                Pacing::Saturation => {
                    for _ in 0..want {
                        let Some(item) = self.source.next_message().await else {
                            self.report.source_ended = true;
                            break;
                        };
                        items.push(Envelope { start_ns: 0, item });
                    }
                    // Stamped when the batch is complete: the moment it enters the pipeline.
                    let created_ns = self.clock.now_ns();
                    for envelope in &mut items {
                        envelope.start_ns = created_ns;
                    }
                }
                Pacing::Rate(_) => {
                    let due_ns = self.schedule.intended_ns(self.scheduled);
                    let now_ns = self.clock.now_ns();
                    if due_ns > now_ns {
                        sleep_until(&self.clock, due_ns.max(now_ns + FEED_TICK_NS));
                    }
                    let now_ns = self.clock.now_ns();
                    while items.len() < want {
                        let intended = self.schedule.intended_ns(self.scheduled);
                        if intended > now_ns {
                            break;
                        }
                        let Some(item) = self.source.next_message().await else {
                            self.report.source_ended = true;
                            break;
                        };
                        items.push(Envelope {
                            start_ns: intended,
                            item,
                        });
                        self.scheduled += 1;
                    }
                }
            }
            let count = items.len() as u64;
            if count == 0 {
                // Only an ended source sends nothing: a due batch holds at least one message.
                self.stopped = true;
                return self;
            }
            if self.segment.measured {
                self.report.measured_messages += count;
                self.report.first_measured_ns.get_or_insert(items[0].start_ns);
            } else {
                self.report.warmup_messages += count;
            }
            self.segment.sent += count;
            let batch = Batch {
                measured: self.segment.measured,
                items,
            };
            if self.inlet.push(batch).await.is_err() {
                self.report.disconnected = true;
                self.stopped = true;
                return self;
            }
            if plan.pacing == Pacing::Saturation && self.inlet.is_terminal() {
                // With no stage, nothing ever makes the feed wait: without this it would keep
                // its worker until the segment ends and starve the subscriber tasks (with one
                // worker they got 16,384 of 420,000 deliveries). A stage's bounded channel does
                // the same by itself, and tokio's budget bounds a poll that finds room.
                tokio::task::yield_now().await;
            }
        }
    }
}

/// Waits (at most `limit`) until `target` messages have left the pipeline; how many had not.
fn wait_finished(finished: &AtomicU64, target: u64, limit: Duration) -> u64 {
    let deadline = Instant::now() + limit;
    loop {
        let left = target.saturating_sub(finished.load(Ordering::Acquire));
        if left == 0 || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// A stretch of the fixed-rate schedule at one rate: message `n` of it is due at
/// `start_ns + (n - first) / rate`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RateSegment {
    start_ns: u64,
    /// The number of the stretch's first message.
    first: f64,
    /// Messages per second.
    rate: f64,
}

/// Messages due by `now_ns` on `segments`.
fn count_at(segments: &[RateSegment], now_ns: u64) -> u64 {
    let Some(segment) = segments.iter().rev().find(|segment| segment.start_ns <= now_ns) else {
        return 0;
    };
    (segment.first + (now_ns - segment.start_ns) as f64 * segment.rate / 1e9).floor() as u64 + 1
}

/// The feeder's schedule: flat out, or message `n` due at `origin + n / rate` (with a burst,
/// piecewise: see [`Schedule::add_burst`]).
struct Schedule {
    pacing: Pacing,
    origin_ns: u64,
    /// At a fixed rate, the stretches of the schedule in order; the first starts at the origin.
    segments: Vec<RateSegment>,
}

impl Schedule {
    fn new(pacing: Pacing, origin_ns: u64) -> Self {
        let segments = match pacing {
            Pacing::Rate(rate) => vec![RateSegment {
                start_ns: origin_ns,
                first: 0.0,
                rate,
            }],
            Pacing::Saturation => Vec::new(),
        };
        Self {
            pacing,
            origin_ns,
            segments,
        }
    }

    /// Moves the rest of the schedule `by` later (a pause that is not the pipeline's).
    fn postpone(&mut self, by: Duration) {
        if let Pacing::Rate(_) = self.pacing {
            self.origin_ns += by.as_nanos() as u64;
            for segment in &mut self.segments {
                segment.start_ns += by.as_nanos() as u64;
            }
        }
    }

    /// The rate times `burst.factor` from `burst.after` to `burst.until` after `window_ns`.
    fn add_burst(&mut self, window_ns: u64, burst: Burst) {
        let Pacing::Rate(rate) = self.pacing else {
            return;
        };
        let at = |offset: Duration| window_ns + offset.as_nanos() as u64;
        // Where message numbering stands at a moment of the current (last) stretch.
        let first_at = |segments: &[RateSegment], when: u64| {
            let last = segments[segments.len() - 1];
            last.first + when.saturating_sub(last.start_ns) as f64 * last.rate / 1e9
        };
        let (from, to) = (at(burst.after), at(burst.until.max(burst.after)));
        let first = first_at(&self.segments, from);
        self.segments.push(RateSegment {
            start_ns: from,
            first,
            rate: rate * burst.factor,
        });
        let first = first_at(&self.segments, to);
        self.segments.push(RateSegment {
            start_ns: to,
            first,
            rate,
        });
    }

    fn intended_ns(&self, message: u64) -> u64 {
        match self.pacing {
            Pacing::Saturation => self.origin_ns,
            // Computed from the stretch's start every time, so rounding never accumulates into
            // drift.
            Pacing::Rate(_) => {
                let n = message as f64;
                let segment = self
                    .segments
                    .iter()
                    .rev()
                    .find(|segment| segment.first <= n)
                    .unwrap_or(&self.segments[0]);
                segment.start_ns + ((n - segment.first) * 1e9 / segment.rate) as u64
            }
        }
    }

    /// Where the run is for deciding when a timed segment ends: the wall clock at saturation,
    /// the schedule at a fixed rate (a segment holds exactly its share of scheduled messages).
    fn position(&self, scheduled: u64, clock: &Clock) -> u64 {
        match self.pacing {
            Pacing::Saturation => clock.now_ns(),
            Pacing::Rate(_) => self.intended_ns(scheduled),
        }
    }
}

fn sleep_until(clock: &Clock, target_ns: u64) {
    let now_ns = clock.now_ns();
    if target_ns > now_ns {
        std::thread::sleep(Duration::from_nanos(target_ns - now_ns));
    }
}

/// Asks the kernel to wake this thread's sleeps within 1 µs of their deadline instead of the
/// default 50 µs slack, for an accurate schedule; restores the old slack when dropped.
pub(crate) struct TightTimerSlack {
    #[cfg(target_os = "linux")]
    previous: libc::c_ulong,
}

impl TightTimerSlack {
    pub(crate) fn set() -> Self {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: PR_GET_TIMERSLACK/PR_SET_TIMERSLACK only read or set a number on the
            // calling thread; they take no pointers.
            let previous = unsafe { libc::prctl(libc::PR_GET_TIMERSLACK, 0, 0, 0, 0) };
            unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1_000 as libc::c_ulong, 0, 0, 0) };
            Self {
                previous: previous.max(1) as libc::c_ulong,
            }
        }
        #[cfg(not(target_os = "linux"))]
        Self {}
    }
}

impl Drop for TightTimerSlack {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        // SAFETY: as in `set`.
        unsafe {
            libc::prctl(libc::PR_SET_TIMERSLACK, self.previous, 0, 0, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_spaces_messages_by_the_rate_without_drift() {
        let schedule = Schedule::new(Pacing::Rate(3.0), 1_000);
        assert_eq!(schedule.intended_ns(0), 1_000);
        assert_eq!(schedule.intended_ns(1), 1_000 + 333_333_333);
        assert_eq!(schedule.intended_ns(3), 1_000 + 1_000_000_000);
        assert_eq!(
            schedule.intended_ns(3_000_000_000),
            1_000 + 1_000_000_000_000_000_000
        );
    }

    #[test]
    fn a_burst_triples_the_rate_for_its_stretch_then_returns() {
        let mut schedule = Schedule::new(Pacing::Rate(1_000.0), 0);
        // The window begins at 1 s (message 1,000); the burst from 2 s to 3 s after it.
        schedule.add_burst(
            1_000_000_000,
            Burst {
                after: Duration::from_secs(2),
                until: Duration::from_secs(3),
                factor: 3.0,
            },
        );
        let second = 1_000_000_000;
        assert_eq!(schedule.intended_ns(1_000), second);
        assert_eq!(
            schedule.intended_ns(3_000),
            3 * second,
            "1,000 msg/s until the burst"
        );
        assert_eq!(
            schedule.intended_ns(3_003),
            3 * second + 1_000_000,
            "3,000 msg/s in it"
        );
        assert_eq!(
            schedule.intended_ns(6_000),
            4 * second,
            "3,000 messages in its second"
        );
        assert_eq!(schedule.intended_ns(7_000), 5 * second, "1,000 msg/s after it");
        // The count the controller reads agrees with the schedule.
        assert_eq!(count_at(&schedule.segments, 3 * second), 3_001);
        assert_eq!(count_at(&schedule.segments, 4 * second), 6_001);
        assert_eq!(count_at(&schedule.segments, 5 * second), 7_001);
        // A pause moves every stretch.
        schedule.postpone(Duration::from_millis(1));
        assert_eq!(schedule.intended_ns(7_000), 5 * second + 1_000_000);
    }

    #[test]
    fn message_segments_end_after_their_count() {
        let mut segment = Segment {
            measured: true,
            length: Length::Messages(10),
            started_ns: 0,
            sent: 4,
        };
        assert_eq!(segment.remaining(0), Some(6));
        segment.sent = 10;
        assert_eq!(segment.remaining(0), None);
    }

    #[test]
    fn timed_segments_end_at_their_deadline() {
        let segment = Segment {
            measured: true,
            length: Length::Duration(Duration::from_millis(5)),
            started_ns: 1_000_000,
            sent: 0,
        };
        assert!(segment.remaining(5_999_999).is_some());
        assert_eq!(segment.remaining(6_000_000), None);
    }
}

//! The loops that run inside tokio tasks: one per stage worker and one per subscriber. They do
//! the measuring that must happen next to the work: per-message service time, error counts,
//! queue accounting, lag of subscriber deliveries.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use hdrhistogram::Histogram;
use tokio::sync::mpsc;

use super::batch::{Batch, Envelope, ErrorTally};
use super::downstream::Downstream;
use super::stage::{Counter, Stage, Subscriber};
use super::terminal::{Delivery, TerminalReport};
use crate::clock::Clock;
use crate::error::panic_message;
use crate::faults::FaultSwitches;
use crate::live_sink::LiveSink;
use crate::stats::ns_histogram;

/// What a worker needs besides its stage and channels.
pub(crate) struct WorkerContext {
    pub(crate) stage_index: usize,
    pub(crate) clock: Clock,
    /// The stage's queued-messages gauge, decremented as batches are taken.
    pub(crate) queued: Arc<AtomicU64>,
    /// Messages that left the pipeline (progress).
    pub(crate) finished: Arc<AtomicU64>,
    /// This worker's index within its stage.
    pub(crate) worker: usize,
    /// The switches of a fault being injected, if the phase has one.
    pub(crate) faults: Option<Arc<FaultSwitches>>,
    /// Where rejected messages are also counted as they happen, if the run has a live sink.
    pub(crate) live: Option<Arc<dyn LiveSink>>,
}

/// The error kind of a message whose processing panicked.
pub(crate) const PANIC_KIND: &str = "panic";
/// The error kind of a message an injected error burst rejected.
pub(crate) const INJECTED_KIND: &str = "injected_fault";
/// An injected slowdown is awaited once its debt reaches this (tokio's timer is millisecond
/// grained): the stage runs at 1 / factor of its speed on average, as a slow dependency would.
const SLOW_DEBT_NS: u64 = 1_000_000;

/// What one stage worker did, returned when its input closes.
#[derive(Debug)]
pub(crate) struct WorkerReport {
    pub(crate) stage_index: usize,
    /// Messages the stage passed on (for the last stage: finished).
    pub(crate) processed: u64,
    pub(crate) errors: ErrorTally,
    /// Per-message service time over measured batches, ns. A batch's time is spread evenly
    /// over its messages: one clock read per batch instead of two per message.
    pub(crate) service_ns: Histogram<u64>,
    /// Time spent processing measured batches, ns.
    pub(crate) busy_ns: u64,
    /// When a measured message last finished here (rejected, or completed by the last stage).
    pub(crate) last_measured_ns: u64,
    pub(crate) counters: Vec<Counter>,
    pub(crate) terminal: Option<TerminalReport>,
    /// Panics caught in the stage (each replaced the stage), and the first one's message.
    pub(crate) panics: u64,
    pub(crate) first_panic: Option<String>,
}

/// Runs one worker of a stage. `rebuild` makes a fresh stage when the current one panics: the
/// message it panicked on counts as an error of kind [`PANIC_KIND`] (never lost), and the new
/// stage takes the next (its state, if it keeps any, starts over — as under a supervisor that
/// restarts a crashed task).
pub(crate) async fn run_worker<In, S>(
    mut stage: S,
    rebuild: impl Fn() -> S + Send,
    mut input: mpsc::Receiver<Batch<In>>,
    mut downstream: Downstream<S::Out>,
    context: WorkerContext,
) -> WorkerReport
where
    In: Send + 'static,
    S: Stage<In>,
    S::Out: Sync,
{
    let clock = context.clock;
    let terminal = downstream.is_terminal();
    let mut report = WorkerReport {
        stage_index: context.stage_index,
        processed: 0,
        errors: ErrorTally::default(),
        service_ns: ns_histogram(),
        busy_ns: 0,
        last_measured_ns: 0,
        counters: Vec::new(),
        terminal: None,
        panics: 0,
        first_panic: None,
    };
    let faults = context.faults.clone();
    let stage_index = context.stage_index;
    // Messages this worker took, for the fault's choices; and the slowdown not yet awaited.
    let mut taken: u64 = 0;
    let mut slow_debt_ns: u64 = 0;
    while let Some(batch) = input.recv().await {
        let count = batch.items.len();
        context.queued.fetch_sub(count as u64, Ordering::Relaxed);
        let measured = batch.measured;
        let started_ns = clock.now_ns();
        let mut output = Vec::with_capacity(count);
        let mut rejected = 0u64;
        let faulty = faults.as_ref().filter(|faults| faults.any());
        // One unwind guard per batch, not per message: the stage's future inlines into this
        // loop. A panic ends the guarded loop at the message it panicked on; that message
        // counts as an error, the stage is replaced and the loop resumes with the next one.
        let mut items = batch.items.into_iter();
        loop {
            let guarded = AssertUnwindSafe(async {
                for envelope in items.by_ref() {
                    taken += 1;
                    if let Some(faults) = faulty {
                        if faults.rejects(stage_index, context.worker, taken) {
                            report.errors.add(INJECTED_KIND.into(), 1);
                            rejected += 1;
                            continue;
                        }
                        if faults.take_panic(stage_index) {
                            // The injected panic takes the path of a stage's own after the
                            // unwinding (which a real panic's test covers), without printing one
                            // to stderr.
                            note_panic(&mut report, &"injected panic (chaos: stage_panic)");
                            stage = rebuild();
                            rejected += 1;
                            continue;
                        }
                    }
                    match stage.process(envelope.item).await {
                        Ok(item) => output.push(Envelope {
                            start_ns: envelope.start_ns,
                            item,
                        }),
                        Err(error) => {
                            report.errors.add(error.into_kind(), 1);
                            rejected += 1;
                        }
                    }
                }
            })
            .catch_unwind()
            .await;
            match guarded {
                Ok(()) => break,
                Err(payload) => {
                    note_panic(&mut report, &*payload);
                    stage = rebuild();
                    rejected += 1;
                }
            }
        }
        report.processed += output.len() as u64;
        let output = Batch {
            measured,
            items: output,
        };
        // The last stage's work includes handing results to subscribers, which never blocks;
        // other stages stop the clock before a send that may wait for a full channel.
        let sent_early = if terminal {
            let _ = downstream.push(output).await;
            None
        } else {
            Some(output)
        };
        // An injected slowdown: the batch takes `factor` times as long, the extra awaited.
        if let Some(faults) = faulty {
            let factor = faults.slow_factor(stage_index);
            if factor > 1.0 {
                let spent = clock.now_ns().saturating_sub(started_ns);
                slow_debt_ns += (spent as f64 * (factor - 1.0)) as u64;
                if slow_debt_ns >= SLOW_DEBT_NS {
                    let before = clock.now_ns();
                    tokio::time::sleep(Duration::from_nanos(slow_debt_ns)).await;
                    slow_debt_ns = slow_debt_ns.saturating_sub(clock.now_ns().saturating_sub(before));
                }
            }
        }
        let ended_ns = clock.now_ns();
        if measured && count > 0 {
            let elapsed = ended_ns.saturating_sub(started_ns);
            report
                .service_ns
                .saturating_record_n(elapsed / count as u64, count as u64);
            report.busy_ns += elapsed;
            if rejected > 0 || terminal {
                report.last_measured_ns = ended_ns;
            }
        }
        if rejected > 0 {
            context.finished.fetch_add(rejected, Ordering::Relaxed);
            if let Some(live) = &context.live {
                live.record_errors(rejected);
            }
        }
        if let Some(output) = sent_early
            && downstream.push(output).await.is_err()
        {
            break;
        }
    }
    report.counters = stage.counters();
    report.terminal = downstream.finish();
    report
}

/// Counts a caught panic in `report`, keeping the first message.
fn note_panic(report: &mut WorkerReport, payload: &(dyn std::any::Any + Send)) {
    report.errors.add(PANIC_KIND.into(), 1);
    report.panics += 1;
    report.first_panic.get_or_insert_with(|| panic_message(payload));
}

/// Most deliveries a subscriber takes from its queue per wake-up.
const SUBSCRIBER_DRAIN: usize = 16;

/// What one subscriber received.
#[derive(Debug, Clone, Default)]
pub(crate) struct SubscriberReport {
    pub(crate) delivered: u64,
    /// Deliveries that waited in the subscriber's queue longer than the lag threshold.
    pub(crate) lagged: u64,
    pub(crate) slow: bool,
    /// Deliveries lost from its queue when an injected stall ended in a disconnect.
    pub(crate) lost: u64,
}

/// How long a stalled subscriber sleeps between looks at its fault switch.
const STALL_POLL: Duration = Duration::from_millis(1);

pub(crate) async fn run_subscriber<T, S>(
    mut subscriber: S,
    mut queue: mpsc::Receiver<Delivery<T>>,
    clock: Clock,
    slow: Option<Duration>,
    lag_threshold_ns: u64,
    (index, faults): (usize, Option<Arc<FaultSwitches>>),
) -> SubscriberReport
where
    T: Send + Sync + 'static,
    S: Subscriber<T>,
{
    let mut report = SubscriberReport {
        slow: slow.is_some(),
        ..SubscriberReport::default()
    };
    // Everything already queued is taken in one wake-up: a subscriber that fell behind
    // catches up without paying the scheduler once per batch.
    let mut deliveries = Vec::with_capacity(SUBSCRIBER_DRAIN);
    let mut reconnects = 0;
    loop {
        if let Some(faults) = &faults {
            // Stalled: take nothing, so the queue fills and the fan-out drops for this
            // subscriber alone (until the pipeline closes).
            if faults.is_stalled(index) && !queue.is_closed() {
                tokio::time::sleep(STALL_POLL).await;
                continue;
            }
            // The stall ended in a disconnect: what was queued is lost, then it reconnects.
            let now = faults.reconnects(index);
            if now != reconnects {
                reconnects = now;
                while let Ok(delivery) = queue.try_recv() {
                    report.lost += delivery.items.len() as u64;
                }
            }
        }
        if queue.recv_many(&mut deliveries, SUBSCRIBER_DRAIN).await == 0 {
            break;
        }
        for delivery in deliveries.drain(..) {
            let count = delivery.items.len() as u64;
            if clock.now_ns().saturating_sub(delivery.enqueued_ns) > lag_threshold_ns {
                report.lagged += count;
            }
            subscriber.deliver(&delivery.items).await;
            report.delivered += count;
            if let Some(pause) = slow {
                tokio::time::sleep(pause).await;
            }
        }
    }
    report
}

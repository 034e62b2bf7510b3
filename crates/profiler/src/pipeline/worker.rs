//! The loops that run inside tokio tasks: one per stage worker and one per subscriber. They do
//! the measuring that must happen next to the work: per-message service time, error counts,
//! queue accounting, lag of subscriber deliveries.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::sync::mpsc;

use super::batch::{Batch, Envelope, ErrorTally};
use super::downstream::Downstream;
use super::stage::{Counter, Stage, Subscriber};
use super::terminal::{Delivery, TerminalReport};
use crate::clock::Clock;
use crate::stats::ns_histogram;

/// What a worker needs besides its stage and channels.
pub(crate) struct WorkerContext {
    pub(crate) stage_index: usize,
    pub(crate) clock: Clock,
    /// The stage's queued-messages gauge, decremented as batches are taken.
    pub(crate) queued: Arc<AtomicU64>,
    /// Messages that left the pipeline (progress).
    pub(crate) finished: Arc<AtomicU64>,
}

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
}

pub(crate) async fn run_worker<In, S>(
    mut stage: S,
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
    };
    while let Some(batch) = input.recv().await {
        let count = batch.items.len();
        context.queued.fetch_sub(count as u64, Ordering::Relaxed);
        let measured = batch.measured;
        let started_ns = clock.now_ns();
        let mut output = Vec::with_capacity(count);
        let mut rejected = 0u64;
        for envelope in batch.items {
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

/// Most deliveries a subscriber takes from its queue per wake-up.
const SUBSCRIBER_DRAIN: usize = 16;

/// What one subscriber received.
#[derive(Debug, Clone, Default)]
pub(crate) struct SubscriberReport {
    pub(crate) delivered: u64,
    /// Deliveries that waited in the subscriber's queue longer than the lag threshold.
    pub(crate) lagged: u64,
    pub(crate) slow: bool,
}

pub(crate) async fn run_subscriber<T, S>(
    mut subscriber: S,
    mut queue: mpsc::Receiver<Delivery<T>>,
    clock: Clock,
    slow: Option<Duration>,
    lag_threshold_ns: u64,
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
    while queue.recv_many(&mut deliveries, SUBSCRIBER_DRAIN).await > 0 {
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

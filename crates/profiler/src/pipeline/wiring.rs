//! How stages are connected at run time: bounded channels between stage workers, routing by key
//! or round robin, and the terminal that records end-to-end latency and fans out to subscribers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::batch::{Batch, Envelope};
use super::worker::{SubscriberReport, WorkerReport, run_subscriber};
use super::{Subscriber, WorkerInfo};
use crate::clock::Clock;
use crate::probe::lag::{LagShared, instrument};
use crate::stats::ns_histogram;

/// Maps a message to the key that picks its worker in a keyed stage.
pub(crate) type KeyFn<T> = Arc<dyn Fn(&T) -> u64 + Send + Sync>;

/// The run-time shape of the pipeline: sizes and fault injection, resolved from the run config.
#[derive(Debug, Clone)]
pub(crate) struct WiringSettings {
    /// Messages per batch.
    pub(crate) batch_size: usize,
    /// Batches each stage worker's input channel holds.
    pub(crate) channel_batches: usize,
    /// Batches each subscriber's queue holds before deliveries to it are dropped.
    pub(crate) subscriber_batches: usize,
    /// How many of the subscribers (the last ones) are artificially slow.
    pub(crate) slow_subscribers: usize,
    /// How long a slow subscriber pauses after each batch.
    pub(crate) slow_delay: Duration,
    /// A delivery that waited longer than this in a subscriber's queue counts as lagged.
    pub(crate) lag_threshold_ns: u64,
    /// Workers per stage name; stages not named get one.
    pub(crate) workers: BTreeMap<String, usize>,
}

impl WiringSettings {
    fn workers_for(&self, stage: &str) -> usize {
        self.workers.get(stage).copied().unwrap_or(1)
    }
}

/// What the driver needs to know about one installed stage.
#[derive(Debug)]
pub(crate) struct StageMeta {
    pub(crate) index: usize,
    pub(crate) name: String,
    pub(crate) workers: usize,
    /// Messages waiting in the stage's input channels.
    pub(crate) queued: Arc<AtomicU64>,
    /// Messages the stage's input channels can hold when batches are full.
    pub(crate) capacity_messages: usize,
}

/// Collects everything spawned while a pipeline is installed.
#[derive(Debug)]
pub(crate) struct Wiring {
    pub(crate) clock: Clock,
    pub(crate) settings: WiringSettings,
    pub(crate) stages: Vec<StageMeta>,
    pub(crate) workers: Vec<JoinHandle<WorkerReport>>,
    pub(crate) subscribers: Vec<JoinHandle<SubscriberReport>>,
    /// Messages that left the pipeline, processed or rejected: the progress counter.
    pub(crate) finished: Arc<AtomicU64>,
    /// When the lag probe runs, every task is instrumented for it.
    lag: Option<Arc<LagShared>>,
}

impl Wiring {
    pub(crate) fn new(clock: Clock, settings: WiringSettings, lag: Option<Arc<LagShared>>) -> Self {
        Self {
            clock,
            settings,
            stages: Vec::new(),
            workers: Vec::new(),
            subscribers: Vec::new(),
            finished: Arc::new(AtomicU64::new(0)),
            lag,
        }
    }

    /// Spawns a pipeline task, instrumented when the lag probe runs.
    fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.lag {
            Some(lag) => tokio::spawn(instrument(task, Arc::clone(lag))),
            None => tokio::spawn(task),
        }
    }

    /// Spawns the workers of one stage, each feeding `downstream`, and returns the inlet that
    /// feeds them. Must run inside the tokio runtime.
    pub(crate) fn install_stage<In, S, F>(
        &mut self,
        index: usize,
        name: &str,
        factory: &F,
        key: Option<KeyFn<In>>,
        downstream: Downstream<S::Out>,
    ) -> Downstream<In>
    where
        In: Send + 'static,
        S: super::Stage<In>,
        S::Out: Sync,
        F: Fn(WorkerInfo) -> S,
    {
        let workers = self.settings.workers_for(name);
        let queued = Arc::new(AtomicU64::new(0));
        let mut senders = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (tx, rx) = mpsc::channel(self.settings.channel_batches);
            senders.push(tx);
            let stage = factory(WorkerInfo {
                index: worker,
                count: workers,
            });
            let context = super::worker::WorkerContext {
                stage_index: index,
                clock: self.clock.clone(),
                queued: Arc::clone(&queued),
                finished: Arc::clone(&self.finished),
            };
            let task = self.spawn(super::worker::run_worker(stage, rx, downstream.fork(), context));
            self.workers.push(task);
        }
        self.stages.push(StageMeta {
            index,
            name: name.to_owned(),
            workers,
            queued: Arc::clone(&queued),
            capacity_messages: self.settings.channel_batches * self.settings.batch_size * workers,
        });
        Downstream::Stage(StageInlet {
            senders,
            key,
            queued,
            next: 0,
        })
    }

    /// Spawns one task per subscriber and returns the terminal that feeds them.
    pub(crate) fn install_terminal<T, Sub, F>(&mut self, subscribers: usize, factory: &F) -> Downstream<T>
    where
        T: Send + Sync + 'static,
        Sub: Subscriber<T>,
        F: Fn(usize) -> Sub,
    {
        let slow_from = subscribers.saturating_sub(self.settings.slow_subscribers);
        let mut senders = Vec::with_capacity(subscribers);
        for index in 0..subscribers {
            let (tx, rx) = mpsc::channel(self.settings.subscriber_batches);
            senders.push(tx);
            let slow = (index >= slow_from).then_some(self.settings.slow_delay);
            let task = self.spawn(run_subscriber(
                factory(index),
                rx,
                self.clock.clone(),
                slow,
                self.settings.lag_threshold_ns,
            ));
            self.subscribers.push(task);
        }
        Downstream::Terminal(Terminal::new(
            senders,
            self.clock.clone(),
            Arc::clone(&self.finished),
        ))
    }
}

/// Where a stage worker sends its output: the next stage, or the end of the pipeline.
pub(crate) enum Downstream<T> {
    Stage(StageInlet<T>),
    Terminal(Terminal<T>),
}

impl<T: Send + Sync + 'static> Downstream<T> {
    /// A copy for one more upstream worker: same channels, its own counters.
    pub(crate) fn fork(&self) -> Self {
        match self {
            Downstream::Stage(inlet) => Downstream::Stage(inlet.fork()),
            Downstream::Terminal(terminal) => Downstream::Terminal(terminal.fork()),
        }
    }

    pub(crate) fn is_terminal(&self) -> bool {
        matches!(self, Downstream::Terminal(_))
    }

    /// Hands a batch on. Waits while the next stage's channel is full (backpressure); the
    /// terminal never waits. Fails only when the next stage has gone away.
    pub(crate) async fn push(&mut self, batch: Batch<T>) -> Result<(), Disconnected> {
        match self {
            Downstream::Stage(inlet) => inlet.send(batch).await,
            Downstream::Terminal(terminal) => {
                terminal.accept(batch);
                Ok(())
            }
        }
    }

    /// The terminal's figures, if this is the terminal.
    pub(crate) fn finish(self) -> Option<TerminalReport> {
        match self {
            Downstream::Stage(_) => None,
            Downstream::Terminal(terminal) => Some(terminal.finish()),
        }
    }
}

/// The next stage went away (its worker ended early, e.g. by panicking).
#[derive(Debug)]
pub(crate) struct Disconnected;

/// The input side of a stage: one channel per worker.
pub(crate) struct StageInlet<T> {
    senders: Vec<mpsc::Sender<Batch<T>>>,
    key: Option<KeyFn<T>>,
    queued: Arc<AtomicU64>,
    next: usize,
}

impl<T> StageInlet<T> {
    fn fork(&self) -> Self {
        Self {
            senders: self.senders.clone(),
            key: self.key.clone(),
            queued: Arc::clone(&self.queued),
            next: 0,
        }
    }

    async fn send(&mut self, batch: Batch<T>) -> Result<(), Disconnected> {
        if batch.items.is_empty() {
            return Ok(());
        }
        let workers = self.senders.len();
        if workers == 1 {
            return send_one(&self.senders[0], &self.queued, batch).await;
        }
        let Some(key) = &self.key else {
            // Unkeyed stages with several workers take whole batches in turn.
            let target = self.next;
            self.next = (self.next + 1) % workers;
            return send_one(&self.senders[target], &self.queued, batch).await;
        };
        let mut parts: Vec<Vec<Envelope<T>>> = (0..workers)
            .map(|_| Vec::with_capacity(batch.items.len() / workers + 1))
            .collect();
        for envelope in batch.items {
            parts[partition(key(&envelope.item), workers)].push(envelope);
        }
        for (sender, items) in self.senders.iter().zip(parts) {
            if !items.is_empty() {
                let part = Batch {
                    measured: batch.measured,
                    items,
                };
                send_one(sender, &self.queued, part).await?;
            }
        }
        Ok(())
    }
}

async fn send_one<T>(
    sender: &mpsc::Sender<Batch<T>>,
    queued: &AtomicU64,
    batch: Batch<T>,
) -> Result<(), Disconnected> {
    // Wait for room first, so the gauge counts only messages actually queued; count before
    // the send completes, so the receiver's decrement can never run first.
    let permit = sender.reserve().await.map_err(|_| Disconnected)?;
    queued.fetch_add(batch.items.len() as u64, Ordering::Relaxed);
    permit.send(batch);
    Ok(())
}

/// Picks a worker for a key. The multiply spreads sequential keys (dense ids) evenly.
fn partition(key: u64, workers: usize) -> usize {
    let mixed = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((mixed >> 32) % workers as u64) as usize
}

/// One subscriber's share of a terminal batch.
pub(crate) struct Delivery<T> {
    pub(crate) enqueued_ns: u64,
    pub(crate) items: Arc<Vec<T>>,
}

/// The end of the pipeline, one per last-stage worker: records end-to-end latency of measured
/// messages and offers every batch to every subscriber without waiting for any of them.
pub(crate) struct Terminal<T> {
    subscribers: Vec<mpsc::Sender<Delivery<T>>>,
    clock: Clock,
    finished: Arc<AtomicU64>,
    starts: Vec<u64>,
    report: TerminalReport,
    /// The live exporter, if `--serve-metrics` installed one (read once, here).
    live: Option<&'static crate::live::LiveMetrics>,
}

/// What one terminal saw.
#[derive(Debug)]
pub(crate) struct TerminalReport {
    /// End-to-end latency of measured messages, ns.
    pub(crate) latency: Histogram<u64>,
    /// Deliveries dropped per subscriber because its queue was full.
    pub(crate) dropped: Vec<u64>,
    /// When the last measured message finished, ns since the run's epoch.
    pub(crate) last_measured_ns: u64,
}

impl<T: Send + Sync + 'static> Terminal<T> {
    fn new(subscribers: Vec<mpsc::Sender<Delivery<T>>>, clock: Clock, finished: Arc<AtomicU64>) -> Self {
        let count = subscribers.len();
        Self {
            subscribers,
            clock,
            finished,
            starts: Vec::new(),
            live: crate::live::get(),
            report: TerminalReport {
                latency: ns_histogram(),
                dropped: vec![0; count],
                last_measured_ns: 0,
            },
        }
    }

    fn fork(&self) -> Self {
        Self::new(
            self.subscribers.clone(),
            self.clock.clone(),
            Arc::clone(&self.finished),
        )
    }

    fn accept(&mut self, batch: Batch<T>) {
        let count = batch.items.len();
        if count == 0 {
            return;
        }
        self.starts.clear();
        self.starts
            .extend(batch.items.iter().map(|envelope| envelope.start_ns));
        if !self.subscribers.is_empty() {
            let items: Vec<T> = batch.items.into_iter().map(|envelope| envelope.item).collect();
            let shared = Arc::new(items);
            let enqueued_ns = self.clock.now_ns();
            for (sender, dropped) in self.subscribers.iter().zip(&mut self.report.dropped) {
                let delivery = Delivery {
                    enqueued_ns,
                    items: Arc::clone(&shared),
                };
                // A full queue means a slow subscriber: drop for it alone, never wait.
                if sender.try_send(delivery).is_err() {
                    *dropped += count as u64;
                }
            }
        }
        let done_ns = self.clock.now_ns();
        if batch.measured {
            for &start_ns in &self.starts {
                self.report
                    .latency
                    .saturating_record(done_ns.saturating_sub(start_ns));
            }
            self.report.last_measured_ns = done_ns;
            if let Some(live) = self.live {
                live.record_latencies(
                    self.starts
                        .iter()
                        .map(|&start_ns| done_ns.saturating_sub(start_ns)),
                );
            }
        }
        self.finished.fetch_add(count as u64, Ordering::Relaxed);
    }

    fn finish(self) -> TerminalReport {
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_spreads_dense_keys_over_all_workers() {
        for workers in 2..=8 {
            let mut seen = vec![0u32; workers];
            for key in 0..8_000u64 {
                seen[partition(key, workers)] += 1;
            }
            let expected = 8_000 / workers as u32;
            for count in seen {
                assert!(
                    count > expected * 8 / 10 && count < expected * 12 / 10,
                    "{workers} workers: {count} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn partition_is_stable_for_a_key() {
        assert_eq!(partition(42, 3), partition(42, 3));
    }
}

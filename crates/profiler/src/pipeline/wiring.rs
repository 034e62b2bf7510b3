//! How stages are connected at run time: spawns every stage worker and subscriber task (each
//! instrumented for the lag probe when it runs) and joins them with bounded channels, ending in
//! the terminals.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::downstream::{Downstream, KeyFn, StageInlet};
use super::stage::{Stage, Subscriber, WorkerInfo};
use super::terminal::Terminal;
use super::worker::{SubscriberReport, WorkerContext, WorkerReport, run_subscriber, run_worker};
use crate::clock::Clock;
use crate::faults::FaultSwitches;
use crate::live_sink::LiveSink;
use crate::probe::lag::{LagShared, instrument};

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
    /// The switches of a fault injected into this phase, if any.
    pub(crate) faults: Option<Arc<FaultSwitches>>,
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
    /// The run's live sink, if any, handed to every terminal.
    live: Option<Arc<dyn LiveSink>>,
}

impl Wiring {
    pub(crate) fn new(
        clock: Clock,
        settings: WiringSettings,
        lag: Option<Arc<LagShared>>,
        live: Option<Arc<dyn LiveSink>>,
    ) -> Self {
        Self {
            clock,
            settings,
            stages: Vec::new(),
            workers: Vec::new(),
            subscribers: Vec::new(),
            finished: Arc::new(AtomicU64::new(0)),
            lag,
            live,
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
        factory: &Arc<F>,
        key: Option<KeyFn<In>>,
        downstream: Downstream<S::Out>,
    ) -> Downstream<In>
    where
        In: Send + 'static,
        S: Stage<In>,
        S::Out: Sync,
        F: Fn(WorkerInfo) -> S + Send + Sync + 'static,
    {
        let workers = self.settings.workers_for(name);
        let queued = Arc::new(AtomicU64::new(0));
        let mut senders = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (tx, rx) = mpsc::channel(self.settings.channel_batches);
            senders.push(tx);
            let info = WorkerInfo {
                index: worker,
                count: workers,
            };
            let stage = factory(info);
            // A stage that panics is replaced by a fresh one from the same factory.
            let rebuild = {
                let factory = Arc::clone(factory);
                move || factory(info)
            };
            let context = WorkerContext {
                stage_index: index,
                clock: self.clock.clone(),
                queued: Arc::clone(&queued),
                finished: Arc::clone(&self.finished),
                worker,
                faults: self.settings.faults.clone(),
                live: self.live.clone(),
            };
            let task = self.spawn(run_worker(stage, rebuild, rx, downstream.fork(), context));
            self.workers.push(task);
        }
        self.stages.push(StageMeta {
            index,
            name: name.to_owned(),
            workers,
            queued: Arc::clone(&queued),
            capacity_messages: self.settings.channel_batches * self.settings.batch_size * workers,
        });
        Downstream::Stage(StageInlet::new(senders, key, queued))
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
                (index, self.settings.faults.clone()),
            ));
            self.subscribers.push(task);
        }
        Downstream::Terminal(Terminal::new(
            senders,
            self.clock.clone(),
            Arc::clone(&self.finished),
            self.live.clone(),
        ))
    }
}

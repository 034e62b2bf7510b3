//! The end of the pipeline: records the end-to-end latency of measured messages, counts them
//! finished, and offers every batch to every subscriber without waiting for any of them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hdrhistogram::Histogram;
use tokio::sync::mpsc;

use super::batch::Batch;
use crate::clock::Clock;
use crate::live_sink::LiveSink;
use crate::stats::{ns_histogram, record_latencies};

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
    /// Where the latencies also go as they happen, if the run has a live sink.
    live: Option<Arc<dyn LiveSink>>,
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
    pub(super) fn new(
        subscribers: Vec<mpsc::Sender<Delivery<T>>>,
        clock: Clock,
        finished: Arc<AtomicU64>,
        live: Option<Arc<dyn LiveSink>>,
    ) -> Self {
        let count = subscribers.len();
        Self {
            subscribers,
            clock,
            finished,
            starts: Vec::new(),
            live,
            report: TerminalReport {
                latency: ns_histogram(),
                dropped: vec![0; count],
                last_measured_ns: 0,
            },
        }
    }

    pub(super) fn fork(&self) -> Self {
        Self::new(
            self.subscribers.clone(),
            self.clock.clone(),
            Arc::clone(&self.finished),
            self.live.clone(),
        )
    }

    pub(super) fn accept(&mut self, batch: Batch<T>) {
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
            record_latencies(&mut self.report.latency, done_ns, &self.starts);
            self.report.last_measured_ns = done_ns;
            // One branch per batch when there is no sink; one call per batch when there is.
            if let Some(live) = &self.live {
                live.record_latencies(done_ns, &self.starts);
            }
        }
        self.finished.fetch_add(count as u64, Ordering::Relaxed);
    }

    pub(super) fn finish(self) -> TerminalReport {
        self.report
    }
}

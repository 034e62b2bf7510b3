//! Where a stage worker sends its output: the next stage's inlet (bounded channels, one per
//! worker, chosen by key or in turn) or the pipeline's terminal.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use super::batch::{Batch, Envelope};
use super::terminal::{Terminal, TerminalReport};

/// Maps a message to the key that picks its worker in a keyed stage.
pub(crate) type KeyFn<T> = Arc<dyn Fn(&T) -> u64 + Send + Sync>;

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
    /// The inlet of a stage whose workers read `senders`' channels; `queued` counts the messages
    /// waiting in them.
    pub(super) fn new(
        senders: Vec<mpsc::Sender<Batch<T>>>,
        key: Option<KeyFn<T>>,
        queued: Arc<AtomicU64>,
    ) -> Self {
        Self {
            senders,
            key,
            queued,
            next: 0,
        }
    }

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

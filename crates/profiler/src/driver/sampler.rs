//! A plain thread that samples queue depths at a fixed interval and reports progress, so that
//! neither costs the pipeline's tasks anything but a relaxed atomic each.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::Observer;
use crate::stats::count_histogram;

const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

pub(crate) struct SamplerInputs<'a> {
    /// Messages queued in front of each stage.
    pub(crate) queues: Vec<Arc<AtomicU64>>,
    pub(crate) interval: Duration,
    /// Queue depths are recorded only while the measured window is being fed.
    pub(crate) measuring: &'a AtomicBool,
    pub(crate) stop: &'a AtomicBool,
    pub(crate) finished: &'a AtomicU64,
    pub(crate) observer: &'a dyn Observer,
}

/// Samples until `stop` is set; returns one depth histogram per stage.
pub(crate) fn sample(inputs: SamplerInputs<'_>) -> Vec<Histogram<u64>> {
    let mut depths: Vec<Histogram<u64>> = inputs.queues.iter().map(|_| count_histogram()).collect();
    let started = Instant::now();
    let mut next_progress = started + PROGRESS_INTERVAL;
    while !inputs.stop.load(Ordering::Acquire) {
        if inputs.measuring.load(Ordering::Acquire) {
            for (histogram, queue) in depths.iter_mut().zip(&inputs.queues) {
                histogram.saturating_record(queue.load(Ordering::Relaxed));
            }
        }
        let now = Instant::now();
        if now >= next_progress {
            inputs
                .observer
                .progress(inputs.finished.load(Ordering::Relaxed), now - started);
            next_progress += PROGRESS_INTERVAL;
        }
        std::thread::sleep(inputs.interval);
    }
    inputs
        .observer
        .progress(inputs.finished.load(Ordering::Relaxed), started.elapsed());
    depths
}

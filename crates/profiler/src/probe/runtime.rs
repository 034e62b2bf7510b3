//! The tokio runtime and the process over the measured window, from tokio's stable
//! `RuntimeMetrics` (workers, alive tasks, global queue depth, per-worker busy time and parks)
//! and from `/proc/self/stat` (CPU time, threads, RSS).

use std::time::Duration;

use tokio::runtime::Handle;

use super::process::{self, ProcessReading};
use super::series::{Merge, SeriesBuilder, TimeSeries};

/// Per-worker counters at one moment.
#[derive(Debug, Clone)]
struct WorkerReading {
    busy: Duration,
    parks: u64,
    park_unparks: u64,
}

#[derive(Debug, Clone)]
struct Reading {
    at_ns: u64,
    workers: Vec<WorkerReading>,
    process: Option<ProcessReading>,
}

/// Samples the runtime and process.
#[derive(Debug)]
pub(crate) struct RuntimeProbe {
    handle: Handle,
    interval_ns: u64,
    next_sample_ns: u64,
    first: Option<Reading>,
    last: Option<Reading>,
    alive_tasks_max: u64,
    alive_tasks_sum: f64,
    global_queue_max: u64,
    threads_max: u64,
    rss_max: u64,
    samples: u64,
    series: SeriesBuilder,
}

/// What the runtime probe concluded.
#[derive(Debug, Clone)]
pub(crate) struct RuntimeOutcome {
    pub(crate) workers: usize,
    pub(crate) alive_tasks_max: u64,
    pub(crate) alive_tasks_mean: f64,
    pub(crate) global_queue_depth_max: u64,
    /// Busy time / wall time, per worker, over the window.
    pub(crate) busy_ratio: Vec<f64>,
    pub(crate) park_count: Vec<u64>,
    pub(crate) park_unpark_count: Vec<u64>,
    pub(crate) process: Option<ProcessOutcome>,
    pub(crate) series: TimeSeries,
}

/// The process over the window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProcessOutcome {
    pub(crate) user: Duration,
    pub(crate) system: Duration,
    pub(crate) wall: Duration,
    pub(crate) threads_max: u64,
    pub(crate) rss_max_bytes: u64,
}

impl RuntimeProbe {
    pub(crate) fn new(handle: Handle, interval: Duration) -> Self {
        Self {
            handle,
            interval_ns: interval.as_nanos() as u64,
            next_sample_ns: 0,
            first: None,
            last: None,
            alive_tasks_max: 0,
            alive_tasks_sum: 0.0,
            global_queue_max: 0,
            threads_max: 0,
            rss_max: 0,
            samples: 0,
            series: SeriesBuilder::new(
                interval.as_secs_f64() * 1e3,
                &[
                    ("alive_tasks", Merge::Max),
                    ("global_queue_depth", Merge::Max),
                    ("worker_busy_ratio", Merge::Mean),
                    ("parks_per_second", Merge::Mean),
                    ("process_cpu_percent", Merge::Mean),
                    ("rss_mb", Merge::Max),
                    ("threads", Merge::Max),
                ],
            ),
        }
    }

    fn read(&self, now_ns: u64) -> Reading {
        let metrics = self.handle.metrics();
        Reading {
            at_ns: now_ns,
            workers: (0..metrics.num_workers())
                .map(|worker| WorkerReading {
                    busy: metrics.worker_total_busy_duration(worker),
                    parks: metrics.worker_park_count(worker),
                    park_unparks: metrics.worker_park_unpark_count(worker),
                })
                .collect(),
            process: process::read(),
        }
    }

    pub(crate) fn start(&mut self, now_ns: u64) {
        let reading = self.read(now_ns);
        self.first = Some(reading.clone());
        self.last = Some(reading);
        self.next_sample_ns = now_ns + self.interval_ns;
    }

    pub(crate) fn sample(&mut self, now_ns: u64) {
        if now_ns < self.next_sample_ns {
            return;
        }
        self.next_sample_ns = now_ns + self.interval_ns;
        self.take(now_ns);
    }

    fn take(&mut self, now_ns: u64) {
        let (Some(first), Some(previous)) = (&self.first, &self.last) else {
            return;
        };
        let metrics = self.handle.metrics();
        let alive = metrics.num_alive_tasks() as u64;
        let global_queue = metrics.global_queue_depth() as u64;
        let reading = self.read(now_ns);
        let span = Duration::from_nanos(now_ns.saturating_sub(previous.at_ns));
        let span_s = span.as_secs_f64().max(1e-9);
        let busy: f64 = reading
            .workers
            .iter()
            .zip(&previous.workers)
            .map(|(now, before)| now.busy.saturating_sub(before.busy).as_secs_f64() / span_s)
            .sum::<f64>()
            / reading.workers.len().max(1) as f64;
        let parks: u64 = reading
            .workers
            .iter()
            .zip(&previous.workers)
            .map(|(now, before)| now.parks.saturating_sub(before.parks))
            .sum();
        let (cpu_percent, rss_mb, threads) = match (&reading.process, &previous.process) {
            (Some(now), Some(before)) => {
                self.threads_max = self.threads_max.max(now.threads);
                self.rss_max = self.rss_max.max(now.rss_bytes);
                (
                    now.cpu().saturating_sub(before.cpu()).as_secs_f64() / span_s * 100.0,
                    now.rss_bytes as f64 / (1024.0 * 1024.0),
                    now.threads as f64,
                )
            }
            _ => (f64::NAN, f64::NAN, f64::NAN),
        };
        self.alive_tasks_max = self.alive_tasks_max.max(alive);
        self.alive_tasks_sum += alive as f64;
        self.global_queue_max = self.global_queue_max.max(global_queue);
        self.samples += 1;
        let t_ms = (now_ns - first.at_ns) as f64 / 1e6;
        self.series.push(
            t_ms,
            &[
                alive as f64,
                global_queue as f64,
                busy,
                parks as f64 / span_s,
                cpu_percent,
                rss_mb,
                threads,
            ],
        );
        self.last = Some(reading);
    }

    pub(crate) fn end(&mut self, now_ns: u64) {
        self.take(now_ns);
    }

    pub(crate) fn finish(self) -> Option<RuntimeOutcome> {
        let (first, last) = (self.first?, self.last?);
        let wall = Duration::from_nanos(last.at_ns.saturating_sub(first.at_ns));
        let wall_s = wall.as_secs_f64().max(1e-9);
        let process = match (first.process, last.process) {
            (Some(before), Some(after)) => Some(ProcessOutcome {
                user: after.user.saturating_sub(before.user),
                system: after.system.saturating_sub(before.system),
                wall,
                threads_max: self.threads_max.max(after.threads),
                rss_max_bytes: self.rss_max.max(after.rss_bytes),
            }),
            _ => None,
        };
        Some(RuntimeOutcome {
            workers: last.workers.len(),
            alive_tasks_max: self.alive_tasks_max,
            alive_tasks_mean: if self.samples == 0 {
                0.0
            } else {
                self.alive_tasks_sum / self.samples as f64
            },
            global_queue_depth_max: self.global_queue_max,
            busy_ratio: last
                .workers
                .iter()
                .zip(&first.workers)
                .map(|(now, before)| now.busy.saturating_sub(before.busy).as_secs_f64() / wall_s)
                .collect(),
            park_count: last
                .workers
                .iter()
                .zip(&first.workers)
                .map(|(n, b)| n.parks - b.parks)
                .collect(),
            park_unpark_count: last
                .workers
                .iter()
                .zip(&first.workers)
                .map(|(n, b)| n.park_unparks - b.park_unparks)
                .collect(),
            process,
            series: self.series.finish(),
        })
    }
}

//! `limit` mode: the same source and stage functions in one plain loop per thread, with no
//! channels, no task switches and no work stealing. Each thread drives its loop with a
//! current-thread `block_on` (so stages that await tokio timers still work), but nothing is
//! ever scheduled: this is the physical reference the pipeline is compared with.

use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::config::RunConfig;
use crate::error::{ProfilerError, Result, panic_message};
use crate::length::Length;
use crate::observer::{Observer, PhaseStart};
use crate::pipeline::{AsyncSource, Pipeline, WorkerInfo};
use crate::probe::cpu::thread_cpu_time;

/// What `limit` mode measured.
#[derive(Debug, Clone)]
pub(crate) struct LimitOutcome {
    pub(crate) threads: usize,
    /// Measured messages over all threads.
    pub(crate) messages: u64,
    pub(crate) processed: u64,
    pub(crate) rejected: u64,
    /// From the moment all threads started measuring to when the last one finished.
    pub(crate) window: Duration,
    /// CPU time (user + system) the threads spent in their measured windows, summed; `None`
    /// where the system has no per-thread figure.
    pub(crate) cpu: Option<Duration>,
}

impl LimitOutcome {
    pub(crate) fn messages_per_second(&self) -> f64 {
        self.messages as f64 / self.window.as_secs_f64()
    }

    /// CPU time per measured message, ns: the stage functions' own cost, which the pipeline's
    /// `cpu.cpu_ns_per_message` exceeds by the harness's cost.
    pub(crate) fn cpu_ns_per_message(&self) -> Option<f64> {
        let cpu = self.cpu?;
        (self.messages > 0).then(|| cpu.as_nanos() as f64 / self.messages as f64)
    }
}

struct ThreadOutcome {
    messages: u64,
    processed: u64,
    rejected: u64,
    started: Instant,
    ended: Instant,
    cpu: Option<Duration>,
}

/// A thread's share of a length: counts are split evenly, durations apply to each thread.
fn share(length: Length, threads: usize, index: usize) -> Length {
    match length {
        Length::Messages(total) => {
            let base = total / threads as u64;
            let extra = u64::from((index as u64) < total % threads as u64);
            Length::Messages(base + extra)
        }
        Length::Duration(span) => Length::Duration(span),
    }
}

pub(crate) fn run_limit<Src>(
    pipeline: &Pipeline<Src>,
    config: &RunConfig,
    observer: &dyn Observer,
) -> Result<LimitOutcome>
where
    Src: AsyncSource,
    Src::Item: Sync,
{
    let threads = config.limit_threads;
    let barrier = Barrier::new(threads);
    let finished = AtomicU64::new(0);
    observer.phase_started(&PhaseStart {
        name: "limit",
        length: config.length,
        warmup: config.warmup,
        rate: None,
    });
    let outcomes: Vec<std::thread::Result<Result<ThreadOutcome>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|index| {
                let (barrier, finished) = (&barrier, &finished);
                std::thread::Builder::new()
                    .name(format!("pg-limit-{index}"))
                    .spawn_scoped(scope, move || {
                        run_thread(
                            pipeline,
                            config,
                            WorkerInfo {
                                index,
                                count: threads,
                            },
                            barrier,
                            finished,
                        )
                    })
                    .expect("spawning a limit thread")
            })
            .collect();
        let started = Instant::now();
        while !handles.iter().all(|handle| handle.is_finished()) {
            std::thread::sleep(Duration::from_millis(100));
            observer.progress(finished.load(Ordering::Relaxed), started.elapsed());
        }
        handles.into_iter().map(|handle| handle.join()).collect()
    });
    let mut results = Vec::with_capacity(threads);
    for (index, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Ok(result) => results.push(result?),
            Err(payload) => {
                return Err(ProfilerError::Panicked {
                    what: format!("limit thread {index}"),
                    message: panic_message(&*payload),
                });
            }
        }
    }
    observer.phase_finished("limit");
    let started = results
        .iter()
        .map(|r| r.started)
        .min()
        .expect("at least one thread");
    let ended = results
        .iter()
        .map(|r| r.ended)
        .max()
        .expect("at least one thread");
    Ok(LimitOutcome {
        threads,
        messages: results.iter().map(|r| r.messages).sum(),
        processed: results.iter().map(|r| r.processed).sum(),
        rejected: results.iter().map(|r| r.rejected).sum(),
        window: ended - started,
        cpu: results.iter().map(|r| r.cpu).sum(),
    })
}

fn run_thread<Src>(
    pipeline: &Pipeline<Src>,
    config: &RunConfig,
    info: WorkerInfo,
    barrier: &Barrier,
    finished: &AtomicU64,
) -> Result<ThreadOutcome>
where
    Src: AsyncSource,
    Src::Item: Sync,
{
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(source) => {
            // The other threads wait at the barrier; release them before giving up.
            barrier.wait();
            return Err(ProfilerError::Start {
                what: "limit-mode runtime",
                source,
            });
        }
    };
    // This thread's runtime gets a database pool of its own: a connection opened on another
    // thread's runtime stops working when that thread's loop ends.
    let _database = config.database.as_ref().map(|database| database.thread_scope());
    let mut source = pipeline.source(info.index);
    let mut runner = pipeline.inline_runner(info);
    let batch_size = config.batch_size;
    let mut run_for = |length: Length| {
        let started = Instant::now();
        let (mut messages, mut processed, mut rejected) = (0u64, 0u64, 0u64);
        runtime.block_on(async {
            loop {
                let want = match length {
                    Length::Messages(count) => (count - messages).min(batch_size as u64) as usize,
                    Length::Duration(span) if started.elapsed() < span => batch_size,
                    Length::Duration(_) => 0,
                };
                if want == 0 {
                    break;
                }
                let mut batch = Vec::with_capacity(want);
                while batch.len() < want {
                    match source.next_message().await {
                        Some(item) => batch.push(item),
                        None => break,
                    }
                }
                let got = batch.len();
                if got == 0 {
                    break;
                }
                let (ok, bad) = runner.run_batch(batch).await;
                messages += got as u64;
                processed += ok;
                rejected += bad;
                finished.fetch_add(got as u64, Ordering::Relaxed);
            }
        });
        (messages, processed, rejected)
    };
    let warmup = share(config.warmup, info.count, info.index);
    let warmed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_for(warmup)));
    // Every thread measures at the same time, so the window is one of full contention. A
    // thread whose stage panicked still arrives, so that the others are not left waiting.
    barrier.wait();
    if let Err(payload) = warmed {
        std::panic::resume_unwind(payload);
    }
    let started = Instant::now();
    let cpu_before = thread_cpu_time();
    let (messages, processed, rejected) =
        measured_window(|| run_for(share(config.length, info.count, info.index)));
    let cpu = thread_cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    let ended = Instant::now();
    Ok(ThreadOutcome {
        messages,
        processed,
        rejected,
        started,
        ended,
        cpu,
    })
}

/// The measured part of a limit thread, as a function of its own that is never inlined: an
/// instruction count under Valgrind is bounded by its name (`--toggle-collect`), so that the
/// warm-up, start-up and shut-down are left out. Renaming it breaks `cargo xtask instructions`.
#[inline(never)]
fn measured_window<T>(run: impl FnOnce() -> T) -> T {
    run()
}

/// What [`run_plain_loop`](crate::run_plain_loop) measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlainLoopCounts {
    /// Measured messages.
    pub messages: u64,
    /// Of those, processed by every stage.
    pub processed: u64,
    /// Of those, rejected by a stage.
    pub rejected: u64,
}

/// Runs `config.warmup` and then `config.length` messages (counts only) through the stage
/// functions' plain loop on the calling thread: limit mode with one thread and no other thread
/// started, so that the same seed gives the same work instruction for instruction.
pub(crate) fn run_plain_loop<Src>(pipeline: &Pipeline<Src>, config: &RunConfig) -> Result<PlainLoopCounts>
where
    Src: AsyncSource,
    Src::Item: Sync,
{
    for (what, length) in [("length", config.length), ("warm-up", config.warmup)] {
        if let Length::Duration(_) = length {
            // A time-bounded loop does as much work as the machine allows: not a count.
            return Err(ProfilerError::InvalidConfig(format!(
                "the plain loop needs a message count as its {what}, not a duration"
            )));
        }
    }
    let outcome = run_thread(
        pipeline,
        config,
        WorkerInfo { index: 0, count: 1 },
        &Barrier::new(1),
        &AtomicU64::new(0),
    )?;
    Ok(PlainLoopCounts {
        messages: outcome.messages,
        processed: outcome.processed,
        rejected: outcome.rejected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_counts_are_shared_without_losing_any() {
        let shares: Vec<_> = (0..3)
            .map(|index| share(Length::Messages(10), 3, index))
            .collect();
        assert_eq!(
            shares,
            vec![Length::Messages(4), Length::Messages(3), Length::Messages(3)]
        );
        let span = Length::Duration(Duration::from_secs(2));
        assert_eq!(share(span, 4, 3), span);
    }

    #[test]
    fn cpu_per_message_is_the_threads_cpu_over_their_messages() {
        let mut outcome = LimitOutcome {
            threads: 2,
            messages: 4_000,
            processed: 4_000,
            rejected: 0,
            window: Duration::from_millis(2),
            cpu: Some(Duration::from_millis(3)),
        };
        assert_eq!(outcome.cpu_ns_per_message(), Some(750.0));
        outcome.messages = 0;
        assert_eq!(outcome.cpu_ns_per_message(), None, "no messages, no figure");
        outcome.messages = 4_000;
        outcome.cpu = None;
        assert_eq!(outcome.cpu_ns_per_message(), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_busy_thread_counts_its_cpu_time() {
        let before = thread_cpu_time().expect("linux has per-thread CPU time");
        let mut x = 0u64;
        for _ in 0..10_000_000 {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert_eq!(x, 10_000_000);
        assert!(thread_cpu_time().expect("still") > before);
    }
}

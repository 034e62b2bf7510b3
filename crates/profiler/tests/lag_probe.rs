//! The lag probe against ground truth, through the public pipeline API as a user would drive it:
//! a worker blocked on purpose for 5 ms every 100 ms. Bands are generous for a noisy two-core
//! machine. Tests in this file take turns: probes are process-wide.

use std::sync::Mutex;
use std::time::Duration;

use perfgate_profiler::alloc::TrackingAllocator;
use perfgate_profiler::{Length, Pipeline, Probes, Results, RunConfig, Silent, Source, Stage, StageError};
use tikv_jemallocator::Jemalloc;

#[global_allocator]
static GLOBAL: TrackingAllocator<Jemalloc> = TrackingAllocator::new(Jemalloc);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Counts up from 0.
struct Sequence(u64);

impl Source for Sequence {
    type Item = u64;
    fn next_item(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

fn run<S: Stage<u64, Out = u64>>(
    stage: impl Fn() -> S + Send + Sync + 'static,
    config: RunConfig,
) -> Results {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let pipeline = Pipeline::builder(|_| Sequence(0))
        .stage("under_test", move |_| stage())
        .build();
    perfgate_profiler::run(&pipeline, &config, &Silent, serde_json::Value::Null).unwrap()
}

/// Only the fixed-rate phase, at `rate` msg/s for `messages` messages.
fn fixed_rate(rate: f64, messages: u64, probes: Probes) -> RunConfig {
    RunConfig {
        saturation: false,
        rate: Some(rate),
        length: Length::Messages(messages),
        warmup: Length::Messages(messages / 10),
        probes,
        ..RunConfig::smoke()
    }
}

/// Blocks its worker thread for `block` on every `every`-th message.
struct Blocker {
    every: u64,
    block: Duration,
}

impl Stage<u64> for Blocker {
    type Out = u64;
    async fn process(&mut self, value: u64) -> Result<u64, StageError> {
        if self.every > 0 && value.is_multiple_of(self.every) {
            std::thread::sleep(self.block);
        }
        Ok(value)
    }
}

#[test]
fn issue_3_lag_probe_sees_a_blocked_worker_on_a_multi_threaded_runtime() {
    let lag = Probes {
        lag: true,
        ..Probes::NONE
    };
    // 2,000 msg/s with a 5 ms block every 200th message: a block every 100 ms, 20 in all.
    let blocked = run(
        || Blocker {
            every: 200,
            block: Duration::from_millis(5),
        },
        fixed_rate(2_000.0, 4_000, lag),
    );
    let clean = run(
        || Blocker {
            every: 0,
            block: Duration::ZERO,
        },
        fixed_rate(2_000.0, 4_000, lag),
    );
    let blocked_lag = blocked.asyncio.as_ref().unwrap();
    let clean_lag = clean.asyncio.as_ref().unwrap();
    let (blocked_summary, clean_summary) =
        (blocked_lag.lag.as_ref().unwrap(), clean_lag.lag.as_ref().unwrap());
    assert_eq!(blocked.runtime_workers_seen(), 2);
    // The upper bound allows for a loaded machine descheduling the blocked thread mid-poll.
    assert!(
        (4.0..=40.0).contains(&blocked_summary.max_ms),
        "max lag {} ms for 5 ms blocks",
        blocked_summary.max_ms
    );
    assert!(
        clean_summary.p99_ms < 2.0,
        "unblocked p99 lag {} ms",
        clean_summary.p99_ms
    );
    assert!(
        blocked_summary.p99_ms > clean_summary.p99_ms + 0.5
            && blocked_summary.p99_ms > 3.0 * clean_summary.p99_ms,
        "p99 lag {} ms blocked vs {} ms clean",
        blocked_summary.p99_ms,
        clean_summary.p99_ms
    );
    assert_eq!(blocked_lag.event_loop_lag_ms, Some(blocked_summary.p99_ms));
    // Every block is also a slow poll: 20 blocks, a few may fall outside the measured window,
    // and a host that pauses the VM mid-poll adds a few of its own.
    assert!(
        (15..=30).contains(&blocked_lag.slow_polls),
        "{} slow polls",
        blocked_lag.slow_polls
    );
    assert!(
        clean_lag.slow_polls <= 5,
        "{} slow polls without blocks",
        clean_lag.slow_polls
    );
    assert!(!blocked_lag.series.is_empty());
}

trait WorkersSeen {
    fn runtime_workers_seen(&self) -> usize;
}

impl WorkersSeen for Results {
    fn runtime_workers_seen(&self) -> usize {
        self.environment.run["runtime_workers"].as_u64().unwrap() as usize
    }
}

/// Passes messages through; its first worker spawns a housekeeping task of its own (not through
/// perfgate) that blocks its runtime worker for `block` every `period`, counting the blocks.
struct WithHousekeeping;

impl Stage<u64> for WithHousekeeping {
    type Out = u64;
    async fn process(&mut self, value: u64) -> Result<u64, StageError> {
        Ok(value)
    }
}

#[test]
fn issue_14_a_background_task_a_stage_spawned_itself_is_seen() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    if !perfgate_profiler::PollHooks::AVAILABLE {
        eprintln!(
            "built without --cfg tokio_unstable: only instrumented tasks are timed (see the attach tests)"
        );
        return;
    }
    let blocks = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&blocks);
    let config = RunConfig {
        slow_poll_threshold: Duration::from_millis(3),
        ..fixed_rate(
            2_000.0,
            4_000,
            Probes {
                lag: true,
                runtime: true,
                ..Probes::NONE
            },
        )
    };
    let results = run(
        move || {
            // The stage is built inside the runtime, as a service's component would be.
            let counted = Arc::clone(&counted);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    std::thread::sleep(Duration::from_millis(5));
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            });
            WithHousekeeping
        },
        config,
    );
    let asyncio = results.asyncio.as_ref().unwrap();
    let lag = asyncio.lag.as_ref().unwrap();
    let phase = &results.phases["fixed_rate"];
    // One block per 25 ms (or a little more: the timer rounds the sleep up, and a loaded machine
    // wakes the task late) over the window, and never more than the blocks of the whole phase.
    let all_blocks = blocks.load(Ordering::Relaxed) as f64;
    let expected = (phase.window_seconds / 0.025).min(all_blocks);
    eprintln!(
        "window {:.2} s, expected ~{expected:.0} blocks, {} in the whole phase; slow polls {}, lag max {:.2} ms, p99 {:.3} ms",
        phase.window_seconds,
        blocks.load(Ordering::Relaxed),
        asyncio.slow_polls,
        lag.max_ms,
        lag.p99_ms
    );
    assert_eq!(asyncio.coverage, "every task");
    assert!(lag.max_ms >= 4.0, "lag max {} ms for 5 ms blocks", lag.max_ms);
    let slow = asyncio.slow_polls as f64;
    assert!(
        (0.7 * expected..=all_blocks + 5.0).contains(&slow),
        "{slow} slow polls for about {expected:.0} blocks in the window ({all_blocks} in the phase)"
    );
    // The site that spawned it (this file) has the most slow-poll time.
    assert!(
        asyncio.slow_poll_sites[0].spawned_at.contains("lag_probe.rs"),
        "{:?}",
        asyncio.slow_poll_sites
    );
    // 5 ms of every 25 ms: the lag's 99th percentile is well inside a block.
    assert!(lag.p99_ms >= 1.0, "p99 lag {} ms", lag.p99_ms);
}

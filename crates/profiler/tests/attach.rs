//! The attach API on a small service that owns its runtime, spawns its own tasks and channels and
//! never touches perfgate's pipeline builder: a handler that counts messages, and a housekeeping
//! task that blocks its worker 5 ms out of every 25 ms. Tests in this file take turns (the CPU
//! profiler and the allocator counters are process-wide). Bands are generous: two noisy cores.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use perfgate_profiler::alloc::TrackingAllocator;
use perfgate_profiler::{AttachOptions, PollHooks, Probes, Profiler, ProfilerError, Results};
use tikv_jemallocator::Jemalloc;

#[global_allocator]
static GLOBAL: TrackingAllocator<Jemalloc> = TrackingAllocator::new(Jemalloc);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

const WINDOW: Duration = Duration::from_millis(1_500);

/// The service: a producer and a handler joined by a channel, and (if asked) a housekeeping task
/// that blocks its worker. Runs until `stop`; returns the housekeeping blocks.
struct Service {
    stop: Arc<AtomicBool>,
    blocks: Arc<AtomicU64>,
}

impl Service {
    fn start(profiler: &Profiler, housekeeping: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let blocks = Arc::new(AtomicU64::new(0));
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<u64>(1_024);
        let producing = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut next = 0;
            while !producing.load(Ordering::Relaxed) {
                for _ in 0..20 {
                    next += 1;
                    if sender.send(next).await.is_err() {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        let counter = profiler.messages();
        tokio::spawn(profiler.instrument("handler", async move {
            let mut sum = 0u64;
            while let Some(value) = receiver.recv().await {
                sum = sum.wrapping_add(value.wrapping_mul(31));
                counter.add(1);
            }
            sum
        }));
        if housekeeping {
            let (stopping, counted) = (Arc::clone(&stop), Arc::clone(&blocks));
            // Spawned as the service always did: perfgate does not know it exists.
            tokio::spawn(async move {
                while !stopping.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    std::thread::sleep(Duration::from_millis(5));
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        Self { stop, blocks }
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn options() -> AttachOptions {
    AttachOptions {
        probes: Probes {
            cpu: false,
            ..Probes::ALL
        },
        slow_poll_threshold: Duration::from_millis(3),
        ..AttachOptions::default()
    }
}

/// Attaches inside the service's runtime, as `#[tokio::main]` code would, and measures `WINDOW`.
async fn measure(options: AttachOptions, housekeeping: bool) -> (Results, u64) {
    let mut profiler = Profiler::attach_current(options).unwrap();
    let service = Service::start(&profiler, housekeeping);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let blocks_before = service.blocks.load(Ordering::Relaxed);
    profiler.begin_window_async().await.unwrap();
    tokio::time::sleep(WINDOW).await;
    profiler.end_window_async().await.unwrap();
    let blocks = service.blocks.load(Ordering::Relaxed) - blocks_before;
    let results = profiler.finish_async().await.unwrap();
    service.stop();
    (results, blocks)
}

fn two_workers() -> tokio::runtime::Builder {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(2).enable_all();
    builder
}

#[test]
fn issue_14_attached_without_poll_hooks_the_gap_names_the_uninstrumented_blocking_task() {
    let _turn = turn();
    let runtime = two_workers().build().unwrap();
    let (blocked, blocks) = runtime.block_on(measure(options(), true));
    let (clean, _) = runtime.block_on(measure(options(), false));
    let (asyncio, clean_asyncio) = (blocked.asyncio.as_ref().unwrap(), clean.asyncio.as_ref().unwrap());
    let gap = asyncio.uninstrumented_busy_ms.unwrap();
    let clean_gap = clean_asyncio.uninstrumented_busy_ms.unwrap();
    let window_ms = blocked.phases["attached"].window_seconds * 1e3;
    eprintln!(
        "{blocks} blocks in {window_ms:.0} ms: uninstrumented busy {gap:.0} ms (clean {clean_gap:.0} ms); warnings {:?}",
        blocked.warnings
    );
    assert_eq!(asyncio.coverage, "instrumented tasks");
    // The blocks alone keep a worker busy blocks × 5 ms; the gap holds them (and the rest of the
    // uninstrumented producer's polls).
    let blocked_ms = blocks as f64 * 5.0;
    assert!(
        gap >= 0.8 * blocked_ms && gap > clean_gap + 0.5 * blocked_ms,
        "gap {gap} ms for {blocked_ms} ms of blocking (clean {clean_gap} ms)"
    );
    assert!(
        blocked
            .warnings
            .iter()
            .any(|w| w.contains("outside any instrumented poll")),
        "{:?}",
        blocked.warnings
    );
    assert!(
        !clean
            .warnings
            .iter()
            .any(|w| w.contains("outside any instrumented poll")),
        "{:?}",
        clean.warnings
    );
    // The handler is reported under its name, with the messages the service counted.
    let handler = &asyncio.tasks["handler"];
    assert!(handler.polls > 0 && handler.busy_ms > 0.0);
    assert!(
        blocked.cpu.message_count > 1_000,
        "{} messages",
        blocked.cpu.message_count
    );
    assert!(blocked.cpu.messages_per_second > 0.0);
    let runtime_section = blocked.runtime.as_ref().unwrap();
    assert_eq!(runtime_section.workers, 2);
    assert!(blocked.memory.is_some());
}

#[test]
fn issue_14_attached_with_poll_hooks_every_task_is_timed() {
    if !PollHooks::AVAILABLE {
        eprintln!("built without --cfg tokio_unstable: no poll hooks");
        return;
    }
    let _turn = turn();
    let hooks = PollHooks::default();
    let mut builder = two_workers();
    #[cfg(tokio_unstable)]
    hooks.install(&mut builder);
    let runtime = builder.build().unwrap();
    let (results, blocks) = runtime.block_on(measure(options().poll_hooks(hooks), true));
    let asyncio = results.asyncio.as_ref().unwrap();
    let lag = asyncio.lag.as_ref().unwrap();
    eprintln!(
        "{blocks} blocks: slow polls {}, lag max {:.2} ms, p99 {:.3} ms",
        asyncio.slow_polls, lag.max_ms, lag.p99_ms
    );
    assert_eq!(asyncio.coverage, "every task");
    assert!(asyncio.uninstrumented_busy_ms.is_none());
    assert!(lag.max_ms >= 4.0, "lag max {} ms", lag.max_ms);
    let (slow, blocks) = (asyncio.slow_polls as f64, blocks as f64);
    assert!(
        (0.7 * blocks..=1.3 * blocks).contains(&slow),
        "{slow} slow polls for {blocks} blocks"
    );
    assert!(asyncio.tasks.contains_key("handler"));
    // The blocking task is named by where it was spawned: in Service::start, in this file.
    let top = &asyncio.slow_poll_sites[0];
    assert!(top.spawned_at.contains("tests/attach.rs"), "{top:?}");
    assert!(
        (0.7 * blocks..=1.3 * blocks).contains(&(top.slow_polls as f64)),
        "{top:?} for {blocks} blocks"
    );
}

#[test]
fn issue_14_blocking_calls_inside_a_runtime_are_an_error_and_async_ones_work() {
    let _turn = turn();
    let runtime = two_workers().build().unwrap();
    let started = std::time::Instant::now();
    runtime.block_on(async {
        let mut profiler = Profiler::attach_current(AttachOptions {
            probes: Probes::NONE,
            ..AttachOptions::default()
        })
        .unwrap();
        assert!(matches!(
            profiler.begin_window(),
            Err(ProfilerError::BlockingInRuntime { .. })
        ));
        profiler.begin_window_async().await.unwrap();
        assert!(matches!(
            profiler.begin_window_async().await,
            Err(ProfilerError::Usage(_))
        ));
        let results = profiler.finish_async().await.unwrap();
        assert_eq!(results.phases["attached"].mode, "attached");
    });
    assert!(started.elapsed() < Duration::from_secs(10));
    // Outside a runtime: no runtime to attach to is an error, not a panic.
    assert!(matches!(
        Profiler::attach_current(AttachOptions::default()),
        Err(ProfilerError::NoRuntime)
    ));
}

#[test]
fn issue_14_finish_without_a_window_is_an_error() {
    let _turn = turn();
    let runtime = two_workers().build().unwrap();
    let profiler = Profiler::attach(
        runtime.handle(),
        AttachOptions {
            probes: Probes::NONE,
            ..AttachOptions::default()
        },
    )
    .unwrap();
    assert!(matches!(profiler.finish(), Err(ProfilerError::Usage(_))));
}

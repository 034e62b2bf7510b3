//! A small service that already exists, profiled as it is: a feed reader, a handler behind a
//! channel, a fan-out to subscribers, and a housekeeping task that "compacts a cache" every 20 ms
//! by blocking its worker for 5 ms. None of it is built on perfgate's pipeline builder; the attach
//! API measures it in its own runtime, and finds the housekeeping task.
//!
//! ```text
//! cargo run --release -p perfgate-profiler --example attach_service            # poll hooks
//! cargo run --release -p perfgate-profiler --example attach_service -- --no-hooks
//! ```
//!
//! With poll hooks (a build with `--cfg tokio_unstable`, as this workspace is) every task's polls
//! are timed, so the housekeeping task shows as lag and slow polls. Without them only the
//! instrumented handler is timed, and the results name the workers' busy time nobody accounts
//! for. The results go to `target/perfgate/attach_service/` (`cargo xtask report --results` reads
//! them). Exits with 1 if the blocking task was not found.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use perfgate_profiler::alloc::TrackingAllocator;
use perfgate_profiler::{AttachOptions, PollHooks, Profiler, ResultsFiles};
use tikv_jemallocator::Jemalloc;

#[global_allocator]
static GLOBAL: TrackingAllocator<Jemalloc> = TrackingAllocator::new(Jemalloc);

/// A price update, as the feed delivers it.
#[derive(Debug, Clone)]
struct Quote {
    symbol: u32,
    price_cents: u64,
}

/// The service as it was before anyone profiled it, with one line added per task to
/// `instrument` (optional) and one to count finished messages (optional).
fn start_service(profiler: &Profiler, stop: Arc<AtomicBool>) {
    let (feed, mut inbox) = tokio::sync::mpsc::channel::<Quote>(4_096);
    let (fanout, _) = tokio::sync::broadcast::channel::<Arc<Quote>>(1_024);
    // The feed reader: 20,000 quotes a second, in bursts of 20 per millisecond.
    let reading = Arc::clone(&stop);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        let mut sequence = 0u64;
        while !reading.load(Ordering::Relaxed) {
            tick.tick().await;
            for _ in 0..20 {
                sequence += 1;
                let quote = Quote {
                    symbol: (sequence % 500) as u32,
                    price_cents: 10_000 + sequence % 97,
                };
                if feed.send(quote).await.is_err() {
                    return;
                }
            }
        }
    });
    // The handler: keeps the last price per symbol and publishes each update.
    let finished = profiler.messages();
    let publish = fanout.clone();
    tokio::spawn(profiler.instrument("handler", async move {
        let mut last = vec![0u64; 500];
        while let Some(quote) = inbox.recv().await {
            last[quote.symbol as usize] = quote.price_cents;
            let _ = publish.send(Arc::new(quote));
            finished.add(1);
        }
    }));
    // Three subscribers (WebSocket clients, say).
    for client in 0..3 {
        let mut updates = fanout.subscribe();
        tokio::spawn(profiler.instrument(&format!("client-{client}"), async move {
            let mut bytes = 0usize;
            while let Ok(quote) = updates.recv().await {
                bytes += format!("{}:{}", quote.symbol, quote.price_cents).len();
            }
            bytes
        }));
    }
    // The housekeeping task, spawned as it always was: perfgate does not know it exists.
    let housekeeping = Arc::clone(&stop);
    tokio::spawn(async move {
        while !housekeeping.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            compact_cache_blocking();
        }
    });
}

/// The bug this example finds: synchronous work on a runtime worker.
fn compact_cache_blocking() {
    std::thread::sleep(Duration::from_millis(5));
}

async fn profile(options: AttachOptions) -> perfgate_profiler::Result<perfgate_profiler::Results> {
    let mut profiler = Profiler::attach_current(options)?;
    let stop = Arc::new(AtomicBool::new(false));
    start_service(&profiler, Arc::clone(&stop));
    // Let it warm up, then measure two seconds of normal operation.
    tokio::time::sleep(Duration::from_millis(500)).await;
    profiler.begin_window_async().await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    profiler.end_window_async().await?;
    stop.store(true, Ordering::Relaxed);
    profiler.finish_async().await
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let use_hooks = !std::env::args().any(|arg| arg == "--no-hooks") && PollHooks::AVAILABLE;
    let hooks = PollHooks::default();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(2).enable_all();
    #[cfg(tokio_unstable)]
    if use_hooks {
        hooks.install(&mut builder);
    }
    let runtime = builder.build()?;
    let mut options = AttachOptions::default().name("attach_service");
    if use_hooks {
        options = options.poll_hooks(hooks);
    }
    let results = runtime.block_on(profile(options))?;

    let asyncio = results.asyncio.as_ref().ok_or("the lag probe did not run")?;
    println!(
        "attach_service: {} messages in {:.2} s ({:.0} msg/s), {:.0} ns CPU per message",
        results.cpu.message_count,
        results.cpu.total_time,
        results.cpu.messages_per_second,
        results.cpu.cpu_ns_per_message.unwrap_or(f64::NAN)
    );
    if let Some(lag) = &asyncio.lag {
        println!(
            "lag ({}): p99 {:.3} ms, max {:.3} ms; slow polls (>= {} ms): {}",
            asyncio.coverage, lag.p99_ms, lag.max_ms, asyncio.slow_poll_threshold_ms, asyncio.slow_polls
        );
    }
    for site in &asyncio.slow_poll_sites {
        println!(
            "  slow polls of tasks spawned at {}: {} ({:.0} ms, longest {:.2} ms)",
            site.spawned_at, site.slow_polls, site.slow_poll_time_ms, site.longest_ms
        );
    }
    if let Some(gap) = asyncio.uninstrumented_busy_ms {
        println!("workers busy outside instrumented polls: {gap:.0} ms");
    }
    for (name, task) in &asyncio.tasks {
        println!(
            "  task {name}: {} polls, {:.1} ms busy, {} slow",
            task.polls, task.busy_ms, task.slow_polls
        );
    }
    if let Some(top) = results.cpu.hot_functions.first() {
        println!(
            "hottest function (self): {} ({:.1} %)",
            top.function, top.self_percent
        );
    }
    for warning in &results.warnings {
        println!("warning: {warning}");
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/perfgate/attach_service");
    let written = results.write_to_dir(&dir)?;
    println!("results: {}", written.display());

    let found = match asyncio.coverage.as_str() {
        // The task with the most slow-poll time was spawned in this file, by start_service.
        "every task" => {
            asyncio.lag.as_ref().is_some_and(|lag| lag.max_ms >= 4.0)
                && asyncio
                    .slow_poll_sites
                    .first()
                    .is_some_and(|site| site.spawned_at.contains("attach_service.rs"))
        }
        _ => results
            .warnings
            .iter()
            .any(|w| w.contains("outside any instrumented poll")),
    };
    if !found {
        eprintln!("the blocking housekeeping task was not found");
        std::process::exit(1);
    }
    println!("found: a task blocks its worker ({})", asyncio.coverage);
    Ok(())
}

//! Which lag measurement sees a blocked worker? Injects 30 blocks of 5 ms (a stage sleeps on its
//! worker thread every 100 ms) into a pipeline on a two-worker runtime and prints what each
//! candidate measurement saw, next to a clean run:
//!
//! - poll ages (per worker, how long it has been inside the poll it is running, time-weighted,
//!   computed from every poll's duration): perfgate's `event_loop_lag`;
//! - slow polls (polls of pipeline tasks of at least 4 ms);
//! - schedule delay (wake-up to poll of pipeline tasks);
//! - the classic tick probe (a task sleeping 1 ms, how late it wakes).
//!
//! Run: `cargo run --release -p perfgate-profiler --example lag_probe_comparison`.

use std::time::Duration;

use perfgate_profiler::{
    AsyncioSection, LatencySummary, Length, Pipeline, Probes, RunConfig, Silent, Source, Stage, StageError,
};

/// Counts up from 1.
struct Sequence(u64);

impl Source for Sequence {
    type Item = u64;
    fn next_item(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

/// Sleeps on its worker thread for 5 ms on every `every`-th message (never if 0).
struct Blocker {
    every: u64,
}

impl Stage<u64> for Blocker {
    type Out = u64;
    async fn process(&mut self, value: u64) -> Result<u64, StageError> {
        if self.every > 0 && value.is_multiple_of(self.every) {
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(value)
    }
}

fn measure(every: u64) -> Result<AsyncioSection, perfgate_profiler::ProfilerError> {
    let pipeline = Pipeline::builder(|_| Sequence(0))
        .stage("pass", |_| {
            perfgate_profiler::stage_fn(|v: u64| async move { Ok::<_, StageError>(v) })
        })
        .stage("blocker", move |_| Blocker { every })
        .build();
    // 2,000 msg/s: a block every 200th message is a block every 100 ms; 6,000 messages, 30 blocks.
    let config = RunConfig {
        saturation: false,
        rate: Some(2_000.0),
        length: Length::Messages(6_000),
        warmup: Length::Messages(500),
        probes: Probes {
            lag: true,
            runtime: true,
            ..Probes::NONE
        },
        slow_poll_threshold: Duration::from_millis(4),
        lag_comparison: true,
        runtime_workers: 2,
        ..RunConfig::default()
    };
    let results = perfgate_profiler::run(&pipeline, &config, &Silent, serde_json::Value::Null)?;
    Ok(results.asyncio.expect("the lag probe ran"))
}

/// Runs of consecutive 10 ms buckets whose longest poll is at least 4 ms: one per stall.
fn stalls(asyncio: &AsyncioSection) -> usize {
    let mut stalls = 0;
    let mut inside = false;
    for &worst in &asyncio.series.columns["lag_max_ms"] {
        let stalled = worst >= 4.0;
        if stalled && !inside {
            stalls += 1;
        }
        inside = stalled;
    }
    stalls
}

fn describe(summary: Option<&LatencySummary>) -> String {
    summary.map_or("-".to_owned(), |s| {
        format!("p99 {:>6.2} ms  max {:>6.2} ms", s.p99_ms, s.max_ms)
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("30 blocks of 5 ms, one every 100 ms, 2 runtime workers, 2,000 msg/s\n");
    for (label, every) in [("blocked", 200), ("clean", 0)] {
        let asyncio = measure(every)?;
        println!("{label}:");
        println!(
            "  poll-age lag     {}  stalls ≥ 4 ms: {}",
            describe(asyncio.lag.as_ref()),
            stalls(&asyncio)
        );
        println!("  slow polls ≥ 4 ms: {}", asyncio.slow_polls);
        println!("  schedule delay   {}", describe(asyncio.schedule_delay.as_ref()));
        println!("  tick probe       {}", describe(asyncio.timer_lag.as_ref()));
    }
    Ok(())
}

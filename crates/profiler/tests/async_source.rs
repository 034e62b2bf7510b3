//! Async sources: a pipeline fed by a channel (the shape of a WebSocket or Kafka consumer that
//! pushes what it reads) or by an async closure, drained at saturation and paced at a fixed rate,
//! with every message accounted for, and a source that ends early ending the phase cleanly.

use std::time::Duration;

use perfgate_profiler::{
    AsyncSource, Length, Pipeline, Probes, RunConfig, Silent, StageError, source_fn, stage_fn,
};

fn config(warmup: u64, length: u64) -> RunConfig {
    RunConfig {
        warmup: Length::Messages(warmup),
        length: Length::Messages(length),
        probes: Probes::NONE,
        ..RunConfig::smoke()
    }
}

/// A one-stage pipeline that passes on what `source` makes.
fn passing<Src>(source: impl Fn(usize) -> Src + Send + Sync + 'static) -> Pipeline<Src>
where
    Src: AsyncSource<Item = u64>,
{
    Pipeline::builder(source)
        .stage("pass", |_| {
            stage_fn(|value: u64| async move { Ok::<_, StageError>(value) })
        })
        .build()
}

/// The saturation phase alone.
fn saturation_only(warmup: u64, length: u64) -> RunConfig {
    RunConfig {
        fixed_rate: false,
        ..config(warmup, length)
    }
}

/// A consumer thread pushing `count` messages into a channel, as a network client would.
fn channel_of(count: u64) -> tokio::sync::mpsc::Receiver<u64> {
    let (sender, receiver) = tokio::sync::mpsc::channel(256);
    std::thread::spawn(move || {
        for value in 0..count {
            if sender.blocking_send(value).is_err() {
                return;
            }
        }
    });
    receiver
}

#[test]
fn issue_14_a_channel_source_is_drained_and_paced_and_every_message_counted() {
    let pipeline = Pipeline::builder(|_| channel_of(1_000_000))
        .stage("double", |_| {
            stage_fn(|value: u64| async move { Ok::<_, StageError>(value * 2) })
        })
        .build();
    let results = perfgate_profiler::run(
        &pipeline,
        &config(1_000, 20_000),
        &Silent,
        serde_json::Value::Null,
    )
    .unwrap();
    // Both phases ran on a fresh channel each: 2 × 21,000 generated, all processed.
    assert_eq!(results.pipeline.generated, 2 * 21_000);
    assert_eq!(results.pipeline.processed, results.pipeline.generated);
    assert_eq!(results.phases["saturation"].measured_messages, 20_000);
    assert!(results.cpu.messages_per_second > 0.0);
    let fixed = &results.phases["fixed_rate"];
    assert_eq!(fixed.measured_messages, 20_000);
    assert!(
        !results.warnings.iter().any(|w| w.contains("source ended")),
        "{:?}",
        results.warnings
    );
}

#[test]
fn issue_14_a_source_that_ends_early_ends_the_phase_with_a_warning() {
    let pipeline = passing(|_| channel_of(3_000));
    let config = saturation_only(1_000, 20_000);
    let started = std::time::Instant::now();
    let results = perfgate_profiler::run(&pipeline, &config, &Silent, serde_json::Value::Null).unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    let saturation = &results.phases["saturation"];
    assert_eq!(saturation.warmup_messages, 1_000);
    assert_eq!(saturation.measured_messages, 2_000);
    assert_eq!(results.pipeline.processed, 3_000);
    assert!(
        results
            .warnings
            .iter()
            .any(|w| w.contains("source ended after 1000 warm-up and 2000 measured messages")),
        "{:?}",
        results.warnings
    );
}

#[test]
fn issue_14_an_async_closure_source_that_waits_bounds_the_throughput() {
    // A source that waits 1 ms for every 10 messages (a feed delivering in bursts): at most
    // about 10,000 messages a second reach the pipeline, however fast the pipeline is.
    let pipeline = passing(|_| {
        let mut next = 0u64;
        source_fn(move || {
            next += 1;
            let value = next;
            async move {
                if value.is_multiple_of(10) {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Some(value)
            }
        })
    });
    let config = saturation_only(200, 2_000);
    let results = perfgate_profiler::run(&pipeline, &config, &Silent, serde_json::Value::Null).unwrap();
    assert_eq!(results.phases["saturation"].measured_messages, 2_000);
    let rate = results.cpu.messages_per_second;
    assert!(
        rate < 11_000.0,
        "{rate:.0} msg/s from a source that yields at most ~10,000/s"
    );
}

/// The names of the threads a source was asked for messages on.
fn threads_feeding(saturation: bool) -> std::collections::BTreeSet<String> {
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    let recorder = Arc::clone(&seen);
    let pipeline = passing(move |_| {
        let recorder = Arc::clone(&recorder);
        source_fn(move || {
            let recorder = Arc::clone(&recorder);
            async move {
                let name = std::thread::current().name().unwrap_or("unnamed").to_owned();
                recorder.lock().unwrap().insert(name);
                Some(1u64)
            }
        })
    });
    let config = RunConfig {
        saturation,
        fixed_rate: !saturation,
        rate: (!saturation).then_some(50_000.0),
        ..config(1_000, 20_000)
    };
    perfgate_profiler::run(&pipeline, &config, &Silent, serde_json::Value::Null).unwrap();
    seen.lock().unwrap().clone()
}

#[test]
fn issue_19_at_saturation_the_feed_runs_on_the_workers_and_at_a_fixed_rate_on_its_own_thread() {
    // At saturation the feed is a task sharing the runtime's cores with the stages (no third
    // thread parked and woken for every batch); its waits between segments stay on the feeder.
    let saturation = threads_feeding(true);
    assert!(
        !saturation.is_empty() && saturation.iter().all(|name| name.starts_with("pg-worker-")),
        "{saturation:?}"
    );
    // At a fixed rate the feeder's own thread keeps the schedule with its precise sleeps.
    let fixed = threads_feeding(false);
    assert_eq!(fixed.into_iter().collect::<Vec<_>>(), ["pg-feeder"]);
}

#[test]
fn issue_19_a_source_that_panics_in_the_saturation_task_fails_the_run_naming_the_feeder() {
    // The panic happens inside the runtime task that sends at saturation; it must come back to
    // the feeder's thread and fail the run with its message, not hang it or abort the process.
    let pipeline = passing(|_| {
        let mut sent = 0u64;
        source_fn(move || {
            sent += 1;
            assert!(sent <= 5_000, "the feed broke after 5,000 messages");
            std::future::ready(Some(sent))
        })
    });
    let config = saturation_only(1_000, 20_000);
    let started = std::time::Instant::now();
    let error = perfgate_profiler::run(&pipeline, &config, &Silent, serde_json::Value::Null).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(30));
    match error {
        perfgate_profiler::ProfilerError::Panicked { what, message } => {
            assert_eq!(what, "the feeder");
            assert!(
                message.contains("the feed broke after 5,000 messages"),
                "{message}"
            );
        }
        other => panic!("expected the feeder's panic, got {other}"),
    }
}

/// Counts what it is delivered.
struct Tally(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl perfgate_profiler::Subscriber<u64> for Tally {
    async fn deliver(&mut self, batch: &[u64]) {
        self.0
            .fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn issue_19_the_saturation_task_leaves_room_for_subscribers_on_a_single_worker() {
    // No stage, so nothing ever makes the feed wait, and one runtime worker for the feed and the
    // subscribers: a feed that never gave the worker back would starve the subscribers, whose
    // queues would overflow and lose nearly everything.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let delivered = Arc::new(AtomicU64::new(0));
    let tally = Arc::clone(&delivered);
    let mut value = 0u64;
    let pipeline = Pipeline::builder(move |_| {
        perfgate_profiler::source_fn(move || {
            value += 1;
            std::future::ready(Some(value))
        })
    })
    .fan_out(2, move |_| Tally(Arc::clone(&tally)));
    let config = RunConfig {
        fixed_rate: false,
        runtime_workers: 1,
        ..config(10_000, 200_000)
    };
    let results = perfgate_profiler::run(&pipeline, &config, &Silent, serde_json::Value::Null).unwrap();
    let offered = 2 * results.pipeline.generated;
    let got = delivered.load(Ordering::Relaxed);
    assert!(
        got * 10 >= offered * 9,
        "subscribers got {got} of {offered} deliveries: the feed starved them"
    );
}

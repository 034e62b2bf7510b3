//! The capacity search against a pipeline whose capacity is known by construction: one worker
//! that serves each message in a fixed 500 µs of a service clock can finish at most 2,000
//! messages a second. The search must land within 5 % of that, and a step just inside the
//! interval it reports must sustain.
//!
//! The service clock, not a busy loop: a loop that spins 500 µs of wall time is as slow as the
//! machine is busy (on a shared 2-core runner with other jobs it did 660–890 msg/s, not 2,000),
//! so its capacity would not be known. The clock (each message done `COST` after the previous
//! one, the worker sleeping while it is ahead) gives exactly `1 / COST` as long as the machine
//! has any CPU to spare.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use perfgate_profiler::capacity::{CapacityOptions, Slo, find_capacity};
use perfgate_profiler::{Pipeline, RunConfig, Silent, StageError, source_fn, stage_fn};

const COST: Duration = Duration::from_micros(500);
const SLACK: Duration = Duration::from_millis(5);

fn fixed_cost_pipeline() -> Pipeline<impl perfgate_profiler::AsyncSource<Item = u64>> {
    Pipeline::builder(|_| {
        let mut next = 0_u64;
        source_fn(move || {
            next += 1;
            std::future::ready(Some(next))
        })
    })
    .stage("work", |_| {
        let mut free_at = tokio::time::Instant::now();
        stage_fn(move |value: u64| {
            let now = tokio::time::Instant::now();
            // A message is done COST after the previous one; an idle worker banks at most
            // SLACK of unused time, so a busy one runs at exactly 1 / COST however late the
            // timer wakes it.
            free_at = free_at.max(now - SLACK) + COST;
            // tokio's timer ticks in milliseconds: sleep only when ahead by more than two.
            let wait = (free_at > now + Duration::from_millis(2)).then_some(free_at);
            async move {
                if let Some(done) = wait {
                    tokio::time::sleep_until(done).await;
                }
                Ok::<_, StageError>(value)
            }
        })
    })
    .build()
}

/// The objective is loose on purpose: what is known here is the capacity, and near it the
/// latency of a busy shared machine (its pauses, other jobs) is not; the achieved-rate rule
/// decides. (With p99<=50ms a run on a machine loaded by two other builds found 1,898.)
fn options() -> CapacityOptions {
    CapacityOptions {
        step: Duration::from_millis(800),
        warmup: Duration::from_millis(200),
        ..CapacityOptions::new("p99<=250ms".parse::<Slo>().unwrap())
    }
}

/// The two tests measure time: one at a time, not side by side on two cores.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn the_search_finds_a_known_capacity_within_five_percent() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let pipeline = fixed_cost_pipeline();
    let config = RunConfig {
        batch_size: 8,
        ..RunConfig::smoke()
    };
    let truth = 1.0 / COST.as_secs_f64();
    let mut heard = 0;
    let capacity = find_capacity(&pipeline, &config, &options(), &Silent, &mut |_, _| heard += 1).unwrap();
    eprintln!(
        "capacity {:.0} msg/s (failed at {:?}), truth {truth:.0}, saturation {:.0}, {} steps in {:.1} s",
        capacity.max_rate_per_second,
        capacity.failed_rate_per_second,
        capacity.saturation_messages_per_second,
        capacity.steps.len(),
        capacity.duration_seconds
    );
    assert_eq!(heard, capacity.steps.len());
    assert!(
        (capacity.max_rate_per_second / truth - 1.0).abs() <= 0.05,
        "found {:.0} msg/s, truth {truth:.0}",
        capacity.max_rate_per_second
    );
    let failed = capacity
        .failed_rate_per_second
        .expect("a rate above capacity failed");
    assert!(
        failed > capacity.max_rate_per_second && failed / truth < 1.10,
        "{failed}"
    );
    // Each step says what it missed; the passed ones missed nothing.
    for step in &capacity.steps {
        assert_eq!(step.passed, step.missed.is_empty(), "{step:?}");
    }
    assert!(capacity.steps.iter().any(|step| step.purpose == "repeat"));
    assert!(
        capacity.steps.iter().any(|step| !step.passed
            && step
                .missed
                .iter()
                .any(|why| why.contains("offered rate") || why.contains("p99"))),
        "{:?}",
        capacity.steps
    );

    // Agreement with single steps at fixed rates around the answer: 90 % of it sustains and
    // 110 % of the rate that missed does not. One step is one sample of a noisy machine, so each
    // gets two tries (the search itself held its answer three times).
    let one_step = |rate: f64| {
        let mut single = options();
        single.start_rate = Some(rate);
        single.saturation = Some(capacity.saturation_messages_per_second);
        single.repeats = 0;
        let stop = Arc::new(AtomicBool::new(false));
        single.stop = Arc::clone(&stop);
        let mut first = None;
        let _ = find_capacity(&pipeline, &config, &single, &Silent, &mut |step, _| {
            first.get_or_insert_with(|| step.clone());
            stop.store(true, Ordering::Relaxed);
        })
        .unwrap();
        let first = first.unwrap();
        eprintln!("at {rate:.0}: {first:?}");
        first.passed
    };
    assert!(
        (0..2).any(|_| one_step(capacity.max_rate_per_second * 0.9)),
        "90 % of the capacity found was not sustained"
    );
    assert!(
        (0..2).any(|_| !one_step(failed * 1.1)),
        "110 % of the rate that missed was sustained"
    );
}

#[test]
fn an_interrupted_search_keeps_what_it_measured() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let pipeline = fixed_cost_pipeline();
    let stop = Arc::new(AtomicBool::new(false));
    let options = CapacityOptions {
        stop: Arc::clone(&stop),
        ..options()
    };
    let mut seen = 0;
    let capacity = find_capacity(&pipeline, &RunConfig::smoke(), &options, &Silent, &mut |_, _| {
        seen += 1;
        if seen == 2 {
            stop.store(true, Ordering::Relaxed);
        }
    })
    .unwrap();
    assert_eq!(capacity.steps.len(), 2);
    assert!(capacity.steps.iter().all(|step| step.passed));
    assert!(capacity.max_rate_per_second > 0.0);
}

//! The capacity search against a pipeline whose capacity is known by construction: one worker
//! that serves each message in a fixed 500 µs of a service clock can finish at most 2,000
//! messages a second. The search must land within 5 % of that, and single steps at a dense set
//! of fixed rates around it must agree with the interval it reports.
//!
//! The service clock is `tests/common`'s: exactly `1 / COST` while the machine has any CPU to
//! spare.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use perfgate_profiler::capacity::{CapacityOptions, Slo, find_capacity};
use perfgate_profiler::{Pipeline, RunConfig, Silent};
use perfgate_results::{CapacitySection, CapacityStep};

const COST: Duration = Duration::from_micros(500);

mod common;

fn fixed_cost_pipeline() -> Pipeline<impl perfgate_profiler::AsyncSource<Item = u64>> {
    common::service_clock(COST, Arc::default())
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

/// The tests measure time: one at a time, not side by side on two cores.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn config() -> RunConfig {
    RunConfig {
        batch_size: 8,
        ..RunConfig::smoke()
    }
}

/// The search on the fixed-cost pipeline and how many steps its callback heard, run once for the
/// tests that check it (it takes about 30 s). Call it holding `ONE_AT_A_TIME`.
fn searched() -> &'static (CapacitySection, usize) {
    static SEARCHED: OnceLock<(CapacitySection, usize)> = OnceLock::new();
    SEARCHED.get_or_init(|| {
        let mut heard = 0;
        let capacity = find_capacity(
            &fixed_cost_pipeline(),
            &config(),
            &options(),
            &Silent,
            &mut |_, _| heard += 1,
        )
        .unwrap();
        eprintln!(
            "capacity {:.0} msg/s (failed at {:?}), truth {:.0}, saturation {:.0}, {} steps in {:.1} s",
            capacity.max_rate_per_second,
            capacity.failed_rate_per_second,
            1.0 / COST.as_secs_f64(),
            capacity.saturation_messages_per_second,
            capacity.steps.len(),
            capacity.duration_seconds
        );
        (capacity, heard)
    })
}

/// One step at a fixed `rate`, judged like the search's steps: the search itself, started at
/// `rate` with the saturation it measured, stopped after its first step.
fn one_step(saturation: f64, rate: f64) -> CapacityStep {
    let mut single = options();
    single.start_rate = Some(rate);
    single.saturation = Some(saturation);
    single.repeats = 0;
    let stop = Arc::new(AtomicBool::new(false));
    single.stop = Arc::clone(&stop);
    let mut first = None;
    let _ = find_capacity(
        &fixed_cost_pipeline(),
        &config(),
        &single,
        &Silent,
        &mut |step, _| {
            first.get_or_insert_with(|| step.clone());
            stop.store(true, Ordering::Relaxed);
        },
    )
    .unwrap();
    first.unwrap()
}

#[test]
fn the_search_finds_a_known_capacity_within_five_percent() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (capacity, heard) = searched();
    let truth = 1.0 / COST.as_secs_f64();
    assert_eq!(*heard, capacity.steps.len());
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
        let step = one_step(capacity.saturation_messages_per_second, rate);
        eprintln!("at {rate:.0}: {step:?}");
        step.passed
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

/// The search's answer against a dense sweep: single steps at eleven fixed rates from 60 % to
/// 140 % of the capacity it found. Rates clearly below its interval (at most 90 % of its lower
/// end) sustain, rates clearly above it (at least 110 % of its upper end) do not, and along the
/// rates the outcome changes once, at the knee, not back and forth.
#[test]
fn a_dense_sweep_of_rates_agrees_with_the_search() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (capacity, _) = searched();
    let started = Instant::now();
    let low = capacity.max_rate_per_second;
    let high = capacity
        .failed_rate_per_second
        .expect("a rate above capacity failed");
    let saturation = capacity.saturation_messages_per_second;

    // Each rate gets up to two tries, as one step is one sample of a noisy machine: below the
    // interval a second try only when the first missed (any pass will do), above it a second try
    // only when the first missed (neither may pass), inside the band one try (either outcome is
    // right there).
    let mut curve = Vec::new();
    let mut disagreements = Vec::new();
    for index in 0..=10 {
        let rate = low * (0.6 + 0.08 * f64::from(index));
        let below = rate <= 0.9 * low;
        let above = rate >= 1.1 * high;
        let mut tries = vec![one_step(saturation, rate)];
        if (below || above) && !tries[0].passed {
            tries.push(one_step(saturation, rate));
        }
        if below && !tries.iter().any(|step| step.passed) {
            disagreements.push(format!("{rate:.0} msg/s, below the interval, missed: {tries:?}"));
        }
        if above && tries.iter().any(|step| step.passed) {
            disagreements.push(format!(
                "{rate:.0} msg/s, above the interval, sustained: {tries:?}"
            ));
        }
        curve.push(tries);
    }

    eprintln!(
        "dense sweep around [{low:.0}, {high:.0}] msg/s (truth {:.0}), {:.1} s:",
        1.0 / COST.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    eprintln!("     rate  of found   p99 ms  achieved/offered  passed");
    for tries in &curve {
        for (attempt, step) in tries.iter().enumerate() {
            eprintln!(
                "{:>9} {:>8.0}% {:>8.1} {:>16.3}  {}",
                if attempt == 0 {
                    format!("{:.0}", step.offered_per_second)
                } else {
                    "(again)".to_owned()
                },
                step.offered_per_second / low * 100.0,
                step.p99_ms,
                step.achieved_per_second / step.offered_per_second,
                step.passed
            );
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");

    // A hockey stick, not noise: by construction the first tries pass up to 2,000 msg/s and miss
    // above it, one change. Noise here moves a step one way only: a stall of the shared machine
    // makes a step below the capacity miss, while above it no stall can make the worker finish
    // more than 1 / COST a second (plus the few messages of slack it may bank, tests/common), so the
    // achieved-rate rule misses whatever happens. One such stray miss turns one rate and adds
    // two changes: three. Only one rate can sit in the knee (they are 8 % apart, the interval
    // about 2 % wide), and it moves the change, it does not add one. A fourth change needs two
    // stray outcomes among eleven steps: that is noise, not a measured capacity.
    let changes = curve
        .windows(2)
        .filter(|pair| pair[0][0].passed != pair[1][0].passed)
        .count();
    assert!(
        changes <= 3,
        "the first tries changed outcome {changes} times along the rates"
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

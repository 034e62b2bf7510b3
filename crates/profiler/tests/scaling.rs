//! Throughput at several runtime worker counts through the public API, on a pipeline of the
//! user's: every count and repeat once, in the interleaved order, stopping when asked and
//! refusing a bad count before anything runs.

use perfgate_profiler::scaling::{ScalingPoint, measure_scaling};
use perfgate_profiler::{Length, Pipeline, RunConfig, Silent, StageError, source_fn, stage_fn};

fn pipeline() -> Pipeline<impl perfgate_profiler::AsyncSource<Item = u64>> {
    Pipeline::builder(|_| {
        let mut next = 0_u64;
        source_fn(move || {
            next += 1;
            std::future::ready(Some(next))
        })
    })
    .stage("double", |_| {
        stage_fn(|value: u64| async move { Ok::<_, StageError>(value * 2) })
    })
    .build()
}

fn config() -> RunConfig {
    RunConfig {
        length: Length::Messages(20_000),
        warmup: Length::Messages(2_000),
        ..RunConfig::smoke()
    }
}

#[test]
fn every_count_and_repeat_is_measured_once_in_the_interleaved_order() {
    let mut heard = Vec::new();
    let points = measure_scaling(
        &pipeline(),
        &config(),
        &[1, 2, 3],
        2,
        &Silent,
        &mut |point, left| {
            heard.push((point.workers, left));
            true
        },
    )
    .unwrap();
    let order: Vec<(usize, usize)> = points.iter().map(|p| (p.workers, p.repeat)).collect();
    assert_eq!(order, [(1, 0), (2, 0), (3, 0), (3, 1), (2, 1), (1, 1)]);
    assert_eq!(
        heard.iter().map(|(_, left)| *left).collect::<Vec<_>>(),
        [5, 4, 3, 2, 1, 0]
    );
    assert!(points.iter().all(|p| p.messages_per_second > 0.0), "{points:?}");
    assert_eq!(points[0].as_pair(), (1.0, points[0].messages_per_second));
}

#[test]
fn a_stop_keeps_what_was_measured_and_a_bad_count_runs_nothing() {
    let points = measure_scaling(&pipeline(), &config(), &[1, 2], 3, &Silent, &mut |_, _| false).unwrap();
    assert_eq!(points.len(), 1);
    let mut ran = 0;
    let error = measure_scaling(
        &pipeline(),
        &config(),
        &[1, 5_000],
        1,
        &Silent,
        &mut |_: &ScalingPoint, _| {
            ran += 1;
            true
        },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(ran, 0, "a point ran before the bad count was refused");
    assert!(error.contains("5000"), "{error}");
    assert!(measure_scaling(&pipeline(), &config(), &[], 1, &Silent, &mut |_, _| true).is_err());
}

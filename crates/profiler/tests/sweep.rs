//! The library's sweep against a pipeline whose throughput at each point is known by
//! construction: one worker serving each message in `cost_us` microseconds of a service clock (as
//! in tests/capacity.rs: each message done `cost` after the previous one, the worker sleeping while
//! it is ahead) finishes exactly `1 / cost` messages a second while the machine has any CPU to
//! spare. The sweep must measure those rates, rank the cheap point best with the dear one clearly
//! behind, measure latency at one shared rate, refuse a bad value before running anything, and
//! keep what it measured when stopped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use perfgate_profiler::sweep::{SweepOptions, sweep};
use perfgate_profiler::{Length, RunConfig, Silent};
use perfgate_results::SweepParam;

mod common;

use common::service_clock;

/// Short runs, counted in messages, with short queues: a saturation window that starts behind a
/// full channel of warm-up messages measures the draining too (1,024 queued at 1,250 msg/s is
/// most of a second), so a slow point would read slower than it is.
fn config() -> RunConfig {
    RunConfig {
        length: Length::Messages(600),
        warmup: Length::Messages(100),
        batch_size: 8,
        channel_capacity: 32,
        ..RunConfig::smoke()
    }
}

fn cost_param(values: &[&str]) -> Vec<SweepParam> {
    vec![SweepParam {
        knob: "cost_us".to_owned(),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }]
}

#[test]
fn the_sweep_measures_known_rates_and_ranks_the_cheap_point_best() {
    let sources = Arc::new(AtomicUsize::new(0));
    let mut heard = Vec::new();
    let section = sweep(
        &cost_param(&["200", "800"]),
        &config(),
        &SweepOptions::default(),
        &Silent,
        |knobs, _config| {
            let cost: u64 = knobs["cost_us"].parse().map_err(|_| "not a number".to_owned())?;
            Ok(service_clock(Duration::from_micros(cost), sources.clone()))
        },
        &mut |progress| heard.push((progress.point.clone(), progress.repeat, progress.left)),
    )
    .unwrap();
    for point in &section.points {
        let figure = point.figure(0).unwrap();
        eprintln!(
            "{}: {:.0} msg/s [{:.0}, {:.0}], p99 {:?} ms",
            point.label(),
            figure.median,
            figure.low,
            figure.high,
            point.figure(2).map(|f| f.median)
        );
    }
    eprintln!("{}", section.recommendation.evidence);
    // 2 calibration runs, then 2 points × 3 repeats, the last with nothing left.
    assert_eq!(heard.len(), 8, "{heard:?}");
    assert_eq!(heard[0].1, None);
    assert_eq!(heard.last().unwrap().2, 0);
    assert_eq!(section.stopped, None);
    for (point, truth) in section.points.iter().zip([5_000.0, 1_250.0]) {
        assert_eq!(point.runs.len(), 3);
        let median = point.figure(0).unwrap().median;
        assert!(
            (median / truth - 1.0).abs() < 0.25,
            "{}: {median:.0} msg/s, truth {truth}",
            point.label()
        );
        assert!(point.figure(2).is_some(), "{}: no p99", point.label());
        assert!(point.figure(3).is_some(), "{}: no CPU per message", point.label());
    }
    // One shared rate, half the slower point's saturation.
    let rate = section.fixed_rate_per_second.unwrap();
    assert!((rate / 625.0 - 1.0).abs() < 0.25, "{rate}");
    assert_eq!(
        section.recommendation.verdict, "best",
        "{}",
        section.recommendation.evidence
    );
    assert_eq!(section.recommendation.best, Some(0));
    assert_eq!(section.recommendation.behind, [1]);
    assert!(section.recommendation.evidence.starts_with("Best: cost_us=200"));
    // Each point's pipeline is made once; every run starts fresh sources from it.
    assert!(sources.load(Ordering::Relaxed) >= 8);
}

#[test]
fn a_value_the_factory_refuses_stops_the_sweep_before_anything_runs() {
    let sources = Arc::new(AtomicUsize::new(0));
    let mut built = Vec::new();
    let error = sweep(
        &cost_param(&["200", "fast"]),
        &config(),
        &SweepOptions::default(),
        &Silent,
        |knobs, _config| {
            built.push(knobs["cost_us"].clone());
            let cost: u64 = knobs["cost_us"]
                .parse()
                .map_err(|_| format!("{:?} is not a whole number of microseconds", knobs["cost_us"]))?;
            Ok(service_clock(Duration::from_micros(cost), sources.clone()))
        },
        &mut |_| panic!("nothing may run"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("point cost_us=fast: \"fast\" is not a whole number"),
        "{error}"
    );
    assert_eq!(built, ["200", "fast"]);
    assert_eq!(sources.load(Ordering::Relaxed), 0, "a pipeline ran");
    // A setting the factory makes impossible is refused the same way.
    let error = sweep(
        &cost_param(&["200"]),
        &config(),
        &SweepOptions::default(),
        &Silent,
        |_, config| {
            config.batch_size = 0;
            Ok(service_clock(Duration::from_micros(200), sources.clone()))
        },
        &mut |_| panic!("nothing may run"),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("batch"), "{error}");
    assert_eq!(sources.load(Ordering::Relaxed), 0, "a pipeline ran");
}

#[test]
fn a_stop_keeps_the_runs_measured() {
    let options = SweepOptions {
        repeat: 2,
        fixed_rate: Some(400.0),
        ..SweepOptions::default()
    };
    let stop = options.stop.clone();
    let section = sweep(
        &cost_param(&["200", "400"]),
        &config(),
        &options,
        &Silent,
        |knobs, _config| {
            let cost: u64 = knobs["cost_us"].parse().map_err(|_| "not a number".to_owned())?;
            Ok(service_clock(Duration::from_micros(cost), Arc::default()))
        },
        &mut |_| stop.store(true, Ordering::Relaxed),
    )
    .unwrap();
    assert_eq!(section.stopped.as_deref(), Some("interrupted"));
    let runs: usize = section.points.iter().map(|point| point.runs.len()).sum();
    assert_eq!(runs, 1);
    assert_eq!(section.fixed_rate_per_second, Some(400.0));
    assert_eq!(section.rate_source, "given");
    assert_eq!(section.recommendation.verdict, "undecided");
}

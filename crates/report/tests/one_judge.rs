//! The report's baseline check, `compare` and `trend` decide "regressed / improved / unchanged"
//! with one judge: for every metric of the catalogue with a direction, and for changes below,
//! at and well beyond its noise floor in both directions, all three give the same verdict.

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use perfgate_report::compare::{CompareOptions, Design, Kind, Samples, Verdict, compare};
use perfgate_report::history::{
    History, HistoryEntry, HistoryRecord, TrendOptions, TrendVerdict, Window, analyze,
};
use perfgate_report::metric::{Better, METRICS, MetricDef};
use perfgate_report::{EvaluateOptions, Movement, RunData, Thresholds, evaluate};

/// The verdict all three share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Same {
    Better,
    Worse,
    Unchanged,
}

fn run(id: &str, value: f64) -> RunData {
    let mut run = RunData::load_tests_only();
    run.metrics.insert(id.to_owned(), value);
    run
}

fn by_baseline(def: &MetricDef, base: f64, candidate: f64) -> Same {
    let thresholds = Thresholds {
        path: PathBuf::from("t.toml"),
        entries: Vec::new(),
        recommendations: Default::default(),
    };
    let options = EvaluateOptions {
        max_regression_pct: None,
        noise_pct: 0.0,
    };
    let evaluation = evaluate(
        &run(def.id, candidate),
        &thresholds,
        Some(&run(def.id, base)),
        options,
    );
    match evaluation.comparisons[0].movement {
        Movement::Improved => Same::Better,
        Movement::Regressed => Same::Worse,
        Movement::Unchanged => Same::Unchanged,
        Movement::Changed => panic!("{} has a direction", def.id),
    }
}

fn by_compare(def: &MetricDef, base: f64, candidate: f64) -> Same {
    let kind = if def.exact { Kind::Exact } else { Kind::Measured };
    let samples = Samples {
        id: def.id.to_owned(),
        kind,
        base: vec![base; 8],
        candidate: vec![candidate; 8],
    };
    let options = CompareOptions {
        noise_pct: 0.0,
        ..CompareOptions::default()
    };
    let comparison = compare(Design::Paired, &[samples], options, &|_| None);
    match comparison.metrics[0].verdict {
        Verdict::Improved => Same::Better,
        Verdict::Regressed => Same::Worse,
        Verdict::Unchanged => Same::Unchanged,
        Verdict::Inconclusive => panic!("{}: eight identical rounds are conclusive", def.id),
    }
}

/// A trend over a perfect line from `base` to `candidate`, whose change relative to the first
/// run is the same as the pair's. The report reads a trend's change against the window's
/// median, so the line runs over runs 0 and 2 with the median at the start: base, base,
/// candidate.
fn by_trend(def: &'static MetricDef, base: f64, candidate: f64) -> Same {
    let entries = [base, base, candidate]
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let record: HistoryRecord = serde_json::from_value(serde_json::json!({
                "schema_version": 1,
                "timestamp": format!("2026-11-0{}T00:00:00Z", index + 1),
                "metrics": {def.id: value},
            }))
            .unwrap();
            HistoryEntry {
                line: index + 1,
                time: UNIX_EPOCH + Duration::from_secs(86_400 * index as u64),
                record,
            }
        })
        .collect();
    let history = History {
        path: PathBuf::from("h.jsonl"),
        entries,
        warnings: Vec::new(),
    };
    let options = TrendOptions {
        window: Window::Runs(10),
        metrics: vec![def],
    };
    match analyze(&history, &options).metrics[0].verdict {
        TrendVerdict::Improving => Same::Better,
        TrendVerdict::Degrading => Same::Worse,
        TrendVerdict::Stable => Same::Unchanged,
        other => panic!("{}: {other:?}", def.id),
    }
}

#[test]
fn baseline_compare_and_trend_agree_for_every_metric() {
    let mut checked = 0;
    for def in METRICS.iter().filter(|def| def.better != Better::Neither) {
        let floor = def.floor_pct();
        // Below, twice and ten times the floor (1 % and 50 % for metrics without one), both ways.
        let steps: Vec<f64> = if floor > 0.0 {
            vec![0.0, 0.4 * floor, -0.4 * floor, 2.0 * floor, -2.0 * floor]
        } else {
            vec![0.0, 1.0, -1.0, 50.0, -50.0]
        };
        for step in steps {
            let (base, candidate) = (200.0, 200.0 * (1.0 + step / 100.0));
            let verdicts = [
                by_baseline(def, base, candidate),
                by_compare(def, base, candidate),
                by_trend(def, base, candidate),
            ];
            assert!(
                verdicts.iter().all(|v| *v == verdicts[0]),
                "{} {base} → {candidate}: baseline, compare, trend = {verdicts:?}",
                def.id
            );
            let expected = match (
                step == 0.0 || step.abs() < floor,
                (step > 0.0) == (def.better == Better::Higher),
            ) {
                (true, _) => Same::Unchanged,
                (false, true) => Same::Better,
                (false, false) => Same::Worse,
            };
            assert_eq!(verdicts[0], expected, "{} {step:+} %", def.id);
            checked += 1;
        }
    }
    assert!(checked >= 100, "{checked} cases");
}

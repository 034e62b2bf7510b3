//! `--repeat N`: the measured windows run again on fresh pipelines, and each repetition's key
//! figures kept with their spread, so that a comparison can use several samples per side and a
//! reader can see how much a single run's figure can be trusted.

use std::collections::BTreeMap;

use perfgate_stats::{mad, median, robust_cv_percent};

use perfgate_results::{RepetitionsSection, Results, Spread};

/// The figures kept per repetition: every metric of the catalogue the results have, except
/// the throughput when it was not measured at saturation (then it is the fixed rate's).
pub(crate) fn key_figures(results: &Results) -> BTreeMap<String, f64> {
    perfgate_results::catalogue::figures(results)
        .into_iter()
        .filter(|(id, _)| *id != "cpu.messages_per_second" || results.phases.contains_key("saturation"))
        .map(|(id, value)| (id.to_owned(), value))
        .collect()
}

/// The section for these repetitions' figures.
pub(crate) fn summarise(runs: Vec<BTreeMap<String, f64>>, policy: String) -> RepetitionsSection {
    let mut by_metric: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for run in &runs {
        for (id, value) in run {
            by_metric.entry(id.clone()).or_default().push(*value);
        }
    }
    let summary = by_metric
        .into_iter()
        .map(|(id, mut values)| {
            values.sort_by(f64::total_cmp);
            let middle = median(&values).expect("every metric listed has a value");
            let spread = Spread {
                median: middle,
                min: values[0],
                max: values[values.len() - 1],
                mad: mad(&values, middle).unwrap_or(0.0),
                robust_cv_percent: robust_cv_percent(&values).unwrap_or(0.0),
            };
            (id, spread)
        })
        .collect();
    RepetitionsSection {
        count: runs.len(),
        policy,
        runs,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_robust() {
        let runs = [100.0, 102.0, 98.0, 101.0, 250.0]
            .iter()
            .map(|v| BTreeMap::from([("cpu.messages_per_second".to_owned(), *v)]))
            .collect();
        let section = summarise(runs, String::new());
        let spread = section.summary["cpu.messages_per_second"];
        assert_eq!(section.count, 5);
        assert_eq!(spread.median, 101.0);
        assert_eq!((spread.min, spread.max), (98.0, 250.0));
        assert_eq!(spread.mad, 1.0);
        assert!((spread.robust_cv_percent - 1.4826 / 101.0 * 100.0).abs() < 1e-9);
    }
}

//! Machine-readable outputs of a comparison: the JSON verdict, JUnit XML, Bencher Metric Format
//! and github-action-benchmark's two custom formats. Each is a pure function of the
//! [`Comparison`]; the caller writes the text atomically.

use serde_json::{Value, json};

use super::{Comparison, Gate, MetricOutcome, Samples, Verdict, stats};
use crate::metric::format_value;

/// What was compared, for the outputs' headers.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// The base revision (`main@1a2b3c4`) or file.
    pub base: String,
    /// The candidate.
    pub candidate: String,
    /// The benchmark's name in BMF and github-action-benchmark (`perfgate/market-data`).
    pub bench: String,
}

fn gate_name(gate: Gate) -> &'static str {
    match gate {
        Gate::Pass => "pass",
        Gate::Warn => "warn",
        Gate::Fail => "fail",
    }
}

/// The JSON verdict: `overall`, and per metric `id`, `ratio`, `ci_low`, `ci_high`, `verdict`,
/// `severity` (and the rest of the outcome).
pub fn json_verdict(comparison: &Comparison, labels: &Labels) -> String {
    let value = json!({
        "overall": gate_name(comparison.gate),
        "design": comparison.design,
        "base": labels.base,
        "candidate": labels.candidate,
        "confidence": comparison.options.confidence,
        "max_regression_pct": comparison.options.max_regression_pct,
        "max_counted_regression_pct": comparison.options.max_counted_regression_pct,
        "metrics": comparison.metrics,
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one test case per metric (its gate: a failure for `fail`, a pass with the reason
/// in `system-out` otherwise), so CI systems that read JUnit show a failed gate per metric.
pub fn junit(comparison: &Comparison, labels: &Labels) -> String {
    let failures = comparison.metrics.iter().filter(|m| m.gate == Gate::Fail).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"perfgate compare\" tests=\"{}\" failures=\"{failures}\">\n  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">\n",
        comparison.metrics.len(),
        xml_escape(&format!("{} vs {}", labels.candidate, labels.base)),
        comparison.metrics.len(),
    ));
    for metric in &comparison.metrics {
        out.push_str(&format!(
            "    <testcase classname=\"perfgate.compare\" name=\"{}\">\n",
            xml_escape(&metric.id)
        ));
        let summary = format!("{}: {}", verdict_name(metric.verdict), metric.reason);
        if metric.gate == Gate::Fail {
            out.push_str(&format!(
                "      <failure message=\"{}\" type=\"regression\"/>\n",
                xml_escape(&summary)
            ));
        } else {
            out.push_str(&format!(
                "      <system-out>{}</system-out>\n",
                xml_escape(&format!(
                    "{}{summary}",
                    if metric.gate == Gate::Warn {
                        "warning: "
                    } else {
                        ""
                    }
                ))
            ));
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

pub(crate) fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Unchanged => "unchanged",
        Verdict::Improved => "improved",
        Verdict::Regressed => "regressed",
        Verdict::Inconclusive => "inconclusive",
    }
}

/// The candidate's figure and a 95 % interval of it (order statistics of its runs; the whole
/// range with fewer than six runs).
fn candidate_value(samples: Option<&Samples>, metric: &MetricOutcome) -> Option<(f64, f64, f64)> {
    let value = metric.candidate_median?;
    let values: Vec<f64> = samples.map_or_else(Vec::new, |s| {
        s.candidate.iter().copied().filter(|v| v.is_finite()).collect()
    });
    let (low, high) = stats::median_interval(&values, 0.95)
        .map(|(low, high, _)| (low, high))
        .or_else(|| {
            let low = values.iter().copied().fold(f64::INFINITY, f64::min);
            let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (low <= high).then_some((low, high))
        })
        .unwrap_or((value, value));
    Some((value, low, high))
}

/// Bencher Metric Format: `{bench: {measure: {value, lower_value, upper_value}}}` with the
/// candidate's median and interval, one measure per metric id.
pub fn bmf(comparison: &Comparison, samples: &[Samples], labels: &Labels) -> String {
    let mut measures = serde_json::Map::new();
    for metric in &comparison.metrics {
        let own = samples.iter().find(|s| s.id == metric.id);
        if let Some((value, low, high)) = candidate_value(own, metric) {
            measures.insert(
                metric.id.clone(),
                json!({"value": value, "lower_value": low, "upper_value": high}),
            );
        }
    }
    let mut root = serde_json::Map::new();
    root.insert(labels.bench.clone(), Value::Object(measures));
    let mut text = serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default();
    text.push('\n');
    text
}

/// github-action-benchmark's `customBiggerIsBetter` and `customSmallerIsBetter` inputs:
/// `(bigger, smaller)`, each a JSON list of `{name, unit, value, range, extra}`.
pub fn github_action_benchmark(
    comparison: &Comparison,
    samples: &[Samples],
    labels: &Labels,
) -> (String, String) {
    let mut bigger = Vec::new();
    let mut smaller = Vec::new();
    for metric in &comparison.metrics {
        let own = samples.iter().find(|s| s.id == metric.id);
        let Some((value, low, high)) = candidate_value(own, metric) else {
            continue;
        };
        let entry = json!({
            "name": format!("{} {}", labels.bench, metric.id),
            "unit": metric.unit,
            "value": value,
            "range": format!("{} – {}", format_value(low, metric.unit), format_value(high, metric.unit)),
            "extra": format!("{} vs {}: {}", labels.candidate, labels.base, metric.reason),
        });
        match metric.direction {
            "higher_is_better" => bigger.push(entry),
            "lower_is_better" => smaller.push(entry),
            // A count with no better direction is no benchmark to chart.
            _ => {}
        }
    }
    let text = |list: Vec<Value>| {
        let mut text = serde_json::to_string_pretty(&Value::Array(list)).unwrap_or_default();
        text.push('\n');
        text
    };
    (text(bigger), text(smaller))
}

#[cfg(test)]
mod tests {
    use super::super::{CompareOptions, Design, Kind, compare};
    use super::*;

    fn sample() -> (Comparison, Vec<Samples>) {
        let samples = vec![
            Samples {
                id: "cpu.messages_per_second".to_owned(),
                kind: Kind::Measured,
                base: vec![100.0; 6],
                candidate: vec![70.0, 71.0, 69.0, 70.0, 70.5, 69.5],
            },
            Samples {
                id: "latency.p50_ms".to_owned(),
                kind: Kind::Measured,
                base: vec![1.0, 1.01, 0.99, 1.0, 1.0, 1.0],
                candidate: vec![1.0, 0.99, 1.01, 1.0, 1.0, 1.0],
            },
        ];
        (
            compare(Design::Paired, &samples, CompareOptions::default(), &|_| None),
            samples,
        )
    }

    fn labels() -> Labels {
        Labels {
            base: "main <&>".to_owned(),
            candidate: "HEAD".to_owned(),
            bench: "perfgate/market-data".to_owned(),
        }
    }

    #[test]
    fn json_verdict_has_the_promised_fields() {
        let (comparison, _) = sample();
        let value: Value = serde_json::from_str(&json_verdict(&comparison, &labels())).unwrap();
        assert_eq!(value["overall"], "fail");
        let first = &value["metrics"][0];
        for key in ["id", "ratio", "ci_low", "ci_high", "verdict", "severity"] {
            assert!(!first[key].is_null(), "{key}");
        }
        assert_eq!(first["verdict"], "regressed");
        assert_eq!(first["severity"], "high");
        assert_eq!(value["metrics"][1]["verdict"], "unchanged");
    }

    #[test]
    fn junit_has_one_case_per_metric_and_escapes() {
        let (comparison, _) = sample();
        let xml = junit(&comparison, &labels());
        assert_eq!(xml.matches("<testcase ").count(), 2);
        assert_eq!(xml.matches("<failure ").count(), 1);
        assert!(xml.contains("main &lt;&amp;&gt;"));
        assert!(!xml.contains("main <&>"));
    }

    #[test]
    fn bmf_and_gab_carry_the_candidate_and_split_by_direction() {
        let (comparison, samples) = sample();
        let value: Value = serde_json::from_str(&bmf(&comparison, &samples, &labels())).unwrap();
        let throughput = &value["perfgate/market-data"]["cpu.messages_per_second"];
        assert_eq!(throughput["value"], 70.0);
        assert_eq!(throughput["lower_value"], 69.0);
        assert_eq!(throughput["upper_value"], 71.0);
        let (bigger, smaller) = github_action_benchmark(&comparison, &samples, &labels());
        let bigger: Vec<Value> = serde_json::from_str(&bigger).unwrap();
        let smaller: Vec<Value> = serde_json::from_str(&smaller).unwrap();
        assert_eq!(bigger.len(), 1);
        assert_eq!(smaller.len(), 1);
        assert_eq!(bigger[0]["name"], "perfgate/market-data cpu.messages_per_second");
        assert_eq!(smaller[0]["unit"], "ms");
    }
}

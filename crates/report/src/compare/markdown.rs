//! The comparison as Markdown: a pull-request comment or GitHub step summary that says in its
//! first line whether the gate passed, then one row per metric.

use std::fmt::Write as _;

use super::formats::{Labels, verdict_name};
use super::{Comparison, Design, Gate, MetricOutcome, Severity, Verdict};
use crate::markdown_escape::{code, escape, table_code};
use crate::metric::format_value;

fn pct(ratio: Option<f64>) -> String {
    ratio.map_or("—".to_owned(), |r| format!("{:+.1} %", (r - 1.0) * 100.0))
}

fn verdict_cell(metric: &MetricOutcome) -> String {
    let word = verdict_name(metric.verdict);
    match (metric.verdict, metric.severity) {
        (Verdict::Regressed | Verdict::Improved, Severity::High) => format!("**{word}** (high)"),
        (Verdict::Regressed | Verdict::Improved, Severity::Medium) => format!("{word} (medium)"),
        (Verdict::Regressed | Verdict::Improved, _) => format!("{word} (low)"),
        _ => word.to_owned(),
    }
}

fn gate_cell(gate: Gate) -> &'static str {
    match gate {
        Gate::Pass => "pass",
        Gate::Warn => "⚠️ warn",
        Gate::Fail => "❌ FAIL",
    }
}

/// Renders the comparison. `rounds` is how many rounds (paired) or runs per side were taken.
pub fn render(comparison: &Comparison, labels: &Labels) -> String {
    let mut out = String::new();
    let headline = match comparison.gate {
        Gate::Pass => "✅ perfgate: no gated regression",
        Gate::Warn => "⚠️ perfgate: a possible regression beyond the allowed limit (not confirmed)",
        Gate::Fail => "❌ perfgate: regression beyond the allowed limit",
    };
    let _ = writeln!(out, "## {headline}\n");
    let design = match comparison.design {
        Design::Paired => {
            "paired: base and candidate run interleaved (ABBA) on the same machine in the same job; the effect is each round's candidate/base ratio"
        }
        Design::Unpaired => {
            "**unpaired** (two existing results files): the ratio of medians with a bootstrap interval. Weaker than a paired run: drift between the jobs that produced the files looks like a change"
        }
    };
    let _ = writeln!(
        out,
        "{} (candidate) against {} (base); {design}. Intervals are {:.0} %; a regression fails the gate when its whole interval is beyond {:.0} %.\n",
        code(&labels.candidate),
        code(&labels.base),
        comparison.options.confidence * 100.0,
        comparison.options.max_regression_pct,
    );
    let _ = writeln!(
        out,
        "| Metric | Base | Candidate | Change | 95 % interval | Verdict | Gate |\n|---|---|---|---|---|---|---|"
    );
    for metric in &comparison.metrics {
        let value = |v: Option<f64>| v.map_or("—".to_owned(), |v| format_value(v, metric.unit));
        let interval = match (metric.ci_low, metric.ci_high) {
            (Some(low), Some(high)) if low != high => format!("{} … {}", pct(Some(low)), pct(Some(high))),
            (Some(_), Some(_)) => "exact".to_owned(),
            _ => "—".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} | {} | {} | {} |",
            table_code(&metric.id),
            match metric.direction {
                "higher_is_better" => "↑",
                "lower_is_better" => "↓",
                _ => "=",
            },
            value(metric.base_median),
            value(metric.candidate_median),
            pct(metric.ratio),
            interval,
            verdict_cell(metric),
            gate_cell(metric.gate),
        );
    }
    let notable: Vec<&MetricOutcome> = comparison
        .metrics
        .iter()
        .filter(|m| m.gate != Gate::Pass || m.verdict == Verdict::Inconclusive)
        .collect();
    if !notable.is_empty() {
        let _ = writeln!(out);
        for metric in notable {
            let _ = writeln!(out, "- {}: {}", code(&metric.id), escape(&metric.reason));
        }
    }
    let _ = writeln!(
        out,
        "\n↑ higher is better, ↓ lower is better, = should not change. Base and candidate figures are medians over the rounds. \
         Unchanged means the interval includes no change or the change is below the noise floor \
         (see `docs/statistics.md`)."
    );
    out
}

#[cfg(test)]
mod tests {
    use super::super::{CompareOptions, Kind, Samples, compare};
    use super::*;

    #[test]
    fn headline_and_rows() {
        let samples = vec![Samples {
            id: "cpu.messages_per_second".to_owned(),
            kind: Kind::Measured,
            base: vec![100.0; 6],
            candidate: vec![88.0, 89.0, 90.0, 91.0, 92.0, 89.5],
        }];
        let comparison = compare(Design::Paired, &samples, CompareOptions::default(), &|_| None);
        let text = render(
            &comparison,
            &Labels {
                base: "main".into(),
                candidate: "HEAD".into(),
                bench: "b".into(),
            },
        );
        assert!(text.starts_with("## ⚠️ perfgate"), "{text}");
        assert!(
            text.contains("| `cpu.messages_per_second` ↑ | 100 msg/s |"),
            "{text}"
        );
        assert!(text.contains("regressed (medium)"), "{text}");
    }
}

//! The comparison as Markdown: a pull-request comment or GitHub step summary that says in its
//! first line whether the gate passed, then one row per metric.

use std::fmt::Write as _;

use super::formats::{Labels, verdict_name};
use super::{Comparison, Design, Gate, Kind, MetricOutcome, Severity, Verdict};
use crate::markdown_escape::{code, escape, table_code};
use crate::metric::format_value;

fn pct(ratio: Option<f64>) -> String {
    ratio.map_or("—".to_owned(), |r| format!("{:+.1} %", (r - 1.0) * 100.0))
}

/// A counted metric's change, to a hundredth of a percent: its floor is a tenth.
fn fine_pct(ratio: Option<f64>) -> String {
    ratio.map_or("—".to_owned(), |r| format!("{:+.2} %", (r - 1.0) * 100.0))
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
    if comparison.metrics.iter().any(|m| m.kind == Kind::Counted) {
        let _ = writeln!(
            out,
            "Instructions and estimated cycles per message are counted under Valgrind, not timed: the same build and input give the same count, so they need no interval and fail the gate beyond {} %.\n",
            comparison.options.max_counted_regression_pct
        );
    }
    let paired = comparison.design == Design::Paired;
    // Paired: both medians, their ratio, and the paired change (the median of the per-round
    // ratios) that the verdict judges, each labelled, so that a row's numbers agree with each
    // other — the two changes differ when the machine's speed drifts between rounds, which the
    // medians mix and the per-round ratios cancel (issue 19). Unpaired: the change is the ratio
    // of the medians.
    if paired {
        let _ = writeln!(
            out,
            "| Metric | Base median | Candidate median | Ratio of medians | Paired change | 95 % interval | Verdict | Gate |\n|---|---|---|---|---|---|---|---|"
        );
    } else {
        let _ = writeln!(
            out,
            "| Metric | Base median | Candidate median | Change (ratio of medians) | 95 % interval | Verdict | Gate |\n|---|---|---|---|---|---|---|"
        );
    }
    for metric in &comparison.metrics {
        let pct = if metric.kind == Kind::Counted {
            fine_pct
        } else {
            pct
        };
        let value = |v: Option<f64>| v.map_or("—".to_owned(), |v| format_value(v, metric.unit));
        let interval = match (metric.ci_low, metric.ci_high) {
            (Some(low), Some(high)) if low != high => format!("{} … {}", pct(Some(low)), pct(Some(high))),
            (Some(_), Some(_)) => "exact".to_owned(),
            _ => "—".to_owned(),
        };
        let medians_ratio = match (metric.base_median, metric.candidate_median) {
            (Some(base), Some(candidate)) if base != 0.0 => pct(Some(candidate / base)),
            _ => "—".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} {} | {} | {} |{} {} | {} | {} | {} |",
            table_code(&metric.id),
            match metric.direction {
                "higher_is_better" => "↑",
                "lower_is_better" => "↓",
                _ => "=",
            },
            value(metric.base_median),
            value(metric.candidate_median),
            if paired {
                format!(" {medians_ratio} |")
            } else {
                String::new()
            },
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
        "\n↑ higher is better, ↓ lower is better, = should not change. {} \
         Unchanged means the interval includes no change or the change is below the noise floor \
         (see `docs/statistics.md`).",
        if paired {
            "Base and candidate medians are over the same rounds. The **paired change** is the median of the \
             per-round candidate/base ratios, and the verdict and the interval are its: it can differ from the \
             ratio of the medians when the machine's speed drifted between rounds, which the medians mix and \
             each round's ratio cancels."
        } else {
            "Base and candidate medians are over each side's runs; the change is their ratio."
        }
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
            text.contains("| `cpu.messages_per_second` ↑ | 100 msg/s | 89.75 msg/s | -10.3 % | -10.3 % |"),
            "{text}"
        );
        assert!(
            text.contains("| Ratio of medians | Paired change |")
                && text.contains("**paired change** is the median of the"),
            "{text}"
        );
        assert!(text.contains("regressed (medium)"), "{text}");
    }
}

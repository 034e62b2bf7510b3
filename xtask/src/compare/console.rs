//! The verdict on the console: one line for the comparison, one per metric. The files are
//! `outputs.rs`'s.

use perfgate_report::compare::formats::Labels;
use perfgate_report::compare::{Comparison, Design, Gate, Kind};

/// Prints the comparison to stdout.
pub(super) fn print(comparison: &Comparison, labels: &Labels) {
    println!(
        "{} vs {} ({}): {} (change: {})",
        labels.candidate,
        labels.base,
        match comparison.design {
            Design::Paired => "paired",
            Design::Unpaired => "unpaired, weaker",
        },
        match comparison.gate {
            Gate::Pass => "pass",
            Gate::Warn => "WARN",
            Gate::Fail => "FAIL",
        },
        match comparison.design {
            Design::Paired => "the median of the per-round ratios",
            Design::Unpaired => "the ratio of the medians",
        }
    );
    // The change printed is the paired one (the median of the per-round ratios; unpaired: the
    // ratio of the medians), the one the verdict judges.
    // As wide as the longest id (a chaos figure's is longer than the others).
    let width = comparison.metrics.iter().map(|m| m.id.len()).max().unwrap_or(0);
    for metric in &comparison.metrics {
        println!(
            "  {:<width$} {:>8} {:<12} {}",
            metric.id,
            metric
                .change_pct
                .map_or("—".to_owned(), |c| if metric.kind == Kind::Counted {
                    // A count's floor is a tenth of a percent.
                    format!("{c:+.2} %")
                } else {
                    format!("{c:+.1} %")
                }),
            format!("{:?}", metric.verdict).to_lowercase(),
            metric.reason
        );
    }
}

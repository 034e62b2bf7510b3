//! A terminal summary: the verdict, each check on one line, the recommendations. Colour only on a
//! terminal and never when `NO_COLOR` is set.

use std::fmt::Write;

use super::text::{limit_text, plain_text, status_label};
use crate::evaluate::Status;
use crate::metric::format_value;
use crate::model::Report;

/// Whether to colour output going to stdout.
pub fn colour_wanted() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()) && std::io::stdout().is_terminal()
}

fn paint(text: &str, status: Status, colour: bool) -> String {
    if !colour {
        return text.to_owned();
    }
    let code = match status {
        Status::Pass => "32",
        Status::Warn => "33",
        Status::Fail => "31;1",
        Status::NotAvailable => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// Renders the console summary.
pub fn render(report: &Report, colour: bool) -> String {
    let evaluation = &report.evaluation;
    let mut out = String::new();
    let overall = match evaluation.overall {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        _ => "FAIL",
    };
    let _ = writeln!(
        out,
        "{}  {} passed, {} warned, {} failed, {} not available",
        paint(overall, evaluation.overall, colour),
        evaluation.count(Status::Pass),
        evaluation.count(Status::Warn),
        evaluation.count(Status::Fail),
        evaluation.count(Status::NotAvailable)
    );
    let width = evaluation
        .checks
        .iter()
        .map(|check| check.id.len())
        .max()
        .unwrap_or(0);
    for check in &evaluation.checks {
        let value = check
            .value
            .map_or("not measured".to_owned(), |v| format_value(v, &check.unit));
        let change = check
            .change_pct
            .map_or(String::new(), |change| format!("  ({change:+.1} % vs baseline)"));
        let _ = writeln!(
            out,
            "  {:<5} {:<width$}  {:>18}  limit {}{}",
            paint(status_label(check.status), check.status, colour),
            check.id,
            value,
            limit_text(check.limit, &check.unit),
            change
        );
    }
    for comparison in evaluation
        .comparisons
        .iter()
        .filter(|comparison| comparison.gated)
    {
        let _ = writeln!(
            out,
            "  {} {} regressed {} against the baseline, beyond --max-regression",
            paint("FAIL", Status::Fail, colour),
            comparison.id,
            comparison
                .change_pct
                .map_or("from zero".to_owned(), |change| format!("{change:+.1} %"))
        );
    }
    for test in &report.load_tests {
        if let Some(total) = test.aggregated() {
            let _ = writeln!(
                out,
                "  load  {}: {} requests, {} failed, {}, p95 {}",
                test.label(),
                format_value(total.requests as f64, ""),
                total
                    .error_rate_pct()
                    .map_or("none".to_owned(), |rate| format!("{rate:.2} %")),
                total
                    .rps
                    .map_or("req/s unknown".to_owned(), |rps| format!("{rps:.1} req/s")),
                total.p95_ms.map_or("n/a".to_owned(), |v| format_value(v, "ms"))
            );
        }
    }
    if !report.recommendations.is_empty() {
        let _ = writeln!(out, "recommendations:");
        for recommendation in &report.recommendations {
            let _ = writeln!(
                out,
                "  - [{}] {}: {}",
                recommendation.severity.name(),
                recommendation.topic.label(),
                plain_text(&recommendation.parts)
            );
        }
    }
    out
}

//! A terminal summary: the verdict, each check on one line, the load tests and the database in a
//! line each, the recommendations. Colour only on a terminal and never when `NO_COLOR` is set.

use std::fmt::Write;

use super::text::{limit_text, plain_text, status_label, terminal};
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
            terminal(&check.id),
            terminal(&value),
            terminal(&limit_text(check.limit, &check.unit)),
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
            terminal(&comparison.id),
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
                terminal(&test.label()),
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
    if let Some(database) = &report.results.database {
        let _ = writeln!(out, "  db    {}", terminal(&super::rows::database_line(database)));
    }
    if !report.recommendations.is_empty() {
        let _ = writeln!(out, "recommendations:");
        for recommendation in &report.recommendations {
            let _ = writeln!(
                out,
                "  - [{}] {}: {}",
                recommendation.severity.name(),
                recommendation.topic.label(),
                terminal(&plain_text(&recommendation.parts))
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::model::{Report, ReportOptions};

    #[test]
    fn text_from_the_inputs_cannot_drive_the_terminal() {
        // A unit and a function name holding a line break and a terminal escape (clear screen).
        let thresholds = crate::thresholds::Thresholds::parse(
            Path::new("t.toml"),
            "[metrics.\"cpu.messages_per_second\"]\nmin = 1\nunit = \"msg/s\\u001b[2J\\nFAKE PASS\"\n",
        )
        .unwrap();
        let run = crate::input::parse_results(
            Path::new("r.json"),
            r#"{"schema_version":1,"cpu":{"messages_per_second":5,"hot_functions":[
                {"function":"evil\u001b[2J\nline","self_percent":90.0}]}}"#,
        )
        .unwrap();
        let report = Report::new(
            run,
            &thresholds,
            None,
            ReportOptions {
                now: std::time::UNIX_EPOCH,
                evaluate: Default::default(),
                flamegraph_link: None,
            },
        );
        let text = super::render(&report, false);
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(
            text.lines()
                .all(|line| !line.starts_with("FAKE") && !line.starts_with("line")),
            "{text}"
        );
        assert!(text.contains("msg/s\u{FFFD}[2J\u{FFFD}FAKE PASS"), "{text}");
    }
}

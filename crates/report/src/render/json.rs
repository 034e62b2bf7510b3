//! The machine-readable verdict (`--json FILE`): overall status and, per metric, its value,
//! limit, target, baseline and change, for CI steps to read.

use serde_json::{Value, json};

use super::text::plain_text;

use crate::evaluate::Status;
use crate::loadtest::LoadTest;
use crate::model::Report;
use crate::recommend::{Figure, Part, Recommendation};
use crate::thresholds::Limit;

/// The verdict as a JSON value.
pub fn verdict(report: &Report) -> Value {
    let evaluation = &report.evaluation;
    let overall = match evaluation.overall {
        Status::Pass => "pass",
        Status::Warn => "warn",
        _ => "fail",
    };
    json!({
        "overall": overall,
        "generated": report.generated_at,
        "results": report.results.has_run().then(|| report.results.source.display().to_string()),
        "thresholds": report.thresholds_path.display().to_string(),
        "baseline": report.baseline.as_ref().map(|baseline| baseline.source.display().to_string()),
        "counts": {
            "pass": evaluation.count(Status::Pass),
            "warn": evaluation.count(Status::Warn),
            "fail": evaluation.count(Status::Fail),
            "not_available": evaluation.count(Status::NotAvailable),
            "gated_regressions": evaluation.gated_regressions(),
        },
        "metrics": evaluation.checks.iter().map(|check| {
            let (kind, limit) = match check.limit {
                Limit::Min(value) => ("min", value),
                Limit::Max(value) => ("max", value),
            };
            json!({
                "id": check.id,
                "value": check.value,
                "unit": check.unit,
                "status": check.status.name(),
                "limit": limit,
                "limit_kind": kind,
                "target": check.target,
                "required": check.required,
                "baseline": check.baseline,
                "change_pct": check.change_pct,
            })
        }).collect::<Vec<_>>(),
        "comparisons": evaluation.comparisons.iter().map(|comparison| json!({
            "id": comparison.id,
            "unit": comparison.unit,
            "current": comparison.current,
            "baseline": comparison.baseline,
            "change_pct": comparison.change_pct,
            "verdict": comparison.movement.name(),
            "gated": comparison.gated,
        })).collect::<Vec<_>>(),
        "load_tests": report.load_tests.iter().map(load_test).collect::<Vec<_>>(),
        "recommendations": report.recommendations.iter().map(recommendation).collect::<Vec<_>>(),
    })
}

/// One recommendation: its topic and severity, the figures it rests on, its text as parts (each
/// with its text; a figure's also with its index in `figures`) and as one plain string.
fn recommendation(recommendation: &Recommendation) -> Value {
    let figures: Vec<&Figure> = recommendation.figures().collect();
    let mut next_figure = 0;
    let parts: Vec<Value> = recommendation
        .parts
        .iter()
        .map(|part| match part {
            Part::Text(text) => json!({"kind": "text", "text": text}),
            Part::Code(text) => json!({"kind": "code", "text": text}),
            Part::Figure(figure) => {
                next_figure += 1;
                json!({"kind": "figure", "text": figure.text(), "figure": next_figure - 1})
            }
        })
        .collect();
    json!({
        "topic": recommendation.topic.label(),
        "severity": recommendation.severity.name(),
        "text": plain_text(&recommendation.parts),
        "figures": figures.iter().map(|figure| json!({
            "metric": figure.metric,
            "subject": figure.subject,
            "value": figure.value,
            "unit": figure.unit.symbol(),
            "text": figure.text(),
        })).collect::<Vec<_>>(),
        "parts": parts,
    })
}

/// One load-test run: its endpoints in the tool's order, the aggregate last.
fn load_test(test: &LoadTest) -> Value {
    json!({
        "tool": test.tool,
        "version": test.version,
        "source": test.sources.first().map(|path| path.display().to_string()),
        "files": test.sources.iter().map(|path| path.display().to_string()).collect::<Vec<_>>(),
        "endpoints": test.endpoints.iter().map(|endpoint| json!({
            "type": endpoint.request_type,
            "kind": endpoint.kind.name(),
            "name": endpoint.name,
            "requests": endpoint.requests,
            "failures": endpoint.failures,
            "error_rate_pct": endpoint.error_rate_pct(),
            "rps": endpoint.rps,
            "min_ms": endpoint.min_ms,
            "avg_ms": endpoint.avg_ms,
            "p50_ms": endpoint.p50_ms,
            "p95_ms": endpoint.p95_ms,
            "p99_ms": endpoint.p99_ms,
            "p999_ms": endpoint.p999_ms,
            "max_ms": endpoint.max_ms,
        })).collect::<Vec<_>>(),
        "failures": test.failures.iter().map(|failure| json!({
            "type": failure.method,
            "name": failure.name,
            "error": failure.error,
            "occurrences": failure.occurrences,
        })).collect::<Vec<_>>(),
        "history_points": test.history.len(),
        "notes": test.notes,
    })
}

/// The verdict as pretty JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(&verdict(report)).expect("a JSON value always serialises");
    text.push('\n');
    text
}

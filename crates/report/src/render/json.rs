//! The machine-readable verdict (`--json FILE`): overall status and, per metric, its value,
//! limit, target, baseline and change, for CI steps to read.

use serde_json::{Value, json};

use crate::evaluate::Status;
use crate::model::Report;
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
        "results": report.results.source.display().to_string(),
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
        "recommendations": report.recommendations.iter().map(|r| json!({"topic": r.topic, "text": r.text})).collect::<Vec<_>>(),
    })
}

/// The verdict as pretty JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(&verdict(report)).expect("a JSON value always serialises");
    text.push('\n');
    text
}

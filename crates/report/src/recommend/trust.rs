//! Findings on how far the figures can be trusted as they stand: metrics that regressed against
//! the baseline, and figures from a debug build.

use super::data::{Parts, Recommendation, Severity, Topic};
use super::evidence::Evidence;
use super::figure::{Figure, Notation, Unit};
use crate::evaluate::Movement;

/// The regressions finding, when any metric regressed against the baseline.
pub(super) fn regressions(evidence: &Evidence<'_>) -> Option<Recommendation> {
    let regressed: Vec<_> = evidence
        .evaluation
        .comparisons
        .iter()
        .filter(|comparison| comparison.movement == Movement::Regressed)
        .collect();
    if regressed.is_empty() {
        return None;
    }
    let severity = if regressed.iter().any(|comparison| comparison.gated) {
        Severity::Act
    } else {
        Severity::Warn
    };
    Some(
        Parts::default()
            .text("Against the baseline, ")
            .join(regressed, ", ", |parts, comparison| {
                let parts = parts.code(&comparison.id).text(" (");
                match comparison.change_pct {
                    Some(change) => parts.figure(
                        Figure::new("baseline.change_pct", change, Unit::Percent, Notation::Signed(1))
                            .of(&comparison.id),
                    ),
                    None => parts.text("from 0"),
                }
                .text(")")
            })
            .text(" regressed. Compare the flamegraphs of both runs, starting with the functions that grew.")
            .into_recommendation(Topic::Regressions, severity),
    )
}

/// The build finding, when the figures come from a debug build.
pub(super) fn debug_build(evidence: &Evidence<'_>) -> Option<Recommendation> {
    let profile = evidence.run.environment.as_ref()?.build_profile.as_deref();
    (profile == Some("debug")).then(|| {
        Parts::default()
            .text("These figures come from a debug build and say little about production speed: run ")
            .code("cargo xtask bench")
            .text(", which builds in release.")
            .into_recommendation(Topic::Build, Severity::Warn)
    })
}

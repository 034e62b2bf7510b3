//! [`Evidence`], what every rule reads (the run, its load tests, its evaluation and the cut-offs),
//! with the look-ups the rules share.

use super::data::Severity;
use crate::evaluate::{Evaluation, Status};
use crate::input::RunData;
use crate::loadtest::LoadTest;
use crate::thresholds::RecommendationRules;

/// What the rules read: the run, its load tests, its evaluation and the cut-offs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Evidence<'a> {
    pub(super) run: &'a RunData,
    pub(super) load_tests: &'a [LoadTest],
    pub(super) evaluation: &'a Evaluation,
    pub(super) rules: &'a RecommendationRules,
}

impl Evidence<'_> {
    /// The run's value of a metric.
    pub(super) fn metric(&self, id: &str) -> Option<f64> {
        self.run.metrics.get(id).copied()
    }

    /// The verdict of a metric's threshold, if it has one.
    pub(super) fn status(&self, id: &str) -> Option<Status> {
        self.evaluation
            .checks
            .iter()
            .find(|check| check.id == id)
            .map(|check| check.status)
    }

    /// Whether a metric's threshold warns or fails.
    pub(super) fn concerning(&self, id: &str) -> bool {
        matches!(self.status(id), Some(Status::Warn | Status::Fail))
    }

    /// [`Severity::Act`] when the threshold of one of `ids` fails, else [`Severity::Warn`].
    pub(super) fn act_if_failed(&self, ids: &[&str]) -> Severity {
        if ids.iter().any(|id| self.status(id) == Some(Status::Fail)) {
            Severity::Act
        } else {
            Severity::Warn
        }
    }
}

//! Thresholds files (`thresholds/*.toml`): per metric a `min` (higher is better) or a `max`
//! (lower is better), an optional `target`, and text for the report.
//!
//! ```toml
//! [metrics."cpu.messages_per_second"]
//! min = 400_000        # below this: fail
//! target = 600_000     # at or above this: pass; in between: warn
//! description = "throughput at saturation"
//! required = true      # absent from the results: fail instead of "not available"
//! ```
//!
//! Every mistake is an error naming the file, line and key: an unknown metric (with the list of
//! valid ones), both or neither of `min`/`max`, a target on the wrong side of the limit, a limit
//! against the metric's direction, a value that is not a finite number, an unknown field.
//!
//! The optional `[recommendations]` table sets the cut-offs at which the report's
//! recommendations speak up ([`RecommendationRules`], parsed in `rules.rs`).

mod rules;
mod toml_place;

pub use self::rules::RecommendationRules;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use self::toml_place::{number, place};
use crate::error::{ReportError, Result, line_column};
use crate::metric::{Better, known_ids, metric};

/// The limit of a threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// The value must be at least this (higher is better).
    Min(f64),
    /// The value must be at most this (lower is better).
    Max(f64),
}

impl Limit {
    /// The limit's number.
    pub fn value(self) -> f64 {
        match self {
            Limit::Min(value) | Limit::Max(value) => value,
        }
    }

    /// Whether `value` is within the limit (or the target, used as a limit).
    pub fn admits(self, bound: f64, value: f64) -> bool {
        match self {
            Limit::Min(_) => value >= bound,
            Limit::Max(_) => value <= bound,
        }
    }
}

/// One metric's threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// Metric id.
    pub id: String,
    /// `min` or `max`.
    pub limit: Limit,
    /// Meeting this passes; meeting only the limit warns.
    pub target: Option<f64>,
    /// Unit shown in reports (the metric's own unless the file says otherwise).
    pub unit: String,
    /// Description shown in reports.
    pub description: String,
    /// Whether a missing metric fails.
    pub required: bool,
    /// Line of the threshold in its file.
    pub line: usize,
}

/// A thresholds file.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// The file.
    pub path: PathBuf,
    /// Its thresholds, in metric-registry order.
    pub entries: Vec<Threshold>,
    /// The recommendations' cut-offs: the file's `[recommendations]` table over the defaults.
    pub recommendations: RecommendationRules,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    metrics: BTreeMap<Spanned<String>, Spanned<RawThreshold>>,
    #[serde(default)]
    recommendations: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    min: Option<Spanned<toml::Value>>,
    max: Option<Spanned<toml::Value>>,
    target: Option<Spanned<toml::Value>>,
    unit: Option<String>,
    description: Option<String>,
    #[serde(default)]
    required: bool,
}

impl Thresholds {
    /// Reads and validates a thresholds file. A file that names no metric is bad input: it would
    /// pass every run (a gate that fails open), which is never what an empty or truncated file
    /// means. ([`Thresholds::parse`] accepts text without metrics, e.g. a `[recommendations]`
    /// fragment in tests.)
    pub fn from_path(path: &Path) -> Result<Self> {
        let text = crate::input_file::read_text_capped(path)?;
        let thresholds = Self::parse(path, &text)?;
        if thresholds.entries.is_empty() {
            return Err(ReportError::invalid(
                path,
                "the whole file",
                "names no metric, so every run would pass; add at least one [metrics.\"ID\"] table with a min or max",
            ));
        }
        Ok(thresholds)
    }

    /// Validates thresholds text read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let raw: RawFile = toml::from_str(text).map_err(|error| ReportError::toml(path, text, &error))?;
        let place = |offset: usize, key: &str| place(text, offset, key);
        let mut entries = Vec::new();
        for (id, raw_threshold) in raw.metrics {
            let key = format!("metrics.\"{}\"", id.get_ref());
            let Some(def) = metric(id.get_ref()) else {
                return Err(ReportError::invalid(
                    path,
                    place(id.span().start, &key),
                    format!(
                        "unknown metric '{}'; valid metrics: {}",
                        id.get_ref(),
                        known_ids()
                    ),
                ));
            };
            let threshold_line = line_column(text, id.span().start).0;
            let raw_threshold = raw_threshold.into_inner();
            let number = |field: &str, value: &Spanned<toml::Value>| {
                number(path, text, &format!("{key}.{field}"), value)
            };
            let limit = match (&raw_threshold.min, &raw_threshold.max) {
                (Some(_), Some(_)) => {
                    return Err(ReportError::invalid(
                        path,
                        place(id.span().start, &key),
                        "sets both min and max; a threshold has one limit: min (higher is better) or max (lower is better)",
                    ));
                }
                (None, None) => {
                    return Err(ReportError::invalid(
                        path,
                        place(id.span().start, &key),
                        "sets neither min nor max",
                    ));
                }
                (Some(min), None) => {
                    if def.better == Better::Lower {
                        return Err(ReportError::invalid(
                            path,
                            place(min.span().start, &format!("{key}.min")),
                            format!("{} is lower-is-better; give it a max", def.id),
                        ));
                    }
                    Limit::Min(number("min", min)?)
                }
                (None, Some(max)) => {
                    if def.better == Better::Higher {
                        return Err(ReportError::invalid(
                            path,
                            place(max.span().start, &format!("{key}.max")),
                            format!("{} is higher-is-better; give it a min", def.id),
                        ));
                    }
                    Limit::Max(number("max", max)?)
                }
            };
            let target = match &raw_threshold.target {
                Some(target) => {
                    let value = number("target", target)?;
                    if !limit.admits(limit.value(), value) {
                        let (side, limit_name) = match limit {
                            Limit::Min(_) => ("below", "min"),
                            Limit::Max(_) => ("above", "max"),
                        };
                        return Err(ReportError::invalid(
                            path,
                            place(target.span().start, &format!("{key}.target")),
                            format!(
                                "target {value} is {side} {limit_name} {}: the target must be the stricter value",
                                limit.value()
                            ),
                        ));
                    }
                    Some(value)
                }
                None => None,
            };
            entries.push(Threshold {
                id: def.id.to_owned(),
                limit,
                target,
                unit: raw_threshold.unit.unwrap_or_else(|| def.unit.to_owned()),
                description: raw_threshold
                    .description
                    .unwrap_or_else(|| def.description.to_owned()),
                required: raw_threshold.required,
                line: threshold_line,
            });
        }
        let order = |id: &str| {
            crate::metric::METRICS
                .iter()
                .position(|def| def.id == id)
                .unwrap_or(usize::MAX)
        };
        entries.sort_by_key(|threshold| order(&threshold.id));
        let recommendations = RecommendationRules::parse(path, text, &raw.recommendations)?;
        Ok(Thresholds {
            path: path.to_owned(),
            entries,
            recommendations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Thresholds> {
        Thresholds::parse(Path::new("t.toml"), text)
    }

    fn error(text: &str) -> String {
        let message = parse(text).unwrap_err().to_string();
        assert!(!message.contains('\n'), "{message}");
        message
    }

    #[test]
    fn reads_limits_targets_and_defaults() {
        let thresholds = parse(
            "[metrics.\"latency.p99_ms\"]\nmax = 10\ntarget = 2.5\n\n[metrics.\"cpu.messages_per_second\"]\nmin = 400_000\nrequired = true\n",
        )
        .unwrap();
        let ids: Vec<_> = thresholds.entries.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(
            ids,
            ["cpu.messages_per_second", "latency.p99_ms"],
            "registry order"
        );
        let throughput = &thresholds.entries[0];
        assert_eq!(throughput.limit, Limit::Min(400_000.0));
        assert!(throughput.required);
        assert_eq!(throughput.unit, "msg/s");
        assert_eq!(throughput.line, 5);
        let p99 = &thresholds.entries[1];
        assert_eq!((p99.limit, p99.target), (Limit::Max(10.0), Some(2.5)));
    }

    #[test]
    fn every_mistake_names_file_line_and_key() {
        let unknown = error("\n[metrics.\"cpu.msgs\"]\nmin = 1\n");
        assert!(
            unknown.starts_with("t.toml: line 2, key metrics.\"cpu.msgs\": unknown metric 'cpu.msgs'"),
            "{unknown}"
        );
        assert!(
            unknown.contains("valid metrics: cpu.messages_per_second"),
            "{unknown}"
        );
        assert!(
            error("[metrics.\"cpu.messages_per_second\"]\nmin = 1\nmax = 2\n").contains("both min and max")
        );
        assert!(error("[metrics.\"cpu.messages_per_second\"]\ntarget = 2\n").contains("neither min nor max"));
        let wrong_side = error("[metrics.\"cpu.messages_per_second\"]\nmin = 10\ntarget = 5\n");
        assert!(
            wrong_side
                .contains("line 3, key metrics.\"cpu.messages_per_second\".target: target 5 is below min 10"),
            "{wrong_side}"
        );
        assert!(
            error("[metrics.\"latency.p99_ms\"]\nmax = 1\ntarget = 2\n").contains("target 2 is above max 1")
        );
        assert!(error("[metrics.\"latency.p99_ms\"]\nmin = 1\n").contains("lower-is-better; give it a max"));
        let text = error("[metrics.\"latency.p99_ms\"]\nmax = \"fast\"\n");
        assert!(
            text.contains("line 2, key metrics.\"latency.p99_ms\".max: expected a number, found string"),
            "{text}"
        );
        assert!(error("[metrics.\"latency.p99_ms\"]\nmax = nan\n").contains("expected a finite number"));
        let syntax = error("[metrics.\"latency.p99_ms\"\nmax = 1\n");
        assert!(syntax.starts_with("t.toml:1:"), "{syntax}");
        let unknown_field = error("[metrics.\"latency.p99_ms\"]\nmax = 1\nmaxx = 2\n");
        assert!(
            unknown_field.starts_with("t.toml:3:") && unknown_field.contains("maxx"),
            "{unknown_field}"
        );
    }

    #[test]
    fn the_recommendations_table_is_read_with_the_file() {
        assert_eq!(parse("").unwrap().recommendations, RecommendationRules::default());
        let rules = parse("[recommendations]\nefficiency_below = 0.5\n")
            .unwrap()
            .recommendations;
        assert_eq!(rules.efficiency_below, 0.5);
        assert!(
            error("[recommendations]\nefficiency = 0.5\n").contains("line 2, key recommendations.efficiency")
        );
    }
}

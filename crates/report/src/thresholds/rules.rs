//! The `[recommendations]` table of a thresholds file: the cut-offs at which the report's
//! recommendations speak up even when no threshold is missed (a stage busy enough to be the
//! bottleneck, a cache that misses too often, perfgate's own harness taking a large share of the
//! CPU). Every key is optional; a missing one keeps its default, and the defaults are written out
//! in `thresholds/default.toml` and documented in `docs/thresholds.md`.
//!
//! ```toml
//! [recommendations]
//! efficiency_below = 0.7     # pipeline efficiency below this: the throughput finding
//! stage_busy_at_least = 0.9  # the busiest stage at or above this busy share: the bottleneck
//! ```
//!
//! An unknown key, a value that is not a finite number, a share outside 0..=1 and a negative
//! duration are errors naming the file, line and key.

use std::collections::BTreeMap;
use std::path::Path;

use toml::Spanned;

use super::toml_place::{number, place};
use crate::error::{ReportError, Result};

/// The recommendations' cut-offs. [`Default`] gives the documented defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecommendationRules {
    /// Pipeline efficiency (saturation throughput / limit-mode throughput) below which the
    /// throughput finding appears even when its thresholds are met. Default 0.7.
    pub efficiency_below: f64,
    /// Share of the measured window a stage's workers are busy at or above which the busiest
    /// stage is named the bottleneck. Default 0.9.
    pub stage_busy_at_least: f64,
    /// Queue depth p99 as a share of the queue's capacity at or above which the busiest stage's
    /// queue counts as full; a full queue that is also the longest makes its stage the
    /// bottleneck. Default 0.9.
    pub queue_full_at_least: f64,
    /// Event-loop lag p99, in milliseconds, above which the event-loop finding appears even when
    /// its threshold is met. Default 1.0.
    pub lag_p99_ms_above: f64,
    /// Cache hit rate below which the cache finding appears even when its threshold is met.
    /// Default 0.8.
    pub cache_hit_rate_below: f64,
    /// Share of an endpoint's requests that fail at or above which the load-test finding names
    /// it as failing. Default 0.5.
    pub endpoint_failure_at_least: f64,
    /// Share of the CPU samples (self time) in perfgate's own harness and synthetic feed at or
    /// above which the report says so as a finding of its own. Default 0.2.
    pub harness_share_at_least: f64,
    /// Share of a database stage's queries that waited over 1 ms for a connection at or above
    /// which a pool whose every connection was in use is named too small for its load.
    /// Default 0.05.
    pub pool_waited_share_at_least: f64,
    /// The acquire wait's p99 as a multiple of the query's own p99 at or above which a pool whose
    /// every connection was in use is named too small for its load. Default 0.5.
    pub pool_wait_p99_ratio_at_least: f64,
}

impl Default for RecommendationRules {
    fn default() -> Self {
        RecommendationRules {
            efficiency_below: 0.7,
            stage_busy_at_least: 0.9,
            queue_full_at_least: 0.9,
            lag_p99_ms_above: 1.0,
            cache_hit_rate_below: 0.8,
            endpoint_failure_at_least: 0.5,
            harness_share_at_least: 0.2,
            pool_waited_share_at_least: 0.05,
            pool_wait_p99_ratio_at_least: 0.5,
        }
    }
}

/// The values a cut-off admits.
#[derive(Debug, Clone, Copy)]
enum Range {
    /// A share of a whole: 0 to 1.
    Share,
    /// A duration or amount: 0 or more.
    NonNegative,
}

/// One key of the table: its name, the values it admits and the field it sets.
struct Rule {
    key: &'static str,
    range: Range,
    field: fn(&mut RecommendationRules) -> &mut f64,
}

/// Every key of the table, in the order the documentation lists them.
const RULES: [Rule; 9] = [
    Rule {
        key: "efficiency_below",
        range: Range::Share,
        field: |rules| &mut rules.efficiency_below,
    },
    Rule {
        key: "stage_busy_at_least",
        range: Range::Share,
        field: |rules| &mut rules.stage_busy_at_least,
    },
    Rule {
        key: "queue_full_at_least",
        range: Range::Share,
        field: |rules| &mut rules.queue_full_at_least,
    },
    Rule {
        key: "lag_p99_ms_above",
        range: Range::NonNegative,
        field: |rules| &mut rules.lag_p99_ms_above,
    },
    Rule {
        key: "cache_hit_rate_below",
        range: Range::Share,
        field: |rules| &mut rules.cache_hit_rate_below,
    },
    Rule {
        key: "endpoint_failure_at_least",
        range: Range::Share,
        field: |rules| &mut rules.endpoint_failure_at_least,
    },
    Rule {
        key: "harness_share_at_least",
        range: Range::Share,
        field: |rules| &mut rules.harness_share_at_least,
    },
    Rule {
        key: "pool_waited_share_at_least",
        range: Range::Share,
        field: |rules| &mut rules.pool_waited_share_at_least,
    },
    Rule {
        key: "pool_wait_p99_ratio_at_least",
        range: Range::NonNegative,
        field: |rules| &mut rules.pool_wait_p99_ratio_at_least,
    },
];

impl RecommendationRules {
    /// The defaults with the `[recommendations]` table of the file at `path` (whose text is
    /// `text`) applied over them.
    pub(super) fn parse(
        path: &Path,
        text: &str,
        table: &BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    ) -> Result<Self> {
        let mut rules = RecommendationRules::default();
        for (key, value) in table {
            let name = format!("recommendations.{}", key.get_ref());
            let Some(rule) = RULES.iter().find(|rule| rule.key == key.get_ref()) else {
                let valid: Vec<&str> = RULES.iter().map(|rule| rule.key).collect();
                return Err(ReportError::invalid(
                    path,
                    place(text, key.span().start, &name),
                    format!(
                        "unknown key '{}'; valid keys: {}",
                        key.get_ref(),
                        valid.join(", ")
                    ),
                ));
            };
            let number = number(path, text, &name, value)?;
            let out_of_range = match rule.range {
                Range::Share if !(0.0..=1.0).contains(&number) => Some("a share from 0 to 1"),
                Range::NonNegative if number < 0.0 => Some("0 or more"),
                _ => None,
            };
            if let Some(expected) = out_of_range {
                return Err(ReportError::invalid(
                    path,
                    place(text, value.span().start, &name),
                    format!("expected {expected}, found {number}"),
                ));
            }
            *(rule.field)(&mut rules) = number;
        }
        Ok(rules)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    /// A thresholds file as far as this table goes: `[recommendations]`, read the way the whole
    /// file reads it, and nothing else. (Going through `Thresholds::parse` would make this file
    /// import `thresholds/mod.rs`, which imports it; that the file hands the table here is
    /// tested there.)
    fn parse(text: &str) -> Result<RecommendationRules> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            recommendations: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
        }
        let path = Path::new("t.toml");
        let file: File = toml::from_str(text).map_err(|error| ReportError::toml(path, text, &error))?;
        RecommendationRules::parse(path, text, &file.recommendations)
    }

    fn error(text: &str) -> String {
        let message = parse(text).unwrap_err().to_string();
        assert!(!message.contains('\n'), "{message}");
        message
    }

    #[test]
    fn a_file_without_the_table_gets_the_defaults() {
        assert_eq!(parse("").unwrap(), RecommendationRules::default());
        let defaults = RecommendationRules::default();
        assert_eq!(
            (
                defaults.efficiency_below,
                defaults.stage_busy_at_least,
                defaults.queue_full_at_least
            ),
            (0.7, 0.9, 0.9)
        );
    }

    #[test]
    fn every_key_sets_its_own_field_and_only_that() {
        for (index, rule) in RULES.iter().enumerate() {
            // A value no default has: setting it must change exactly one field.
            let value = 0.123 + index as f64 / 1000.0;
            let rules = parse(&format!("[recommendations]\n{} = {value}\n", rule.key)).unwrap();
            let mut expected = RecommendationRules::default();
            *(rule.field)(&mut expected) = value;
            assert_eq!(rules, expected, "{}", rule.key);
        }
    }

    #[test]
    fn integers_are_numbers_and_bounds_are_inclusive() {
        let rules = parse(
            "[recommendations]\nlag_p99_ms_above = 3\nstage_busy_at_least = 1\ncache_hit_rate_below = 0\n",
        )
        .unwrap();
        assert_eq!(
            (
                rules.lag_p99_ms_above,
                rules.stage_busy_at_least,
                rules.cache_hit_rate_below
            ),
            (3.0, 1.0, 0.0)
        );
    }

    #[test]
    fn the_shipped_files_and_the_docs_write_out_every_default() {
        let files = [
            (
                "default.toml",
                include_str!("../../../../thresholds/default.toml"),
            ),
            ("ci.toml", include_str!("../../../../thresholds/ci.toml")),
        ];
        for (name, text) in files {
            assert_eq!(parse(text).unwrap(), RecommendationRules::default(), "{name}");
            let table = &text[text.find("\n[recommendations]\n").expect(name)..];
            for rule in &RULES {
                assert!(
                    table
                        .lines()
                        .any(|line| line.starts_with(&format!("{} = ", rule.key))),
                    "{name} does not set {}",
                    rule.key
                );
            }
        }
        let docs = include_str!("../../../../docs/thresholds.md");
        for rule in &RULES {
            let mut defaults = RecommendationRules::default();
            let value = *(rule.field)(&mut defaults);
            assert!(
                docs.contains(&format!("| `{}` | {value} |", rule.key)),
                "docs/thresholds.md does not document {} = {value}",
                rule.key
            );
        }
    }

    #[test]
    fn mistakes_name_file_line_and_key() {
        let unknown = error("[metrics.\"latency.p99_ms\"]\nmax = 1\n\n[recommendations]\nefficiency = 0.5\n");
        assert!(
            unknown.starts_with(
                "t.toml: line 5, key recommendations.efficiency: unknown key 'efficiency'; valid keys: efficiency_below,"
            ),
            "{unknown}"
        );
        let share = error("[recommendations]\n\nstage_busy_at_least = 90\n");
        assert_eq!(
            share,
            "t.toml: line 3, key recommendations.stage_busy_at_least: expected a share from 0 to 1, found 90"
        );
        assert!(
            error("[recommendations]\nharness_share_at_least = -0.1\n")
                .contains("expected a share from 0 to 1, found -0.1")
        );
        let negative = error("[recommendations]\nlag_p99_ms_above = -1\n");
        assert_eq!(
            negative,
            "t.toml: line 2, key recommendations.lag_p99_ms_above: expected 0 or more, found -1"
        );
        let text = error("[recommendations]\nefficiency_below = \"low\"\n");
        assert!(
            text.contains("line 2, key recommendations.efficiency_below: expected a number, found string"),
            "{text}"
        );
        assert!(error("[recommendations]\nqueue_full_at_least = nan\n").contains("expected a finite number"));
        let not_a_table = error("recommendations = 1\n");
        assert!(not_a_table.starts_with("t.toml:1:"), "{not_a_table}");
    }
}

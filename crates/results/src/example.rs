//! A complete, valid results file for documentation and tests: a real `cargo xtask bench
//! --limit` run on a 2-vCPU Xeon VM (2026-11-22), its lists and series cut short, with a made-up
//! overhead section so that every metric of the catalogue has a value. Its `cpu.sample_period_ms`,
//! `sampled_cpu_s` and `profile_coverage_percent` were added later, computed from its samples,
//! rate and CPU times (that run's profiler dropped samples in libc and the kernel: 88 %). Its
//! `capacity` section comes from a real `--quick --capacity 'p99<=20ms'` run on a 2-vCPU EPYC VM
//! (2026-11-26), its steps cut to three; its `sweep` section from a real `cargo xtask sweep
//! --param batch-size=1,16,64` on the same VM (crates/report/tests/fixtures/results-sweep.json);
//! its `chaos` section from a real `cargo xtask chaos --quick` there (results-chaos.json), each
//! scenario's timeline cut to its first five windows; its `database` section from a real
//! release run with `--reference-store` against a local PostgreSQL 15 on that VM (2026-11-26:
//! `--phases fixed-rate --rate 5000 --duration 4s --cache-capacity 64`, the server stopped with
//! `pg_ctl stop -m immediate` 1.5 s in and started again 1 s later), its timelines cut to their
//! first five points.

use crate::run::Results;

impl Results {
    /// The example document (see the module docs): every section present, every figure valid.
    pub fn example() -> Self {
        serde_json::from_str(include_str!("example.json")).expect("the example results file is valid")
    }
}

/// The example document with `patch` laid over it, for tests that care about a few figures:
/// objects merge key by key, anything else replaces (`null` included). A map of named entries
/// in the patch (`stages`, `phases`) replaces the example's entries, each entry completed from
/// the example's first, so `{"stages": {"a": {"index": 0}}}` is a one-stage pipeline whose stage
/// has every field.
pub fn example_with(patch: serde_json::Value) -> serde_json::Value {
    let mut document = serde_json::to_value(Results::example()).expect("the example serialises");
    merge(&mut document, patch);
    document
}

fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
    use serde_json::Value;
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                let named_entries = matches!(key.as_str(), "stages" | "phases");
                match base.get_mut(&key) {
                    Some(Value::Object(existing)) if named_entries && value.is_object() => {
                        let template = existing.values().next().cloned().unwrap_or(Value::Null);
                        let Value::Object(entries) = value else {
                            unreachable!()
                        };
                        existing.clear();
                        for (name, entry) in entries {
                            let mut completed = template.clone();
                            merge(&mut completed, entry);
                            existing.insert(name, completed);
                        }
                    }
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, patch) => *base = patch,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let document = example_with(json!({"cpu": {"messages_per_second": 5.0}, "latency": null,
            "stages": {"a": {"index": 0}}}));
        let results = crate::read::from_value(&document).unwrap();
        assert_eq!(results.cpu.messages_per_second, 5.0);
        assert_eq!(results.cpu.message_count, Results::example().cpu.message_count);
        assert!(results.latency.is_none());
        assert_eq!(results.stages.keys().collect::<Vec<_>>(), ["a"]);
        assert!(
            results.stages["a"].busy_ratio.is_some(),
            "completed from the first stage"
        );
    }
}

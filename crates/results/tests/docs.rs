//! The documentation of the contract follows from the contract: `docs/thresholds.md`'s metric
//! table is the catalogue, written out (`UPDATE_DOCS=1 cargo test -p perfgate-results --test docs`
//! rewrites it), and `docs/results-schema.md` names every field the results types write.

use std::collections::BTreeSet;
use std::path::PathBuf;

use perfgate_results::{Better, METRICS, Results, Source};
use serde_json::Value;

fn docs(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs")
        .join(file)
}

/// The metric table, one row per catalogue entry, in catalogue order.
fn metric_table() -> String {
    let mut table = String::from(
        "| id | unit | direction | noise floor | meaning | where |\n|---|---|---|---|---|---|\n",
    );
    for def in METRICS {
        let direction = match def.better {
            Better::Higher => "higher is better (`min`)",
            Better::Lower => "lower is better (`max`)",
            Better::Neither => "informational (`min` or `max`)",
        };
        let floor = if def.exact {
            "exact".to_owned()
        } else {
            format!("{} %", def.noise_floor_pct)
        };
        let location = match def.source {
            Source::Results(_) => format!("`{}`", def.location),
            _ => def.location.to_owned(),
        };
        table.push_str(&format!(
            "| `{}` | {} | {direction} | {floor} | {} | {location} |\n",
            def.id, def.unit, def.description
        ));
    }
    table
}

#[test]
fn the_metric_table_of_thresholds_md_is_the_catalogue() {
    let path = docs("thresholds.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text
        .find("| id | unit |")
        .expect("thresholds.md has the metric table");
    let end = start + text[start..].find("\n\n").expect("a blank line after the table") + 1;
    let expected = metric_table();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, format!("{}{expected}{}", &text[..start], &text[end..])).unwrap();
        return;
    }
    assert_eq!(
        &text[start..end],
        expected,
        "docs/thresholds.md's metric table differs from the catalogue (UPDATE_DOCS=1 to rewrite it)"
    );
}

/// Field names of the results types: keys of objects that are structs, not of maps whose keys
/// are data (stage and phase names, error kinds, counters, files, threads, series columns, the
/// free-form workload and run settings, repetitions' metric ids).
fn field_names(value: &Value, names: &mut BTreeSet<String>) {
    /// Maps whose keys are data and whose values are structs.
    const NAMED: &[&str] = &["stages", "phases", "summary"];
    /// Maps and lists of free-form data: error kinds, counters, files, threads, series columns,
    /// the workload's and the run's settings, the repetitions' figures by metric id, a sweep point's
    /// knob values and a sweep run's figures.
    const FREE_FORM: &[&str] = &[
        "by_kind", "counters", "files", "threads", "series", "workload", "run", "runs", "knobs", "figures",
    ];
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                names.insert(key.clone());
                // The overhead's `runs` are pairs of figures with fields of their own.
                // So are a sweep's, with their own and a free-form `figures` map.
                let structured_runs = child.get(0).is_some_and(|first| {
                    first.get("throughput_off").is_some() || first.get("position").is_some()
                });
                if FREE_FORM.contains(&key.as_str()) && !structured_runs {
                    continue;
                }
                if NAMED.contains(&key.as_str()) {
                    for entry in child.as_object().into_iter().flat_map(|entries| entries.values()) {
                        field_names(entry, names);
                    }
                } else {
                    field_names(child, names);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| field_names(item, names)),
        _ => {}
    }
}

#[test]
fn results_schema_md_names_every_field() {
    let mut example = Results::example();
    example.repetitions = Some(perfgate_results::RepetitionsSection::default());
    example.capacity = Some(perfgate_results::CapacitySection {
        failed_rate_per_second: Some(1.0),
        steps: vec![perfgate_results::CapacityStep::default()],
        ..Default::default()
    });
    let json = serde_json::to_value(&example).unwrap();
    let mut names = BTreeSet::new();
    field_names(&json, &mut names);
    let text = std::fs::read_to_string(docs("results-schema.md")).unwrap();
    // Every name inside a code span counts: `{function, self_samples, ...}` names its fields.
    let named: BTreeSet<&str> = text
        .split('`')
        .skip(1)
        .step_by(2)
        .flat_map(|span| span.split(|c: char| !(c.is_alphanumeric() || c == '_')))
        .collect();
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| !named.contains(name.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/results-schema.md does not name {missing:?}"
    );
}

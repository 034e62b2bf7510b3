//! Every metric id written as a string in the report's, the profiler's and xtask's code is one
//! the catalogue knows (or a field of `results.json`): a metric renamed in `perfgate-results` fails here instead of silently becoming "not
//! available" wherever the old name was written.

use std::path::{Path, PathBuf};

/// The sections metric ids start with.
const SECTIONS: &[&str] = &[
    "cpu",
    "latency",
    "memory",
    "asyncio",
    "cache",
    "errors",
    "error_rate",
    "fanout",
    "process",
    "profiler",
    "pipeline",
    "limit",
    "database",
    "load",
    "rest",
    "websocket",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// String literals of the form `"section.name"` in `text`.
fn metric_like_literals(text: &str) -> Vec<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter(|literal| {
            let Some((section, name)) = literal.split_once('.') else {
                return false;
            };
            SECTIONS.contains(&section)
                && !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_metric_id_in_the_code_is_in_the_catalogue() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["crates/report/src", "xtask/src", "crates/profiler/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    let example = serde_json::to_value(perfgate_results::Results::example()).unwrap();
    let mut seen = 0;
    let mut unknown = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for id in metric_like_literals(&text) {
            seen += 1;
            // A field of results.json that is not a metric (a recommendation's figure of
            // `errors.by_kind`) is named by its place in the file, which must exist.
            let pointer = format!("/{}", id.replace('.', "/"));
            if perfgate_results::metric(&id).is_none() && example.pointer(&pointer).is_none() {
                unknown.push(format!(
                    "{}: {id}",
                    file.strip_prefix(&root).unwrap_or(file).display()
                ));
            }
        }
    }
    assert!(
        seen > 50,
        "the scan found only {seen} ids: is it reading the code?"
    );
    assert!(unknown.is_empty(), "not in the catalogue: {unknown:#?}");
}

#[test]
fn the_scan_sees_ids_and_ignores_other_strings() {
    let text = r#"let a = "latency.p99_ms"; let b = "cpu.nope"; let c = "file.json"; let d = "Latency.P99";"#;
    assert_eq!(metric_like_literals(text), ["latency.p99_ms", "cpu.nope"]);
}

//! The library's modules stay in layers (ARCHITECTURE.md): no two files of `src/` import each
//! other, and no module imports one from a layer above its own. The import graph is read from the
//! source by `perfgate-import-graph`, so a new import that closes a loop or reaches up fails
//! here, with the files named.

use std::path::Path;

use perfgate_import_graph::{imports, module_path, mutual_pairs};

/// Top-level modules by layer, bottom (0) to top.
const LAYERS: &[(&str, usize)] = &[
    ("clock", 0),
    ("stats", 0),
    ("length", 0),
    ("config", 0),
    ("error", 0),
    ("alloc", 0),
    ("host_steal", 0),
    ("window", 0),
    ("observer", 0),
    ("live_sink", 0),
    ("database", 0),
    ("environment", 1),
    ("probe", 1),
    ("sampler", 2),
    ("sections", 2),
    ("pipeline", 2),
    ("attach", 3),
    ("driver", 4),
    ("market", 4),
    ("results", 5),
    ("overhead", 5),
    ("capacity", 5),
    ("chaos", 5),
    ("faults", 0),
    ("scaling", 5),
    ("sweep", 5),
    ("live", 5),
    ("output", 5),
    ("lib", 6),
];

fn layer(file: &str) -> usize {
    let top = module_path(file)
        .first()
        .cloned()
        .unwrap_or_else(|| "lib".to_owned());
    LAYERS
        .iter()
        .find(|(name, _)| *name == top)
        .unwrap_or_else(|| panic!("{file}: its module `{top}` has no layer in LAYERS (tests/layers.rs)"))
        .1
}

#[test]
fn no_two_files_import_each_other_and_no_layer_imports_a_higher_one() {
    let graph = imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    // The reader itself is tested in crates/import-graph; this guards against reading nothing.
    assert!(graph.len() > 40, "the source was not found: {graph:?}");
    assert!(
        graph["pipeline/wiring.rs"].contains("pipeline/worker.rs"),
        "the imports were not read: {graph:?}"
    );
    let mut problems: Vec<String> = mutual_pairs(&graph)
        .into_iter()
        .map(|(a, b)| format!("{a} and {b} import each other"))
        .collect();
    for (file, targets) in &graph {
        for target in targets {
            if layer(target) > layer(file) {
                problems.push(format!(
                    "{file} (layer {}) imports {target} (layer {})",
                    layer(file),
                    layer(target)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

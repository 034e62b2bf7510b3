//! No two files of `perfgate-report`'s `src/` import each other (ARCHITECTURE.md, Invariants). The graph is read
//! from the source by `perfgate-import-graph`, so an import that closes a loop fails here with
//! both files named.

use std::path::Path;

use perfgate_import_graph::{imports, mutual_pairs};

#[test]
fn no_two_files_import_each_other() {
    let graph = imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    // Reading nothing would pass; the reader itself is tested in crates/import-graph.
    assert!(
        graph.len() >= 60 && graph.values().any(|targets| !targets.is_empty()),
        "the source was not read: {graph:?}"
    );
    let pairs: Vec<String> = mutual_pairs(&graph)
        .into_iter()
        .map(|(a, b)| format!("{a} and {b} import each other"))
        .collect();
    assert!(pairs.is_empty(), "{}", pairs.join("\n"));
}

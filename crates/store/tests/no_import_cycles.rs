//! No two files of `perfgate-store`'s `src/` import each other (ARCHITECTURE.md, Invariants). The graph is read
//! from the source by `perfgate-import-graph`, so an import that closes a loop fails here with
//! both files named.

use std::path::Path;

#[test]
fn no_two_files_import_each_other() {
    perfgate_import_graph::assert_no_mutual_imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), 4);
}

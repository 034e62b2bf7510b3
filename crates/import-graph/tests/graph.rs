//! The reader on small `src/` trees written for each case: it sees every kind of import a file can
//! make of another, no import that is not one, and reports each loop with both files.

use std::collections::{BTreeMap, BTreeSet};

use perfgate_import_graph::{Graph, imports, mutual_pairs};
use tempfile::TempDir;

/// A crate without loops that imports in every way the reader follows.
const LAYERED: &[(&str, &str)] = &[
    (
        "lib.rs",
        "//! `crate::driver` in a doc comment is no import.\n\
         mod driver;\npub mod pipeline;\npub(crate) mod probe;\n\n\
         pub use pipeline::Pipeline;\n",
    ),
    ("probe/mod.rs", "pub mod cpu;\npub mod lag;\n"),
    (
        "probe/cpu.rs",
        "pub fn prepare() {}\n\n\
         #[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
    ),
    (
        "probe/lag.rs",
        "/// See [`crate::driver::run`].\npub struct LagShared;\n\
         pub fn instrument() {}\n\
         const HELP: &str = \"use crate::pipeline::wiring; crate::driver::run()\";\n\
         /* crate::pipeline::worker::go() */\n",
    ),
    (
        "pipeline/mod.rs",
        "mod stage;\nmod wiring;\nmod worker;\n\npub use stage::Stage;\npub struct Pipeline;\n",
    ),
    ("pipeline/stage.rs", "pub trait Stage {}\n"),
    (
        "pipeline/worker.rs",
        "use super::stage::Stage;\n\npub fn go() {\n    super::super::driver::run();\n}\n",
    ),
    (
        "pipeline/wiring.rs",
        "use crate::probe::{\n    cpu::prepare,\n    lag::{LagShared, instrument as lag_of},\n};\n\
         use super::worker;\n",
    ),
    (
        "driver/mod.rs",
        "use crate::Pipeline;\n\npub fn run() {\n    crate::probe::cpu::prepare();\n}\n",
    ),
];

/// `files` written under a temporary `src/`, each of `LAYERED` unless `files` has its own.
fn tree(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut all: BTreeMap<&str, &str> = LAYERED.iter().copied().collect();
    all.extend(files.iter().copied());
    for (name, text) in all {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// A pair as `mutual_pairs` reports it.
fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[test]
fn every_kind_of_import_is_seen_and_nothing_else() {
    let dir = tree(&[]);
    let graph = imports(dir.path());
    let expected: Graph = [
        ("driver/mod.rs", &["lib.rs", "probe/cpu.rs"][..]),
        ("lib.rs", &["pipeline/mod.rs"]),
        ("pipeline/mod.rs", &["pipeline/stage.rs"]),
        ("pipeline/stage.rs", &[]),
        (
            "pipeline/wiring.rs",
            &["pipeline/worker.rs", "probe/cpu.rs", "probe/lag.rs"],
        ),
        ("pipeline/worker.rs", &["driver/mod.rs", "pipeline/stage.rs"]),
        ("probe/cpu.rs", &[]),
        ("probe/lag.rs", &[]),
        ("probe/mod.rs", &[]),
    ]
    .into_iter()
    .map(|(file, targets)| {
        let targets: BTreeSet<String> = targets.iter().map(|t| (*t).to_owned()).collect();
        (file.to_owned(), targets)
    })
    .collect();
    assert_eq!(graph, expected);
    assert!(mutual_pairs(&graph).is_empty());
}

#[test]
fn a_use_that_closes_a_loop_is_reported_with_both_files() {
    let dir = tree(&[(
        "pipeline/stage.rs",
        "use super::worker::go;\npub trait Stage {}\n",
    )]);
    let graph = imports(dir.path());
    assert_eq!(
        mutual_pairs(&graph),
        [pair("pipeline/stage.rs", "pipeline/worker.rs")]
    );
}

#[test]
fn a_qualified_path_in_code_that_closes_a_loop_is_reported() {
    let dir = tree(&[(
        "probe/cpu.rs",
        "pub fn prepare() {\n    let _ = crate::driver::run;\n}\n",
    )]);
    let graph = imports(dir.path());
    assert_eq!(mutual_pairs(&graph), [pair("driver/mod.rs", "probe/cpu.rs")]);
}

#[test]
fn a_loop_through_a_parent_that_re_exports_its_child_is_reported() {
    // `stage.rs` takes `Pipeline` from its parent, which re-exports `stage::Stage`.
    let dir = tree(&[("pipeline/stage.rs", "use super::Pipeline;\npub trait Stage {}\n")]);
    let graph = imports(dir.path());
    assert_eq!(
        mutual_pairs(&graph),
        [pair("pipeline/mod.rs", "pipeline/stage.rs")]
    );
}

#[test]
fn a_binary_crate_is_read_from_main_rs() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "main.rs",
            "mod bench;\nmod trend;\n\nfn main() {\n    bench::run();\n}\n",
        ),
        ("bench.rs", "use crate::trend::Trend;\npub fn run() {}\n"),
        (
            "trend.rs",
            "pub struct Trend;\nfn f() {\n    crate::bench::run();\n}\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let graph = imports(dir.path());
    assert!(graph["main.rs"].contains("bench.rs"));
    assert_eq!(mutual_pairs(&graph), [pair("bench.rs", "trend.rs")]);
}

#[test]
fn the_crates_check_passes_a_tree_without_loops_and_names_a_loop() {
    let clean = tree(&[]);
    perfgate_import_graph::assert_no_mutual_imports(clean.path(), 3);
    let looped = tree(&[(
        "pipeline/stage.rs",
        "use super::worker::go;\npub trait Stage {}\n",
    )]);
    let failure =
        std::panic::catch_unwind(|| perfgate_import_graph::assert_no_mutual_imports(looped.path(), 3))
            .expect_err("a loop fails the check");
    let message = failure.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("pipeline/stage.rs and pipeline/worker.rs import each other"),
        "{message}"
    );
}

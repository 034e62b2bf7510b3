//! xtask drives the profiler's binary and never links its library (ARCHITECTURE.md): the first
//! `cargo xtask ...` on a fresh clone then builds jemalloc, pprof and the profiler once, for the
//! release profiler, instead of also in xtask's debug build (issue 19: xtask's own first build went
//! from 4 min 03 s to 1 min 15 s on two cores). And `cargo xtask`'s launcher, compiled before
//! anything can show a clock, links almost nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Crates that only the release profiler should build.
const PROFILER_ONLY: [&str; 4] = [
    "perfgate-profiler",
    "tikv-jemallocator",
    "tikv-jemalloc-ctl",
    "pprof",
];

/// The names of `manifest`'s normal and build dependencies, and the manifests of those that are
/// path dependencies (the workspace's crates).
fn dependencies(manifest: &Path) -> (Vec<String>, Vec<PathBuf>) {
    let text = std::fs::read_to_string(manifest).unwrap();
    let table: toml::Table = text.parse().unwrap();
    let mut names = Vec::new();
    let mut paths = Vec::new();
    for section in ["dependencies", "build-dependencies"] {
        let Some(dependencies) = table.get(section).and_then(|value| value.as_table()) else {
            continue;
        };
        for (name, spec) in dependencies {
            names.push(name.clone());
            if let Some(path) = spec.get("path").and_then(|path| path.as_str()) {
                paths.push(manifest.parent().unwrap().join(path).join("Cargo.toml"));
            }
        }
    }
    (names, paths)
}

/// Every crate `manifest` links through its normal and build dependencies, following the
/// workspace's own crates.
fn linked_by(manifest: PathBuf) -> BTreeSet<String> {
    let mut pending = vec![manifest];
    let mut seen = BTreeSet::new();
    let mut linked = BTreeSet::new();
    while let Some(manifest) = pending.pop() {
        let manifest = manifest.canonicalize().unwrap();
        if !seen.insert(manifest.clone()) {
            continue;
        }
        let (names, paths) = dependencies(&manifest);
        linked.extend(names);
        pending.extend(paths);
    }
    linked
}

#[test]
fn xtask_links_neither_the_profiler_library_nor_its_allocator_or_profiler() {
    let linked = linked_by(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
    // The walk reached the workspace crates xtask uses, so an empty result means something.
    assert!(
        linked.contains("perfgate-report") && linked.contains("perfgate-results"),
        "{linked:?}"
    );
    let wrong: Vec<_> = PROFILER_ONLY
        .iter()
        .filter(|name| linked.contains(**name))
        .collect();
    assert!(wrong.is_empty(), "xtask's build would compile {wrong:?}");
}

/// The launcher is the first thing a fresh clone's `cargo xtask` compiles, under cargo's plain bar
/// (no clock yet): it must stay a few seconds' build.
#[test]
fn the_launcher_links_only_the_progress_crate_and_terminal_size() {
    let launcher = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("launcher")
        .join("Cargo.toml");
    let linked = linked_by(launcher);
    let expected: BTreeSet<String> = ["perfgate-cargo-progress", "terminal_size"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(linked, expected);
}

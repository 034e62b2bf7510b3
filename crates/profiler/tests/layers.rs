//! The library's modules stay in layers (ARCHITECTURE.md): no two files of `src/` import each
//! other, and no module imports one from a layer above its own. Reads the source, so a new import
//! that closes a loop fails here, with the two files named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

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
    ("probe", 1),
    ("pipeline", 2),
    ("driver", 3),
    ("market", 3),
    ("results", 4),
    ("overhead", 4),
    ("live", 4),
    ("environment", 4),
    ("output", 4),
    ("lib", 4),
];

/// Pairs allowed to import each other: none.
const KNOWN_PAIRS: &[(&str, &str)] = &[];

/// A source file's module path: `pipeline/wiring.rs` → [pipeline, wiring]; `lib.rs` → [].
fn module_path(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// Code without comments (doc links are not imports).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| line.find("//").map_or(line, |at| &line[..at]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path a `use` tree names, flattened: `crate::a::{b, c::d}` → [crate::a::b, crate::a::c::d].
fn flatten(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        out.push(format!("{prefix}{path}"));
        return;
    };
    let head = format!("{prefix}{}", &tree[..open]);
    let body = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut depth, mut start) = (0, 0);
    for (at, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                flatten(&body[start..at], &head, out);
                start = at + 1;
            }
            _ => {}
        }
    }
    if !body[start..].trim().is_empty() {
        flatten(&body[start..], &head, out);
    }
}

/// Every file of `src/` with the files it imports (by `use` or by a qualified path).
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut texts = BTreeMap::new();
    let mut dirs = vec![src.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let name = path
                    .strip_prefix(src)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                texts.insert(name, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let file_of = |module: &[String]| -> Option<String> {
        if module.is_empty() {
            return Some("lib.rs".to_owned());
        }
        let base = module.join("/");
        [format!("{base}.rs"), format!("{base}/mod.rs")]
            .into_iter()
            .find(|file| texts.contains_key(file))
    };
    let mut graph = BTreeMap::new();
    for (file, text) in &texts {
        let here = module_path(file);
        let code = code_of(text);
        let children: BTreeSet<&str> = code
            .lines()
            .filter_map(|line| {
                let line = line
                    .trim()
                    .trim_start_matches("pub(crate) ")
                    .trim_start_matches("pub ");
                line.strip_prefix("mod ")?.strip_suffix(';')
            })
            .collect();
        // In a file's own `mod tests`, `super` is the file itself.
        let tests_at = code.find("mod tests {").unwrap_or(code.len());
        let mut paths: Vec<(String, bool)> = Vec::new();
        for (part, in_tests) in [(&code[..tests_at], false), (&code[tests_at..], true)] {
            let mut flat = Vec::new();
            for (at, _) in part.match_indices("use ") {
                let word_start = part[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                let statement = &part[at + 4..];
                if let Some(end) = statement.find(';').filter(|_| word_start) {
                    flatten(&statement[..end], "", &mut flat);
                }
            }
            // Qualified paths in code (`crate::probe::cpu::prepare(...)`).
            for token in part.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
                if token.starts_with("crate::") || token.starts_with("super::") {
                    flat.push(token.to_owned());
                } else if let Some((head, _)) = token.split_once("::")
                    && children.contains(head)
                {
                    flat.push(token.to_owned());
                }
            }
            paths.extend(flat.into_iter().map(|path| (path, in_tests)));
        }
        let mut targets = BTreeSet::new();
        for (path, in_tests) in paths {
            let segments: Vec<&str> = path
                .split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            let (mut module, rest): (Vec<String>, &[&str]) = match segments.first() {
                Some(&"crate") => (Vec::new(), &segments[1..]),
                Some(&"super") if in_tests => (here.clone(), &segments[1..]),
                Some(&"super") => (here[..here.len().saturating_sub(1)].to_vec(), &segments[1..]),
                Some(&"self") => (here.clone(), &segments[1..]),
                Some(head) if children.contains(head) => (here.clone(), &segments[..]),
                _ => continue,
            };
            for segment in rest {
                let mut deeper = module.clone();
                deeper.push((*segment).to_owned());
                if file_of(&deeper).is_none() {
                    break;
                }
                module = deeper;
            }
            if let Some(target) = file_of(&module).filter(|target| target != file) {
                targets.insert(target);
            }
        }
        graph.insert(file.clone(), targets);
    }
    graph
}

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
    assert!(graph.len() > 40, "the source was not found: {graph:?}");
    let mut problems = Vec::new();
    for (file, targets) in &graph {
        for target in targets {
            let known = KNOWN_PAIRS.contains(&(file.as_str(), target.as_str()));
            if file < target && graph[target].contains(file) && !known {
                problems.push(format!("{file} and {target} import each other"));
            }
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

#[test]
fn the_check_sees_imports_that_close_a_loop() {
    // The parser itself: a `use` tree, a qualified path, and `super` in a file's tests.
    let mut flat = Vec::new();
    flatten(
        "crate::probe::{cpu::CpuProbe, lag::{LagShared, instrument}}",
        "",
        &mut flat,
    );
    assert_eq!(
        flat,
        [
            "crate::probe::cpu::CpuProbe",
            "crate::probe::lag::LagShared",
            "crate::probe::lag::instrument"
        ]
    );
    let graph = imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(graph["pipeline/wiring.rs"].contains("pipeline/worker.rs"));
    assert!(graph["pipeline/wiring.rs"].contains("probe/lag.rs"));
    assert!(
        graph["driver/mod.rs"].contains("probe/cpu.rs"),
        "a qualified path in code counts"
    );
    assert!(
        graph["pipeline/mod.rs"].contains("pipeline/stage.rs"),
        "a child's re-export counts"
    );
    assert!(graph["results/mod.rs"].contains("results/repetitions.rs"));
}

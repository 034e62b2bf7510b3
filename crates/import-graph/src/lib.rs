//! The file-level import graph of one crate's `src/`, read from the source text: which file names
//! items of which other file, by a `use` tree, a qualified path in code (`crate::probe::cpu::f()`),
//! `super::` or `self::`, or a child module's name that its parent re-exports.
//!
//! The workspace's rule (ARCHITECTURE.md) is that no file imports a file that imports it back;
//! each crate's `tests/` holds its `src/` to it with [`imports`] and [`mutual_pairs`]. Reading text
//! instead of compiling keeps this a dev-dependency without dependencies of its own.
//!
//! What it reads: comments and the contents of string and character literals are blanked first
//! (a doc link or a message is not an import); a path resolves to the deepest module that has a
//! file, so `crate::results::Results`, re-exported by `results/mod.rs`, is an import of that file.
//! `lib.rs` and `main.rs` are crate roots (`main.rs` its own when both exist). It does not follow
//! `#[path]` attributes, inline modules' names from outside their file, or paths built by macros.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each file of a `src/` (relative to it, `/`-separated, e.g. `pipeline/wiring.rs`) with the other
/// files of that `src/` it imports.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// A source file's module path: `pipeline/wiring.rs` → `[pipeline, wiring]`,
/// `pipeline/mod.rs` → `[pipeline]`, `lib.rs` and `main.rs` → `[]`.
pub fn module_path(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    let root = parts.len() == 1 && matches!(parts[0].as_str(), "lib" | "main");
    if root || parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts
}

/// Every file of `src/` with the files it imports (by `use`, a qualified path or a child's
/// re-export).
///
/// # Panics
///
/// If `src` or a file under it cannot be read: this is for tests, where that is the failure.
pub fn imports(src: &Path) -> Graph {
    let texts = read_tree(src);
    let mut graph = Graph::new();
    for (file, text) in &texts {
        let here = module_path(file);
        // `main.rs` beside a `lib.rs` is a crate of its own: its `crate::` is itself.
        let root = if file != "main.rs" && texts.contains_key("lib.rs") {
            "lib.rs"
        } else {
            "main.rs"
        };
        let code = code_of(text);
        let children = children(&code);
        // In a file's own `mod tests`, `super` is the file itself.
        let tests_at = code.find("mod tests {").unwrap_or(code.len());
        let mut targets = BTreeSet::new();
        for (part, in_tests) in [(&code[..tests_at], false), (&code[tests_at..], true)] {
            for path in paths_in(part, &children) {
                let Some(module) = module_of(&path, &here, in_tests, &children) else {
                    continue;
                };
                if let Some(target) = deepest_file(&texts, root, module).filter(|t| t != file) {
                    targets.insert(target);
                }
            }
        }
        graph.insert(file.clone(), targets);
    }
    graph
}

/// The pairs of files that import each other, each once, the smaller name first.
pub fn mutual_pairs(graph: &Graph) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (file, targets) in graph {
        for target in targets {
            if file < target && graph.get(target).is_some_and(|back| back.contains(file)) {
                pairs.push((file.clone(), target.clone()));
            }
        }
    }
    pairs
}

/// The check every crate's `tests/no_import_cycles.rs` makes: the crate's `src/` was read (at
/// least `min_files` files, and some import among them, since reading nothing would pass) and
/// no two of its files import each other. Panics naming every such pair.
pub fn assert_no_mutual_imports(src: &Path, min_files: usize) {
    let graph = imports(src);
    assert!(
        graph.len() >= min_files && graph.values().any(|targets| !targets.is_empty()),
        "the source under {} was not read: {graph:?}",
        src.display()
    );
    let pairs: Vec<String> = mutual_pairs(&graph)
        .into_iter()
        .map(|(a, b)| format!("{a} and {b} import each other"))
        .collect();
    assert!(pairs.is_empty(), "{}", pairs.join("\n"));
}

/// The text of every `.rs` file under `src`, by its name relative to `src`.
fn read_tree(src: &Path) -> BTreeMap<String, String> {
    let mut texts = BTreeMap::new();
    let mut dirs = vec![src.to_owned()];
    while let Some(dir) = dirs.pop() {
        let entries =
            std::fs::read_dir(&dir).unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
                .path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let name = path
                    .strip_prefix(src)
                    .expect("read_dir yields paths under the directory it lists")
                    .to_string_lossy()
                    .replace('\\', "/");
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
                texts.insert(name, text);
            }
        }
    }
    texts
}

/// The code of a file with every comment and the contents of every string and character literal
/// blanked out, newlines kept so that lines stay lines.
fn code_of(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let at = |i: usize| chars.get(i).copied();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(c) = at(i) {
        let starts_word = i == 0 || !is_ident(chars[i - 1]);
        if c == '/' && at(i + 1) == Some('/') {
            while at(i).is_some_and(|c| c != '\n') {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && at(i + 1) == Some('*') {
            // Block comments nest.
            let mut depth = 0;
            while let Some(c) = at(i) {
                if c == '/' && at(i + 1) == Some('*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c == '*' && at(i + 1) == Some('/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(c));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (starts_word || (i >= 1 && chars[i - 1] == 'b' && (i == 1 || !is_ident(chars[i - 2]))))
            && raw_string_hashes(&chars[i + 1..]).is_some()
        {
            // r"…", r#"…"#, br#"…"#: no escapes, ends at a quote and as many hashes.
            let hashes = raw_string_hashes(&chars[i + 1..]).unwrap_or_default();
            out.push('r');
            i += 1;
            for _ in 0..=hashes {
                out.push(chars[i]);
                i += 1;
            }
            while let Some(c) = at(i) {
                let closes = c == '"' && (1..=hashes).all(|k| at(i + k) == Some('#'));
                if closes {
                    for _ in 0..=hashes {
                        out.push(chars[i]);
                        i += 1;
                    }
                    break;
                }
                out.push(blank(c));
                i += 1;
            }
        } else if c == '"' {
            out.push('"');
            i += 1;
            while let Some(c) = at(i) {
                if c == '\\' {
                    out.push(' ');
                    out.extend(at(i + 1).map(blank));
                    i += 2;
                } else if c == '"' {
                    out.push('"');
                    i += 1;
                    break;
                } else {
                    out.push(blank(c));
                    i += 1;
                }
            }
        } else if c == '\'' && (at(i + 1) == Some('\\') || at(i + 2) == Some('\'')) {
            // A character literal ('x', '\n', '\''), not a lifetime ('a).
            out.push('\'');
            i += 1;
            if at(i) == Some('\\') {
                out.push_str("  ");
                i += 2;
            }
            while let Some(c) = at(i) {
                i += 1;
                if c == '\'' {
                    out.push('\'');
                    break;
                }
                out.push(' ');
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// After an `r`: the number of `#` before the `"` that opens a raw string, if one does.
fn raw_string_hashes(after_r: &[char]) -> Option<usize> {
    let hashes = after_r.iter().take_while(|&&c| c == '#').count();
    (after_r.get(hashes) == Some(&'"')).then_some(hashes)
}

/// The modules a file declares as its children (`mod stage;`, `pub(crate) mod wiring;`).
fn children(code: &str) -> BTreeSet<&str> {
    code.lines()
        .filter_map(|line| {
            let mut line = line.trim();
            while line.starts_with("#[") {
                line = line[line.find(']')? + 1..].trim_start();
            }
            if let Some(rest) = line.strip_prefix("pub") {
                line = rest.trim_start();
                if line.starts_with('(') {
                    line = line[line.find(')')? + 1..].trim_start();
                }
            }
            Some(line.strip_prefix("mod ")?.strip_suffix(';')?.trim())
        })
        .collect()
}

/// Every path a piece of code names that may be this crate's: each path of each `use` tree, and
/// each qualified path in code that starts at `crate`, `super`, `self` or a child module.
fn paths_in(code: &str, children: &BTreeSet<&str>) -> Vec<String> {
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("use ") {
        let starts_word = code[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if !starts_word {
            continue;
        }
        let statement = &code[at + 4..];
        if let Some(end) = statement.find(';') {
            flatten(&statement[..end], "", &mut paths);
        }
    }
    for token in code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
        // `crate::probe::` is the head of a `use` group, whose paths are flattened above: the
        // group names `probe`'s children, not `probe` itself.
        if token.ends_with("::") {
            continue;
        }
        let ours = ["crate::", "super::", "self::"]
            .iter()
            .any(|start| token.starts_with(start))
            || token
                .split_once("::")
                .is_some_and(|(head, _)| children.contains(head));
        if ours {
            paths.push(token.to_owned());
        }
    }
    paths
}

/// Every path a `use` tree names, flattened: `crate::a::{b, c::d}` → `[crate::a::b, crate::a::c::d]`.
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

/// The module path a path starts from, with the rest of its segments appended; `None` for paths
/// into other crates.
fn module_of(path: &str, here: &[String], in_tests: bool, children: &BTreeSet<&str>) -> Option<Vec<String>> {
    let segments: Vec<&str> = path
        .split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let (first, mut rest) = segments.split_first()?;
    let mut module = match *first {
        "crate" => Vec::new(),
        "self" => here.to_vec(),
        "super" if in_tests => here.to_vec(),
        "super" => here[..here.len().saturating_sub(1)].to_vec(),
        head if children.contains(head) => {
            rest = &segments[..];
            here.to_vec()
        }
        _ => return None,
    };
    while let Some((&"super", tail)) = rest.split_first() {
        module.pop();
        rest = tail;
    }
    module.extend(rest.iter().map(|segment| (*segment).to_owned()));
    Some(module)
}

/// The file of the deepest module along `path` that has one (the rest are items in it).
fn deepest_file(texts: &BTreeMap<String, String>, root: &str, path: Vec<String>) -> Option<String> {
    let file_of = |module: &[String]| -> Option<String> {
        if module.is_empty() {
            return texts.contains_key(root).then(|| root.to_owned());
        }
        let base = module.join("/");
        [format!("{base}.rs"), format!("{base}/mod.rs")]
            .into_iter()
            .find(|file| texts.contains_key(file))
    };
    let mut found = file_of(&[])?;
    for depth in 1..=path.len() {
        match file_of(&path[..depth]) {
            Some(file) => found = file,
            None => break,
        }
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_use_tree_flattens_to_every_path_it_names() {
        let mut flat = Vec::new();
        flatten(
            "crate::probe::{cpu::CpuProbe, lag::{LagShared, instrument as lag_of}, self}",
            "",
            &mut flat,
        );
        assert_eq!(
            flat,
            [
                "crate::probe::cpu::CpuProbe",
                "crate::probe::lag::LagShared",
                "crate::probe::lag::instrument",
                "crate::probe::self",
            ]
        );
    }

    #[test]
    fn comments_and_literals_are_blanked_and_code_is_kept() {
        let text = "use crate::a; // crate::b\n/* crate::c /* nested */ crate::d */ let s = \"crate::e \\\" crate::f\";\nlet r = r#\"crate::g \" crate::h\"#; let c = '\"'; fn f<'a>(x: &'a crate::i::I) {}";
        let code = code_of(text);
        assert_eq!(code.lines().count(), text.lines().count());
        for hidden in [
            "crate::b", "crate::c", "crate::d", "crate::e", "crate::f", "crate::g", "crate::h",
        ] {
            assert!(!code.contains(hidden), "{hidden} is left in {code:?}");
        }
        for kept in ["use crate::a;", "let c = ' ';", "fn f<'a>(x: &'a crate::i::I) {}"] {
            assert!(code.contains(kept), "{kept} is lost from {code:?}");
        }
    }

    #[test]
    fn module_paths_drop_mod_and_the_crate_roots() {
        assert_eq!(module_path("pipeline/wiring.rs"), ["pipeline", "wiring"]);
        assert_eq!(module_path("pipeline/mod.rs"), ["pipeline"]);
        assert!(module_path("lib.rs").is_empty());
        assert!(module_path("main.rs").is_empty());
        assert_eq!(module_path("compare/main.rs"), ["compare", "main"]);
    }

    #[test]
    fn child_declarations_are_read_past_visibility_and_attributes() {
        let code = "mod a;\npub mod b;\npub(crate) mod c;\n#[cfg(test)] mod d;\nmod e {\n}";
        assert_eq!(children(code), BTreeSet::from(["a", "b", "c", "d"]));
    }
}

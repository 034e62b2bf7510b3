//! Helpers shared by the integration tests.
// Each test crate uses a different subset of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A file under `tests/fixtures`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Compares `actual` with the golden file `tests/golden/NAME`, or rewrites it with
/// `UPDATE_GOLDEN=1`.
pub(crate) fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing: run with UPDATE_GOLDEN=1", path.display()));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{name} differs from the golden file at line {}:\n expected: {:?}\n   actual: {:?}\n(run with UPDATE_GOLDEN=1 to accept)",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

/// The images of a Markdown report: `(alt text, link)`.
pub(crate) fn images(markdown: &str) -> Vec<(&str, &str)> {
    markdown
        .match_indices("![")
        .map(|(at, _)| {
            let rest = &markdown[at + 2..];
            let (alt, rest) = rest.split_once("](").unwrap();
            (alt, &rest[..rest.find(')').unwrap()])
        })
        .collect()
}

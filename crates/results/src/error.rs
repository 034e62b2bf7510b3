//! What can be wrong with a results file: one place in it and one problem.

use std::fmt;

/// A results file that cannot be used: where (a JSON pointer, `/` for the whole file) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ReadError {
    /// JSON pointer to the offending value (`/latency/p99_ms`); `/` for the whole document.
    pub pointer: String,
    /// The problem, in a few words, one line.
    pub problem: String,
    /// Line and column in the text, when the text itself is not JSON.
    pub line_column: Option<(usize, usize)>,
}

impl ReadError {
    pub(crate) fn at(pointer: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            problem: problem.into(),
            line_column: None,
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line_column {
            Some((line, column)) => write!(f, "{line}:{column}: {}", self.problem),
            None => write!(f, "{}: {}", self.pointer, self.problem),
        }
    }
}

/// Escapes a map key for a JSON pointer (RFC 6901), and replaces control characters so an
/// error naming a hostile key stays on one line and sends no terminal escape.
pub fn escape_pointer_key(key: &str) -> String {
    key.replace('~', "~0")
        .replace('/', "~1")
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

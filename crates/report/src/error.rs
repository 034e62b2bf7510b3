//! The report's errors. Every one is bad input (or unwritable output) and renders as a single
//! line naming the file, the place in it and the problem; the CLI exits with code 2 on them. A
//! failed threshold is not an error: it is data in the evaluation.

use std::path::{Path, PathBuf};

/// What went wrong reading inputs or writing outputs.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be read or written.
    #[error("{}: {action}: {}{}", one_line(&path.display().to_string()), one_line(&source.to_string()), one_line(hint))]
    Io {
        /// The file.
        path: PathBuf,
        /// `reading` or `writing`.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
        /// Advice appended to the message (may be empty).
        hint: String,
    },
    /// A file is not valid JSON or TOML.
    #[error("{}:{line}:{column}: {}", one_line(&path.display().to_string()), one_line(message))]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A file parses but does not have the expected shape or values.
    #[error("{}: {}: {}", one_line(&path.display().to_string()), one_line(place), one_line(message))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where in it: a JSON pointer, a TOML line and key.
        place: String,
        /// What is wrong.
        message: String,
    },
    /// The shared results store could not be reached or used (the message masks its password).
    #[error("{}", one_line(&.0.to_string()))]
    Store(#[from] perfgate_store::StoreError),
}

/// Result alias for the report library.
pub type Result<T, E = ReportError> = std::result::Result<T, E>;

impl ReportError {
    pub(crate) fn invalid(path: &Path, place: impl Into<String>, message: impl Into<String>) -> Self {
        ReportError::Invalid {
            path: path.to_owned(),
            place: place.into(),
            message: message.into(),
        }
    }

    pub(crate) fn read(path: &Path, source: std::io::Error) -> Self {
        let hint = if source.kind() == std::io::ErrorKind::NotFound
            && path.file_name().is_some_and(|name| name == "results.json")
        {
            " (run `cargo xtask bench` first, or pass --results FILE)".to_owned()
        } else {
            String::new()
        };
        ReportError::Io {
            path: path.to_owned(),
            action: "reading",
            source,
            hint,
        }
    }

    pub(crate) fn write(path: &Path, source: std::io::Error) -> Self {
        ReportError::Io {
            path: path.to_owned(),
            action: "writing",
            source,
            hint: String::new(),
        }
    }

    /// A JSON syntax or type error from serde_json, with its position.
    pub(crate) fn json(path: &Path, error: &serde_json::Error) -> Self {
        ReportError::Syntax {
            path: path.to_owned(),
            line: error.line(),
            column: error.column(),
            message: strip_position(&error.to_string()),
        }
    }

    /// A TOML error, with its position computed from the byte span.
    pub(crate) fn toml(path: &Path, text: &str, error: &toml::de::Error) -> Self {
        let (line, column) = error.span().map_or((0, 0), |span| line_column(text, span.start));
        ReportError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message: error.message().trim().to_owned(),
        }
    }
}

/// Text from an input (a key, a value, a path) made safe to print on one terminal line: control
/// characters (newlines, carriage returns, ESC and the rest of C0 and C1, DEL) are written as
/// escapes, so a hostile key can neither break the message into several lines nor send the
/// terminal escape codes.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Control characters, and the bidirectional overrides that make a terminal show text
            // in another order than it is.
            c if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') => {
                out.push_str(&c.escape_unicode().to_string())
            }
            c => out.push(c),
        }
    }
    out
}

/// serde_json appends " at line L column C"; the position is already in our prefix.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |newline| {
        before[newline + 1..].chars().count()
    }) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "ab\ncde\nf";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 4), (2, 2));
        assert_eq!(line_column(text, 7), (3, 1));
    }

    #[test]
    fn messages_are_one_line_with_the_place() {
        let error = ReportError::invalid(
            Path::new("a.json"),
            "/cpu/total_time",
            "expected a number, found a string",
        );
        assert_eq!(
            error.to_string(),
            "a.json: /cpu/total_time: expected a number, found a string"
        );
        let missing = ReportError::read(
            Path::new("target/perfgate/latest/results.json"),
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert!(
            missing.to_string().contains("run `cargo xtask bench` first"),
            "{missing}"
        );
        assert!(!missing.to_string().contains('\n'));
    }
}

//! The history file (JSON Lines): appending one record and reading them all back. Appends never
//! touch earlier bytes, and two writers at once are serialised by an exclusive lock on the file,
//! so each line is whole. Reading skips a corrupt line with a warning that names it, because one
//! bad line (a crash mid-write, a hand edit) must not cost the rest of the history.
//!
//! [`append_line`] and [`read_lines`] are the same discipline for any JSON Lines file, such as
//! the A/A noise record `cargo xtask compare` keeps.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::Value;

use super::record::{HISTORY_SCHEMA_VERSION, HistoryRecord};
use crate::error::{ReportError, Result};
use crate::input_file::MAX_LINE_BYTES;

/// Where `cargo xtask bench` keeps the history unless told otherwise.
pub const DEFAULT_HISTORY: &str = "target/perfgate/history.jsonl";

/// One record read back, with where it was.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// 1-based line in the file.
    pub line: usize,
    /// The record's `timestamp`, parsed.
    pub time: SystemTime,
    /// The record.
    pub record: HistoryRecord,
}

/// A history file as read: its good records in file order, and a warning for each line skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// The file read.
    pub path: PathBuf,
    /// Records in the order they were appended.
    pub entries: Vec<HistoryEntry>,
    /// `FILE:LINE: problem`, one per skipped line.
    pub warnings: Vec<String>,
}

/// Appends `record` to the history at `path` as one line, creating the file and its directories.
///
/// The line is written with a single `write_all` while this process holds an exclusive lock on
/// the file, and the file is opened in append mode, so earlier lines are never rewritten and
/// concurrent appenders (two `cargo xtask bench` at once) cannot interleave their bytes.
pub fn append(path: &Path, record: &HistoryRecord) -> Result<()> {
    append_line(path, record)
}

/// Appends `value` to the JSON Lines file at `path` as one line, the way [`append`] does.
pub fn append_line(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let error = |source| ReportError::write(path, source);
    // serde_json escapes control characters inside strings, so the text has no newline of its own.
    let mut line = serde_json::to_string(value).map_err(|source| ReportError::write(path, source.into()))?;
    line.push('\n');
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(error)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(error)?;
    file.lock().map_err(error)?;
    let written = write_line(&mut file, line);
    // Closing the file would release the lock too; unlocking says so, and reports a failure.
    let unlocked = file.unlock();
    written.and(unlocked).map_err(error)
}

/// Writes `line` at the end of the locked `file`.
fn write_line(file: &mut File, mut line: String) -> std::io::Result<()> {
    // A writer that died mid-line left the file without a final newline; starting on a fresh
    // line keeps that damage to the torn line instead of spoiling this one too.
    if file.metadata()?.len() > 0 {
        file.seek(SeekFrom::End(-1))?;
        let mut last = [0u8];
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            line.insert(0, '\n');
        }
    }
    file.write_all(line.as_bytes())?;
    file.flush()
}

/// Reads every record of the history at `path`. A missing or unreadable file is an error; a
/// line that is not a valid record is skipped and reported in [`History::warnings`].
pub fn read(path: &Path) -> Result<History> {
    let Lines { values, warnings } = read_lines(path, parse_line)?;
    Ok(History {
        path: path.to_owned(),
        entries: values
            .into_iter()
            .map(|(line, (time, record))| HistoryEntry { line, time, record })
            .collect(),
        warnings,
    })
}

/// Reads the JSON Lines file at `path`, each non-blank line through `parse`: the values parsed
/// with their 1-based line numbers, and `FILE:LINE: problem; line skipped` for each line `parse`
/// refused (or that is not UTF-8). A missing or unreadable file is an error.
pub fn read_lines<T>(
    path: &Path,
    mut parse: impl FnMut(&str) -> std::result::Result<T, String>,
) -> Result<Lines<T>> {
    // A FIFO would block and a device never end: a history is a regular file, or missing.
    if path.exists() {
        crate::input_file::regular_file(path)?;
    }
    let file = File::open(path).map_err(|source| ReportError::Io {
        path: path.to_owned(),
        action: "reading",
        hint: if source.kind() == std::io::ErrorKind::NotFound {
            " (`cargo xtask bench` appends a line to it after every run; or pass --history FILE)".to_owned()
        } else {
            String::new()
        },
        source,
    })?;
    // A shared lock waits for an append in progress, so its line is not read half-written.
    file.lock_shared()
        .map_err(|source| ReportError::read(path, source))?;
    let mut reader = BufReader::new(&file);
    let (mut values, mut warnings) = (Vec::new(), Vec::new());
    let mut bytes = Vec::new();
    let mut line = 0;
    loop {
        bytes.clear();
        // Lines are read as bytes so that one line of bad UTF-8 is one warning, not a failed read;
        // at most MAX_LINE_BYTES of a line are held, so one enormous line cannot take the memory.
        let read = (&mut reader)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut bytes)
            .map_err(|source| ReportError::read(path, source))?;
        if read == 0 {
            break;
        }
        line += 1;
        if bytes.len() as u64 > MAX_LINE_BYTES && bytes.last() != Some(&b'\n') {
            skip_rest_of_line(&mut reader).map_err(|source| ReportError::read(path, source))?;
            warnings.push(format!(
                "{}:{line}: longer than {} KiB, no history record is; line skipped",
                path.display(),
                MAX_LINE_BYTES / 1024
            ));
            continue;
        }
        let parsed = match std::str::from_utf8(&bytes) {
            Ok(text) if text.trim().is_empty() => continue,
            // Without its newline, so a torn line's error points into the line, not past it.
            Ok(text) => parse(text.trim_end()),
            Err(_) => Err("not valid UTF-8".to_owned()),
        };
        match parsed {
            Ok(value) => values.push((line, value)),
            Err(problem) => warnings.push(format!("{}:{line}: {problem}; line skipped", path.display())),
        }
    }
    Ok(Lines { values, warnings })
}

/// Reads past the end of the current line without keeping it.
fn skip_rest_of_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(());
        }
        match buffer.iter().position(|&byte| byte == b'\n') {
            Some(end) => {
                reader.consume(end + 1);
                return Ok(());
            }
            None => {
                let all = buffer.len();
                reader.consume(all);
            }
        }
    }
}

/// A JSON Lines file as [`read_lines`] read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Lines<T> {
    /// Each line parsed, with its 1-based line number, in file order.
    pub values: Vec<(usize, T)>,
    /// `FILE:LINE: problem; line skipped`, one per line refused.
    pub warnings: Vec<String>,
}

/// One line as JSON, or what is wrong with it, for [`read_lines`].
pub fn parse_json(text: &str) -> std::result::Result<Value, String> {
    serde_json::from_str(text).map_err(|error| {
        // serde_json ends its message with the position; the column is all that matters here.
        let message = error.to_string();
        let message = message.split(" at line ").next().unwrap_or_default().to_owned();
        format!("not valid JSON: {message} at column {}", error.column())
    })
}

/// One line into a record, or what is wrong with it.
fn parse_line(text: &str) -> std::result::Result<(SystemTime, HistoryRecord), String> {
    let value = parse_json(text)?;
    let version = value
        .get("schema_version")
        .ok_or("not a history record (no `schema_version`)")?;
    if version.as_u64() != Some(HISTORY_SCHEMA_VERSION) {
        return Err(format!(
            "schema version {version} is not supported (this version reads {HISTORY_SCHEMA_VERSION})"
        ));
    }
    let record: HistoryRecord =
        serde_json::from_value(value).map_err(|error| format!("not a history record: {error}"))?;
    let time = humantime::parse_rfc3339(&record.timestamp)
        .map_err(|_| format!("timestamp {:?} is not RFC 3339 in UTC", record.timestamp))?;
    Ok((time, record))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn record(value: f64) -> HistoryRecord {
        HistoryRecord {
            schema_version: HISTORY_SCHEMA_VERSION,
            timestamp: "2026-11-22T12:00:00Z".to_owned(),
            git_commit: Some("abc".to_owned()),
            git_dirty: Some(false),
            branch: None,
            host: None,
            cpu_model: None,
            logical_cores: None,
            rustc: None,
            build_profile: None,
            workload: None,
            length: None,
            settings: None,
            metrics: BTreeMap::from([("cpu.messages_per_second".to_owned(), value)]),
        }
    }

    #[test]
    fn appended_records_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/history.jsonl");
        append(&path, &record(1.0)).unwrap();
        append(&path, &record(2.0)).unwrap();
        let history = read(&path).unwrap();
        assert!(history.warnings.is_empty(), "{:?}", history.warnings);
        let values: Vec<(usize, f64)> = history
            .entries
            .iter()
            .map(|entry| (entry.line, entry.record.metrics["cpu.messages_per_second"]))
            .collect();
        assert_eq!(values, [(1, 1.0), (2, 2.0)]);
        assert_eq!(history.entries[0].record, record(1.0));
    }

    #[test]
    fn an_enormous_line_is_skipped_without_being_held() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let mut text = String::from("{\"a\": 1}\n");
        // 3 MiB on one line (a hostile or corrupt history), then a good line again.
        text.push_str(&"[".repeat(3 * 1024 * 1024));
        text.push_str("\n{\"b\": 2}\n");
        std::fs::write(&path, text).unwrap();
        let lines = read_lines(&path, parse_json).unwrap();
        assert_eq!(lines.values.len(), 2, "{:?}", lines.warnings);
        assert_eq!(lines.values[1].0, 3, "the line after it keeps its number");
        assert_eq!(lines.warnings.len(), 1);
        assert!(
            lines.warnings[0].contains(":2: longer than 1024 KiB"),
            "{:?}",
            lines.warnings
        );
    }

    #[test]
    fn corrupt_lines_are_skipped_with_their_line_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let good = serde_json::to_string(&record(1.0)).unwrap();
        let mut text = String::new();
        text.push_str(&good);
        text.push_str("\n{\"schema_version\":1,\"timest\n"); // 2: torn line
        text.push('\n'); // 3: blank, ignored
        text.push_str("[1,2]\n"); // 4: not a record
        text.push_str(&good.replace("\"schema_version\":1", "\"schema_version\":7")); // 5
        text.push('\n');
        text.push_str(&good.replace("2026-11-22T12:00:00Z", "noon")); // 6
        text.push('\n');
        text.push_str(&good.replace("1.0", "\"fast\"")); // 7
        text.push('\n');
        std::fs::write(&path, format!("{text}\u{0}\u{ff}\n")).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"\xff\xfe\n"); // 9: not UTF-8
        bytes.extend_from_slice(good.as_bytes()); // 10: good, without a final newline
        std::fs::write(&path, bytes).unwrap();

        let history = read(&path).unwrap();
        let lines: Vec<usize> = history.entries.iter().map(|entry| entry.line).collect();
        assert_eq!(lines, [1, 10]);
        let name = path.display().to_string();
        let expected = [
            (2, "not valid JSON"),
            (4, "not a history record (no `schema_version`)"),
            (5, "schema version 7 is not supported (this version reads 1)"),
            (6, "timestamp \"noon\" is not RFC 3339"),
            (
                7,
                "not a history record: invalid type: string \"fast\", expected f64",
            ),
            (8, "not valid JSON"),
            (9, "not valid UTF-8"),
        ];
        assert_eq!(history.warnings.len(), expected.len(), "{:#?}", history.warnings);
        for (warning, (line, problem)) in history.warnings.iter().zip(expected) {
            assert!(
                warning.starts_with(&format!("{name}:{line}: {problem}")),
                "{warning:?} is not line {line}: {problem}"
            );
            assert!(warning.ends_with("; line skipped"), "{warning}");
        }
    }

    #[test]
    fn an_append_after_a_torn_line_starts_a_fresh_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        std::fs::write(&path, "{\"schema_version\":1,\"ti").unwrap();
        append(&path, &record(3.0)).unwrap();
        let history = read(&path).unwrap();
        assert_eq!(history.entries.len(), 1);
        assert_eq!(history.entries[0].line, 2);
        assert_eq!(history.warnings.len(), 1);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .starts_with("{\"schema_version\":1,\"ti\n")
        );
    }

    #[test]
    fn a_missing_file_is_one_line_naming_it() {
        let error = read(Path::new("no/such/history.jsonl")).unwrap_err().to_string();
        assert!(error.starts_with("no/such/history.jsonl: reading: "), "{error}");
        assert!(error.contains("cargo xtask bench"), "{error}");
        assert!(!error.contains('\n'));
    }
}

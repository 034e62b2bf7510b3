//! The benchmark history: appends from two writers at once stay whole lines, an append never
//! changes earlier bytes, and the report's `--history` adds a Trend section (and only then).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier, OnceLock};

use perfgate_report::history::{self, HistoryRecord, TrendOptions, TrendVerdict};
use perfgate_report::load_results;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The full fixture's record, tagged with who wrote it and a sequence number.
fn record(writer: u32, sequence: u32) -> HistoryRecord {
    static FULL: OnceLock<HistoryRecord> = OnceLock::new();
    let mut record = FULL
        .get_or_init(|| {
            let run = load_results(&fixture("results-v1-full.json")).unwrap();
            HistoryRecord::from_run(&run, std::time::SystemTime::now())
        })
        .clone();
    record.host = Some(format!("writer-{writer}"));
    record
        .metrics
        .insert("cpu.message_count".to_owned(), f64::from(sequence));
    record
}

#[test]
fn two_writers_at_once_append_whole_lines() {
    const PER_WRITER: u32 = 500;
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("history.jsonl"));
    let start = Arc::new(Barrier::new(2));
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let (path, start) = (Arc::clone(&path), Arc::clone(&start));
            std::thread::spawn(move || {
                let records: Vec<HistoryRecord> =
                    (0..PER_WRITER).map(|sequence| record(writer, sequence)).collect();
                start.wait();
                for record in &records {
                    history::append(&path, record).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }

    let text = std::fs::read_to_string(&*path).unwrap();
    assert!(text.ends_with('\n'));
    assert_eq!(text.lines().count(), 2 * PER_WRITER as usize);
    let history = history::read(&path).unwrap();
    assert!(
        history.warnings.is_empty(),
        "{:?}",
        &history.warnings[..history.warnings.len().min(5)]
    );
    assert_eq!(history.entries.len(), 2 * PER_WRITER as usize);
    let seen: BTreeSet<(String, u64)> = history
        .entries
        .iter()
        .map(|entry| {
            (
                entry.record.host.clone().unwrap(),
                entry.record.metrics["cpu.message_count"] as u64,
            )
        })
        .collect();
    assert_eq!(seen.len(), 2 * PER_WRITER as usize, "every record exactly once");
    // Each writer's own records stay in the order it wrote them.
    for writer in ["writer-0", "writer-1"] {
        let sequence: Vec<u64> = history
            .entries
            .iter()
            .filter(|entry| entry.record.host.as_deref() == Some(writer))
            .map(|entry| entry.record.metrics["cpu.message_count"] as u64)
            .collect();
        assert_eq!(sequence, (0..u64::from(PER_WRITER)).collect::<Vec<_>>());
    }
}

#[test]
fn an_append_leaves_earlier_bytes_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    history::append(&path, &record(0, 0)).unwrap();
    history::append(&path, &record(0, 1)).unwrap();
    let before = std::fs::read(&path).unwrap();
    history::append(&path, &record(0, 2)).unwrap();
    let after = std::fs::read(&path).unwrap();
    assert!(after.len() > before.len());
    assert_eq!(&after[..before.len()], &before[..]);
    assert_eq!(after.iter().filter(|&&byte| byte == b'\n').count(), 3);
}

/// A history of `count` runs whose throughput falls by 2 % a run, one run a day.
fn falling_history(dir: &Path, count: u32) -> PathBuf {
    let path = dir.join("history.jsonl");
    for run in 0..count {
        let mut record = record(0, run);
        record.timestamp = format!("2026-11-{:02}T12:00:00Z", run + 1);
        record.git_commit = Some(format!("commit{run}"));
        record.metrics.insert(
            "cpu.messages_per_second".to_owned(),
            600_000.0 * (1.0 - 0.02 * f64::from(run)),
        );
        history::append(&path, &record).unwrap();
    }
    path
}

#[test]
fn a_falling_throughput_is_degrading() {
    let dir = tempfile::tempdir().unwrap();
    let path = falling_history(dir.path(), 10);
    let trend = history::analyze(&history::read(&path).unwrap(), &TrendOptions::default());
    let throughput = trend
        .metrics
        .iter()
        .find(|metric| metric.id == "cpu.messages_per_second")
        .unwrap();
    assert_eq!(throughput.verdict, TrendVerdict::Degrading);
    assert!((throughput.slope_per_run.unwrap() + 12_000.0).abs() < 1e-6);
    assert!((throughput.slope_per_day.unwrap() + 12_000.0).abs() < 1e-6);
    // The other metrics did not move.
    let latency = trend
        .metrics
        .iter()
        .find(|metric| metric.id == "latency.p99_ms")
        .unwrap();
    assert_eq!(latency.verdict, TrendVerdict::Stable);
}

fn report(dir: &Path, extra: &[&str]) -> (std::process::Output, String) {
    let out = dir.join("report.md");
    let _ = std::fs::remove_file(&out);
    let output = Command::new(env!("CARGO_BIN_EXE_perfgate-report"))
        .args(["--results", fixture("results-v1-full.json").to_str().unwrap()])
        .args([
            "--thresholds",
            fixture("thresholds-default.toml").to_str().unwrap(),
        ])
        .args(["--out", out.to_str().unwrap(), "--quiet"])
        .args(extra)
        .output()
        .unwrap();
    (output, std::fs::read_to_string(&out).unwrap_or_default())
}

#[test]
fn the_report_gets_a_trend_section_only_with_a_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = falling_history(dir.path(), 6);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{not json\n");
    std::fs::write(&path, bytes).unwrap();

    let (plain, without) = report(dir.path(), &[]);
    assert!(plain.status.code().is_some_and(|code| code < 2));
    assert!(!without.contains("## Trend"));

    let history = path.to_str().unwrap();
    let (output, with) = report(dir.path(), &["--history", history, "--trend-last", "4"]);
    assert!(
        output.status.code().is_some_and(|code| code < 2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let section = with.find("## Trend").expect("a Trend section");
    assert!(section > with.find("## Baseline comparison").unwrap());
    assert!(section < with.find("## Recommendations").unwrap());
    assert!(with.contains("The last 4 runs of"));
    assert!(with.contains(&format!("{history}:7: not valid JSON")), "{with}");
    assert!(with.contains("| `cpu.messages_per_second` | 4 |"));
    // Everything else is as it was, but the time it was generated (the two runs may straddle a
    // second).
    let trend_end = section + with[section..].find("## Recommendations").unwrap();
    let undated = |text: &str| -> String {
        text.lines()
            .filter(|line| !line.starts_with("Generated "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        undated(&format!("{}{}", &with[..section], &with[trend_end..])),
        undated(&without)
    );

    let (days, text) = report(dir.path(), &["--history", history, "--trend-days", "2"]);
    assert!(days.status.code().is_some_and(|code| code < 2));
    assert!(text.contains("The last 2 days of runs of"), "{text}");
    assert!(text.contains("| `cpu.messages_per_second` | 3 |"), "{text}");
}

#[test]
fn a_missing_history_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.jsonl");
    let (output, text) = report(dir.path(), &["--history", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{}: reading:", missing.display())),
        "{stderr}"
    );
    assert!(text.is_empty(), "no report written");
}

//! The seeds every case starts from: the real files already in the tree (the fixtures written by
//! the real tools, the example results, the shipped thresholds) and a history built from the
//! example run, read from the workspace at run time so the library carries none of them.

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::reader::Reader;
use crate::error::{ReportError, Result};
use crate::history::HistoryRecord;
use crate::input::load_results;

/// The fixtures of the report's tests, relative to the workspace root.
const FIXTURES: &str = "crates/report/tests/fixtures";
/// The example results of `perfgate-results`, relative to the workspace root.
pub(crate) const EXAMPLE_RESULTS: &str = "crates/results/src/example.json";

/// Runs in the generated history: enough for a trend to be judged (`history::MIN_RUNS`).
const HISTORY_RUNS: u32 = 8;

/// Seed inputs per reader.
#[derive(Debug, Clone)]
pub struct Seeds {
    by_reader: Vec<Vec<Vec<u8>>>,
}

impl Seeds {
    /// Reads the seeds from the workspace at `root`.
    pub fn load(root: &Path) -> Result<Self> {
        let read = |relative: &str| {
            let path = root.join(relative);
            std::fs::read(&path).map_err(|error| ReportError::read(&path, error))
        };
        let fixtures = |names: &[&str]| -> Result<Vec<Vec<u8>>> {
            names
                .iter()
                .map(|name| read(&format!("{FIXTURES}/{name}")))
                .collect()
        };
        let locust = |suffix: &str| {
            fixtures(
                &["run", "distributed", "unsettled", "empty"]
                    .map(|run| format!("locust-{run}{suffix}"))
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            )
        };
        let results = vec![
            read(&format!("{FIXTURES}/results-v1-full.json"))?,
            read(&format!("{FIXTURES}/results-sweep.json"))?,
            read(&format!("{FIXTURES}/results-chaos.json"))?,
            read(EXAMPLE_RESULTS)?,
        ];
        let mut by_reader = vec![Vec::new(); Reader::ALL.len()];
        for reader in Reader::ALL {
            by_reader[reader.index()] = match reader {
                Reader::Results | Reader::Baseline => results.clone(),
                Reader::Legacy => fixtures(&["performance-results-legacy.json"])?,
                Reader::Thresholds => {
                    let mut files = fixtures(&["thresholds-default.toml"])?;
                    for name in ["default", "ci", "loadtest"] {
                        files.push(read(&format!("thresholds/{name}.toml"))?);
                    }
                    files
                }
                Reader::History => vec![history(&root.join(EXAMPLE_RESULTS))?],
                Reader::LocustJson => locust(".json")?,
                Reader::LocustCsv => locust("_stats.csv")?,
                Reader::LocustHistoryCsv => locust("_stats_history.csv")?,
                Reader::LocustFailuresCsv => locust("_failures.csv")?,
                Reader::Oha => fixtures(&["oha-quotes.json", "oha-flaky.json"])?,
            };
        }
        Ok(Self { by_reader })
    }

    /// The seeds of `reader` (never empty).
    pub fn of(&self, reader: Reader) -> &[Vec<u8>] {
        &self.by_reader[reader.index()]
    }
}

/// A history of [`HISTORY_RUNS`] runs of the example results a day apart, the figures drifting,
/// as `cargo xtask bench` would have appended them.
fn history(example: &Path) -> Result<Vec<u8>> {
    let run = load_results(example)?;
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    let mut text = String::new();
    for day in 0..HISTORY_RUNS {
        let mut record = HistoryRecord::from_run(&run, start);
        record.timestamp =
            humantime::format_rfc3339_seconds(start + Duration::from_secs(86_400 * u64::from(day)))
                .to_string();
        record.git_commit = Some(format!("{day:040x}"));
        for value in record.metrics.values_mut() {
            *value *= 1.0 + f64::from(day) * 0.03;
        }
        text.push_str(&serde_json::to_string(&record).expect("a record serialises"));
        text.push('\n');
    }
    Ok(text.into_bytes())
}

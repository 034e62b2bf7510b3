//! One input through one reader as the command line reaches it (written to a file, read by the
//! reader's entry point), and, when the reader accepts it, through what a hostile file reaches
//! after it: the evaluation against the shipped thresholds, the recommendations, and every
//! renderer (Markdown with chart links, HTML and its chart files, console, JSON verdict,
//! Prometheus), plus the history record `cargo xtask bench` would append. A refusal must be a
//! [`ReportError`] that prints as one line (the command's promise for bad input); the HTML must
//! carry no `<script`, whatever the input's text.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::reader::Reader;
use super::seeds::EXAMPLE_RESULTS;
use crate::error::{ReportError, Result};
use crate::evaluate::EvaluateOptions;
use crate::history::{self, HistoryRecord, TrendOptions, Window};
use crate::input::{RunData, load_results};
use crate::loadtest::{DEFAULT_WEBSOCKET_TYPES, LoadTest, OhaSpec, load_locust, load_oha};
use crate::model::{Report, ReportOptions};
use crate::render;
use crate::thresholds::Thresholds;

/// What a reader made of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Read, and everything downstream ran.
    Accepted,
    /// Refused with a [`ReportError`], as bad input must be.
    Rejected,
}

/// What every case shares: the shipped thresholds and a valid run, for the readers whose file is
/// not the run itself (thresholds, baseline, history), read once.
#[derive(Debug)]
pub struct Target {
    thresholds: Thresholds,
    load_test_thresholds: Thresholds,
    example: RunData,
    locust_json: Vec<u8>,
    locust_stats: Vec<u8>,
}

/// A folder of one thread's own, reused by every case it runs: a million cases must not create a
/// million folders. Each reader writes into a subfolder of its own, so one reader's files never
/// sit beside another's (Locust's reader looks for a run's sibling files).
#[derive(Debug)]
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// A new scratch folder, removed when dropped.
    pub fn new() -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("perfgate-fuzz-").tempdir()?;
        for reader in Reader::ALL {
            std::fs::create_dir(dir.path().join(reader.name()))?;
        }
        Ok(Self { dir })
    }

    fn write(&self, reader: Reader, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(reader.name()).join(name);
        // The folder is ours; failing to write into it is the machine's problem, not the
        // reader's, and must not pass for a rejection.
        std::fs::write(&path, bytes).unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
        path
    }
}

/// A fixed clock, so that a case does the same work every time it runs.
fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000)
}

fn options() -> ReportOptions {
    ReportOptions {
        now: now(),
        evaluate: EvaluateOptions {
            max_regression_pct: Some(5.0),
            noise_pct: 2.0,
        },
        flamegraph_link: Some("img/flamegraph.svg".to_owned()),
    }
}

impl Target {
    /// Reads the shipped thresholds, the example results and the Locust files that accompany
    /// the CSV readers' inputs, from the workspace at `root`.
    pub fn new(root: &Path) -> Result<Self> {
        let read = |relative: &str| {
            let path = root.join(relative);
            std::fs::read(&path).map_err(|error| ReportError::read(&path, error))
        };
        Ok(Self {
            thresholds: Thresholds::from_path(&root.join("thresholds/default.toml"))?,
            load_test_thresholds: Thresholds::from_path(&root.join("thresholds/loadtest.toml"))?,
            example: load_results(&root.join(EXAMPLE_RESULTS))?,
            locust_json: read("crates/report/tests/fixtures/locust-run.json")?,
            locust_stats: read("crates/report/tests/fixtures/locust-run_stats.csv")?,
        })
    }

    /// Feeds `bytes` to `reader` and its downstream. Panics are the caller's to catch (see
    /// [`guarded`](super::guarded)): a panic here is what the fuzzer looks for.
    pub fn exercise(&self, reader: Reader, bytes: &[u8], scratch: &Scratch) -> Outcome {
        match self.read(reader, bytes, scratch) {
            Ok(()) => Outcome::Accepted,
            Err(error) => {
                let message = error.to_string();
                assert!(
                    !message.contains('\n') && !message.contains('\r'),
                    "the refusal is not one line: {message:?}"
                );
                Outcome::Rejected
            }
        }
    }

    fn read(&self, reader: Reader, bytes: &[u8], scratch: &Scratch) -> Result<()> {
        let ws: Vec<String> = DEFAULT_WEBSOCKET_TYPES.iter().map(|s| (*s).to_owned()).collect();
        match reader {
            Reader::Results | Reader::Legacy => {
                // A flamegraph beside the results, for a `files.flamegraph` that names it.
                scratch.write(
                    reader,
                    "flamegraph.svg",
                    b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
                );
                let path = scratch.write(reader, "results.json", bytes);
                let run = load_results(&path)?;
                if let Some(name) = run.files.get("flamegraph")
                    && let Some(source) = crate::confine::file_beside(&path, "/files/flamegraph", name)?
                {
                    let bytes = std::fs::read(&source).map_err(|error| ReportError::read(&source, error))?;
                    crate::confine::inert_svg(&bytes)
                        .ok_or_else(|| ReportError::invalid(&path, "/files/flamegraph", "not an SVG"))?;
                }
                let record = HistoryRecord::from_run(&run, now());
                serde_json::to_string(&record).expect("a record serialises");
                render_all(Report::new(run, &self.thresholds, None, options()));
            }
            Reader::Baseline => {
                let path = scratch.write(reader, "baseline.json", bytes);
                let baseline = load_results(&path)?;
                render_all(Report::new(
                    self.example.clone(),
                    &self.thresholds,
                    Some(baseline),
                    options(),
                ));
            }
            Reader::Thresholds => {
                let path = scratch.write(reader, "thresholds.toml", bytes);
                let thresholds = Thresholds::from_path(&path)?;
                render_all(Report::new(
                    self.example.clone(),
                    &thresholds,
                    Some(self.example.clone()),
                    options(),
                ));
            }
            Reader::History => {
                let path = scratch.write(reader, "history.jsonl", bytes);
                let history = history::read(&path)?;
                let trend = |window| {
                    history::analyze(
                        &history,
                        &TrendOptions {
                            window,
                            metrics: Vec::new(),
                        },
                    )
                };
                let by_days = trend(Window::Days(3.5));
                render::trend::console(&by_days);
                render::trend::markdown(&by_days);
                // The report's Trend section on a report without a run: the run's own sections
                // are the results readers' to exercise, and would cost every case their time.
                render_all(
                    Report::new(RunData::load_tests_only(), &self.thresholds, None, options())
                        .with_trend(trend(Window::default())),
                );
            }
            Reader::LocustJson => {
                let path = scratch.write(reader, "run.json", bytes);
                self.load_tests(load_locust(&path, &ws)?);
            }
            Reader::LocustCsv => {
                let path = scratch.write(reader, "run_stats.csv", bytes);
                self.load_tests(load_locust(&path, &ws)?);
            }
            Reader::LocustHistoryCsv | Reader::LocustFailuresCsv => {
                scratch.write(reader, "run.json", &self.locust_json);
                scratch.write(reader, "run_stats.csv", &self.locust_stats);
                let name = if reader == Reader::LocustHistoryCsv {
                    "run_stats_history.csv"
                } else {
                    "run_failures.csv"
                };
                let path = scratch.write(reader, name, bytes);
                self.load_tests(load_locust(&path, &ws)?);
            }
            Reader::Oha => {
                let path = scratch.write(reader, "oha.json", bytes);
                let spec = OhaSpec::parse(&format!("GET /quotes <b>={}", path.display()));
                self.load_tests(load_oha(&spec)?);
            }
        }
        Ok(())
    }

    /// A report on load tests alone, as `--locust`/`--oha` without `--results` gives.
    fn load_tests(&self, test: LoadTest) {
        render_all(Report::with_load_tests(
            RunData::load_tests_only(),
            vec![test],
            &self.load_test_thresholds,
            None,
            options(),
        ));
    }
}

/// Every output the command writes for `report`.
fn render_all(report: Report) {
    let report = report.with_chart_links("img/report-");
    render::markdown::render(&report);
    let html = render::html::render(&report);
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "the HTML report carries a <script"
    );
    for chart in render::html::chart_files(&report) {
        assert!(
            !chart.svg.to_ascii_lowercase().contains("<script"),
            "chart {} carries a <script",
            chart.key
        );
    }
    render::console::render(&report, true);
    render::json::render(&report);
    render::prometheus::render(&report.results);
}

//! The report's command line, shared by the `perfgate-report` binary and `cargo xtask report`.
//! Exit codes: 0 pass (or warn), 1 a failed threshold or gated regression (or a warning with
//! `--fail-on warn`), 2 bad input.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};

use crate::error::Result;
use crate::evaluate::{EvaluateOptions, Status};
use crate::history::{self, TrendOptions, Window};
use crate::input::{RunData, load_results};
use crate::loadtest::{OhaSpec, load_locust, load_oha};
use crate::model::{Report, ReportOptions};
use crate::output::OutputSet;
use crate::render::{Console, Html, Json, Markdown, Renderer, console};
use crate::thresholds::Thresholds;

/// Evaluate a perfgate results file against thresholds (and a baseline) and write the report.
#[derive(Debug, Parser)]
pub struct Args {
    /// Results to report on: perfgate's results.json or an older performance_results.json
    /// [default: target/perfgate/latest/results.json, or none when a load test is given]
    #[arg(long, value_name = "FILE")]
    pub results: Option<PathBuf>,

    /// A Locust run: the prefix given to `--csv`/`--json-file`, or any of its files (repeatable)
    #[arg(long, value_name = "PATH_OR_PREFIX")]
    pub locust: Vec<PathBuf>,

    /// An oha run's JSON (`oha --output-format json`), optionally labelled `NAME=FILE`, e.g.
    /// `'GET /quotes=oha.json'` (repeatable)
    #[arg(long, value_name = "[NAME=]FILE")]
    pub oha: Vec<String>,

    /// Load-test request types counted as WebSocket traffic
    #[arg(
        long,
        value_name = "TYPES",
        value_delimiter = ',',
        default_value = "WS,WSS,WEBSOCKET,SOCKETIO"
    )]
    pub ws_types: Vec<String>,

    /// Thresholds file [default: thresholds/default.toml, or thresholds/loadtest.toml for load
    /// tests alone]
    #[arg(long, value_name = "FILE")]
    pub thresholds: Option<PathBuf>,

    /// A previous results file to compare with
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Fail when a metric regressed by more than this many percent against the baseline
    #[arg(long, value_name = "PCT", value_parser = non_negative)]
    pub max_regression: Option<f64>,

    /// A benchmark history (JSON Lines, as `cargo xtask bench` appends): adds a Trend section
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,

    /// The trend covers the last N runs of the history [default: 30]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub trend_last: Option<u64>,

    /// The trend covers the runs within D days before the latest one instead
    #[arg(long, value_name = "D", conflicts_with = "trend_last", value_parser = positive_days)]
    pub trend_days: Option<f64>,

    /// The shared results store, postgres://USER:PASSWORD@HOST:PORT/DATABASE [default: the
    /// PERFGATE_STORE environment variable]: the Trend section from its runs (unless --history
    /// is given), and this report's verdict and recommendations recorded there (docs/store.md)
    #[arg(long, value_name = "URL")]
    pub store: Option<perfgate_store::StoreArg>,

    /// The trend over this branch's runs only
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,

    /// The trend over this machine's runs only (its host name)
    #[arg(long, value_name = "HOST")]
    pub machine: Option<String>,

    /// Changes smaller than this many percent count as unchanged
    #[arg(long, value_name = "PCT", default_value_t = 2.0, value_parser = non_negative)]
    pub noise: f64,

    /// Where to write the Markdown report
    #[arg(long, value_name = "FILE", default_value = "docs/benchmark-results.md")]
    pub out: PathBuf,

    /// Also write the JSON verdict here
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Where to write the HTML report, one self-contained page with charts [default: beside
    /// `--out`, with the same name and `.html`]
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Write no HTML report
    #[arg(long, conflicts_with = "html")]
    pub no_html: bool,

    /// Write no charts for the Markdown report, and leave earlier ones as they are (by default
    /// the HTML report's charts go beside it as `img/<stem>-<chart>.svg`, shown in its sections,
    /// and earlier `img/<stem>-*.svg` that it does not draw are deleted)
    #[arg(long)]
    pub no_charts: bool,

    /// Also write the run's figures in the Prometheus text format here (for node_exporter's
    /// textfile collector: name it `*.prom` in its directory)
    #[arg(long, value_name = "FILE")]
    pub prometheus: Option<PathBuf>,

    /// Which outcome makes the exit code 1
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    pub fail_on: FailOn,

    /// Print nothing but errors
    #[arg(long)]
    pub quiet: bool,
}

/// Where `cargo xtask bench` writes its latest results.
const DEFAULT_RESULTS: &str = "target/perfgate/latest/results.json";
/// Thresholds for the default workload.
const DEFAULT_THRESHOLDS: &str = "thresholds/default.toml";
/// Thresholds for a report on load tests alone.
const LOAD_TEST_THRESHOLDS: &str = "thresholds/loadtest.toml";

/// The outcome that fails the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Only failures (thresholds beyond their limit, gated regressions)
    Fail,
    /// Warnings too (thresholds between limit and target)
    Warn,
}

/// A number of days, > 0 (fractions allowed: `0.5` is twelve hours).
pub fn positive_days(text: &str) -> std::result::Result<f64, String> {
    let value: f64 = text.parse().map_err(|_| format!("'{text}' is not a number"))?;
    if !(value.is_finite() && value > 0.0) {
        return Err("must be a number of days > 0".to_owned());
    }
    Ok(value)
}

fn non_negative(text: &str) -> std::result::Result<f64, String> {
    let value: f64 = text.parse().map_err(|_| format!("'{text}' is not a number"))?;
    if !(value.is_finite() && value >= 0.0) {
        return Err("must be a number ≥ 0".to_owned());
    }
    Ok(value)
}

/// Parses `args` (program name first) and runs; `bin_name` is how help and errors name the
/// command.
pub fn main_with(args: impl IntoIterator<Item = OsString>, bin_name: &str) -> ExitCode {
    let matches = match Args::command()
        .bin_name(bin_name.to_owned())
        .try_get_matches_from(args)
    {
        Ok(matches) => matches,
        Err(error) => {
            // Help and version go to stdout with code 0; usage errors to stderr with code 2.
            let _ = error.print();
            return ExitCode::from(error.exit_code() as u8);
        }
    };
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    match run(&args) {
        Ok(status) => status,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

/// Where the HTML report goes: `--html`, or beside `--out` with the same stem; `None` with
/// `--no-html`.
fn html_path(args: &Args) -> Result<Option<PathBuf>> {
    if args.no_html {
        return Ok(None);
    }
    let path = args
        .html
        .clone()
        .unwrap_or_else(|| args.out.with_extension("html"));
    if path == args.out {
        return Err(crate::error::ReportError::invalid(
            &path,
            "--html",
            "the HTML report would overwrite the Markdown report (--out): give --html another file, or --no-html",
        ));
    }
    Ok(Some(path))
}

/// Runs the report as `args` say: reads, evaluates, writes, and returns the exit code.
pub fn run(args: &Args) -> Result<ExitCode> {
    let html = html_path(args)?;
    let mut load_tests = Vec::new();
    for given in &args.locust {
        load_tests.push(load_locust(given, &args.ws_types)?);
    }
    for given in &args.oha {
        load_tests.push(load_oha(&OhaSpec::parse(given))?);
    }
    let results_path = match &args.results {
        Some(path) => Some(path.clone()),
        None if load_tests.is_empty() => Some(PathBuf::from(DEFAULT_RESULTS)),
        None => None,
    };
    let results = match &results_path {
        Some(path) => load_results(path)?,
        None => RunData::load_tests_only(),
    };
    let thresholds_path = args.thresholds.clone().unwrap_or_else(|| {
        PathBuf::from(if results_path.is_none() {
            LOAD_TEST_THRESHOLDS
        } else {
            DEFAULT_THRESHOLDS
        })
    });
    let thresholds = Thresholds::from_path(&thresholds_path)?;
    let baseline = args.baseline.as_deref().map(load_results).transpose()?;
    // Read before anything is written, so a bad history or an unreachable store leaves every
    // output untouched.
    if let Some(warning) = args
        .store
        .as_ref()
        .and_then(perfgate_store::StoreArg::command_line_warning)
    {
        eprintln!("{warning}");
    }
    let mut store = match perfgate_store::StoreArg::resolve(args.store.as_ref())? {
        Some(url) => Some(perfgate_store::Store::open(&url)?),
        None => None,
    };
    let filter = perfgate_store::RunFilter {
        branch: args.branch.clone(),
        host: args.machine.clone(),
    };
    let history = match (&args.history, &mut store) {
        (Some(path), _) => Some(history::shared::filtered(history::read(path)?, &filter)),
        (None, Some(store)) => Some(history::shared::read(store, &filter)?),
        (None, None) => {
            if args.trend_last.is_some() || args.trend_days.is_some() {
                return Err(crate::error::ReportError::invalid(
                    Path::new("command line"),
                    "--trend-last/--trend-days",
                    "need a history: --history FILE or a store (--store URL or PERFGATE_STORE)",
                ));
            }
            None
        }
    };
    let trend = history.as_ref().map(|history| {
        history::analyze(
            history,
            &TrendOptions {
                window: match (args.trend_days, args.trend_last) {
                    (Some(days), _) => Window::Days(days),
                    (None, Some(runs)) => Window::Runs(usize::try_from(runs).unwrap_or(usize::MAX)),
                    (None, None) => Window::default(),
                },
                metrics: Vec::new(),
            },
        )
    });
    // A path from the results file: confined to its folder, and the SVG made inert, before
    // anything is written (a hostile name is bad input and leaves every output untouched).
    let flamegraph = match (&results_path, results.files.get("flamegraph")) {
        (Some(path), Some(file)) => match crate::confine::file_beside(path, "/files/flamegraph", file)? {
            Some(source) => {
                let bytes = std::fs::read(&source)
                    .map_err(|error| crate::error::ReportError::read(&source, error))?;
                let svg = crate::confine::inert_svg(&bytes).ok_or_else(|| {
                    crate::error::ReportError::invalid(
                        path,
                        "/files/flamegraph",
                        "does not name an SVG image",
                    )
                })?;
                Some(svg)
            }
            None => None,
        },
        _ => None,
    };
    let flamegraph_link = flamegraph.as_ref().map(|_| "img/flamegraph.svg".to_owned());
    let mut report = Report::with_load_tests(
        results,
        load_tests,
        &thresholds,
        baseline,
        ReportOptions {
            now: SystemTime::now(),
            evaluate: EvaluateOptions {
                max_regression_pct: args.max_regression,
                noise_pct: args.noise,
            },
            flamegraph_link,
        },
    );
    if let Some(trend) = trend {
        if !args.quiet {
            for warning in &trend.warnings {
                eprintln!("warning: {warning}");
            }
        }
        report = report.with_trend(trend);
    }
    let charts = (!args.no_charts).then(|| ChartDir::beside(&args.out));
    if let Some(charts) = &charts {
        report = report.with_chart_links(charts.link_prefix());
    }
    // Every output is staged first and renamed into place together at the end, the images
    // before the documents that link them: an output that cannot be written leaves every
    // previous one as it was, and no temporary behind.
    let mut outputs = OutputSet::new();
    let written_charts = match &charts {
        Some(charts) => Some(charts.stage(&report, &mut outputs)?),
        None => None,
    };
    if let Some(svg) = &flamegraph {
        let mut folders = vec![args.out.parent()];
        // The HTML report links the same relative path: beside it too, if it is elsewhere.
        if let Some(html) = &html
            && html.parent() != args.out.parent()
        {
            folders.push(html.parent());
        }
        for folder in folders {
            let target = folder
                .unwrap_or(Path::new("."))
                .join("img")
                .join("flamegraph.svg");
            outputs.stage(&target, svg.as_bytes())?;
        }
    }
    if let Some(path) = &args.prometheus {
        outputs.stage(
            path,
            crate::render::prometheus::render(&report.results).as_bytes(),
        )?;
    }
    if let Some(path) = &args.json {
        outputs.stage(path, Json.render(&report).as_bytes())?;
    }
    outputs.stage(&args.out, Markdown.render(&report).as_bytes())?;
    if let Some(path) = &html {
        outputs.stage(path, Html.render(&report).as_bytes())?;
    }
    outputs.commit()?;
    // Only once the new report links the new charts: the old ones it no longer links go.
    let charts = charts.as_ref().zip(written_charts);
    if let Some((charts, written)) = &charts {
        let warnings = charts.remove_stale(written);
        if !args.quiet {
            for warning in warnings {
                eprintln!("warning: {warning}");
            }
        }
    }
    if !args.quiet {
        print!(
            "{}",
            Console {
                colour: console::colour_wanted()
            }
            .render(&report)
        );
        println!("report: {}", args.out.display());
        if let Some(path) = &html {
            println!("html: {}", path.display());
        }
        if let Some((charts, written)) = &charts
            && !written.is_empty()
        {
            println!(
                "charts: {} ({})",
                charts.dir.join(format!("{}-*.svg", charts.stem)).display(),
                written.len()
            );
        }
        if let Some(path) = &args.json {
            println!("verdict: {}", path.display());
        }
    }
    // After the outputs: a store that fails now (exit 2) has cost no report.
    if let Some(store) = &mut store {
        record_verdict(store, &report, results_path.as_deref(), args.quiet)?;
    }
    let failed = match report.evaluation.overall {
        Status::Fail => true,
        Status::Warn => args.fail_on == FailOn::Warn,
        _ => false,
    };
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Records the report's verdict and recommendations in the store, linked to the run whose
/// results it judged when the store has that run, and says so.
fn record_verdict(
    store: &mut perfgate_store::Store,
    report: &Report,
    results_path: Option<&Path>,
    quiet: bool,
) -> Result<()> {
    // The results as the store holds a run's (the typed document, re-serialised): a file that
    // is not perfgate's (an older tool's) links no run.
    let results = results_path
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| perfgate_results::read::parse(&text).ok())
        .and_then(|results| serde_json::to_value(results).ok());
    let verdict = crate::render::json::verdict(report);
    let (_, run) = store.record_insight(&perfgate_store::NewInsight {
        results: results.as_ref(),
        overall: verdict["overall"].as_str().unwrap_or("fail"),
        verdict: &verdict,
        recommendations: &verdict["recommendations"],
    })?;
    if !quiet {
        match run {
            Some(run) => println!("store: verdict recorded in {} for run {run}", store.url()),
            None => println!(
                "store: verdict recorded in {} (the store has no run with these results)",
                store.url()
            ),
        }
    }
    Ok(())
}

/// Where the Markdown report's charts go: `img/` beside it, each named after the report,
/// `<stem>-<key>.svg`, so that regenerating the report rewrites the same files.
#[derive(Debug)]
struct ChartDir {
    dir: PathBuf,
    stem: String,
}

impl ChartDir {
    /// The charts of the Markdown report `out`.
    fn beside(out: &Path) -> Self {
        ChartDir {
            dir: out.parent().unwrap_or(Path::new(".")).join("img"),
            stem: out
                .file_stem()
                .map_or("report".into(), |stem| stem.to_string_lossy().into_owned()),
        }
    }

    /// How the report links them: `img/<stem>-`.
    fn link_prefix(&self) -> String {
        format!("img/{}-", self.stem)
    }

    fn file_name(&self, key: &str) -> String {
        format!("{}-{key}.svg", self.stem)
    }

    /// Stages every chart of `report` in `outputs`; returns the names staged.
    fn stage(&self, report: &Report, outputs: &mut OutputSet) -> Result<BTreeSet<String>> {
        let mut written = BTreeSet::new();
        for chart in crate::render::html::chart_files(report) {
            let name = self.file_name(&chart.key);
            outputs.stage(&self.dir.join(&name), chart.svg.as_bytes())?;
            written.insert(name);
        }
        Ok(written)
    }

    /// Deletes this report's charts that this run did not write (`<stem>-*.svg`, regular files
    /// only); every other file stays. Returns what could not be done, as warnings.
    fn remove_stale(&self, written: &BTreeSet<String>) -> Vec<String> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
            Err(error) => {
                return vec![format!("{}: listing old charts: {error}", self.dir.display())];
            }
        };
        let prefix = format!("{}-", self.stem);
        let mut warnings = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
            if is_file && name.starts_with(&prefix) && name.ends_with(".svg") && !written.contains(name) {
                let path = entry.path();
                if let Err(error) = std::fs::remove_file(&path) {
                    warnings.push(format!("{}: removing an old chart: {error}", path.display()));
                }
            }
        }
        warnings
    }
}

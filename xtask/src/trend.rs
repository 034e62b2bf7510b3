//! `cargo xtask trend`: trends over the benchmark history that `cargo xtask bench` appends to, as
//! a console table (and optionally the report's Markdown "Trend" section); from the shared
//! results store instead with `--store URL` or `PERFGATE_STORE`, and over one branch's or one
//! machine's runs with `--branch` and `--machine`. A missing or unreadable history, an
//! unreachable store, or an unknown metric, is exit code 2 with one line, as in the report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use perfgate_report::history::{self, DEFAULT_HISTORY, TrendOptions, Window, shared};
use perfgate_report::{metric, render, write_atomic};
use perfgate_store::{RunFilter, Store, StoreArg};

#[derive(Debug, Args)]
pub(crate) struct Options {
    /// The history file (JSON Lines)
    #[arg(long, value_name = "FILE", default_value = DEFAULT_HISTORY)]
    history: PathBuf,
    /// Read the runs from the shared results store instead [default: PERFGATE_STORE, when set]
    #[arg(long, value_name = "URL")]
    store: Option<StoreArg>,
    /// Only this branch's runs
    #[arg(long, value_name = "NAME")]
    branch: Option<String>,
    /// Only this machine's runs (its host name)
    #[arg(long, value_name = "HOST")]
    machine: Option<String>,
    /// Over the last N runs [default: 30]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    last: Option<u64>,
    /// Over the runs within D days before the latest one instead
    #[arg(long, value_name = "D", conflicts_with = "last", value_parser = perfgate_report::cli::positive_days)]
    days: Option<f64>,
    /// Only these metrics, in this order (repeatable or comma separated) [default: every metric
    /// with a better direction]
    #[arg(long = "metric", value_name = "ID", value_delimiter = ',')]
    metrics: Vec<String>,
    /// Also write the Trend section as Markdown to this file
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
}

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    match trend(options) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) => {
            eprintln!("error: {error}");
            Ok(ExitCode::from(2))
        }
    }
}

/// Everything that can fail here is bad input (or an unwritable output): exit code 2.
fn trend(options: &Options) -> anyhow::Result<()> {
    let mut metrics = Vec::new();
    for id in &options.metrics {
        let Some(def) = metric::metric(id) else {
            bail!("unknown metric `{id}` (known: {})", metric::known_ids());
        };
        metrics.push(def);
    }
    let filter = RunFilter {
        branch: options.branch.clone(),
        host: options.machine.clone(),
    };
    if let Some(warning) = options
        .store
        .as_ref()
        .and_then(perfgate_store::StoreArg::command_line_warning)
    {
        eprintln!("{warning}");
    }
    let history = match StoreArg::resolve(options.store.as_ref())? {
        Some(url) => shared::read(&mut Store::open(&url)?, &filter)?,
        None => shared::filtered(history::read(&options.history)?, &filter),
    };
    for warning in &history.warnings {
        eprintln!("warning: {warning}");
    }
    let window = match (options.days, options.last) {
        (Some(days), _) => Window::Days(days),
        (None, Some(runs)) => Window::Runs(usize::try_from(runs).unwrap_or(usize::MAX)),
        (None, None) => Window::default(),
    };
    let trend = history::analyze(&history, &TrendOptions { window, metrics });
    print!("{}", render::trend::console(&trend));
    if let Some(path) = &options.markdown {
        write_atomic(path, render::trend::markdown(&trend).as_bytes())?;
        println!("markdown: {}", path.display());
    }
    Ok(())
}

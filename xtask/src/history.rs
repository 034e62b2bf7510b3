//! `cargo xtask history export|import`: moves runs between the JSON Lines history and the shared
//! results store. Export writes the store's runs (oldest first, optionally one branch's or one
//! machine's) as one output set; import records every readable line of a history file, and a
//! run the store already has is not added again. Every failure is one line and exit code 2.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use perfgate_report::history::{self, shared};
use perfgate_store::{RunFilter, Store, StoreArg};

#[derive(Debug, Args)]
pub(crate) struct Options {
    #[command(subcommand)]
    direction: Direction,
}

#[derive(Debug, Subcommand)]
enum Direction {
    /// Write the store's runs to a JSON Lines history file
    Export {
        /// The store [default: PERFGATE_STORE]
        #[arg(long, value_name = "URL")]
        store: Option<StoreArg>,
        /// The history file to write (replaced as a whole)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Only this branch's runs
        #[arg(long, value_name = "NAME")]
        branch: Option<String>,
        /// Only this machine's runs (its host name)
        #[arg(long, value_name = "HOST")]
        machine: Option<String>,
    },
    /// Record the runs of a JSON Lines history file in the store (again: nothing added)
    Import {
        /// The store [default: PERFGATE_STORE]
        #[arg(long, value_name = "URL")]
        store: Option<StoreArg>,
        /// The history file to read
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    match move_runs(&options.direction) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) => {
            eprintln!("error: {error}");
            Ok(ExitCode::from(2))
        }
    }
}

fn open(store: Option<&StoreArg>) -> anyhow::Result<Store> {
    if let Some(warning) = store.and_then(perfgate_store::StoreArg::command_line_warning) {
        eprintln!("{warning}");
    }
    let Some(url) = StoreArg::resolve(store)? else {
        anyhow::bail!("no store: give --store postgres://... or set PERFGATE_STORE");
    };
    Ok(Store::open(&url)?)
}

fn move_runs(direction: &Direction) -> anyhow::Result<()> {
    match direction {
        Direction::Export {
            store,
            out,
            branch,
            machine,
        } => {
            perfgate_output::check_folder_writable(perfgate_output::folder_of(out)).map_err(|error| {
                anyhow::anyhow!("{}: cannot write there: {}", out.display(), error.source)
            })?;
            let mut store = open(store.as_ref())?;
            let filter = RunFilter {
                branch: branch.clone(),
                host: machine.clone(),
            };
            let (text, runs, warnings) = shared::export(&mut store, &filter)?;
            for warning in warnings {
                eprintln!("warning: {warning}");
            }
            let mut outputs = perfgate_output::OutputSet::new();
            outputs.stage(out, text.as_bytes())?;
            outputs.commit()?;
            println!(
                "history: {runs} runs exported from {} to {}",
                store.url(),
                out.display()
            );
        }
        Direction::Import { store, file } => {
            // The file first: a missing file costs no connection.
            let history = history::read(file)?;
            for warning in &history.warnings {
                eprintln!("warning: {warning}");
            }
            let mut store = open(store.as_ref())?;
            let imported = shared::import(&mut store, &history)?;
            println!(
                "history: {} runs imported from {} into {} ({} already there)",
                imported.added,
                file.display(),
                store.url(),
                imported.already_there
            );
        }
    }
    Ok(())
}

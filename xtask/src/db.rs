//! `cargo xtask db seed`: creates the default workload's reference table in a PostgreSQL
//! database and fills it with the records of the in-process store, so that a run with
//! `--reference-store` reads the same data from the database. Idempotent: rows already right are
//! left as they are. The profiler does the same on its own when the table is missing or short.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use perfgate_profiler::database::{DatabaseError, DatabaseOptions, InstrumentedPool, block_on};
use perfgate_profiler::market::{REFERENCE_TABLE, seed_reference_table};

#[derive(Debug, Args)]
pub(crate) struct Options {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Create the reference table if it is missing and write the synthetic records into it
    /// (the same as the in-process store's); rows already right are kept
    Seed {
        /// The server: postgres://USER:PASSWORD@HOST:PORT/DATABASE (or the environment variable,
        /// which keeps the password out of the process list)
        #[arg(
            long,
            value_name = "URL",
            env = "PERFGATE_REFERENCE_STORE",
            hide_env_values = true
        )]
        url: String,
        /// Instruments in the universe, as the profiler's --symbols
        #[arg(long, value_name = "N", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
        symbols: u64,
    },
}

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    let Action::Seed { url, symbols } = &options.action;
    if let Some(warning) =
        perfgate_profiler::database::command_line_password_warning("--url", url, "PERFGATE_REFERENCE_STORE")
    {
        eprintln!("{warning}");
    }
    match seed(url, *symbols as usize) {
        Ok(line) => {
            println!("{line}");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            // The endpoint, never the URL: it holds the password.
            eprintln!("error: seeding the reference table: {error}");
            Ok(ExitCode::from(2))
        }
    }
}

fn seed(url: &str, symbols: usize) -> Result<String, DatabaseError> {
    let pool = InstrumentedPool::connect(DatabaseOptions::new(url))?;
    let seeding = pool.clone();
    let outcome = block_on(async move { seed_reference_table(&seeding, symbols, false).await })??;
    Ok(format!(
        "db seed: {REFERENCE_TABLE} at {}: {symbols} symbols, {} were there, {} records written",
        pool.endpoint(),
        outcome.present,
        outcome.written
    ))
}

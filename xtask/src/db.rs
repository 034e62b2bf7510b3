//! `cargo xtask db seed`: creates the default workload's reference table in a PostgreSQL
//! database and fills it with the records of the in-process store, so that a run with
//! `--reference-store` reads the same data from the database. Idempotent: rows already right are
//! left as they are. The profiler does the same on its own when the table is missing or short.
//!
//! The seeding is the release profiler's (`perfgate-profiler --seed-reference-store`), not a
//! library call: xtask then does not link the profiler library, so the first `cargo xtask ...`
//! on a fresh clone builds neither jemalloc nor pprof nor the database client twice (once for
//! xtask, once for the release profiler; issue 19).

use std::process::{Command, ExitCode};

use clap::{Args, Subcommand};

use crate::cargo::build_profiler;

/// Where the URL is taken from and handed to the profiler: off its command line.
const URL_ENV: &str = "PERFGATE_REFERENCE_STORE";

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
        #[arg(long, value_name = "URL", env = URL_ENV, hide_env_values = true)]
        url: String,
        /// Instruments in the universe, as the profiler's --symbols
        #[arg(long, value_name = "N", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
        symbols: u64,
    },
}

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    let Action::Seed { url, symbols } = &options.action;
    if password_on_command_line(url, std::env::var(URL_ENV).ok().as_deref()) {
        eprintln!(
            "warning: --url carries a password on the command line, where cargo's `Running` line, \
             the process list and shell history show it; set {URL_ENV} instead"
        );
    }
    let binary = build_profiler()?;
    // The URL goes to the profiler through the environment, never its arguments.
    let status = Command::new(&binary)
        .args(["--seed-reference-store", "--symbols", &symbols.to_string()])
        .env(URL_ENV, url)
        .status()
        .map_err(|error| anyhow::anyhow!("running {}: {error}", binary.display()))?;
    // The profiler has said what it did, or what failed, in one line; its exit code is the
    // command's (2 when the server cannot be used).
    Ok(status
        .code()
        .and_then(|code| u8::try_from(code).ok())
        .map_or(ExitCode::FAILURE, ExitCode::from))
}

/// Whether `url` came from the command line (not the environment variable, `from_env`) and holds
/// a password: `postgres://USER:PASSWORD@...`.
fn password_on_command_line(url: &str, from_env: Option<&str>) -> bool {
    if from_env == Some(url) {
        return false;
    }
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .and_then(|(user_info, _)| user_info.split_once(':'))
        .is_some_and(|(_, password)| !password.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_noticed_only_on_the_command_line() {
        let url = "postgres://bench:secret@127.0.0.1:5432/perfgate";
        assert!(password_on_command_line(url, None));
        assert!(password_on_command_line(url, Some("postgres://other")));
        assert!(!password_on_command_line(url, Some(url)));
        assert!(!password_on_command_line(
            "postgres://bench@127.0.0.1/perfgate",
            None
        ));
        assert!(!password_on_command_line(
            "postgres://bench:@127.0.0.1/perfgate",
            None
        ));
        assert!(!password_on_command_line(
            "postgres://127.0.0.1/perfgate?user=a:b",
            None
        ));
    }
}

//! `perfgate-report`: the report's command line (also run as `cargo xtask report`).

use std::process::ExitCode;

fn main() -> ExitCode {
    perfgate_report::cli::main_with(std::env::args_os(), "perfgate-report")
}

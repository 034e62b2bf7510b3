//! `perfgate-profiler`: runs the market-data pipeline (see `--help`) and writes `results.json`.

mod cli;
mod progress;
mod summary;

use std::process::ExitCode;

use tikv_jemallocator::Jemalloc;

// jemalloc is what services of this kind usually run with, and it is what later heap probes read.
#[global_allocator]
static GLOBAL: Jemalloc = Jemalloc;

fn main() -> ExitCode {
    match cli::main() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

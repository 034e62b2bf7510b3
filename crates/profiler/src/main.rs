//! `perfgate-profiler`: runs the market-data pipeline (see `--help`) and writes `results.json`.

mod cli;
mod progress;
mod summary;

use std::process::ExitCode;

use perfgate_profiler::alloc::TrackingAllocator;
use tikv_jemallocator::Jemalloc;

// jemalloc is what services of this kind usually run with, and its statistics feed the heap
// probe; the tracking wrapper adds exact live bytes, their peak and allocation volume.
#[global_allocator]
static GLOBAL: TrackingAllocator<Jemalloc> = TrackingAllocator::new(Jemalloc);

fn main() -> ExitCode {
    match cli::main() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

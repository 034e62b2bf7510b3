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
    restart_for_heap_profile();
    match cli::main() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// jemalloc reads its profiling switch only at start-up, so `--heap-profile` restarts the process
/// with it set (once: the restarted process finds it set).
fn restart_for_heap_profile() {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let (variable, value) = perfgate_profiler::alloc::HEAP_PROFILE_ENV;
        let wanted = std::env::args_os().skip(1).any(|arg| arg == "--heap-profile");
        if !wanted || std::env::var_os(variable).is_some() {
            return;
        }
        let Ok(executable) = std::env::current_exe() else {
            return;
        };
        let error = std::process::Command::new(executable)
            .args(std::env::args_os().skip(1))
            .env(variable, value)
            .exec();
        // exec only returns on failure; the run goes on and reports the profile as unavailable.
        eprintln!("warning: could not restart with jemalloc profiling enabled: {error}");
    }
}

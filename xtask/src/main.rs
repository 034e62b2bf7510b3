//! `cargo xtask`: the project's task runner. Each task is its own module; this file parses the
//! command line, moves to the workspace root and dispatches.

mod alerts;
mod bench;
mod browser;
mod cargo;
mod compare;
mod db;
mod flamegraph;
mod fuzz;
mod history;
mod instructions;
mod points;
mod regression_issue;
mod report_scale;
mod scaling;
mod sweep;
mod targets;
mod trend;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "perfgate's tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Build the profiler in release mode and run it; every argument is passed on
    /// (`cargo xtask bench --help` lists them) except `--history FILE` (where the run is recorded,
    /// default target/perfgate/history.jsonl), `--no-history`, `--store URL` (the shared results
    /// store, default PERFGATE_STORE), `--branch NAME` and `--instructions` (also count the CPU
    /// work per message under Valgrind, into the results)
    #[command(disable_help_flag = true)]
    Bench {
        /// Arguments for perfgate-profiler
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Find the capacity at a latency objective: `cargo xtask capacity --slo 'p99<=2ms'` runs
    /// the bench (every bench option works, e.g. `--quick`) and then the rate search, recorded
    /// as `capacity` in results.json (docs/capacity.md)
    #[command(disable_help_flag = true)]
    Capacity {
        /// `--slo SLO` and options for the bench
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Inject faults into fixed-rate phases and measure degradation and recovery: `cargo xtask
    /// chaos [--scenario NAME,...]` runs the bench (every bench option works, e.g. `--quick`)
    /// and then each scenario (all by default), recorded as `chaos` in results.json
    /// (docs/chaos.md)
    #[command(disable_help_flag = true)]
    Chaos {
        /// `--scenario NAME,...` and options for the bench
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Evaluate the latest results against thresholds and write docs/benchmark-results.md; every
    /// argument is passed on (`cargo xtask report --help` lists them)
    #[command(disable_help_flag = true)]
    Report {
        /// Arguments for the report
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print the path of the latest flamegraph (or open it with --open)
    Flamegraph(flamegraph::Options),
    /// Count the CPU work per message exactly: the stage functions' plain loop under Valgrind
    /// (callgrind with its cache simulation), instructions and estimated cycles per message,
    /// written as JSON (docs/performance.md). Exit 2 when Valgrind is not installed
    Instructions(instructions::Options),
    /// Check the performance targets of docs/performance.md on this machine (several minutes)
    PerfTargets(targets::Options),
    /// Compare the working tree with a base revision (paired ABBA runs) or two sets of results
    Compare(Box<compare::Options>),
    /// Check that the report streams a 1 GiB load-test history in flat memory
    ReportScale(report_scale::Options),
    /// Trends over the benchmark history: slope, fit and verdict per metric, and outlying runs
    Trend(trend::Options),
    /// Move runs between the JSON Lines history and the shared results store: `history export
    /// --store URL --out FILE.jsonl`, `history import --store URL FILE.jsonl` (docs/store.md)
    History(history::Options),
    /// Prometheus alerting rules from a thresholds file, over the live /metrics series: a
    /// critical rule per limit, a warning rule per target (check them with `promtool check rules`)
    Alerts(alerts::Options),
    /// What the nightly workflow does with its regression issue (open, close or keep), and its
    /// body, from the JSON verdict of `cargo xtask compare --confirm --json FILE`
    RegressionIssue(regression_issue::Options),
    /// Throughput at 1, 2, … N runtime workers, the Universal Scalability Law fitted to it, and
    /// (from a trustworthy fit only) the throughput projected at 4 to 64 cores, with intervals
    Scaling(scaling::Options),
    /// Vary profiler knobs over listed values (`--param batch-size=1,10,32`; a grid when several
    /// are given): interleaved repeats of a saturation and a fixed-rate run per point, each
    /// figure's median with its interval, and the best value, or "no clear winner"
    Sweep(sweep::Options),
    /// Fuzz every reader of the report (a release child process; default 1,000,000 cases): exit 0
    /// only without a panic, hang or abort; failing inputs go to target/perfgate/fuzz/
    Fuzz(fuzz::Options),
    /// The database of `--reference-store`: `cargo xtask db seed --url postgres://...
    /// [--symbols N]` creates and fills the reference table (docs/database.md)
    Db(db::Options),
    /// Open the HTML report in headless Chromium: fail on any console message or failed
    /// request, save screenshots at a desktop and a narrow width
    BrowserCheck(browser::Options),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = std::env::set_current_dir(cargo::workspace_root()) {
        eprintln!("error: entering the workspace root: {error}");
        return ExitCode::from(2);
    }
    let outcome = match cli.task {
        Task::Bench { args } => bench::run(&args),
        Task::Capacity { args } => bench::capacity(&args),
        Task::Chaos { args } => bench::chaos(&args),
        Task::Report { args } => Ok(perfgate_report::cli::main_with(
            std::iter::once("cargo xtask report".into()).chain(args.into_iter().map(Into::into)),
            "cargo xtask report",
        )),
        Task::Flamegraph(options) => flamegraph::run(&options),
        Task::Instructions(options) => instructions::run(&options),
        Task::PerfTargets(options) => targets::run(&options),
        Task::ReportScale(options) => report_scale::run(&options),
        Task::Trend(options) => trend::run(&options),
        Task::History(options) => history::run(&options),
        Task::Alerts(options) => alerts::run(&options),
        Task::RegressionIssue(options) => regression_issue::run(&options),
        Task::Compare(options) => compare::run(&options),
        Task::BrowserCheck(options) => browser::run(&options),
        Task::Scaling(options) => scaling::run(&options),
        Task::Sweep(options) => sweep::run(&options),
        Task::Fuzz(options) => fuzz::run(&options),
        Task::Db(options) => db::run(&options),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

//! `cargo xtask compare`: is the working tree slower than a base revision? Builds the profiler
//! at the base revision in a git worktree under `target/` and from the working tree, runs the
//! two interleaved in ABBA order on this machine, and lets `perfgate_report::compare` decide per
//! metric from the per-round ratios. Without a base revision it compares two sets of existing
//! results files (unpaired, weaker).
//!
//! Exit codes as for `report`: 0 pass or warn, 1 a gated regression, 2 bad input or a failed
//! build or run.
//!
//! `options.rs` holds the command line; `builds.rs` the worktree and both builds, `rounds.rs`
//! the ABBA rounds, `counts.rs` the instruction counts under Valgrind, `unpaired.rs` the results files instead; `noise.rs` the A/A noise history
//! (a JSON Lines file, or the shared results store with `--store`);
//! `console.rs` and `outputs.rs` the verdict printed and written. This module runs them in order.

mod builds;
mod console;
mod counts;
mod noise;
mod options;
mod outputs;
mod rounds;
mod unpaired;

use std::process::ExitCode;

use perfgate_report::compare::formats::Labels;
use perfgate_report::compare::{CompareOptions, Comparison, Design, Gate, Kind, Samples, compare};

use self::builds::Builds;
use self::noise::NoiseHistory;
use self::options::InstructionsMode;
pub(crate) use self::options::Options;
use self::rounds::Rounds;
pub(crate) use self::rounds::{profiler_command, profiler_outcome};

/// Runs the comparison; the exit code says how it went (errors are printed here).
pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    match compare_and_report(options) {
        Ok(gate) => Ok(ExitCode::from(if gate == Gate::Fail { 1 } else { 0 })),
        Err(error) => {
            eprintln!("error: {error:#}");
            Ok(ExitCode::from(2))
        }
    }
}

fn compare_and_report(options: &Options) -> anyhow::Result<Gate> {
    let settings = options.compare_options()?;
    let chaos = options.chaos_scenario()?;
    if let Some(warning) = options
        .store
        .as_ref()
        .and_then(perfgate_store::StoreArg::command_line_warning)
    {
        eprintln!("{warning}");
    }
    let store = perfgate_store::StoreArg::resolve(options.store.as_ref())?;
    let floors = match &store {
        Some(url) => {
            let filter = perfgate_store::RunFilter {
                branch: None,
                host: options.machine.clone(),
            };
            NoiseHistory::read_store(url, &filter)?
        }
        None => NoiseHistory::read(&options.noise_history),
    };
    let (comparison, samples, labels) = if options.base_results.is_empty() {
        paired(options, settings, &floors, store.as_ref())?
    } else {
        let samples = unpaired::samples(&options.base_results, &options.candidate_results, chaos)?;
        let comparison = compare(Design::Unpaired, &samples, settings, &|id: &str| floors.floor(id));
        let labels = unpaired::labels(&options.base_results, &options.candidate_results);
        (comparison, samples, labels)
    };
    console::print(&comparison, &labels);
    outputs::write(options, &comparison, &samples, &labels)?;
    Ok(comparison.gate)
}

/// The paired comparison: both builds, the rounds, and under `--confirm` a second set of rounds
/// when the first fails. An A/A outcome goes into the noise history.
fn paired(
    options: &Options,
    settings: CompareOptions,
    floors: &NoiseHistory,
    store: Option<&perfgate_store::StoreUrl>,
) -> anyhow::Result<(Comparison, Vec<Samples>, Labels)> {
    let learnt = |id: &str| floors.floor(id);
    let builds = Builds::prepare(options)?;
    let extra = options.candidate_extra_args();
    // Counted first: they take seconds and a build that cannot be counted is found before the
    // rounds' minutes. A count does not drift, so `--confirm` does not count again.
    let counted = counts::count(&builds, options, &extra)?.unwrap_or_default();
    if options.instructions == InstructionsMode::Only {
        let comparison = compare(Design::Paired, &counted, settings, &learnt);
        if builds.same_clean_commit {
            record_noise(options, floors, store, &comparison)?;
        }
        return Ok((comparison, counted, builds.labels));
    }
    let rounds = Rounds::calibrate(&builds, options)?;
    let chaos = options.chaos_scenario()?;
    let with_counts = |mut samples: Vec<Samples>| {
        samples.extend(counted.iter().cloned());
        samples
    };
    let mut samples = with_counts(rounds.run(options, chaos)?);
    let mut comparison = compare(Design::Paired, &samples, settings, &learnt);
    // Only a timed failure is confirmed: a count gives the same answer every time.
    let timed_failure = comparison
        .metrics
        .iter()
        .any(|m| m.gate == Gate::Fail && m.kind != Kind::Counted);
    if options.confirm && timed_failure {
        eprintln!("compare: the gate failed; confirming with a second set of rounds (--confirm)");
        let again = with_counts(rounds.run(options, chaos)?);
        let second = compare(Design::Paired, &again, settings, &learnt);
        if second.gate != Gate::Fail {
            eprintln!("compare: not confirmed: the second set passed, so the gate passes with a warning");
            for metric in comparison.metrics.iter_mut().filter(|m| m.gate == Gate::Fail) {
                metric.gate = Gate::Warn;
                metric
                    .reason
                    .push_str(" (not confirmed by a second set of rounds)");
            }
            comparison.gate = Gate::Warn;
        } else {
            comparison = second;
            samples = again;
        }
    }
    if builds.same_clean_commit {
        record_noise(options, floors, store, &comparison)?;
    }
    Ok((comparison, samples, builds.labels))
}

/// Appends an A/A outcome to the noise record: the file, or the store.
fn record_noise(
    options: &Options,
    floors: &NoiseHistory,
    store: Option<&perfgate_store::StoreUrl>,
    comparison: &Comparison,
) -> anyhow::Result<()> {
    match store {
        Some(url) => floors.append_store(url, comparison),
        None => floors.append(&options.noise_history, comparison),
    }
}

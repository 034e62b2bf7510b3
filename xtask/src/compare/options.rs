//! The options of `cargo xtask compare` as the command line gives them, and the checks and
//! settings derived from them. Using them is the other modules' job.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, ValueEnum};
use perfgate_report::compare::CompareOptions;
use perfgate_results::chaos::CHAOS_SCENARIOS;

use crate::cargo::workspace_root;

#[derive(Debug, Args)]
pub(crate) struct Options {
    /// Base revision [default: the merge base of HEAD and main]
    #[arg(long, value_name = "REV", conflicts_with = "base_results")]
    pub(super) base: Option<String>,
    /// Compare existing results files instead (unpaired): the base side's files
    #[arg(long, value_name = "FILE", num_args = 1.., requires = "candidate_results")]
    pub(super) base_results: Vec<PathBuf>,
    /// The candidate side's results files (with --base-results)
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub(super) candidate_results: Vec<PathBuf>,
    /// ABBA rounds, each running base and candidate once. With 20 the 95 % interval of the
    /// median ratio runs from the 6th to the 15th smallest ratio, so up to five disturbed rounds
    /// cannot decide; with 6 it is the whole range
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub(super) rounds: u32,
    /// The CI preset: the profiler's `--quick`, with 300,000 messages in the throughput run
    /// and 100,000 in the latency run
    #[arg(long)]
    pub(super) quick: bool,
    /// A regression whose whole 95 % interval is beyond this many percent fails the gate
    #[arg(long, value_name = "PCT", default_value_t = 10.0)]
    pub(super) max_regression: f64,
    /// Changes below this many percent are unchanged (a larger floor learnt from A/A runs wins)
    #[arg(long, value_name = "PCT", default_value_t = 2.0)]
    pub(super) noise: f64,
    /// Rerun a failing comparison once; fail only if both fail
    #[arg(long)]
    pub(super) confirm: bool,
    /// Count each side's CPU work per message under Valgrind (instructions and estimated
    /// cycles, exact for a given build and seed) and gate on it: `auto` when valgrind is
    /// installed, `on` requires it, `only` counts and skips the timed rounds (a gate of about a
    /// minute), `off` never counts
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = InstructionsMode::Auto)]
    pub(super) instructions: InstructionsMode,
    /// A counted metric (instructions, estimated cycles) worse by more than this many percent
    /// fails the gate
    #[arg(long, value_name = "PCT", default_value_t = 1.0)]
    pub(super) max_instructions_regression: f64,
    /// Counts per side; they should agree, and a side whose counts differ by more than the
    /// metric's floor makes it inconclusive
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub(super) instruction_counts: u32,
    /// Write the Markdown summary here (also appended to $GITHUB_STEP_SUMMARY when set)
    #[arg(long, value_name = "FILE")]
    pub(super) markdown: Option<PathBuf>,
    /// Write JUnit XML here
    #[arg(long, value_name = "FILE")]
    pub(super) junit: Option<PathBuf>,
    /// Write Bencher Metric Format JSON here
    #[arg(long, value_name = "FILE")]
    pub(super) bmf: Option<PathBuf>,
    /// Write github-action-benchmark files (bigger-is-better.json, smaller-is-better.json) here
    #[arg(long, value_name = "DIR")]
    pub(super) gab: Option<PathBuf>,
    /// Write the JSON verdict here
    #[arg(long, value_name = "FILE")]
    pub(super) json: Option<PathBuf>,
    /// Past self-vs-self comparisons, from which noise floors are learnt (appended to when base
    /// and candidate are the same clean commit)
    #[arg(long, value_name = "FILE", default_value = "target/perfgate/aa-noise.jsonl")]
    pub(super) noise_history: PathBuf,
    /// Keep the A/A noise record in the shared results store instead of --noise-history
    /// [default: PERFGATE_STORE, when set] (docs/store.md)
    #[arg(long, value_name = "URL")]
    pub(super) store: Option<perfgate_store::StoreArg>,
    /// With a store: learn noise floors from this machine's A/A outcomes only (its host name)
    #[arg(long, value_name = "HOST")]
    pub(super) machine: Option<String>,
    /// Where runs and the worktree go
    #[arg(long, value_name = "DIR", default_value = "target/perfgate/compare")]
    pub(super) out: PathBuf,
    /// Also compare how each side weathers this chaos scenario (slow_dependency, error_burst,
    /// subscriber_stall, blocked_worker, stage_panic, load_burst): each round runs it once per
    /// side with the same seed and rate, and its recovery time and degraded throughput and p99
    /// ratios join the compared metrics. With --base-results, those figures come from the files
    #[arg(long, value_name = "SCENARIO")]
    pub(super) chaos: Option<String>,
    /// Extra profiler arguments for the candidate only (e.g. `--inject-slowdown 10`)
    #[arg(long, value_name = "ARGS", hide = true, allow_hyphen_values = true)]
    pub(super) candidate_args: Option<String>,
}

/// When `compare` counts instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum InstructionsMode {
    /// When valgrind is installed (one line says so when it is not).
    Auto,
    /// Always; without valgrind that is an error.
    On,
    /// Only the counts, no timed rounds.
    Only,
    /// Never.
    Off,
}

impl InstructionsMode {
    /// As the command line spells it.
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::On => "on",
            Self::Only => "only",
            Self::Off => "off",
        }
    }
}

impl Options {
    /// The statistical settings, once `--max-regression` and `--noise` are checked.
    pub(super) fn compare_options(&self) -> anyhow::Result<CompareOptions> {
        if !(self.max_regression.is_finite() && self.max_regression > 0.0) {
            bail!(
                "--max-regression must be a number above 0, got {}",
                self.max_regression
            );
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            bail!("--noise must be a number ≥ 0, got {}", self.noise);
        }
        if !(self.max_instructions_regression.is_finite() && self.max_instructions_regression > 0.0) {
            bail!(
                "--max-instructions-regression must be a number above 0, got {}",
                self.max_instructions_regression
            );
        }
        if self.instructions == InstructionsMode::Only && !self.base_results.is_empty() {
            bail!("--instructions only counts two builds; it does not go with --base-results");
        }
        Ok(CompareOptions {
            confidence: 0.95,
            noise_pct: self.noise,
            max_regression_pct: self.max_regression,
            max_counted_regression_pct: self.max_instructions_regression,
        })
    }

    /// The chaos scenario of `--chaos`, once it is one the profiler knows: checked before
    /// anything is built, so that a misspelt name costs nothing.
    pub(super) fn chaos_scenario(&self) -> anyhow::Result<Option<&str>> {
        let Some(name) = self.chaos.as_deref() else {
            return Ok(None);
        };
        if !CHAOS_SCENARIOS.iter().any(|(known, _)| *known == name) {
            let known: Vec<&str> = CHAOS_SCENARIOS.iter().map(|(known, _)| *known).collect();
            bail!("--chaos: unknown scenario '{name}' (known: {})", known.join(", "));
        }
        Ok(Some(name))
    }

    /// `--candidate-args`, split into arguments.
    pub(super) fn candidate_extra_args(&self) -> Vec<String> {
        self.candidate_args
            .as_deref()
            .map(|args| args.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// Where runs, the worktree and the raw samples go (`--out`, from the workspace root).
    pub(super) fn out_dir(&self) -> PathBuf {
        workspace_root().join(&self.out)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Command {
        #[command(flatten)]
        options: Options,
    }

    fn parse(args: &[&str]) -> Options {
        Command::try_parse_from(std::iter::once("compare").chain(args.iter().copied()))
            .expect("parses")
            .options
    }

    #[test]
    fn chaos_takes_a_known_scenario_and_refuses_others_in_one_line() {
        assert_eq!(parse(&[]).chaos_scenario().unwrap(), None);
        for (name, _) in CHAOS_SCENARIOS {
            assert_eq!(parse(&["--chaos", name]).chaos_scenario().unwrap(), Some(name));
        }
        let error = parse(&["--chaos", "load_bust"])
            .chaos_scenario()
            .unwrap_err()
            .to_string();
        assert!(!error.contains('\n'), "{error}");
        assert!(error.contains("'load_bust'"), "{error}");
        for (name, _) in CHAOS_SCENARIOS {
            assert!(error.contains(name), "{error}");
        }
        // A list, as the profiler's --chaos takes, is not one scenario.
        assert!(parse(&["--chaos", "all"]).chaos_scenario().is_err());
        assert!(
            parse(&["--chaos", "load_burst,error_burst"])
                .chaos_scenario()
                .is_err()
        );
    }
}

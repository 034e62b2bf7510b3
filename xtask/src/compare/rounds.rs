//! The ABBA rounds of a paired comparison: a calibration run that fixes the latency phase's
//! rate, then rounds that run the base and candidate builds in alternating order, each side a
//! throughput run and a latency run of the profiler, gathered into per-metric samples. Building
//! the binaries is `builds.rs`'s; deciding from the samples is `perfgate_report::compare`'s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context, bail};
use perfgate_report::compare::{Samples, chaos_figures, compared_metrics, windowed_throughput};
use perfgate_report::load_results;

use super::builds::Builds;
use super::options::Options;

/// The two binaries, the latency phase's rate and where their runs go.
#[derive(Debug)]
pub(super) struct Rounds {
    base_binary: PathBuf,
    candidate_binary: PathBuf,
    /// Messages per second of every latency run, base and candidate alike.
    rate: f64,
    runs: PathBuf,
}

impl Rounds {
    /// Empties the runs directory under `--out` and measures the rate of the latency phase.
    pub(super) fn calibrate(builds: &Builds, options: &Options) -> anyhow::Result<Self> {
        let base_binary = builds.base_binary.clone();
        let runs = options.out_dir().join("runs");
        let _ = std::fs::remove_dir_all(&runs);
        std::fs::create_dir_all(&runs).with_context(|| format!("creating {}", runs.display()))?;
        // Both sides run the latency phase at one rate: half the base's saturation throughput,
        // measured once now (with different rates the latencies would not be comparable).
        let calibration = runs.join("calibration");
        run_profiler(
            &base_binary,
            &calibration,
            &preset(options, &["--phases", "saturation", "--probes", "none"]),
        )?;
        let throughput = load_results(&calibration.join("results.json"))?
            .metrics
            .get("cpu.messages_per_second")
            .copied()
            .filter(|t| t.is_finite() && *t > 0.0)
            .context("the calibration run measured no throughput")?;
        let rate = (throughput * 0.5).round();
        eprintln!("compare: latency phase at {rate:.0} msg/s (half the base's {throughput:.0})");
        Ok(Self {
            base_binary,
            candidate_binary: builds.candidate_binary.clone(),
            rate,
            runs,
        })
    }

    /// ABBA rounds: base first in even rounds, candidate first in odd ones, so a linear drift of
    /// the machine's speed costs both sides alike.
    /// With `chaos`, each side's turn also runs that scenario (see `run_side`).
    pub(super) fn run(&self, options: &Options, chaos: Option<&str>) -> anyhow::Result<Vec<Samples>> {
        let mut samples: Vec<Samples> = compared_metrics(chaos).iter().map(Samples::empty).collect();
        let extra = options.candidate_extra_args();
        let started = std::time::Instant::now();
        for round in 0..options.rounds {
            let order = if round % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            };
            for is_base in order {
                let (binary, side) = if is_base {
                    (&self.base_binary, "base")
                } else {
                    (&self.candidate_binary, "candidate")
                };
                let metrics = self.run_side(
                    binary,
                    &format!("{round:03}-{side}"),
                    options,
                    chaos,
                    is_base,
                    &extra,
                )?;
                for sample in &mut samples {
                    sample.push(is_base, metrics.get(&sample.id).copied().unwrap_or(f64::NAN));
                }
            }
            eprintln!(
                "compare: round {}/{} done ({:.0} s)",
                round + 1,
                options.rounds,
                started.elapsed().as_secs_f64()
            );
        }
        Ok(samples)
    }

    /// One side's turn in a round: the throughput phase and the latency phase as two runs of
    /// the profiler, merged into one set of figures. Two runs so that the throughput window can
    /// be longer than the latency phase in the CI preset (CPU time per message over a 200,000
    /// message window varied 9 % between runs of one binary on a host stealing a quarter of the
    /// CPU, 5 % over 800,000), and because `--phases` exists in every revision `--base` may
    /// name, unlike a per-phase length flag. With `chaos`, a third run: that scenario (its
    /// figures only; see `run_chaos`).
    fn run_side(
        &self,
        binary: &Path,
        name: &str,
        options: &Options,
        chaos: Option<&str>,
        is_base: bool,
        extra: &[String],
    ) -> anyhow::Result<BTreeMap<String, f64>> {
        let with_extra = |mut args: Vec<String>| {
            if !is_base {
                args.extend(extra.iter().cloned());
            }
            args
        };
        let mut throughput_args = vec!["--phases", "saturation", "--probes", "heap"];
        if options.quick {
            throughput_args.extend(["--messages", QUICK_THROUGHPUT_MESSAGES]);
        }
        let dir = self.runs.join(format!("{name}-throughput"));
        run_profiler(binary, &dir, &with_extra(preset(options, &throughput_args)))?;
        let run = load_results(&dir.join("results.json"))?;
        let mut metrics = run.metrics.clone();
        // Throughput as the median of the window's 50 ms rates (see windowed_throughput).
        if let Some(throughput) = windowed_throughput(&run, WINDOW_CHUNK_MS) {
            metrics.insert("cpu.messages_per_second".to_owned(), throughput);
        }
        let rate = format!("{}", self.rate);
        let dir = self.runs.join(format!("{name}-latency"));
        let mut latency_args = vec!["--phases", "fixed-rate", "--probes", "heap", "--rate", &rate];
        if options.quick {
            latency_args.extend(["--messages", QUICK_LATENCY_MESSAGES]);
        }
        run_profiler(binary, &dir, &with_extra(preset(options, &latency_args)))?;
        let latency = load_results(&dir.join("results.json"))?;
        metrics.retain(|id, _| !id.starts_with("latency."));
        metrics.extend(
            latency
                .metrics
                .into_iter()
                .filter(|(id, _)| id.starts_with("latency.")),
        );
        if let Some(scenario) = chaos {
            metrics.retain(|id, _| !id.starts_with("chaos."));
            metrics.extend(self.run_chaos(binary, name, options, scenario, &with_extra(Vec::new()))?);
        }
        Ok(metrics)
    }

    /// One side's chaos run: the scenario after a short fixed-rate bench of its own (the run's
    /// other figures are the throughput and latency runs'), with one seed and one rate for both
    /// sides, so that both face the same faults at the same times and the same load. The rate
    /// is 0.6 × the latency runs' (half the base's saturation), so 30 % of saturation: where the
    /// profiler's own chaos runs offer by default, since at 50 % the default workload reaches no
    /// steady state over 10 s and the band a recovery is judged against would be noise. A
    /// figure that is `null` in the file (did not recover, nothing finished during the fault)
    /// comes back unbounded, not missing (`perfgate_report::compare::UNBOUNDED`).
    fn run_chaos(
        &self,
        binary: &Path,
        name: &str,
        options: &Options,
        scenario: &str,
        extra: &[String],
    ) -> anyhow::Result<BTreeMap<String, f64>> {
        let rate = format!("{}", self.rate);
        let chaos_rate = format!("{}", (self.rate * CHAOS_RATE_SHARE).round());
        let seed = CHAOS_SEED.to_string();
        let dir = self.runs.join(format!("{name}-chaos"));
        let mut args = preset(
            options,
            &[
                "--phases",
                "fixed-rate",
                "--rate",
                &rate,
                "--messages",
                CHAOS_BENCH_MESSAGES,
                "--probes",
                "none",
                "--chaos",
                scenario,
                "--chaos-seed",
                &seed,
                "--chaos-rate",
                &chaos_rate,
            ],
        );
        args.extend(extra.iter().cloned());
        run_profiler(binary, &dir, &args)?;
        let run = load_results(&dir.join("results.json"))?;
        let figures = chaos_figures(&run, scenario);
        if figures.is_empty() {
            bail!(
                "{} has no chaos scenario '{scenario}'",
                dir.join("results.json").display()
            );
        }
        Ok(figures)
    }
}

/// The chaos runs' rate as a share of the latency runs' (see `Rounds::run_chaos`).
const CHAOS_RATE_SHARE: f64 = 0.6;
/// The chaos runs' seed: any fixed one, the same on both sides.
const CHAOS_SEED: u64 = 42;
/// Measured messages of the chaos run's own fixed-rate bench, which only precedes the scenario:
/// a fraction of a second at the latency rate.
const CHAOS_BENCH_MESSAGES: &str = "20000";

/// Measured messages of the throughput run in the CI preset: about 1.3 s at a shared 2-core
/// runner's rate (230k msg/s when its host is busy).
const QUICK_THROUGHPUT_MESSAGES: &str = "300000";
/// Measured messages of the latency run in the CI preset: about 1 s at half that rate, and
/// still a thousand samples above the p99.
const QUICK_LATENCY_MESSAGES: &str = "100000";

/// Chunks of the saturation window whose rates give the run's throughput figure.
const WINDOW_CHUNK_MS: f64 = 50.0;

/// A run's profiler arguments: those every run of a comparison shares, then `extra`. Shared are
/// `--no-progress` and, under `--quick`, the profiler's own quick preset (200,000 measured
/// messages per phase, 20,000 warm-up); the runs of a round override the lengths (see `run_side`).
/// This VM's host stalls it now and then for a second or two (single runs at half speed), which
/// no window length averages out; more, shorter rounds do better, hence 20 rounds by default.
fn preset(options: &Options, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec!["--no-progress".into()];
    if options.quick {
        args.push("--quick".into());
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// Runs `binary` with `args` and its results going to `out`; a failure says the last line it
/// printed to stderr.
fn run_profiler(binary: &Path, out: &Path, args: &[String]) -> anyhow::Result<()> {
    let output = profiler_command(binary, out, args)
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    profiler_outcome(binary, args, &output)
}

/// The command that runs `binary` with `args` and its results going to `out`: its stdout
/// discarded, its stderr kept for [`profiler_outcome`]. Separate from [`run_profiler`] so that
/// `cargo xtask scaling` can start it in a process group of its own (Ctrl-C there lets the
/// current run finish).
pub(crate) fn profiler_command(binary: &Path, out: &Path, args: &[String]) -> Command {
    let mut command = Command::new(binary);
    command
        .args(args)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// A finished run of [`profiler_command`]: a failure says the last line it printed to stderr.
pub(crate) fn profiler_outcome(binary: &Path, args: &[String], output: &Output) -> anyhow::Result<()> {
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "{} {} failed: {}",
            binary.display(),
            args.join(" "),
            stderr.lines().last().unwrap_or("(no message)")
        );
    }
    Ok(())
}

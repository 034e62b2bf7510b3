//! `cargo xtask compare`: is the working tree slower than a base revision? Builds the profiler
//! at the base revision in a git worktree under `target/` and from the working tree, runs the
//! two interleaved in ABBA order on this machine, and lets `perfgate_report::compare` decide per
//! metric from the per-round ratios. Without a base revision it compares two sets of existing
//! results files (unpaired, weaker).
//!
//! Exit codes as for `report`: 0 pass or warn, 1 a gated regression, 2 bad input or a failed
//! build or run.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};
use clap::Args;
use perfgate_report::compare::formats::{self, Labels};
use perfgate_report::compare::{
    COMPARED, CompareOptions, Comparison, Design, Gate, Kind, Samples, compare, markdown, stats,
    windowed_throughput,
};
use perfgate_report::{history, load_results, write_atomic};

use crate::cargo::{build_release_of, workspace_root};

#[derive(Debug, Args)]
pub(crate) struct Options {
    /// Base revision [default: the merge base of HEAD and main]
    #[arg(long, value_name = "REV", conflicts_with = "base_results")]
    base: Option<String>,
    /// Compare existing results files instead (unpaired): the base side's files
    #[arg(long, value_name = "FILE", num_args = 1.., requires = "candidate_results")]
    base_results: Vec<PathBuf>,
    /// The candidate side's results files (with --base-results)
    #[arg(long, value_name = "FILE", num_args = 1..)]
    candidate_results: Vec<PathBuf>,
    /// ABBA rounds, each running base and candidate once. With 20 the 95 % interval of the
    /// median ratio runs from the 6th to the 15th smallest ratio, so up to five disturbed rounds
    /// cannot decide; with 6 it is the whole range
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=200))]
    rounds: u32,
    /// The CI preset: the profiler's `--quick`, with 300,000 messages in the throughput run
    /// and 100,000 in the latency run
    #[arg(long)]
    quick: bool,
    /// A regression whose whole 95 % interval is beyond this many percent fails the gate
    #[arg(long, value_name = "PCT", default_value_t = 10.0)]
    max_regression: f64,
    /// Changes below this many percent are unchanged (a larger floor learnt from A/A runs wins)
    #[arg(long, value_name = "PCT", default_value_t = 2.0)]
    noise: f64,
    /// Rerun a failing comparison once; fail only if both fail
    #[arg(long)]
    confirm: bool,
    /// Write the Markdown summary here (also appended to $GITHUB_STEP_SUMMARY when set)
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Write JUnit XML here
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write Bencher Metric Format JSON here
    #[arg(long, value_name = "FILE")]
    bmf: Option<PathBuf>,
    /// Write github-action-benchmark files (bigger-is-better.json, smaller-is-better.json) here
    #[arg(long, value_name = "DIR")]
    gab: Option<PathBuf>,
    /// Write the JSON verdict here
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Past self-vs-self comparisons, from which noise floors are learnt (appended to when base
    /// and candidate are the same clean commit)
    #[arg(long, value_name = "FILE", default_value = "target/perfgate/aa-noise.jsonl")]
    noise_history: PathBuf,
    /// Where runs and the worktree go
    #[arg(long, value_name = "DIR", default_value = "target/perfgate/compare")]
    out: PathBuf,
    /// Extra profiler arguments for the candidate only (e.g. `--inject-slowdown 10`)
    #[arg(long, value_name = "ARGS", hide = true, allow_hyphen_values = true)]
    candidate_args: Option<String>,
}

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    match compare_and_report(options) {
        Ok(gate) => Ok(ExitCode::from(if gate == Gate::Fail { 1 } else { 0 })),
        Err(error) => {
            eprintln!("error: {error:#}");
            Ok(ExitCode::from(2))
        }
    }
}

fn compare_options(options: &Options) -> anyhow::Result<CompareOptions> {
    if !(options.max_regression.is_finite() && options.max_regression > 0.0) {
        bail!(
            "--max-regression must be a number above 0, got {}",
            options.max_regression
        );
    }
    if !(options.noise.is_finite() && options.noise >= 0.0) {
        bail!("--noise must be a number ≥ 0, got {}", options.noise);
    }
    Ok(CompareOptions {
        confidence: 0.95,
        noise_pct: options.noise,
        max_regression_pct: options.max_regression,
    })
}

fn compare_and_report(options: &Options) -> anyhow::Result<Gate> {
    let settings = compare_options(options)?;
    let floors = NoiseHistory::read(&options.noise_history);
    let learnt = |id: &str| floors.floor(id);
    let (comparison, samples, labels) = if options.base_results.is_empty() {
        let paired = Paired::prepare(options)?;
        let mut samples = paired.rounds(options)?;
        let mut comparison = compare(Design::Paired, &samples, settings, &learnt);
        if options.confirm && comparison.gate == Gate::Fail {
            eprintln!("compare: the gate failed; confirming with a second set of rounds (--confirm)");
            let again = paired.rounds(options)?;
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
        if paired.same_clean_commit {
            floors.append(&options.noise_history, &comparison)?;
        }
        (comparison, samples, paired.labels)
    } else {
        let samples = unpaired_samples(&options.base_results, &options.candidate_results)?;
        let comparison = compare(Design::Unpaired, &samples, settings, &learnt);
        let labels = Labels {
            base: files_label(&options.base_results),
            candidate: files_label(&options.candidate_results),
            bench: "perfgate/market-data".to_owned(),
        };
        (comparison, samples, labels)
    };
    print_console(&comparison, &labels);
    write_outputs(options, &comparison, &samples, &labels)?;
    Ok(comparison.gate)
}

fn files_label(files: &[PathBuf]) -> String {
    match files {
        [one] => one.display().to_string(),
        [first, ..] => format!("{} and {} more", first.display(), files.len() - 1),
        [] => String::new(),
    }
}

/// The two builds of a paired comparison.
struct Paired {
    base_binary: PathBuf,
    candidate_binary: PathBuf,
    labels: Labels,
    /// Base and candidate are the same commit and the tree is clean: an A/A comparison whose
    /// outcome teaches the noise floor.
    same_clean_commit: bool,
    rate: f64,
    runs: PathBuf,
}

fn git(args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .context("running git")?;
    if !output.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

impl Paired {
    fn prepare(options: &Options) -> anyhow::Result<Self> {
        let base_rev = match &options.base {
            Some(rev) => rev.clone(),
            None => git(&["merge-base", "HEAD", "main"])
                .context("finding the merge base with main (give --base REV)")?,
        };
        let base_sha = git(&["rev-parse", "--verify", &format!("{base_rev}^{{commit}}")])
            .with_context(|| format!("--base {base_rev}: not a commit"))?;
        let head_sha = git(&["rev-parse", "HEAD"])?;
        let dirty = !git(&["status", "--porcelain", "--untracked-files=no"])?.is_empty();
        let root = workspace_root();
        let out = root.join(&options.out);
        let bin = out.join("bin");
        std::fs::create_dir_all(&bin).with_context(|| format!("creating {}", bin.display()))?;

        // The base build: a detached worktree at the base commit, reused between comparisons,
        // built into a target directory of its own (kept warm between comparisons).
        let worktree = out.join("worktree");
        if worktree.join(".git").exists() {
            git(&[
                "-C",
                &worktree.display().to_string(),
                "checkout",
                "--quiet",
                "--detach",
                "--force",
                &base_sha,
            ])?;
        } else {
            let _ = git(&["worktree", "prune"]);
            git(&[
                "worktree",
                "add",
                "--quiet",
                "--detach",
                "--force",
                &worktree.display().to_string(),
                &base_sha,
            ])?;
        }
        eprintln!("compare: building the base ({}) …", short(&base_sha));
        let built = build_release_of(
            Some((&worktree.join("Cargo.toml"), &out.join("target"))),
            "perfgate-profiler",
            "perfgate-profiler",
        )
        .with_context(|| format!("building the base revision {}", short(&base_sha)))?;
        let base_binary = bin.join("perfgate-profiler-base");
        install(&built, &base_binary).context("copying the base binary")?;
        eprintln!("compare: building the candidate (working tree) …");
        let built = build_release_of(None, "perfgate-profiler", "perfgate-profiler")
            .context("building the candidate")?;
        let candidate_binary = bin.join("perfgate-profiler-candidate");
        install(&built, &candidate_binary).context("copying the candidate binary")?;

        let runs = out.join("runs");
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
            candidate_binary,
            labels: Labels {
                base: format!("{base_rev} ({})", short(&base_sha)),
                candidate: format!("{}{}", short(&head_sha), if dirty { " + changes" } else { "" }),
                bench: "perfgate/market-data".to_owned(),
            },
            same_clean_commit: base_sha == head_sha && !dirty && options.candidate_args.is_none(),
            rate,
            runs,
        })
    }

    /// ABBA rounds: base first in even rounds, candidate first in odd ones, so a linear drift of
    /// the machine's speed costs both sides alike.
    fn rounds(&self, options: &Options) -> anyhow::Result<Vec<Samples>> {
        let mut samples: Vec<Samples> = COMPARED
            .iter()
            .map(|compared| Samples {
                id: compared.id.to_owned(),
                kind: compared.kind,
                base: Vec::new(),
                candidate: Vec::new(),
            })
            .collect();
        let extra: Vec<String> = options
            .candidate_args
            .as_deref()
            .map(|args| args.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
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
                let metrics =
                    self.run_side(binary, &format!("{round:03}-{side}"), options, is_base, &extra)?;
                for sample in &mut samples {
                    let value = metrics.get(&sample.id).copied().unwrap_or(f64::NAN);
                    if is_base {
                        sample.base.push(value);
                    } else {
                        sample.candidate.push(value);
                    }
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
    /// name, unlike a per-phase length flag.
    fn run_side(
        &self,
        binary: &Path,
        name: &str,
        options: &Options,
        is_base: bool,
        extra: &[String],
    ) -> anyhow::Result<std::collections::BTreeMap<String, f64>> {
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
        Ok(metrics)
    }
}

/// Measured messages of the throughput run in the CI preset: about 1.3 s at a shared 2-core
/// runner's rate (230k msg/s when its host is busy).
const QUICK_THROUGHPUT_MESSAGES: &str = "300000";
/// Measured messages of the latency run in the CI preset: about 1 s at half that rate, and
/// still a thousand samples above the p99.
const QUICK_LATENCY_MESSAGES: &str = "100000";

/// Copies a binary into place through a temporary file and a rename: overwriting a binary that
/// is still running (a comparison interrupted a moment ago) fails with "text file busy", while a
/// rename replaces it and leaves the running process its old file.
fn install(from: &Path, to: &Path) -> std::io::Result<()> {
    let temporary = to.with_extension("tmp");
    std::fs::copy(from, &temporary)?;
    std::fs::rename(&temporary, to)
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}

/// The profiler arguments every run of a comparison shares.
/// Chunks of the saturation window whose rates give the run's throughput figure.
const WINDOW_CHUNK_MS: f64 = 50.0;

/// The profiler's own quick preset (200,000 measured messages per phase, 20,000 warm-up) under
/// `--quick`; the runs of a round override the lengths (see `run_side`).
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

fn run_profiler(binary: &Path, out: &Path, args: &[String]) -> anyhow::Result<()> {
    let output = Command::new(binary)
        .args(args)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
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

fn unpaired_samples(base: &[PathBuf], candidate: &[PathBuf]) -> anyhow::Result<Vec<Samples>> {
    // Each file is one sample, or one per repetition when it was written with --repeat N.
    let load = |files: &[PathBuf]| -> anyhow::Result<Vec<std::collections::BTreeMap<String, f64>>> {
        let mut samples = Vec::new();
        for file in files {
            let run = load_results(file)?;
            if run.repetitions.is_empty() {
                samples.push(run.metrics);
            } else {
                samples.extend(run.repetitions);
            }
        }
        Ok(samples)
    };
    let (base, candidate) = (load(base)?, load(candidate)?);
    Ok(COMPARED
        .iter()
        .map(|compared| {
            let values = |runs: &[std::collections::BTreeMap<String, f64>]| {
                runs.iter()
                    .map(|metrics| metrics.get(compared.id).copied().unwrap_or(f64::NAN))
                    .collect()
            };
            Samples {
                id: compared.id.to_owned(),
                kind: compared.kind,
                base: values(&base),
                candidate: values(&candidate),
            }
        })
        .collect())
}

fn print_console(comparison: &Comparison, labels: &Labels) {
    println!(
        "{} vs {} ({}): {}",
        labels.candidate,
        labels.base,
        match comparison.design {
            Design::Paired => "paired",
            Design::Unpaired => "unpaired, weaker",
        },
        match comparison.gate {
            Gate::Pass => "pass",
            Gate::Warn => "WARN",
            Gate::Fail => "FAIL",
        }
    );
    for metric in &comparison.metrics {
        println!(
            "  {:<36} {:>8} {:<12} {}",
            metric.id,
            metric.change_pct.map_or("—".to_owned(), |c| format!("{c:+.1} %")),
            format!("{:?}", metric.verdict).to_lowercase(),
            metric.reason
        );
    }
}

fn write_outputs(
    options: &Options,
    comparison: &Comparison,
    samples: &[Samples],
    labels: &Labels,
) -> anyhow::Result<()> {
    let write = |path: &Path, text: &str| -> anyhow::Result<()> {
        write_atomic(path, text.as_bytes())?;
        eprintln!("compare: wrote {}", path.display());
        Ok(())
    };
    let summary = markdown::render(comparison, labels);
    if let Some(path) = &options.markdown {
        write(path, &summary)?;
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        // The step summary is GitHub's file, appended to by every step: append, do not replace.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .with_context(|| format!("opening $GITHUB_STEP_SUMMARY ({})", Path::new(&path).display()))?;
        file.write_all(summary.as_bytes())
            .context("writing $GITHUB_STEP_SUMMARY")?;
    }
    if let Some(path) = &options.junit {
        write(path, &formats::junit(comparison, labels))?;
    }
    if let Some(path) = &options.bmf {
        write(path, &formats::bmf(comparison, samples, labels))?;
    }
    if let Some(dir) = &options.gab {
        let (bigger, smaller) = formats::github_action_benchmark(comparison, samples, labels);
        write(&dir.join("bigger-is-better.json"), &bigger)?;
        write(&dir.join("smaller-is-better.json"), &smaller)?;
    }
    if let Some(path) = &options.json {
        write(path, &formats::json_verdict(comparison, labels))?;
    }
    // Every comparison also keeps its raw samples beside the runs, to recompute or audit it.
    let raw: Vec<serde_json::Value> = samples
        .iter()
        .map(|s| serde_json::json!({"id": s.id, "kind": s.kind, "base": s.base, "candidate": s.candidate}))
        .collect();
    let raw = serde_json::to_string_pretty(&raw).unwrap_or_default();
    write_atomic(
        &workspace_root().join(&options.out).join("samples.json"),
        raw.as_bytes(),
    )?;
    Ok(())
}

/// Past A/A outcomes: one JSON line per comparison, `{"metrics": {"id": abs_change_pct}}`.
struct NoiseHistory {
    changes: std::collections::BTreeMap<String, Vec<f64>>,
}

impl NoiseHistory {
    /// Reads the record at `path`; none yet (the first A/A comparison on this machine) is an
    /// empty record, and a corrupt line is skipped with a warning, as in the run history.
    fn read(path: &Path) -> Self {
        let mut changes: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
        let lines = match history::read_lines(path, history::parse_json) {
            Ok(lines) => {
                for warning in &lines.warnings {
                    eprintln!("warning: {warning}");
                }
                lines.values
            }
            Err(_) if !path.exists() => Vec::new(),
            Err(error) => {
                eprintln!("warning: {error}; no learnt noise floor");
                Vec::new()
            }
        };
        for (_, value) in lines {
            let Some(metrics) = value["metrics"].as_object() else {
                continue;
            };
            for (id, change) in metrics {
                if let Some(change) = change.as_f64().filter(|c| c.is_finite()) {
                    changes.entry(id.clone()).or_default().push(change.abs());
                }
            }
        }
        Self { changes }
    }

    fn floor(&self, id: &str) -> Option<f64> {
        self.changes
            .get(id)
            .and_then(|changes| stats::learnt_noise_floor(changes))
    }

    fn append(&self, path: &Path, comparison: &Comparison) -> anyhow::Result<()> {
        let metrics: serde_json::Map<String, serde_json::Value> = comparison
            .metrics
            .iter()
            .filter(|m| m.kind == Kind::Measured)
            .filter_map(|m| Some((m.id.clone(), serde_json::json!(m.change_pct?))))
            .collect();
        history::append_line(
            path,
            &serde_json::json!({"design": comparison.design, "metrics": metrics}),
        )?;
        eprintln!(
            "compare: same commit on both sides: A/A outcome appended to {}",
            path.display()
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_history_reads_absolute_changes_skips_bad_lines_and_tolerates_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aa-noise.jsonl");
        assert!(
            NoiseHistory::read(&path).changes.is_empty(),
            "no file yet: no floor"
        );
        let mut text = String::new();
        for change in [1.0, -2.0, 1.5, -0.5, 2.5, 1.0, -1.0, 2.0] {
            text.push_str(&format!(
                "{{\"design\":\"paired\",\"metrics\":{{\"cpu.cpu_ns_per_message\":{change}}}}}\n"
            ));
        }
        text.push_str("{\"design\":\"pai\n"); // torn line
        text.push_str("{\"metrics\":{\"cpu.cpu_ns_per_message\":\"NaN\"}}\n"); // not a number
        std::fs::write(&path, text).unwrap();
        let noise = NoiseHistory::read(&path);
        let changes = &noise.changes["cpu.cpu_ns_per_message"];
        assert_eq!(changes, &[1.0, 2.0, 1.5, 0.5, 2.5, 1.0, 1.0, 2.0]);
        assert_eq!(
            noise.floor("cpu.cpu_ns_per_message"),
            stats::learnt_noise_floor(changes)
        );
        assert_eq!(noise.floor("latency.p99_ms"), None);
    }
}

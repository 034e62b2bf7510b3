//! `cargo xtask fuzz`: the long fuzz run of the report's readers (`perfgate_report::fuzz`,
//! docs/fuzzing.md). The loop runs in a release build of this command (`fuzz --child`), a child
//! process: a stack overflow or an allocation failure aborts a process and cannot be caught in
//! it, so the parent tells an abort from an ordinary end by the child's exit status and names the
//! case from the in-flight file each thread writes before each case. A case stuck for
//! [`STUCK_AFTER`] gets the child killed and is reported as a hang the same way.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use clap::Args;
use perfgate_report::fuzz::{self, Case, Problem, Progress, Reader, RunOptions, Seeds, Summary, Target};

use crate::cargo::{build_release, workspace_root};

/// Failing inputs and the in-flight files go here.
const OUT_DIR: &str = "target/perfgate/fuzz";
/// A case that has not finished after this long will not: the child is killed.
const STUCK_AFTER: Duration = Duration::from_secs(120);
/// The child's exit code when a case failed (a panic or a hang it caught).
const FAILED: i32 = 1;

#[derive(Debug, Args)]
pub(crate) struct Options {
    /// Cases in all, spread evenly over the readers
    #[arg(long, default_value_t = 1_000_000)]
    cases: u64,
    /// The run's seed (case i's seed derives from it)
    #[arg(long, default_value_t = 15)]
    seed: u64,
    /// Only this reader: results, legacy, baseline, thresholds, history, locust-json, locust-csv,
    /// locust-history-csv, locust-failures-csv, oha [default: all, in turn]
    #[arg(long, value_name = "NAME")]
    reader: Option<String>,
    /// Worker threads [default: the machine's cores]
    #[arg(long)]
    threads: Option<usize>,
    /// A case slower than this many seconds is a hang
    #[arg(long, default_value_t = 2.0)]
    hang_secs: f64,
    /// Run the one case with this seed (as a failure's note gives it), with --reader
    #[arg(long, value_name = "SEED", requires = "reader")]
    replay: Option<u64>,
    /// Run the loop in this process (what the parent starts; internal)
    #[arg(long, hide = true)]
    child: bool,
    /// Abort the process on the case with this seed, to check how the parent reports an abort
    /// (internal)
    #[arg(long, value_name = "SEED", hide = true)]
    abort_on_seed: Option<u64>,
}

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    let readers = match &options.reader {
        Some(name) => vec![Reader::from_name(name).with_context(|| {
            format!(
                "unknown reader {name:?}; one of: {}",
                Reader::ALL.map(Reader::name).join(", ")
            )
        })?],
        None => Reader::ALL.to_vec(),
    };
    if !(options.hang_secs.is_finite() && options.hang_secs > 0.0) {
        bail!("--hang-secs must be a number of seconds > 0");
    }
    if let Some(seed) = options.replay {
        return replay(readers[0], seed, options.abort_on_seed);
    }
    if options.child {
        return child(options, readers);
    }
    parent(options)
}

/// Runs one case in this process and says what it did.
fn replay(reader: Reader, seed: u64, abort_on_seed: Option<u64>) -> anyhow::Result<ExitCode> {
    let root = workspace_root();
    let seeds = Seeds::load(&root)?;
    let target = Target::new(&root)?;
    let scratch = fuzz::Scratch::new()?;
    let input = fuzz::generate(reader, &seeds, seed);
    if abort_on_seed == Some(seed) {
        std::process::abort();
    }
    let started = Instant::now();
    let outcome = fuzz::guarded(|| target.exercise(reader, &input, &scratch));
    println!(
        "{} seed {seed}: {} bytes, {:?} in {:.3} s",
        reader.name(),
        input.len(),
        outcome,
        started.elapsed().as_secs_f64()
    );
    Ok(if outcome.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED as u8)
    })
}

/// The fuzz loop, in the release child.
fn child(options: &Options, readers: Vec<Reader>) -> anyhow::Result<ExitCode> {
    let root = workspace_root();
    let seeds = Seeds::load(&root)?;
    let target = Target::new(&root)?;
    let out = root.join(OUT_DIR);
    let in_flight = out.join("in-flight");
    std::fs::create_dir_all(&in_flight).with_context(|| format!("creating {}", in_flight.display()))?;
    let run_options = RunOptions {
        cases: options.cases,
        seed: options.seed,
        readers,
        threads: threads(options),
        hang_after: Duration::from_secs_f64(options.hang_secs),
        failures_dir: out,
        in_flight_dir: Some(in_flight),
        progress_every: Duration::from_secs(5),
    };
    eprintln!(
        "fuzz: {} cases, seed {}, {} threads, readers: {}",
        run_options.cases,
        run_options.seed,
        run_options.threads,
        run_options
            .readers
            .iter()
            .map(|r| r.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let summary = fuzz::run(
        &run_options,
        &seeds,
        &|reader, bytes, scratch| {
            if options.abort_on_seed.is_some() && seeds_match(&seeds, reader, bytes, options.abort_on_seed) {
                std::process::abort();
            }
            target.exercise(reader, bytes, scratch)
        },
        &mut print_progress,
    );
    print!("{}", summary_text(&summary, run_options.threads));
    Ok(if summary.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED as u8)
    })
}

/// Whether `bytes` is the input of the case seeded `seed` (only for `--abort-on-seed`).
fn seeds_match(seeds: &Seeds, reader: Reader, bytes: &[u8], seed: Option<u64>) -> bool {
    seed.is_some_and(|seed| fuzz::generate(reader, seeds, seed) == bytes)
}

fn threads(options: &Options) -> usize {
    options
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from))
        .max(1)
}

fn print_progress(progress: &Progress) {
    let seconds = progress.elapsed.as_secs_f64();
    let rate = progress.done as f64 / seconds.max(1e-9);
    let left = (progress.total - progress.done.min(progress.total)) as f64 / rate.max(1e-9);
    eprintln!(
        "fuzz: {} / {} cases ({:.1} %), {rate:.0} cases/s, {} left, {} panics, {} hangs",
        progress.done,
        progress.total,
        100.0 * progress.done as f64 / progress.total.max(1) as f64,
        minutes(left),
        progress.panics,
        progress.hangs
    );
}

fn minutes(seconds: f64) -> String {
    let seconds = seconds.round() as u64;
    format!("{}m {:02}s", seconds / 60, seconds % 60)
}

fn summary_text(summary: &Summary, threads: usize) -> String {
    let mut out = format!(
        "\n{:<20} {:>9} {:>9} {:>9} {:>7} {:>6}\n",
        "reader", "cases", "accepted", "rejected", "panics", "hangs"
    );
    let mut row = |name: &str, c: fuzz::ReaderCounts| {
        out.push_str(&format!(
            "{name:<20} {:>9} {:>9} {:>9} {:>7} {:>6}\n",
            c.cases, c.accepted, c.rejected, c.panics, c.hangs
        ));
    };
    for (reader, counts) in &summary.readers {
        row(reader.name(), *counts);
    }
    let total = summary.total();
    row("total", total);
    let seconds = summary.duration.as_secs_f64();
    out.push_str(&format!(
        "\n{} cases in {} ({:.1} s) on {threads} threads: {:.0} cases/s; {} panics, {} hangs\n",
        total.cases,
        minutes(seconds),
        seconds,
        total.cases as f64 / seconds.max(1e-9),
        total.panics,
        total.hangs
    ));
    if let Some(slowest) = summary.slowest {
        out.push_str(&format!(
            "slowest case: {} seed {} (case {}), {:.3} s\n",
            slowest.case.reader.name(),
            slowest.case.seed,
            slowest.case.index,
            slowest.took.as_secs_f64()
        ));
    }
    for failure in &summary.failures {
        let what = match &failure.problem {
            Problem::Panic(message) => format!("panic: {}", message.lines().next().unwrap_or_default()),
            Problem::Hang(took) => format!("hang: {:.3} s or more", took.as_secs_f64()),
        };
        out.push_str(&format!(
            "FAILED {} seed {} (case {}): {what}; input {}\n",
            failure.case.reader.name(),
            failure.case.seed,
            failure.case.index,
            failure.input.display()
        ));
    }
    out
}

/// Builds the release child, runs it and watches it.
fn parent(options: &Options) -> anyhow::Result<ExitCode> {
    let binary = build_release("xtask", "xtask")?;
    let in_flight = PathBuf::from(OUT_DIR).join("in-flight");
    // Files of an earlier run would name its cases.
    let _ = std::fs::remove_dir_all(&in_flight);
    let mut command = Command::new(&binary);
    command.args([
        "fuzz",
        "--child",
        "--cases",
        &options.cases.to_string(),
        "--seed",
        &options.seed.to_string(),
        "--threads",
        &threads(options).to_string(),
        "--hang-secs",
        &options.hang_secs.to_string(),
    ]);
    if let Some(reader) = &options.reader {
        command.args(["--reader", reader]);
    }
    if let Some(seed) = options.abort_on_seed {
        command.args(["--abort-on-seed", &seed.to_string()]);
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for the fuzz run")? {
            break status;
        }
        std::thread::sleep(Duration::from_secs(1));
        if let Some(case) = stuck(&in_flight) {
            // Only the child we started, by its handle.
            let _ = child.kill();
            let _ = child.wait();
            let input = save_input(case, "hang")?;
            eprintln!(
                "fuzz: HANG: {} seed {} (case {}) ran for more than {} s; the run was stopped; input {}",
                case.reader.name(),
                case.seed,
                case.index,
                STUCK_AFTER.as_secs(),
                input.display()
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    if status.success() {
        return Ok(ExitCode::SUCCESS);
    }
    if status.code() == Some(FAILED) {
        eprintln!("fuzz: failing inputs are in {OUT_DIR}");
        return Ok(ExitCode::FAILURE);
    }
    aborted(&binary, status, &in_flight, options.abort_on_seed)
}

/// The case a thread has been on for longer than [`STUCK_AFTER`], if any: each thread rewrites
/// its file before each case, so its age is the time the case has run.
fn stuck(in_flight: &Path) -> Option<Case> {
    in_flight_files(in_flight).into_iter().find_map(|(path, case)| {
        let age = std::fs::metadata(&path)
            .and_then(|metadata| metadata.modified())
            .ok()
            .and_then(|modified| SystemTime::now().duration_since(modified).ok())?;
        (age > STUCK_AFTER).then_some(case)
    })
}

fn in_flight_files(dir: &Path) -> Vec<(PathBuf, Case)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let text = std::fs::read_to_string(entry.path()).ok()?;
            Some((entry.path(), fuzz::read_in_flight(&text)?))
        })
        .collect()
}

/// Writes `case`'s input beside the other failing inputs.
fn save_input(case: Case, kind: &str) -> anyhow::Result<PathBuf> {
    let seeds = Seeds::load(&workspace_root())?;
    let path = PathBuf::from(OUT_DIR).join(format!("{kind}-{}-{:016x}.input", case.reader.name(), case.seed));
    std::fs::write(&path, fuzz::generate(case.reader, &seeds, case.seed))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The child died of something it could not catch: each thread's case in flight is run again on
/// its own, in a child of its own, to find the one that kills the process.
fn aborted(
    binary: &Path,
    status: ExitStatus,
    in_flight: &Path,
    abort_on_seed: Option<u64>,
) -> anyhow::Result<ExitCode> {
    eprintln!(
        "fuzz: ABORT: the fuzz run died ({}); the cases in flight:",
        describe(status)
    );
    for (_, case) in in_flight_files(in_flight) {
        let mut replay = Command::new(binary);
        replay.args([
            "fuzz",
            "--reader",
            case.reader.name(),
            "--replay",
            &case.seed.to_string(),
        ]);
        if let Some(seed) = abort_on_seed {
            replay.args(["--abort-on-seed", &seed.to_string()]);
        }
        let replay = replay.output().context("replaying a case")?;
        let verdict = if replay.status.success() || replay.status.code() == Some(FAILED) {
            "does not abort on its own".to_owned()
        } else {
            format!(
                "ABORTS ({}), input {}",
                describe(replay.status),
                save_input(case, "abort")?.display()
            )
        };
        eprintln!(
            "  {} seed {} (case {}): {verdict}",
            case.reader.name(),
            case.seed,
            case.index
        );
    }
    Ok(ExitCode::FAILURE)
}

fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("signal {signal}");
        }
    }
    status.to_string()
}

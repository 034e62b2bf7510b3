//! `cargo xtask instructions`: the CPU work per message counted exactly, not timed. The release
//! profiler runs the stage functions' plain loop (`perfgate-profiler --plain-loop`: one thread,
//! no probes, so no SIGPROF timer) under Valgrind's callgrind with its cache simulation, and only
//! the measured messages are counted: collection is switched on and off by the function that
//! runs them (`--toggle-collect=*measured_window*`), which leaves out start-up, warm-up and
//! shut-down. The same seed gives the same messages, so the count does not depend on how busy
//! the machine is.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use clap::Args;

use crate::cargo;

/// The simulated caches, fixed rather than taken from the host (callgrind's default), so that
/// the estimated cycles are the same on every machine: 32 KiB 8-way L1 instruction and data
/// caches and an 8 MiB 16-way last level, 64-byte lines.
const CACHES: [&str; 3] = ["--I1=32768,8,64", "--D1=32768,8,64", "--LL=8388608,16,64"];

/// jemalloc's housekeeping that runs on a clock, switched off: its thread-cache collection runs
/// when enough time has passed since the last (`experimental_tcache_gc`, on by default) and
/// dirty pages are purged after a delay (`dirty_decay_ms`, `muzzy_decay_ms`). Under Valgrind the
/// same loop takes a different time on every run, so with them on the count moved by about 1 %
/// between runs (measured); without them it is the allocator's work per allocation alone.
const ALLOCATOR_SETTINGS: (&str, &str) = (
    "_RJEM_MALLOC_CONF",
    "experimental_tcache_gc:false,dirty_decay_ms:-1,muzzy_decay_ms:-1",
);

/// The function whose calls bound the counted region (`driver/limit.rs`).
const REGION: &str = "*measured_window*";

#[derive(Debug, Args)]
pub(crate) struct Options {
    /// Measured messages
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MESSAGES, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    messages: u64,
    /// Messages run before the counted ones, so that caches and bars are in their steady state
    #[arg(long, value_name = "N", default_value_t = DEFAULT_WARMUP)]
    warmup: u64,
    /// Seed of the synthetic feed
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Where the JSON goes
    #[arg(
        long,
        value_name = "FILE",
        default_value = "target/perfgate/instructions.json"
    )]
    out: PathBuf,
    /// More profiler flags after `--` (e.g. `-- --symbols 100`)
    #[arg(last = true)]
    profiler_args: Vec<String>,
}

/// Callgrind's event totals, by event name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Events(Vec<(String, u64)>);

impl Events {
    /// The total of `name`, or why it is missing.
    pub(crate) fn get(&self, name: &str) -> anyhow::Result<u64> {
        self.0
            .iter()
            .find(|(event, _)| event == name)
            .map(|(_, value)| *value)
            .with_context(|| format!("the callgrind output has no {name} event (was --cache-sim=yes given?)"))
    }

    /// Estimated cycles from the simulated cache misses, with the cost model of iai-callgrind:
    /// an L1 hit costs 1, a last-level hit 5, a miss to memory 35.
    pub(crate) fn estimated_cycles(&self) -> anyhow::Result<u64> {
        let accesses = self.get("Ir")? + self.get("Dr")? + self.get("Dw")?;
        let l1_misses = self.get("I1mr")? + self.get("D1mr")? + self.get("D1mw")?;
        let ram = self.get("ILmr")? + self.get("DLmr")? + self.get("DLmw")?;
        let l1_hits = accesses - l1_misses;
        let ll_hits = l1_misses - ram;
        Ok(l1_hits + 5 * ll_hits + 35 * ram)
    }
}

/// Reads the event totals of a callgrind output file: its `events:` line names them and its
/// `summary:` (or, in older versions, `totals:`) line holds them in the same order.
pub(crate) fn parse_callgrind(text: &str) -> anyhow::Result<Events> {
    let line_after = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key))
            .map(str::trim)
    };
    let names = line_after("events:").context("the callgrind output has no events: line")?;
    let totals = line_after("summary:")
        .or_else(|| line_after("totals:"))
        .context("the callgrind output has no summary: line")?;
    let values = totals
        .split_whitespace()
        .map(|value| {
            value
                .parse::<u64>()
                .with_context(|| format!("{value:?} in the summary is not a count"))
        })
        .collect::<anyhow::Result<Vec<u64>>>()?;
    let names: Vec<&str> = names.split_whitespace().collect();
    // Callgrind leaves out trailing zeros, so a summary may be shorter than the events.
    if values.len() > names.len() {
        bail!(
            "the callgrind summary has {} values for {} events",
            values.len(),
            names.len()
        );
    }
    Ok(Events(
        names
            .iter()
            .enumerate()
            .map(|(index, name)| ((*name).to_owned(), values.get(index).copied().unwrap_or(0)))
            .collect(),
    ))
}

/// The `valgrind` command's version, or `None` when it is not installed.
pub(crate) fn valgrind_version() -> Option<String> {
    let output = Command::new("valgrind").arg("--version").output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The one-line error for a machine without Valgrind.
pub(crate) const NO_VALGRIND: &str =
    "valgrind is not installed (it counts the instructions; e.g. `apt-get install valgrind`)";

/// What to count: the plain loop's lengths and seed, and more profiler flags (a workload's).
#[derive(Debug, Clone)]
pub(crate) struct CountSpec {
    pub(crate) messages: u64,
    pub(crate) warmup: u64,
    pub(crate) seed: u64,
    pub(crate) profiler_args: Vec<String>,
}

impl CountSpec {
    /// The default count: 20,000 messages after 10,000 of warm-up, seed 42.
    pub(crate) fn new(profiler_args: Vec<String>) -> Self {
        Self {
            messages: DEFAULT_MESSAGES,
            warmup: DEFAULT_WARMUP,
            seed: DEFAULT_SEED,
            profiler_args,
        }
    }
}

const DEFAULT_MESSAGES: u64 = 20_000;
const DEFAULT_WARMUP: u64 = 10_000;
const DEFAULT_SEED: u64 = 42;

/// Counts `profiler`'s plain loop under callgrind as `spec` says: the results' `instructions`
/// section. `valgrind` is its version, from [`valgrind_version`].
pub(crate) fn count_instructions(
    profiler: &Path,
    spec: &CountSpec,
    valgrind: &str,
) -> anyhow::Result<perfgate_results::InstructionsSection> {
    // Removed when dropped, whether the count succeeds or not.
    let scratch = tempfile::Builder::new()
        .prefix("perfgate-instructions-")
        .tempdir()
        .context("creating a folder for callgrind's output")?;
    let callgrind_out = scratch.path().join("callgrind.out");
    let mut profiler_args: Vec<String> = vec![
        "--plain-loop".into(),
        "--messages".into(),
        spec.messages.to_string(),
        "--warmup".into(),
        spec.warmup.to_string(),
        "--seed".into(),
        spec.seed.to_string(),
        "--no-progress".into(),
    ];
    profiler_args.extend(spec.profiler_args.iter().cloned());
    let events = count(profiler, &profiler_args, &callgrind_out)?;
    let messages = spec.messages as f64;
    Ok(perfgate_results::InstructionsSection {
        instructions_per_message: events.get("Ir")? as f64 / messages,
        estimated_cycles_per_message: events.estimated_cycles()? as f64 / messages,
        messages: spec.messages,
        warmup: spec.warmup,
        seed: spec.seed,
        profiler_args,
        events: events.0.into_iter().collect(),
        cycle_model: "L1 hits + 5 × LL hits + 35 × RAM hits".to_owned(),
        caches: CACHES.iter().map(|cache| (*cache).to_owned()).collect(),
        allocator_settings: ALLOCATOR_SETTINGS.1.to_owned(),
        valgrind: valgrind.to_owned(),
    })
}

/// The count in two lines, for the console.
pub(crate) fn describe(section: &perfgate_results::InstructionsSection) -> String {
    format!(
        "instructions per message      {:.1}\nestimated cycles per message  {:.1}  (L1 hit 1, LL hit 5, RAM 35; simulated caches {})\n{} messages after {} of warm-up, seed {}, {}",
        section.instructions_per_message,
        section.estimated_cycles_per_message,
        section.caches.join(" "),
        section.messages,
        section.warmup,
        section.seed,
        section.valgrind
    )
}

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    let Some(version) = valgrind_version() else {
        eprintln!("error: {NO_VALGRIND}");
        return Ok(ExitCode::from(2));
    };
    // Found now, not after the build and the run.
    if let Err(error) = perfgate_output::check_folder_writable(perfgate_output::folder_of(&options.out)) {
        eprintln!(
            "error: {}: cannot write the result there: {}",
            error.path.display(),
            error.source
        );
        return Ok(ExitCode::from(2));
    }
    let profiler = cargo::build_profiler()?;
    let spec = CountSpec {
        messages: options.messages,
        warmup: options.warmup,
        seed: options.seed,
        profiler_args: options.profiler_args.clone(),
    };
    let section = count_instructions(&profiler, &spec, &version)?;
    println!("{}", describe(&section));
    let text = serde_json::to_string_pretty(&section)? + "\n";
    perfgate_output::write_atomic(&options.out, text.as_bytes())
        .with_context(|| format!("writing {}", options.out.display()))?;
    println!("wrote {}", options.out.display());
    Ok(ExitCode::SUCCESS)
}

/// Runs the profiler with `args` under callgrind, writing its output to `out`, and reads it.
fn count(profiler: &Path, args: &[String], out: &Path) -> anyhow::Result<Events> {
    let output = Command::new("valgrind")
        .args(["--tool=callgrind", "--cache-sim=yes", "--collect-atstart=no"])
        .arg(format!("--toggle-collect={REGION}"))
        .args(CACHES)
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(profiler)
        .args(args)
        .env(ALLOCATOR_SETTINGS.0, ALLOCATOR_SETTINGS.1)
        .output()
        .context("running valgrind")?;
    if !output.status.success() {
        bail!(
            "the profiler under valgrind failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let text = std::fs::read_to_string(out).with_context(|| format!("reading {}", out.display()))?;
    parse_callgrind(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by `tests/fixtures/callgrind.sh` (the command is in it): a real callgrind output.
    const FIXTURE: &str = include_str!("../tests/fixtures/callgrind.out");

    #[test]
    fn a_real_callgrind_file_gives_its_totals_and_cycles() {
        let events = parse_callgrind(FIXTURE).expect("the fixture parses");
        let names: Vec<&str> = events.0.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            ["Ir", "Dr", "Dw", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw"]
        );
        // The summary line, read independently of the parser.
        let summary: Vec<u64> = FIXTURE
            .lines()
            .find_map(|line| line.strip_prefix("summary:"))
            .expect("a summary line")
            .split_whitespace()
            .map(|value| value.parse().expect("a count"))
            .collect();
        assert_eq!(events.get("Ir").unwrap(), summary[0]);
        assert!(summary[0] > 0);
        let by = |index: usize| summary.get(index).copied().unwrap_or(0);
        let l1_misses = by(3) + by(4) + by(5);
        let ram = by(6) + by(7) + by(8);
        assert_eq!(
            events.estimated_cycles().unwrap(),
            by(0) + by(1) + by(2) - l1_misses + 5 * (l1_misses - ram) + 35 * ram
        );
    }

    #[test]
    fn the_cost_model_and_missing_parts() {
        let text = "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\nsummary: 100 40 20 3 5 2 1 1\n";
        let events = parse_callgrind(text).unwrap();
        // L1 hits 160 − 10 = 150, LL hits 10 − 2 = 8, RAM 2 (DLmw left out: 0).
        assert_eq!(events.estimated_cycles().unwrap(), 150 + 5 * 8 + 35 * 2);
        assert!(parse_callgrind("events: Ir\n").is_err());
        assert!(parse_callgrind("summary: 1\n").is_err());
        assert!(parse_callgrind("events: Ir\nsummary: 1 2\n").is_err());
        assert!(parse_callgrind("events: Ir\nsummary: x\n").is_err());
        let instructions_only = parse_callgrind("events: Ir\nsummary: 7\n").unwrap();
        assert_eq!(instructions_only.get("Ir").unwrap(), 7);
        assert!(instructions_only.estimated_cycles().is_err());
    }
}

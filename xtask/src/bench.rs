//! `cargo xtask bench`: release build of the profiler, then a run with the given arguments, then
//! one line for the run appended to the benchmark history. The profiler's exit code is passed
//! through (2 for bad flags); the history only gets a line when the profiler succeeded and wrote
//! fresh results. `--history FILE`, `--no-history`, `--prometheus FILE` (the run's figures in
//! the Prometheus text format), `--store URL` (the shared results store; `PERFGATE_STORE` when
//! not given), `--branch NAME` and `--instructions` (also count the CPU work per message under
//! Valgrind into the results' `instructions` section) are this task's own and are not passed on.
//!
//! With a store, it is checked before the build (a bad URL or an unreachable server is one line
//! and exit code 2, and nothing runs), and the run is recorded there after the history. If that
//! write fails the run is not lost: its results file and history line are already written, one
//! line says the store write failed, and the exit code is 2.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::SystemTime;

use anyhow::{Context, bail};
use perfgate_report::history::{self, DEFAULT_HISTORY, HistoryRecord, shared};
use perfgate_store::{Store, StoreArg, StoreUrl};

use crate::cargo::build_profiler;

/// Where the profiler writes unless given `--out` (its own default).
const DEFAULT_OUT: &str = "target/perfgate/latest";

/// The command line split between this task and the profiler.
#[derive(Debug, PartialEq)]
struct BenchArgs {
    /// Passed on to the profiler as given.
    profiler: Vec<String>,
    /// The history to append to; `None` with `--no-history`.
    history: Option<PathBuf>,
    /// The profiler's output directory (`--out`, which stays among its arguments).
    out: PathBuf,
    /// Help or version asked for: no run, nothing to record.
    informational: bool,
    /// Also write the run's figures in the Prometheus text format here.
    prometheus: Option<PathBuf>,
    /// The shared results store (`--store`).
    store: Option<StoreArg>,
    /// The branch to record (`--branch`).
    branch: Option<String>,
    /// Also count the CPU work per message under Valgrind (`--instructions`).
    instructions: bool,
}

/// The profiler flags that shape the workload, which the instruction count's plain loop takes
/// too (`--seed` is the count's own); the rest (lengths, phases, probes) are the timed run's.
const WORKLOAD_FLAGS: &[&str] = &[
    "--symbols",
    "--zipf",
    "--payload-bytes",
    "--malformed-rate",
    "--subscribers",
    "--cache-capacity",
    "--inject-slowdown",
    "--inject-instructions",
];

/// The count's spec for a bench run's profiler arguments: its workload flags and seed.
fn count_spec(profiler: &[String]) -> crate::instructions::CountSpec {
    let mut spec = crate::instructions::CountSpec::new(Vec::new());
    let mut rest = profiler.iter().peekable();
    while let Some(arg) = rest.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let takes = flag == "--seed" || WORKLOAD_FLAGS.contains(&flag);
        if !takes {
            continue;
        }
        let Some(value) = inline.or_else(|| rest.next().cloned()) else {
            continue;
        };
        if flag == "--seed" {
            if let Ok(seed) = value.parse() {
                spec.seed = seed;
            }
        } else {
            spec.profiler_args.extend([flag.to_owned(), value]);
        }
    }
    spec
}

/// Counts the run's CPU work per message under Valgrind and adds it to `results` as its
/// `instructions` section (the file rewritten whole, through a temporary file).
fn add_instruction_count(binary: &Path, results: &Path, profiler: &[String]) -> anyhow::Result<()> {
    let Some(valgrind) = crate::instructions::valgrind_version() else {
        bail!("--instructions: {}", crate::instructions::NO_VALGRIND);
    };
    eprintln!("instructions: counting the plain loop under Valgrind …");
    let section = crate::instructions::count_instructions(binary, &count_spec(profiler), &valgrind)?;
    println!("{}", crate::instructions::describe(&section));
    let text = std::fs::read_to_string(results).with_context(|| format!("reading {}", results.display()))?;
    let mut value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("reading {}", results.display()))?;
    let object = value
        .as_object_mut()
        .with_context(|| format!("{}: not a JSON object", results.display()))?;
    object.insert("instructions".to_owned(), serde_json::to_value(&section)?);
    let text = serde_json::to_string_pretty(&value)? + "\n";
    perfgate_output::write_atomic(results, text.as_bytes())
        .with_context(|| format!("writing {}", results.display()))?;
    Ok(())
}

/// `cargo xtask capacity --slo SLO [bench options]`: the bench with `--capacity SLO`.
pub(crate) fn capacity(args: &[String]) -> anyhow::Result<ExitCode> {
    match capacity_args(args) {
        Ok(args) => run(&args),
        Err(message) => {
            eprintln!("error: cargo xtask capacity: {message}");
            Ok(ExitCode::from(2))
        }
    }
}

/// The bench's arguments for a capacity search: `--slo X` (or `--slo=X`) becomes
/// `--capacity X`; `--help` shows the bench's help.
fn capacity_args(args: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(args.len());
    let mut slo = None;
    let mut given = args.iter();
    while let Some(arg) = given.next() {
        if arg == "--slo" {
            slo = Some(
                given
                    .next()
                    .ok_or("--slo needs an objective, e.g. --slo 'p99<=2ms'")?
                    .clone(),
            );
        } else if let Some(value) = arg.strip_prefix("--slo=") {
            slo = Some(value.to_owned());
        } else {
            out.push(arg.clone());
        }
    }
    if out.iter().any(|arg| arg == "--help" || arg == "-h") {
        return Ok(out);
    }
    let slo = slo.ok_or("give the objective: --slo 'p99<=2ms' (docs/capacity.md)")?;
    out.extend(["--capacity".to_owned(), slo]);
    Ok(out)
}

/// `cargo xtask chaos [--scenario NAME,...|all] [bench options]`: the bench with `--chaos`.
pub(crate) fn chaos(args: &[String]) -> anyhow::Result<ExitCode> {
    run(&chaos_args(args))
}

/// The bench's arguments for a chaos run: `--scenario X` (or `--scenario=X`) becomes `--chaos
/// X`, every scenario when none is given; the profiler checks the names before anything runs.
fn chaos_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len() + 2);
    let mut scenarios = None;
    let mut given = args.iter();
    while let Some(arg) = given.next() {
        if arg == "--scenario" {
            // A missing value is the profiler's to refuse: `--chaos` without one.
            scenarios = Some(given.next().cloned().unwrap_or_default());
        } else if let Some(value) = arg.strip_prefix("--scenario=") {
            scenarios = Some(value.to_owned());
        } else {
            out.push(arg.clone());
        }
    }
    if !out.iter().any(|arg| arg == "--help" || arg == "-h") {
        out.extend([
            "--chaos".to_owned(),
            scenarios.unwrap_or_else(|| "all".to_owned()),
        ]);
    }
    out
}

pub(crate) fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let args = split_args(args)?;
    // Found before the build and the run, not after them: a folder the outputs cannot go in.
    if !args.informational {
        for path in args.prometheus.iter().chain(&args.history) {
            if let Err(error) = perfgate_output::check_folder_writable(perfgate_output::folder_of(path)) {
                eprintln!("error: {}: cannot write there: {}", path.display(), error.source);
                return Ok(ExitCode::from(2));
            }
        }
    }
    let store = if args.informational {
        None
    } else {
        if let Some(warning) = args.store.as_ref().and_then(StoreArg::command_line_warning) {
            eprintln!("{warning}");
        }
        // Checked before the build and the run: a store that cannot take the run costs nothing.
        match StoreArg::resolve(args.store.as_ref()).and_then(|url| url.map(check_store).transpose()) {
            Ok(store) => store,
            Err(error) => {
                eprintln!("error: {error} (nothing was run)");
                return Ok(ExitCode::from(2));
            }
        }
    };
    if args.instructions && !args.informational && crate::instructions::valgrind_version().is_none() {
        eprintln!(
            "error: --instructions: {} (nothing was run)",
            crate::instructions::NO_VALGRIND
        );
        return Ok(ExitCode::from(2));
    }
    let binary = build_profiler()?;
    let results = args.out.join("results.json");
    let before = modified(&results);
    let status = Command::new(&binary)
        .args(&args.profiler)
        .env("PERFGATE_INVOKED_AS", "cargo xtask bench")
        .status()
        .with_context(|| format!("running {}", binary.display()))?;
    if !status.success() {
        return Ok(match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::FAILURE,
        });
    }
    if args.instructions && !args.informational {
        add_instruction_count(&binary, &results, &args.profiler)?;
    }
    let mut code = ExitCode::SUCCESS;
    if !args.informational && (args.history.is_some() || store.is_some()) {
        // A results file older than the run is a previous run's: recording it again would
        // count one run twice.
        let after = modified(&results);
        if after.is_none() || after == before {
            eprintln!(
                "history: nothing recorded: the profiler wrote no new {}",
                results.display()
            );
        } else {
            let run = perfgate_report::load_results(&results)?;
            let mut record = HistoryRecord::from_run(&run, SystemTime::now());
            record.branch = branch(args.branch.as_deref());
            if let Some(path) = &args.history {
                append(&record, path)?;
            }
            if let Some(url) = &store
                && let Err(error) = record_in_store(url, &results, &record)
            {
                eprintln!(
                    "error: store: the run was not recorded: {error}; it stays in {}{}",
                    results.display(),
                    args.history
                        .as_ref()
                        .map_or(String::new(), |path| format!(" and {}", path.display()))
                );
                code = ExitCode::from(2);
            }
        }
    }
    if let Some(path) = &args.prometheus
        && !args.informational
    {
        let run = perfgate_report::load_results(&results)?;
        perfgate_report::write_atomic(path, perfgate_report::render::prometheus::render(&run).as_bytes())?;
        println!("prometheus: {}", path.display());
    }
    Ok(code)
}

/// Connects to the store (applying its migrations) and lets the connection go: a run can last
/// longer than a server keeps an idle connection.
fn check_store(url: StoreUrl) -> Result<StoreUrl, perfgate_store::StoreError> {
    Store::open(&url).map(|_| url)
}

/// Records the run in `results` (described by `record`) in the store at `url`, and says so.
fn record_in_store(url: &StoreUrl, results: &Path, record: &HistoryRecord) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(results).with_context(|| format!("reading {}", results.display()))?;
    let typed = perfgate_results::read::parse(&text)
        .map_err(|error| anyhow::anyhow!("{}: {error}", results.display()))?;
    let mut store = Store::open(url)?;
    let recorded = shared::record_run(&mut store, record, Some(&typed))?;
    let what = match recorded {
        perfgate_store::Recorded::New(id) => format!("recorded as run {id}"),
        perfgate_store::Recorded::AlreadyThere(id) => format!("already there as run {id}"),
    };
    println!(
        "store: run of {} on {} {what} in {url}",
        record.timestamp,
        record.branch.as_deref().unwrap_or("no branch"),
    );
    Ok(())
}

/// The branch to record: `--branch`, else CI's `GITHUB_REF_NAME`, else git's current branch
/// (none on a detached HEAD or outside a checkout).
fn branch(flag: Option<&str>) -> Option<String> {
    if let Some(name) = flag.filter(|name| !name.is_empty()) {
        return Some(name.to_owned());
    }
    if let Ok(name) = std::env::var("GITHUB_REF_NAME")
        && !name.is_empty()
    {
        return Some(name);
    }
    let output = Command::new("git")
        .args(["rev-parse", "--abbrev-ref", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let name = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && !name.is_empty() && name != "HEAD").then_some(name)
}

/// Appends `record` to the history at `path` and says so in one line.
fn append(record: &HistoryRecord, path: &Path) -> anyhow::Result<()> {
    history::append(path, record)?;
    let commit = record.git_commit.as_deref().map_or(String::new(), |commit| {
        format!(
            " at {}{}",
            commit.chars().take(12).collect::<String>(),
            if record.git_dirty == Some(true) {
                "+dirty"
            } else {
                ""
            }
        )
    });
    println!(
        "history: run of {}{commit} appended to {} ({} metrics; `cargo xtask trend` shows the trends)",
        record.timestamp,
        path.display(),
        record.metrics.len()
    );
    Ok(())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|meta| meta.modified()).ok()
}

/// Takes `--history FILE` and `--no-history` out of `args` and finds the profiler's `--out`.
fn split_args(args: &[String]) -> anyhow::Result<BenchArgs> {
    let mut split = BenchArgs {
        profiler: Vec::with_capacity(args.len()),
        history: Some(PathBuf::from(DEFAULT_HISTORY)),
        out: PathBuf::from(DEFAULT_OUT),
        informational: false,
        prometheus: None,
        store: None,
        branch: None,
        instructions: false,
    };
    let (mut history, mut no_history) = (None, false);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--no-history" {
            no_history = true;
        } else if arg == "--instructions" {
            split.instructions = true;
        } else if arg == "--history" {
            match rest.next() {
                Some(file) if !file.starts_with("--") => history = Some(PathBuf::from(file)),
                _ => bail!("--history needs a FILE"),
            }
        } else if let Some(file) = arg.strip_prefix("--history=") {
            history = Some(PathBuf::from(file));
        } else if arg == "--prometheus" {
            match rest.next() {
                Some(file) if !file.starts_with("--") => split.prometheus = Some(PathBuf::from(file)),
                _ => bail!("--prometheus needs a FILE"),
            }
        } else if let Some(file) = arg.strip_prefix("--prometheus=") {
            split.prometheus = Some(PathBuf::from(file));
        } else if arg == "--store" {
            // Never echoed: the value may hold a password.
            match rest.next() {
                Some(url) if !url.starts_with("--") => split.store = Some(store_arg(url)),
                _ => bail!("--store needs a URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)"),
            }
        } else if let Some(url) = arg.strip_prefix("--store=") {
            split.store = Some(store_arg(url));
        } else if arg == "--branch" {
            match rest.next() {
                Some(name) if !name.starts_with("--") => split.branch = Some(name.clone()),
                _ => bail!("--branch needs a NAME"),
            }
        } else if let Some(name) = arg.strip_prefix("--branch=") {
            split.branch = Some(name.to_owned());
        } else {
            if arg == "--out" {
                // The value follows; the profiler reports it if missing.
                if let Some(dir) = rest.next() {
                    split.out = PathBuf::from(dir);
                    split.profiler.push(arg.clone());
                    split.profiler.push(dir.clone());
                    continue;
                }
            } else if let Some(dir) = arg.strip_prefix("--out=") {
                split.out = PathBuf::from(dir);
            } else if ["-h", "--help", "-V", "--version"].contains(&arg.as_str()) {
                split.informational = true;
            }
            split.profiler.push(arg.clone());
        }
    }
    match (history, no_history) {
        (Some(_), true) => bail!("--history and --no-history contradict each other"),
        (Some(path), false) => split.history = Some(path),
        (None, true) => split.history = None,
        (None, false) => {}
    }
    Ok(split)
}

fn store_arg(text: &str) -> StoreArg {
    match text.parse() {
        Ok(arg) => arg,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_takes_the_workload_flags_and_the_seed_and_leaves_the_rest() {
        let args: Vec<String> = [
            "--quick",
            "--symbols",
            "100",
            "--seed=9",
            "--phases",
            "saturation",
            "--zipf=1.3",
            "--inject-instructions",
            "200",
            "--out",
            "x",
        ]
        .map(str::to_owned)
        .to_vec();
        let spec = count_spec(&args);
        assert_eq!(spec.seed, 9);
        assert_eq!(
            spec.profiler_args,
            [
                "--symbols",
                "100",
                "--zipf",
                "1.3",
                "--inject-instructions",
                "200"
            ]
        );
        assert!(split(&["--instructions", "--quick"]).unwrap().instructions);
        assert_eq!(
            split(&["--instructions", "--quick"]).unwrap().profiler,
            ["--quick"]
        );
    }

    #[test]
    fn chaos_takes_the_scenarios_and_passes_the_rest_to_the_bench() {
        let args = |given: &[&str]| chaos_args(&given.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>());
        assert_eq!(args(&["--quick"]), ["--quick", "--chaos", "all"]);
        assert_eq!(
            args(&["--scenario", "load_burst", "--quick"]),
            ["--quick", "--chaos", "load_burst"]
        );
        assert_eq!(args(&["--scenario=error_burst"]), ["--chaos", "error_burst"]);
        assert_eq!(args(&["--help"]), ["--help"]);
    }

    #[test]
    fn capacity_takes_the_objective_and_passes_the_rest_to_the_bench() {
        let args = |given: &[&str]| capacity_args(&given.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>());
        assert_eq!(
            args(&["--quick", "--slo", "p99<=2ms"]).unwrap(),
            ["--quick", "--capacity", "p99<=2ms"]
        );
        assert_eq!(args(&["--slo=p50<=1ms"]).unwrap(), ["--capacity", "p50<=1ms"]);
        assert!(args(&["--quick"]).unwrap_err().contains("--slo"));
        assert!(args(&["--slo"]).unwrap_err().contains("needs an objective"));
        assert_eq!(args(&["--help"]).unwrap(), ["--help"]);
    }

    #[test]
    fn an_unwritable_output_folder_stops_the_bench_before_the_build() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("a-file");
        std::fs::write(&blocker, "").unwrap();
        for flag in ["--prometheus", "--history"] {
            let target = blocker.join("out.txt").display().to_string();
            let started = std::time::Instant::now();
            let code = run(&[flag.to_owned(), target]).unwrap();
            assert_eq!(code, ExitCode::from(2), "{flag}");
            // Refused at once: no release build was started.
            assert!(started.elapsed() < std::time::Duration::from_secs(5), "{flag}");
        }
    }

    fn split(args: &[&str]) -> anyhow::Result<BenchArgs> {
        split_args(&args.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>())
    }

    fn check(args: &[&str], profiler: &[&str], history: Option<&str>, out: &str) {
        let split = split(args).unwrap();
        assert_eq!(split.profiler, profiler, "{args:?}");
        assert_eq!(split.history.as_deref(), history.map(Path::new), "{args:?}");
        assert_eq!(split.out, Path::new(out), "{args:?}");
    }

    #[test]
    fn history_flags_are_taken_out_and_out_is_found() {
        check(&[], &[], Some(DEFAULT_HISTORY), DEFAULT_OUT);
        check(
            &["--quick", "--history", "h.jsonl", "--no-progress"],
            &["--quick", "--no-progress"],
            Some("h.jsonl"),
            DEFAULT_OUT,
        );
        check(&["--history=h.jsonl"], &[], Some("h.jsonl"), DEFAULT_OUT);
        check(&["--no-history", "--limit"], &["--limit"], None, DEFAULT_OUT);
        check(
            &["--out", "target/perfgate/ci", "--quick"],
            &["--out", "target/perfgate/ci", "--quick"],
            Some(DEFAULT_HISTORY),
            "target/perfgate/ci",
        );
        check(&["--out=o"], &["--out=o"], Some(DEFAULT_HISTORY), "o");
    }

    #[test]
    fn contradictions_and_missing_values_are_errors() {
        assert!(split(&["--history"]).is_err());
        assert!(split(&["--history", "--quick"]).is_err());
        assert!(split(&["--history", "h", "--no-history"]).is_err());
    }

    #[test]
    fn prometheus_is_taken_out() {
        let split = split(&["--quick", "--prometheus", "m.prom"]).unwrap();
        assert_eq!(split.profiler, ["--quick"]);
        assert_eq!(split.prometheus.as_deref(), Some(Path::new("m.prom")));
        assert!(super::split_args(&["--prometheus".to_owned()]).is_err());
    }

    #[test]
    fn store_and_branch_are_taken_out_and_the_store_is_never_echoed() {
        let split = split(&[
            "--quick",
            "--store",
            "postgres://u:Pw4Store9@h/db",
            "--branch",
            "topic",
        ])
        .unwrap();
        assert_eq!(split.profiler, ["--quick"]);
        assert_eq!(split.branch.as_deref(), Some("topic"));
        let url = StoreArg::resolve(split.store.as_ref()).unwrap().unwrap();
        assert_eq!(url.to_string(), "postgres://u:***@h/db");
        let split = super::split_args(&["--store=mysql://u:Pw4Store9@h/db".to_owned()]).unwrap();
        let error = StoreArg::resolve(split.store.as_ref()).unwrap_err().to_string();
        assert!(!error.contains("Pw4Store9"), "{error}");
        for missing in [&["--store"][..], &["--store", "--quick"], &["--branch"]] {
            let error = super::split_args(&missing.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>())
                .unwrap_err()
                .to_string();
            assert!(error.contains("needs"), "{error}");
        }
        assert_eq!(branch(Some("given")).as_deref(), Some("given"));
    }

    #[test]
    fn a_run_is_recorded_in_the_store_once_with_its_branch_and_results() {
        let Some(server) = perfgate_throwaway_postgres::skip_or_fail(
            "a_run_is_recorded_in_the_store",
            perfgate_throwaway_postgres::Server::start(),
        ) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("results.json");
        let example = perfgate_results::Results::example();
        std::fs::write(&results, serde_json::to_string(&example).unwrap()).unwrap();
        let run = perfgate_report::load_results(&results).unwrap();
        let mut record = HistoryRecord::from_run(&run, SystemTime::now());
        record.branch = Some("topic".to_owned());
        let url: StoreUrl = server.url().parse().unwrap();
        record_in_store(&url, &results, &record).unwrap();
        record_in_store(&url, &results, &record).unwrap();
        let runs = Store::open(&url)
            .unwrap()
            .runs(&perfgate_store::RunFilter {
                branch: Some("topic".to_owned()),
                host: record.host.clone(),
            })
            .unwrap();
        assert_eq!(runs.len(), 1, "recorded once");
        assert_eq!(runs[0].record, serde_json::to_value(&record).unwrap());
        assert_eq!(
            runs[0].results.as_ref(),
            Some(&serde_json::to_value(&example).unwrap())
        );
    }

    #[test]
    fn help_and_version_record_nothing() {
        assert!(split(&["--help"]).unwrap().informational);
        assert!(split(&["-V"]).unwrap().informational);
        assert!(!split(&["--quick"]).unwrap().informational);
    }
}

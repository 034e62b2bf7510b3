//! `cargo xtask sweep`: the profiler's figures as one or more knobs vary over listed values
//! (`--param batch-size=1,10,32,64,128`; several `--param`s make a grid), each point's figures
//! with their spread and interval, and the best value by throughput — or "no clear winner" when
//! the intervals overlap (issue 16, part 1).
//!
//! A knob is a profiler value flag without its `--` (`batch-size`, `payload-bytes`, …, see
//! [`KNOBS`]) or `workers.STAGE` for `--workers STAGE=N`. Bad input (an unknown knob, a value of
//! the wrong type, an empty or repeated value, a grid over [`MAX_POINTS`]) is refused in one line
//! with exit code 2 before anything is built or run.
//!
//! Each point is one run of the release profiler with both phases (`--quick --probes none
//! --no-progress` unless overridden after `--`): the saturation phase gives the throughput and
//! the CPU time per message (the process's CPU time over the measured window, which the
//! profiler records whatever the probes), the fixed-rate phase the latency percentiles. Every
//! point's fixed-rate phase runs at ONE rate: latency depends on the offered load, so with a rate
//! per point (half its own saturation, the profiler's default) a faster point would be measured
//! under a heavier load and the p99s would not compare. The rate is `--rate`, or half the lowest
//! saturation throughput of a first, saturation-only pass over the points (so that every point,
//! the slowest included, has headroom); that pass's figures are recorded but not analysed.
//!
//! The repeats are interleaved as in `cargo xtask scaling` (each pair of repeats goes through the
//! points forward then backward, later pairs starting one point on), so a drift of the machine's
//! speed hits every point alike. Ctrl-C stops after the run in progress and keeps what was
//! measured; a second Ctrl-C ends that run too.
//!
//! Writes `target/perfgate/sweep/results.json` (`--out` moves the folder): a results file whose
//! `sweep` section holds every point with its knob values, runs, medians, intervals and the
//! recommendation (the one analysis, `perfgate_results::sweep::analyse`, that the library's sweep
//! shares), the rest of it the first run of the leading point. Then the report on it,
//! `report.md` and `report.html` with the sweep's charts (the same as `cargo xtask report
//! --results …/results.json`). Each run's own results are kept under `runs/`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use perfgate_results::SweepParam;
use perfgate_results::sweep::{
    SWEEP_METRICS, SweepMeasurement, SweepSection, SweepSettings, analyse, grid, short,
};
use serde_json::Value;

use crate::cargo::build_profiler;
use crate::points::{
    catch_interrupt, duration, interleave, interrupted, load_average, progress_line, rate, refuse_help,
    run_profiler, significant, with_defaults,
};

/// The most points a grid may have: 64 points × 3 repeats of quick runs is already about half an
/// hour on a 2-core machine, and a larger grid is more often a typo than a plan.
const MAX_POINTS: usize = 64;
/// The most repeats.
const MAX_REPEAT: u32 = 50;
/// Confidence asked of each median's interval.
const CONFIDENCE: f64 = 0.95;
/// Each run's arguments unless given after `--`: short runs, and no probe's cost in the figures.
const DEFAULT_PROFILER_ARGS: [(&str, Option<&str>); 3] = [
    ("--quick", None),
    ("--probes", Some("none")),
    ("--no-progress", None),
];
/// Flags this task sets for every run itself.
const RESERVED: [&str; 3] = ["--out", "--phases", "--rate"];

/// What a value of a knob must be (as the profiler's own parser requires, so that a bad value is
/// refused before anything runs rather than by the profiler halfway through the sweep).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A whole number from 1.
    Positive,
    /// A whole number from 0.
    Count,
    /// A whole number in the range, inclusive.
    Range(u64, u64),
    /// A number from 0.
    NonNegative,
    /// A number from 0 to 1.
    Probability,
    /// A duration above 0: digits and a unit (`500us`, `1ms`, `2s`).
    Duration,
}

/// The knobs: the profiler's value flags that shape the workload or the pipeline. The unit test
/// `every_knob_is_a_flag_of_the_profiler` checks each against the profiler CLI's source.
const KNOBS: [(&str, Kind); 14] = [
    ("batch-size", Kind::Positive),
    ("channel-capacity", Kind::Positive),
    ("subscriber-queue", Kind::Positive),
    ("cache-capacity", Kind::Positive),
    ("subscribers", Kind::Positive),
    ("runtime-workers", Kind::Positive),
    ("symbols", Kind::Range(1, 10_000_000)),
    ("payload-bytes", Kind::Range(0, 1 << 20)),
    ("slow-subscribers", Kind::Count),
    ("seed", Kind::Count),
    ("zipf", Kind::NonNegative),
    ("malformed-rate", Kind::Probability),
    ("slow-subscriber-delay", Kind::Duration),
    ("subscriber-lag-threshold", Kind::Duration),
];
/// The pipeline's stages, for `workers.STAGE`.
const STAGES: [&str; 4] = ["decode", "enrich", "aggregate", "fanout"];
/// Profiler flags that are not knobs, and why.
const NOT_KNOBS: [(&str, &str); 29] = [
    (
        "rate",
        "every point's fixed-rate phase runs at one rate; set it with this task's --rate",
    ),
    (
        "messages",
        "a run's length is the same for every point; give it after `--`",
    ),
    (
        "duration",
        "a run's length is the same for every point; give it after `--`",
    ),
    (
        "warmup",
        "a run's length is the same for every point; give it after `--`",
    ),
    (
        "quick",
        "a run's length is the same for every point; give it after `--`",
    ),
    ("phases", "this task runs both phases of every point"),
    ("out", "this task sets it for every run"),
    ("probes", "a measurement setting, not a knob; give it after `--`"),
    ("cpu-hz", "a measurement setting, not a knob; give it after `--`"),
    (
        "heap-interval",
        "a measurement setting, not a knob; give it after `--`",
    ),
    (
        "slow-poll",
        "a measurement setting, not a knob; give it after `--`",
    ),
    (
        "heap-profile",
        "a measurement setting, not a knob; give it after `--`",
    ),
    ("repeat", "this task's --repeat sets the repeats"),
    ("overhead", "a different measurement; not a knob"),
    (
        "capacity",
        "a different measurement (cargo xtask capacity); not a knob",
    ),
    (
        "capacity-step",
        "a different measurement (cargo xtask capacity); not a knob",
    ),
    ("limit", "a different measurement; not a knob"),
    (
        "plain-loop",
        "a different measurement (cargo xtask instructions); not a knob",
    ),
    (
        "workers",
        "give one stage's workers as workers.STAGE (stages: decode, enrich, aggregate, fanout)",
    ),
    ("chaos", "a different measurement (cargo xtask chaos); not a knob"),
    (
        "chaos-seed",
        "a different measurement (cargo xtask chaos); not a knob",
    ),
    (
        "chaos-rate",
        "a different measurement (cargo xtask chaos); not a knob",
    ),
    ("no-progress", "not a knob"),
    ("serve-metrics", "not a knob"),
    ("allow-debug", "not a knob"),
    (
        "reference-store",
        "where the reference data lives, the same for every point; give it after `--`",
    ),
    (
        "reference-store-fallback",
        "what to do without the database, not a knob; give it after `--`",
    ),
    (
        "seed-reference-store",
        "seeds the database and runs nothing; use cargo xtask db seed",
    ),
    (
        "db-pool-size",
        "a database setting: every point needs the same server; give it after `--` and compare runs with cargo xtask compare",
    ),
];

/// The index in [`SWEEP_METRICS`] of the throughput, which the calibration and the progress
/// line read.
const THROUGHPUT: usize = 0;
/// The index of the p99, which the progress line shows.
const P99: usize = 2;

#[derive(Debug, Args)]
pub(crate) struct Options {
    /// A knob and its values, NAME=V1,V2,… (e.g. batch-size=1,10,32 or workers.decode=1,2);
    /// repeat it for a grid of every combination (at most 64 points)
    #[arg(long = "param", value_name = "NAME=VALUES")]
    params: Vec<String>,
    /// Runs per point, interleaved: each repeat goes through every point
    #[arg(long, value_name = "R", default_value_t = 3)]
    repeat: u32,
    /// The fixed-rate phase's rate for every point, msg/s [default: half the lowest saturation
    /// throughput of a first, saturation-only pass over the points]
    #[arg(long, value_name = "MSG_PER_S")]
    rate: Option<f64>,
    /// Where results.json, the report on it and the runs go
    #[arg(long, value_name = "DIR", default_value = "target/perfgate/sweep")]
    out: PathBuf,
    /// Profiler arguments for every run, after `--` (e.g. `-- --messages 500000`); each replaces
    /// the default of its name (--quick, --probes none, --no-progress)
    #[arg(last = true, value_name = "PROFILER_ARGS")]
    profiler_args: Vec<String>,
}

/// One point of the grid: a value for every knob, in the order of the `--param`s.
#[derive(Debug, Clone, PartialEq)]
struct Point {
    knobs: Vec<(String, String)>,
}

impl Point {
    /// `batch-size=64 workers.decode=2`.
    fn label(&self) -> String {
        self.knobs
            .iter()
            .map(|(knob, value)| format!("{knob}={value}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The profiler arguments that set this point's knobs; the `workers.STAGE` knobs go into one
    /// `--workers` list.
    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let mut workers = Vec::new();
        for (knob, value) in &self.knobs {
            match knob.strip_prefix("workers.") {
                Some(stage) => workers.push(format!("{stage}={value}")),
                None => args.extend([format!("--{knob}"), value.clone()]),
            }
        }
        if !workers.is_empty() {
            args.extend(["--workers".to_owned(), workers.join(",")]);
        }
        args
    }
}

/// The checked options: what to run.
#[derive(Debug, PartialEq)]
struct Plan {
    params: Vec<SweepParam>,
    points: Vec<Point>,
    repeat: usize,
    rate: Option<f64>,
    /// Every run's arguments but the point's knobs, `--phases`, `--rate` and `--out`.
    profiler_args: Vec<String>,
}

/// Checks the options; the error is one line.
fn plan(options: &Options) -> Result<Plan, String> {
    if options.params.is_empty() {
        return Err("give at least one --param NAME=V1,V2,… (e.g. --param batch-size=1,10,32)".to_owned());
    }
    let mut params: Vec<SweepParam> = Vec::new();
    for text in &options.params {
        let param = parse_param(text)?;
        if params.iter().any(|p| p.knob == param.knob) {
            return Err(format!(
                "--param {}: given twice; list all its values in one",
                param.knob
            ));
        }
        params.push(param);
    }
    let count = params.iter().map(|p| p.values.len()).product::<usize>();
    if count > MAX_POINTS {
        let sizes: Vec<String> = params.iter().map(|p| p.values.len().to_string()).collect();
        return Err(format!(
            "--param: a grid of {count} points ({}) is more than {MAX_POINTS}; list fewer values",
            sizes.join(" × ")
        ));
    }
    if !(1..=MAX_REPEAT).contains(&options.repeat) {
        return Err(format!("--repeat {}: give 1 to {MAX_REPEAT}", options.repeat));
    }
    if let Some(rate) = options.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        return Err(format!("--rate {rate}: give a rate above 0 msg/s"));
    }
    let swept: BTreeSet<String> = params
        .iter()
        .map(|p| {
            let flag = p.knob.split('.').next().unwrap_or(&p.knob);
            format!("--{flag}")
        })
        .collect();
    for arg in &options.profiler_args {
        let name = arg.split('=').next().unwrap_or(arg);
        if RESERVED.contains(&name) {
            return Err(format!(
                "{name} after `--`: this task sets it for every run{}",
                if name == "--rate" {
                    " (use --rate before `--`)"
                } else {
                    ""
                }
            ));
        }
        if swept.contains(name) {
            return Err(format!("{name} after `--`: it is a knob this sweep varies"));
        }
        refuse_help(name)?;
    }
    let profiler_args = with_defaults(&options.profiler_args, &DEFAULT_PROFILER_ARGS);
    Ok(Plan {
        points: grid(&params)
            .into_iter()
            .map(|knobs| Point {
                knobs: knobs.into_iter().collect(),
            })
            .collect(),
        params,
        repeat: options.repeat as usize,
        rate: options.rate,
        profiler_args,
    })
}

/// `NAME=V1,V2,…`, checked.
fn parse_param(text: &str) -> Result<SweepParam, String> {
    let Some((name, list)) = text.split_once('=') else {
        return Err(format!(
            "--param {text:?}: give NAME=V1,V2,… (e.g. batch-size=1,10,32)"
        ));
    };
    let name = name.trim();
    let kind = knob_kind(name)?;
    let mut values: Vec<String> = Vec::new();
    for item in list.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!(
                "--param {name}={list}: an empty value; give values like {name}=1,2,4"
            ));
        }
        let value = check_value(kind, item).map_err(|why| format!("--param {name}: {item:?} {why}"))?;
        if values.contains(&value) {
            return Err(format!("--param {name}: {value} is listed twice"));
        }
        values.push(value);
    }
    Ok(SweepParam {
        knob: name.to_owned(),
        values,
    })
}

/// The kind of the knob `name`, or why it is not one.
fn knob_kind(name: &str) -> Result<Kind, String> {
    if let Some(stage) = name.strip_prefix("workers.") {
        return if STAGES.contains(&stage) {
            Ok(Kind::Positive)
        } else {
            Err(format!(
                "--param {name}: unknown stage {stage:?} (stages: {})",
                STAGES.join(", ")
            ))
        };
    }
    if let Some((_, kind)) = KNOBS.iter().find(|(knob, _)| *knob == name) {
        return Ok(*kind);
    }
    if let Some((_, why)) = NOT_KNOBS.iter().find(|(flag, _)| *flag == name) {
        return Err(format!("--param {name}: not a knob: {why}"));
    }
    let known: Vec<&str> = KNOBS.iter().map(|(knob, _)| *knob).collect();
    Err(format!(
        "--param {name}: unknown knob (knobs: {}, workers.STAGE)",
        known.join(", ")
    ))
}

/// The canonical form of a value of `kind`, or why it is not one (a phrase after the value).
/// Canonical values hold only digits, letters and `.`, so they are safe in Markdown and paths.
fn check_value(kind: Kind, text: &str) -> Result<String, String> {
    let whole = |text: &str| -> Result<u64, String> {
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err("is not a whole number".to_owned());
        }
        text.parse::<u64>()
            .map_err(|_| "is not a whole number".to_owned())
    };
    let number = |text: &str| -> Result<f64, String> {
        if !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err("is not a number".to_owned());
        }
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| "is not a number".to_owned())
    };
    match kind {
        Kind::Positive => match whole(text)? {
            0 => Err("must be at least 1".to_owned()),
            n => Ok(n.to_string()),
        },
        Kind::Count => whole(text).map(|n| n.to_string()),
        Kind::Range(low, high) => match whole(text)? {
            n if (low..=high).contains(&n) => Ok(n.to_string()),
            _ => Err(format!("is out of range: give {low} to {high}")),
        },
        Kind::NonNegative => number(text).map(|v| v.to_string()),
        Kind::Probability => match number(text)? {
            v if v <= 1.0 => Ok(v.to_string()),
            _ => Err("must be between 0 and 1".to_owned()),
        },
        Kind::Duration => {
            let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
            let (digits, unit) = text.split_at(split);
            let n = whole(digits).map_err(|_| "is not a duration like 500us, 1ms or 2s".to_owned())?;
            if !["ns", "us", "ms", "s"].contains(&unit) {
                return Err("is not a duration like 500us, 1ms or 2s".to_owned());
            }
            if n == 0 {
                return Err("must be more than 0".to_owned());
            }
            Ok(format!("{n}{unit}"))
        }
    }
}

// ---- Running ---------------------------------------------------------------------------------

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    let plan = match plan(options) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("error: cargo xtask sweep: {message}");
            return Ok(ExitCode::from(2));
        }
    };
    if let Err(error) = perfgate_output::check_folder_writable(&options.out) {
        eprintln!(
            "error: cargo xtask sweep: {}: cannot write there: {}",
            options.out.display(),
            error.source
        );
        return Ok(ExitCode::from(2));
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let command = std::iter::once("cargo xtask".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let binary = build_profiler()?;
    let runs_dir = options.out.join("runs");
    let _ = std::fs::remove_dir_all(&runs_dir);
    std::fs::create_dir_all(&runs_dir).with_context(|| format!("creating {}", runs_dir.display()))?;

    let load_start = load_average();
    let indices: Vec<usize> = (0..plan.points.len()).collect();
    let order = interleave(&indices, plan.repeat);
    let calibrating = plan.rate.is_none();
    let total = order.len() + if calibrating { plan.points.len() } else { 0 };
    eprintln!(
        "sweep: {} points × {} repeats, interleaved{} on {cores} cores; Ctrl-C stops after the current run",
        plan.points.len(),
        plan.repeat,
        if calibrating {
            ", after a saturation-only pass that sets the fixed rate"
        } else {
            ""
        }
    );
    let started = Instant::now();
    let mut done = 0;
    let mut stopped: Option<String> = None;
    catch_interrupt(true);

    // The calibration pass: one saturation-only run per point.
    let mut calibration: Vec<(usize, f64)> = Vec::new();
    if calibrating {
        for (index, point) in plan.points.iter().enumerate() {
            if interrupted() {
                break;
            }
            let dir = runs_dir.join(format!("calibration-p{:02}", index + 1));
            let mut args = plan.profiler_args.clone();
            args.extend(point.args());
            args.extend(["--phases".to_owned(), "saturation".to_owned()]);
            let measured = run_profiler(&binary, &dir, &args).and_then(|run| {
                let throughput = run
                    .metrics
                    .get(SWEEP_METRICS[THROUGHPUT].0)
                    .copied()
                    .filter(|t| t.is_finite() && *t > 0.0)
                    .context("the run measured no saturation throughput")?;
                Ok(throughput)
            });
            done += 1;
            match measured {
                Ok(throughput) => {
                    calibration.push((index, throughput));
                    let detail = format!("(calibration, {}), {} msg/s", point.label(), rate(throughput));
                    eprintln!(
                        "{}",
                        progress_line("sweep", done, total, started.elapsed(), &detail)
                    );
                }
                Err(error) => {
                    eprintln!("error: sweep: calibration of {}: {error:#}", point.label());
                    stopped = Some(format!("{error:#}"));
                    break;
                }
            }
        }
    }
    let fixed_rate = plan.rate.or_else(|| {
        (calibration.len() == plan.points.len())
            .then(|| calibration.iter().map(|(_, t)| *t).fold(f64::INFINITY, f64::min) * 0.5)
            .map(f64::round)
    });
    if calibrating && let Some(rate_) = fixed_rate {
        eprintln!(
            "sweep: every fixed-rate phase at {} msg/s (half the lowest saturation)",
            rate(rate_)
        );
    }

    let mut runs: Vec<SweepMeasurement> = Vec::new();
    if let (Some(fixed_rate), None) = (fixed_rate, &stopped) {
        for (position, &(point, repeat)) in order.iter().enumerate() {
            if interrupted() {
                break;
            }
            let name = format!("p{:02}-r{}", point + 1, repeat + 1);
            let dir = runs_dir.join(&name);
            let mut args = plan.profiler_args.clone();
            args.extend(plan.points[point].args());
            args.extend(["--rate".to_owned(), format!("{fixed_rate}")]);
            let run_started = Instant::now();
            match run_profiler(&binary, &dir, &args) {
                Ok(data) => {
                    let figures =
                        SWEEP_METRICS.map(|(id, ..)| data.metrics.get(id).copied().unwrap_or(f64::NAN));
                    runs.push(SweepMeasurement {
                        point,
                        repeat,
                        position,
                        seconds: run_started.elapsed().as_secs_f64(),
                        results: Some(format!("runs/{name}/results.json")),
                        figures,
                    });
                }
                Err(error) => {
                    eprintln!(
                        "error: sweep: {} (repeat {}): {error:#}",
                        plan.points[point].label(),
                        repeat + 1
                    );
                    stopped = Some(format!("{error:#}"));
                    break;
                }
            }
            done += 1;
            let last = &runs[runs.len() - 1].figures;
            let detail = format!(
                "({}, repeat {}), {} msg/s, p99 {} ms",
                plan.points[point].label(),
                repeat + 1,
                rate(last[THROUGHPUT]),
                significant(last[P99])
            );
            eprintln!(
                "{}",
                progress_line("sweep", done, total, started.elapsed(), &detail)
            );
        }
    }
    catch_interrupt(false);
    if stopped.is_none() && interrupted() {
        eprintln!(
            "sweep: interrupted: {} of {} runs measured; analysing those",
            runs.len(),
            order.len()
        );
        stopped = Some("interrupted".to_owned());
    }
    let elapsed = started.elapsed();
    let load_end = load_average();
    let rate_source = match (plan.rate, fixed_rate) {
        (Some(_), _) => "given (--rate)",
        (None, Some(_)) => "half the lowest saturation throughput of a calibration pass",
        (None, None) => "none: the calibration pass did not finish",
    };
    let failed = stopped.as_deref().is_some_and(|reason| reason != "interrupted");
    let section = analyse(
        SweepSettings {
            params: plan.params.clone(),
            repeat: plan.repeat,
            fixed_rate_per_second: fixed_rate,
            rate_source: rate_source.to_owned(),
            confidence: CONFIDENCE,
            stopped,
            duration_seconds: elapsed.as_secs_f64(),
        },
        &runs,
    );

    let load = |l: Option<[f64; 3]>| l.map_or("?".to_owned(), |l| format!("{:.2}", l[0]));
    println!(
        "sweep: {} runs of {} points in {} on {cores} logical cores (load average {} at the start, {} at the end); fixed rate {} ({rate_source})",
        runs.len(),
        plan.points.len(),
        duration(elapsed),
        load(load_start),
        load(load_end),
        fixed_rate.map_or("—".to_owned(), |r| format!("{} msg/s", rate(r))),
    );
    print_table(&section);
    println!("{}", section.recommendation.evidence);
    for warning in &section.warnings {
        println!("warning: {warning}");
    }
    let Some(leader) = leading_run(&section) else {
        eprintln!("error: sweep: no run was measured, so there is no results file to write");
        return Ok(ExitCode::FAILURE);
    };
    let results_path = options.out.join("results.json");
    let text = results_file(&options.out, leader, &section, &command)?;
    perfgate_output::write_atomic(&results_path, text.as_bytes())?;
    println!("sweep: wrote {}", results_path.display());
    // The report on it, as `cargo xtask report` makes it; its exit code 1 is the thresholds'
    // verdict on the leading run, not a failure of the sweep.
    let report_path = options.out.join("report.md");
    let report = perfgate_report::cli::main_with(
        [
            "cargo xtask report".into(),
            "--results".into(),
            results_path.clone().into_os_string(),
            "--out".into(),
            report_path.clone().into_os_string(),
            "--quiet".into(),
        ],
        "cargo xtask report",
    );
    if report == ExitCode::from(2) {
        anyhow::bail!("the report on {} failed (above)", results_path.display());
    }
    println!(
        "sweep: wrote {} and {} (cargo xtask report --results {} makes them again)",
        report_path.display(),
        report_path.with_extension("html").display(),
        results_path.display()
    );
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The run the results file's other sections come from: the first run of the leading point
/// (the best, or the first of the tied, or the highest median throughput); `None` when nothing
/// was measured.
fn leading_run(section: &SweepSection) -> Option<&str> {
    let recommendation = &section.recommendation;
    let by_throughput = section
        .points
        .iter()
        .enumerate()
        .filter_map(|(index, point)| Some((index, point.figure(THROUGHPUT)?.median)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(index, _)| index);
    let leader = recommendation
        .best
        .or_else(|| recommendation.tied.first().copied())
        .or(by_throughput)?;
    section.points[leader].runs.first()?.results.as_deref()
}

/// The sweep's results file: the leading run's results (`leader`, relative to `out`) with the
/// `sweep` section added and a warning that says which run the rest is; read back and validated
/// before it is written, so that the file is one every reader takes.
fn results_file(
    out: &std::path::Path,
    leader: &str,
    section: &SweepSection,
    command: &str,
) -> anyhow::Result<String> {
    let path = out.join(leader);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut document: Value =
        serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    let object = document
        .as_object_mut()
        .with_context(|| format!("{}: not a JSON object", path.display()))?;
    object.insert("sweep".to_owned(), serde_json::to_value(section)?);
    let label = section
        .points
        .iter()
        .find(|point| point.runs.first().and_then(|run| run.results.as_deref()) == Some(leader))
        .map_or_else(String::new, |point| point.label());
    let note = Value::String(format!(
        "This is a sweep's results file ({command}): every point is in the Sweep section; the other sections are the first run of the leading point, {label}."
    ));
    match object.get_mut("warnings").and_then(Value::as_array_mut) {
        Some(warnings) => warnings.insert(0, note),
        None => {
            object.insert("warnings".to_owned(), Value::Array(vec![note]));
        }
    }
    let text = serde_json::to_string_pretty(&document)?;
    perfgate_results::read::parse(&text)
        .map_err(|error| anyhow::anyhow!("the sweep's results file does not read back: {error}"))?;
    Ok(text)
}

/// The console table: a row per point, each figure's median and interval.
fn print_table(section: &SweepSection) {
    let labels: Vec<String> = section.points.iter().map(|point| point.label()).collect();
    let width = labels.iter().map(String::len).max().unwrap_or(5).max(5);
    println!(
        "\n  {:<width$}  {:>4}  {:>26}  {:>22}  {:>22}  {:>22}",
        "point", "runs", "msg/s [interval]", "p50 ms", "p99 ms", "CPU ns/msg"
    );
    for (label, point) in labels.iter().zip(&section.points) {
        let cell = |metric: usize| {
            point.figure(metric).map_or("—".to_owned(), |figure| {
                format!(
                    "{} [{}, {}]",
                    short(metric, figure.median),
                    short(metric, figure.low),
                    short(metric, figure.high)
                )
            })
        };
        println!(
            "  {label:<width$}  {:>4}  {:>26}  {:>22}  {:>22}  {:>22}",
            point.runs.len(),
            cell(0),
            cell(1),
            cell(2),
            cell(3)
        );
    }
    println!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(args: &[&str]) -> Options {
        crate::points::parse_options("sweep", args)
    }

    fn error(args: &[&str]) -> String {
        let message = plan(&options(args)).expect_err("the plan should be refused");
        assert!(!message.contains('\n'), "not one line: {message}");
        message
    }

    #[test]
    fn bad_params_are_refused_in_one_line_before_anything_runs() {
        for (args, says) in [
            (&[][..], "give at least one --param"),
            (&["--param", "batch-size"], "give NAME=V1,V2"),
            (
                &["--param", "batch-sise=1,2"],
                "batch-sise: unknown knob (knobs: batch-size,",
            ),
            (
                &["--param", "rate=1,2"],
                "rate: not a knob: every point's fixed-rate phase",
            ),
            (
                &["--param", "workers=1,2"],
                "give one stage's workers as workers.STAGE",
            ),
            (&["--param", "workers.parse=1,2"], "unknown stage \"parse\""),
            (&["--param", "batch-size=1,,2"], "an empty value"),
            (&["--param", "batch-size="], "an empty value"),
            (&["--param", "batch-size=0,1"], "\"0\" must be at least 1"),
            (&["--param", "batch-size=1,ten"], "\"ten\" is not a whole number"),
            (&["--param", "batch-size=-1"], "\"-1\" is not a whole number"),
            (&["--param", "batch-size=1.5"], "\"1.5\" is not a whole number"),
            (&["--param", "batch-size=4,004"], "4 is listed twice"),
            (
                &["--param", "payload-bytes=0,2000000"],
                "out of range: give 0 to 1048576",
            ),
            (&["--param", "malformed-rate=0.5,2"], "must be between 0 and 1"),
            (&["--param", "zipf=1e3"], "is not a number"),
            (&["--param", "slow-subscriber-delay=1ms,1h"], "is not a duration"),
            (&["--param", "slow-subscriber-delay=0ms"], "must be more than 0"),
            (
                &["--param", "batch-size=1", "--param", "batch-size=2"],
                "batch-size: given twice",
            ),
            (&["--param", "batch-size=1", "--repeat", "0"], "--repeat 0"),
            (&["--param", "batch-size=1", "--rate", "0"], "--rate 0"),
            (
                &["--param", "batch-size=1", "--", "--out", "x"],
                "--out after `--`",
            ),
            (
                &["--param", "batch-size=1", "--", "--rate=5"],
                "use --rate before",
            ),
            (
                &["--param", "batch-size=1", "--", "--batch-size", "4"],
                "a knob this sweep varies",
            ),
            (
                &["--param", "workers.decode=1", "--", "--workers", "enrich=2"],
                "--workers after `--`: it is a knob",
            ),
            (&["--param", "batch-size=1", "--", "--help"], "would run no point"),
        ] {
            let message = error(args);
            assert!(message.contains(says), "{args:?}: {message}");
        }
    }

    #[test]
    fn a_grid_over_the_cap_is_refused_and_one_at_the_cap_is_not() {
        let eight = "1,2,3,4,5,6,7,8";
        let nine = "1,2,3,4,5,6,7,8,9";
        assert!(
            plan(&options(&[
                "--param",
                &format!("batch-size={eight}"),
                "--param",
                &format!("channel-capacity={eight}")
            ]))
            .is_ok()
        );
        let message = error(&[
            "--param",
            &format!("batch-size={eight}"),
            "--param",
            &format!("channel-capacity={nine}"),
        ]);
        assert!(
            message.contains("a grid of 72 points (8 × 9) is more than 64"),
            "{message}"
        );
    }

    #[test]
    fn the_grid_varies_the_last_param_fastest_and_workers_share_one_flag() {
        let plan = plan(&options(&[
            "--param",
            "batch-size=1, 010",
            "--param",
            "workers.decode=1,2",
            "--param",
            "workers.enrich=3",
            "--repeat",
            "2",
        ]))
        .unwrap();
        let labels: Vec<String> = plan.points.iter().map(Point::label).collect();
        assert_eq!(
            labels,
            [
                "batch-size=1 workers.decode=1 workers.enrich=3",
                "batch-size=1 workers.decode=2 workers.enrich=3",
                "batch-size=10 workers.decode=1 workers.enrich=3",
                "batch-size=10 workers.decode=2 workers.enrich=3",
            ]
        );
        assert_eq!(
            plan.points[1].args(),
            ["--batch-size", "1", "--workers", "decode=2,enrich=3"]
        );
        assert_eq!(plan.repeat, 2);
        assert_eq!(
            plan.profiler_args,
            ["--quick", "--probes", "none", "--no-progress"]
        );
        // Values of every kind come out canonical.
        let plan2 = super::plan(&options(&[
            "--param",
            "zipf=0.50,1",
            "--param",
            "slow-subscriber-delay=500us,2s",
            "--",
            "--probes=cpu",
        ]))
        .unwrap();
        assert_eq!(plan2.params[0].values, ["0.5", "1"]);
        assert_eq!(plan2.params[1].values, ["500us", "2s"]);
        assert_eq!(plan2.profiler_args, ["--probes=cpu", "--quick", "--no-progress"]);
    }

    #[test]
    fn every_point_and_repeat_runs_once_in_a_rotating_order() {
        let points: Vec<usize> = (0..5).collect();
        let order = interleave(&points, 3);
        assert_eq!(order.len(), 15);
        let mut seen = order.clone();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 15);
        let firsts: Vec<usize> = order.chunks(5).map(|pass| pass[0].0).collect();
        assert_eq!(firsts, [0, 4, 1], "forward, backward, then one point on");
    }

    /// Every knob is a value flag of the profiler, and the stages are the workload's: read from
    /// the profiler CLI's and the workload's source, so a renamed flag fails here rather than
    /// halfway through somebody's sweep.
    #[test]
    fn every_knob_is_a_flag_of_the_profiler() {
        let root = crate::cargo::workspace_root();
        let cli = std::fs::read_to_string(root.join("crates/profiler-cli/src/cli.rs")).unwrap();
        let lines: Vec<&str> = cli.lines().collect();
        let is_long_flag = |name: &str| {
            let field = format!("    {}: ", name.replace('-', "_"));
            lines.iter().enumerate().any(|(i, line)| {
                line.starts_with(&field)
                    && lines[..i]
                        .iter()
                        .rev()
                        .take_while(|l| l.trim_start().starts_with("#[") || l.trim_start().starts_with("///"))
                        .any(|l| l.contains("#[arg(long"))
            })
        };
        for (knob, _) in KNOBS {
            assert!(is_long_flag(knob), "--{knob} is not a flag of perfgate-profiler");
        }
        for (flag, _) in NOT_KNOBS {
            assert!(is_long_flag(flag), "--{flag} is not a flag of perfgate-profiler");
        }
        assert!(!is_long_flag("batch-sise"), "the check must be able to fail");
        let workload = std::fs::read_to_string(root.join("crates/profiler/src/market/settings.rs")).unwrap();
        let stages = format!("\"stages\": [{}]", STAGES.map(|s| format!("\"{s}\"")).join(", "));
        assert!(workload.contains(&stages), "the stages are no longer {stages}");
        // Every value flag of the profiler is either a knob or said not to be one.
        let mut unclassified = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let Some(field) = line
                .strip_prefix("    ")
                .and_then(|l| l.split_once(": "))
                .map(|(name, _)| name)
            else {
                continue;
            };
            let attributes = lines[..i]
                .iter()
                .rev()
                .take_while(|l| l.trim_start().starts_with("#[") || l.trim_start().starts_with("///"));
            if !attributes.clone().any(|l| l.contains("#[arg(long"))
                || attributes.clone().any(|l| l.contains("hide = true"))
            {
                continue;
            }
            let flag = field.replace('_', "-");
            if !KNOBS.iter().any(|(k, _)| *k == flag) && !NOT_KNOBS.iter().any(|(k, _)| *k == flag) {
                unclassified.push(flag);
            }
        }
        assert_eq!(
            unclassified,
            Vec::<String>::new(),
            "flags neither knobs nor refused"
        );
    }

    #[test]
    fn the_results_file_holds_every_point_and_reads_back() {
        let out = tempfile::tempdir().unwrap();
        let run_dir = out.path().join("runs/p02-r1");
        std::fs::create_dir_all(&run_dir).unwrap();
        let example = serde_json::to_string(&perfgate_results::Results::example()).unwrap();
        std::fs::write(run_dir.join("results.json"), example).unwrap();
        let plan = plan(&options(&["--param", "batch-size=1,64"])).unwrap();
        let measurement = |point: usize, repeat: usize, throughput: f64| SweepMeasurement {
            point,
            repeat,
            position: 0,
            seconds: 1.0,
            results: Some(format!("runs/p{:02}-r{}/results.json", point + 1, repeat + 1)),
            figures: [throughput, 0.1, 0.4, 900.0],
        };
        let section = analyse(
            SweepSettings {
                params: plan.params.clone(),
                repeat: 2,
                fixed_rate_per_second: Some(10_000.0),
                rate_source: "given (--rate)".to_owned(),
                confidence: CONFIDENCE,
                stopped: None,
                duration_seconds: 9.0,
            },
            &[
                measurement(0, 0, 100e3),
                measurement(1, 0, 300e3),
                measurement(0, 1, 104e3),
                measurement(1, 1, 310e3),
            ],
        );
        assert_eq!(section.recommendation.best, Some(1));
        let leader = leading_run(&section).unwrap();
        assert_eq!(leader, "runs/p02-r1/results.json");
        let text = results_file(
            out.path(),
            leader,
            &section,
            "cargo xtask sweep --param batch-size=1,64",
        )
        .unwrap();
        let read = perfgate_results::read::parse(&text).unwrap();
        let sweep = read.sweep.expect("the sweep section");
        // Equal but for the last digit a float may lose in JSON's round trip.
        assert_eq!(sweep.recommendation, section.recommendation);
        assert_eq!(sweep.points.len(), 2);
        assert_eq!(sweep.points[1].runs.len(), 2);
        let median = sweep.points[1].figure(0).unwrap().median;
        assert!((median - 305e3).abs() < 1e-6, "{median}");
        assert_eq!(sweep.points[1].knobs["batch-size"], "64");
        assert!(
            read.warnings[0].contains("the first run of the leading point, batch-size=64"),
            "{:?}",
            read.warnings
        );
    }
}

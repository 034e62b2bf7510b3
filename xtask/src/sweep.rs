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
//! Writes `target/perfgate/sweep/sweep.json` (atomically; `--out` moves it) and `sweep.md`, each
//! run's results under `runs/`. sweep.json: `schema` ("perfgate-sweep/1"), `command`, `seconds`,
//! `stopped` (`null`, `"interrupted"` or the failure), `machine` (`logical_cores`, `cpu_model`,
//! `hostname`, `load_average_start`/`_end`), `settings` (`params` [{`knob`, `values`}], `repeat`,
//! `rate`, `rate_source`, `calibration` [{`point`, `throughput_msg_per_s`}], `profiler_args`,
//! `confidence`, `rate_warnings`: points whose fixed rate was above 60 % of their saturation), `metrics` (ids and whether higher is better), `points` (`index`, `knobs`
//! {name: value}, `args`, `runs` [{`repeat` from 1, `position` in the run order, `seconds`,
//! `results`, `figures` {metric id: value or null}}], `summary` {metric id: null or {`runs`,
//! `median`, `low`, `high`, `interval` ("order statistics", "min–max" or "single run"),
//! `coverage`, `min`, `max`, `spread_percent`}}), `recommendation` (`metric`, `verdict` ("best",
//! "no clear winner" or "undecided"), `best`, `tied` (point indices), `evidence`).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use perfgate_report::RunData;
use perfgate_stats::{median, median_interval};
use serde_json::{Value, json};

use crate::cargo::build_profiler;
use crate::points::{
    catch_interrupt, duration, interleave, interrupted, load_average, progress_line, rate, run_profiler,
    significant,
};

/// The most points a grid may have: 64 points × 3 repeats of quick runs is already about half an
/// hour on a 2-core machine, and a larger grid is more often a typo than a plan.
const MAX_POINTS: usize = 64;
/// The most repeats.
const MAX_REPEAT: u32 = 50;
/// Confidence of the intervals asked of `median_interval`.
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
const NOT_KNOBS: [(&str, &str); 21] = [
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
        "workers",
        "give one stage's workers as workers.STAGE (stages: decode, enrich, aggregate, fanout)",
    ),
    ("no-progress", "not a knob"),
    ("serve-metrics", "not a knob"),
    ("allow-debug", "not a knob"),
];

/// The figures read from every run: id, label, unit, higher is better.
const METRICS: [(&str, &str, &str, bool); 4] = [
    (
        "cpu.messages_per_second",
        "Throughput at saturation",
        "msg/s",
        true,
    ),
    ("latency.p50_ms", "p50 latency at the fixed rate", "ms", false),
    ("latency.p99_ms", "p99 latency at the fixed rate", "ms", false),
    (
        "cpu.cpu_ns_per_message",
        "CPU time per message at saturation",
        "ns",
        false,
    ),
];
/// The index in [`METRICS`] of the figure the recommendation ranks by.
const THROUGHPUT: usize = 0;
/// The index of the latency figure the recommendation notes.
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
    /// Where sweep.json, sweep.md and the runs go
    #[arg(long, value_name = "DIR", default_value = "target/perfgate/sweep")]
    out: PathBuf,
    /// Profiler arguments for every run, after `--` (e.g. `-- --messages 500000`); each replaces
    /// the default of its name (--quick, --probes none, --no-progress)
    #[arg(last = true, value_name = "PROFILER_ARGS")]
    profiler_args: Vec<String>,
}

/// One `--param`: a knob and its checked values.
#[derive(Debug, Clone, PartialEq)]
struct Param {
    /// `batch-size` or `workers.decode`.
    knob: String,
    /// Canonical values (`010` is `10`), in the order given.
    values: Vec<String>,
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
    params: Vec<Param>,
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
    let mut params: Vec<Param> = Vec::new();
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
        if ["-h", "--help", "-V", "--version"].contains(&name) {
            return Err(format!(
                "{name} after `--` would run no point (the profiler's flags: cargo xtask bench --help)"
            ));
        }
    }
    let mut profiler_args = options.profiler_args.clone();
    for (flag, value) in DEFAULT_PROFILER_ARGS {
        let given = options
            .profiler_args
            .iter()
            .any(|arg| arg == flag || arg.starts_with(&format!("{flag}=")));
        if !given {
            profiler_args.push(flag.to_owned());
            profiler_args.extend(value.map(str::to_owned));
        }
    }
    Ok(Plan {
        points: grid(&params),
        params,
        repeat: options.repeat as usize,
        rate: options.rate,
        profiler_args,
    })
}

/// `NAME=V1,V2,…`, checked.
fn parse_param(text: &str) -> Result<Param, String> {
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
    Ok(Param {
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

/// Every combination of the values, the first `--param` varying slowest (as nested loops in the
/// order given).
fn grid(params: &[Param]) -> Vec<Point> {
    let mut points = vec![Point { knobs: Vec::new() }];
    for param in params {
        points = points
            .into_iter()
            .flat_map(|point| {
                param.values.iter().map(move |value| {
                    let mut knobs = point.knobs.clone();
                    knobs.push((param.knob.clone(), value.clone()));
                    Point { knobs }
                })
            })
            .collect();
    }
    points
}

// ---- Analysis --------------------------------------------------------------------------------

/// One measured run of a point.
#[derive(Debug, Clone)]
struct Run {
    point: usize,
    /// From 0.
    repeat: usize,
    /// Position in the run order, from 0.
    position: usize,
    seconds: f64,
    results: PathBuf,
    /// [`METRICS`]' values, NaN where the run has none.
    figures: [f64; 4],
}

/// How an interval was made.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Method {
    /// `median_interval`'s order statistics, at least [`CONFIDENCE`] coverage.
    OrderStatistics,
    /// Too few runs for a 95 % interval: the range of the runs, whose coverage of the median is
    /// `1 - 2^(1-n)` (75 % for 3 runs, 50 % for 2).
    MinMax,
    /// One run: no interval.
    Single,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::OrderStatistics => "order statistics",
            Method::MinMax => "min–max",
            Method::Single => "single run",
        }
    }
}

/// One point's figure over its runs.
#[derive(Debug, Clone, PartialEq)]
struct Stat {
    runs: usize,
    median: f64,
    low: f64,
    high: f64,
    method: Method,
    /// The interval's coverage of the true median; `None` for a single run.
    coverage: Option<f64>,
    min: f64,
    max: f64,
    /// `(max - min) / median`, in per cent.
    spread_percent: f64,
}

/// The figure over the finite `values`; `None` without any.
fn stat(values: &[f64]) -> Option<Stat> {
    let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let median = median(&values)?;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let n = values.len();
    let (low, high, method, coverage) = match median_interval(&values, CONFIDENCE) {
        Some((low, high, coverage)) => (low, high, Method::OrderStatistics, Some(coverage)),
        None if n >= 2 => (min, max, Method::MinMax, Some(1.0 - 0.5f64.powi(n as i32 - 1))),
        None => (min, max, Method::Single, None),
    };
    Some(Stat {
        runs: n,
        median,
        low,
        high,
        method,
        coverage,
        min,
        max,
        spread_percent: if median != 0.0 {
            (max - min) / median.abs() * 100.0
        } else {
            0.0
        },
    })
}

/// Per point (outer) and metric (inner), the figure over the point's runs.
fn summarise(points: usize, runs: &[Run]) -> Vec<[Option<Stat>; 4]> {
    (0..points)
        .map(|point| {
            std::array::from_fn(|metric| {
                let values: Vec<f64> = runs
                    .iter()
                    .filter(|run| run.point == point)
                    .map(|run| run.figures[metric])
                    .collect();
                stat(&values)
            })
        })
        .collect()
}

/// What the throughput says.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// `best`'s interval is above every other point's; `runner_up` has the next median.
    Best { best: usize, runner_up: usize },
    /// The best median's interval overlaps these points' (the best first).
    NoClearWinner { tied: Vec<usize> },
    /// No comparison can be made, and why.
    Undecided(String),
}

/// The point with the highest median throughput, if its interval is clear of every other
/// point's; else the points whose intervals overlap it.
fn recommend(stats: &[[Option<Stat>; 4]]) -> Verdict {
    let mut measured: Vec<(usize, &Stat)> = stats
        .iter()
        .enumerate()
        .filter_map(|(point, stats)| Some((point, stats[THROUGHPUT].as_ref()?)))
        .collect();
    if measured.len() < 2 {
        return Verdict::Undecided(format!(
            "{} point(s) measured: nothing to compare",
            measured.len()
        ));
    }
    if measured.iter().any(|(_, stat)| stat.runs < 2) {
        return Verdict::Undecided(
            "a point has a single run, so no interval: no winner can be claimed (use --repeat 2 or more)"
                .to_owned(),
        );
    }
    measured.sort_by(|a, b| b.1.median.total_cmp(&a.1.median));
    let (best, top) = measured[0];
    // The others' medians are at most the best's, so an interval overlaps the best's exactly
    // when its top reaches the best's bottom.
    let tied: Vec<usize> = measured[1..]
        .iter()
        .filter(|(_, stat)| stat.high >= top.low)
        .map(|(point, _)| *point)
        .collect();
    if tied.is_empty() {
        Verdict::Best {
            best,
            runner_up: measured[1].0,
        }
    } else {
        Verdict::NoClearWinner {
            tied: std::iter::once(best).chain(tied).collect(),
        }
    }
}

/// A figure with its unit: `412 k msg/s`, `0.123 ms`.
fn figure(metric: usize, value: f64) -> String {
    let (_, _, unit, _) = METRICS[metric];
    if metric == THROUGHPUT {
        format!("{} {unit}", rate(value))
    } else {
        format!("{} {unit}", significant(value))
    }
}

/// `412 k msg/s [400 k, 420 k]`.
fn with_interval(metric: usize, stat: &Stat) -> String {
    let bare = |v: f64| {
        if metric == THROUGHPUT {
            rate(v)
        } else {
            significant(v)
        }
    };
    format!(
        "{} [{}, {}]",
        figure(metric, stat.median),
        bare(stat.low),
        bare(stat.high)
    )
}

/// The recommendation with its evidence, one paragraph.
fn evidence(verdict: &Verdict, stats: &[[Option<Stat>; 4]], points: &[Point]) -> String {
    let throughput = |p: usize| {
        stats[p][THROUGHPUT]
            .as_ref()
            .map_or("—".to_owned(), |s| with_interval(THROUGHPUT, s))
    };
    let mut text = match verdict {
        Verdict::Undecided(why) => return format!("No recommendation: {why}."),
        Verdict::Best { best, runner_up } => format!(
            "Best: {} — {} against the runner-up {}'s {}; the intervals do not overlap.",
            points[*best].label(),
            throughput(*best),
            points[*runner_up].label(),
            throughput(*runner_up)
        ),
        Verdict::NoClearWinner { tied } => format!(
            "No clear winner: the throughput intervals of {} overlap ({}).",
            tied.iter()
                .map(|&p| points[p].label())
                .collect::<Vec<_>>()
                .join(", "),
            tied.iter()
                .map(|&p| format!("{} {}", points[p].label(), throughput(p)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    let leader = match verdict {
        Verdict::Best { best, .. } => *best,
        Verdict::NoClearWinner { tied } => tied[0],
        Verdict::Undecided(_) => unreachable!("returned above"),
    };
    // The points that are clearly behind: their whole interval below the leader's lower bound,
    // so the reader knows which values to rule out even when the top is a tie.
    if let Some(lead) = stats[leader][THROUGHPUT].as_ref() {
        let behind: Vec<String> = stats
            .iter()
            .enumerate()
            .filter(|&(p, _)| p != leader)
            .filter_map(|(p, s)| Some((p, s[THROUGHPUT].as_ref()?)))
            .filter(|(_, stat)| stat.runs > 1 && stat.high < lead.low)
            .map(|(p, _)| points[p].label())
            .collect();
        if !behind.is_empty() {
            let _ = write!(
                text,
                " Clearly slower than {} (whole interval below its): {}.",
                points[leader].label(),
                behind.join(", ")
            );
        }
    }
    // Latency: the best by throughput need not be the best at the fixed rate (a larger batch
    // raises throughput and can raise latency too), so say where it stands.
    let lowest_p99 = stats
        .iter()
        .enumerate()
        .filter_map(|(p, s)| Some((p, s[P99].as_ref()?)))
        .min_by(|a, b| a.1.median.total_cmp(&b.1.median));
    if let (Some(own), Some((lowest, lowest_stat))) = (stats[leader][P99].as_ref(), lowest_p99) {
        if lowest == leader {
            let _ = write!(
                text,
                " {}'s p99 at the fixed rate, {}, is also the lowest.",
                points[leader].label(),
                with_interval(P99, own)
            );
        } else {
            let _ = write!(
                text,
                " Latency: {}'s p99 at the fixed rate is {}; the lowest p99 is {}'s {}.",
                points[leader].label(),
                with_interval(P99, own),
                points[lowest].label(),
                with_interval(P99, lowest_stat)
            );
        }
    }
    if let Some(stat) = stats[leader][THROUGHPUT].as_ref()
        && stat.method == Method::MinMax
    {
        let _ = write!(
            text,
            " With {} runs a point's interval is its min–max, which holds the true median with \
             only {:.0} % confidence, not {:.0} %: more repeats give a firmer answer.",
            stat.runs,
            stat.coverage.unwrap_or(0.0) * 100.0,
            CONFIDENCE * 100.0
        );
    }
    text
}

/// The share of a point's median saturation throughput above which its fixed-rate latency is
/// flagged: the rate aims at half the slowest point's, but it comes from one calibration run
/// each, and a point measured slower later runs closer to its limit, where queueing inflates the
/// tail.
const LOADED: f64 = 0.6;

/// Points whose fixed-rate phase ran above [`LOADED`] of their median saturation throughput.
fn load_notes(fixed_rate: Option<f64>, stats: &[[Option<Stat>; 4]], points: &[Point]) -> Vec<String> {
    let Some(fixed_rate) = fixed_rate else {
        return Vec::new();
    };
    points
        .iter()
        .zip(stats)
        .filter_map(|(point, stats)| {
            let share = fixed_rate / stats[THROUGHPUT].as_ref()?.median;
            (share > LOADED).then(|| {
                format!(
                    "{}: the fixed rate is {:.0} % of its median saturation throughput (above \
                     {:.0} %), so its latency includes queueing near its limit.",
                    point.label(),
                    share * 100.0,
                    LOADED * 100.0
                )
            })
        })
        .collect()
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
    let mut first_run: Option<RunData> = None;
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
                    .get(METRICS[THROUGHPUT].0)
                    .copied()
                    .filter(|t| t.is_finite() && *t > 0.0)
                    .context("the run measured no saturation throughput")?;
                first_run.get_or_insert(run);
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

    let mut runs: Vec<Run> = Vec::new();
    if let (Some(fixed_rate), None) = (fixed_rate, &stopped) {
        for (position, &(point, repeat)) in order.iter().enumerate() {
            if interrupted() {
                break;
            }
            let dir = runs_dir.join(format!("p{:02}-r{}", point + 1, repeat + 1));
            let mut args = plan.profiler_args.clone();
            args.extend(plan.points[point].args());
            args.extend(["--rate".to_owned(), format!("{fixed_rate}")]);
            let run_started = Instant::now();
            match run_profiler(&binary, &dir, &args) {
                Ok(data) => {
                    let figures = METRICS.map(|(id, ..)| data.metrics.get(id).copied().unwrap_or(f64::NAN));
                    first_run.get_or_insert(data);
                    runs.push(Run {
                        point,
                        repeat,
                        position,
                        seconds: run_started.elapsed().as_secs_f64(),
                        results: dir.join("results.json"),
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
    let stats = summarise(plan.points.len(), &runs);
    let verdict = recommend(&stats);
    let evidence = evidence(&verdict, &stats, &plan.points);
    let notes = load_notes(fixed_rate, &stats, &plan.points);
    let rate_source = match (plan.rate, fixed_rate) {
        (Some(_), _) => "given (--rate)",
        (None, Some(_)) => "half the lowest saturation throughput of the calibration pass",
        (None, None) => "none: the calibration pass did not finish",
    };

    let load = |l: Option<[f64; 3]>| l.map_or("?".to_owned(), |l| format!("{:.2}", l[0]));
    let header = format!(
        "{} runs of {} points in {} on {cores} logical cores (load average {} at the start, {} at the end); fixed rate {} ({rate_source})",
        runs.len(),
        plan.points.len(),
        duration(elapsed),
        load(load_start),
        load(load_end),
        fixed_rate.map_or("—".to_owned(), |r| format!("{} msg/s", rate(r))),
    );
    println!("sweep: {header}");
    print_tables(&stats, &plan.points);
    println!("{evidence}");
    for note in &notes {
        println!("warning: {note}");
    }

    let environment = first_run.as_ref().and_then(|run| run.environment.as_ref());
    let document = json!({
        "schema": "perfgate-sweep/1",
        "command": command,
        "seconds": elapsed.as_secs_f64(),
        "stopped": stopped,
        "machine": {
            "logical_cores": cores,
            "cpu_model": environment.and_then(|e| e.cpu_model.clone()),
            "hostname": environment.and_then(|e| e.hostname.clone()),
            "load_average_start": load_start,
            "load_average_end": load_end,
        },
        "settings": {
            "params": plan.params.iter().map(|p| json!({"knob": p.knob, "values": p.values})).collect::<Vec<_>>(),
            "repeat": plan.repeat,
            "rate": fixed_rate,
            "rate_source": rate_source,
            "calibration": calibration.iter().map(|(point, throughput)| json!({
                "point": point, "throughput_msg_per_s": throughput,
            })).collect::<Vec<_>>(),
            "profiler_args": plan.profiler_args,
            "confidence": CONFIDENCE,
            "rate_warnings": notes,
        },
        "metrics": METRICS.iter().map(|(id, label, unit, higher)| json!({
            "id": id, "label": label, "unit": unit, "higher_is_better": higher,
        })).collect::<Vec<_>>(),
        "points": plan.points.iter().enumerate().map(|(index, point)| json!({
            "index": index,
            "knobs": point.knobs.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "args": point.args(),
            "runs": runs.iter().filter(|run| run.point == index).map(|run| json!({
                "repeat": run.repeat + 1,
                "position": run.position,
                "seconds": run.seconds,
                "results": run.results,
                "figures": METRICS.iter().zip(run.figures).map(|((id, ..), v)| (id.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            })).collect::<Vec<_>>(),
            "summary": METRICS.iter().zip(&stats[index]).map(|((id, ..), stat)| (id.to_string(), stat.as_ref().map_or(Value::Null, stat_json))).collect::<serde_json::Map<_, _>>(),
        })).collect::<Vec<_>>(),
        "recommendation": recommendation_json(&verdict, &evidence),
    });
    let json_path = options.out.join("sweep.json");
    let text = serde_json::to_string_pretty(&document).context("serialising sweep.json")?;
    // The JSON, the Markdown and its charts as one set, the charts first.
    let mut outputs = perfgate_output::OutputSet::new();
    let drawn = charts(&stats, &plan.points);
    for (name, svg) in &drawn {
        outputs.stage(&options.out.join(name), svg.as_bytes())?;
    }
    outputs.stage(&json_path, text.as_bytes())?;
    let md_path = options.out.join("sweep.md");
    let markdown = markdown(&plan, &stats, &header, &evidence, &notes, &drawn);
    outputs.stage(&md_path, markdown.as_bytes())?;
    outputs.commit()?;
    println!(
        "sweep: wrote {}, {} and {} charts",
        json_path.display(),
        md_path.display(),
        drawn.len()
    );
    Ok(match stopped.as_deref() {
        Some(reason) if reason != "interrupted" => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    })
}

fn stat_json(stat: &Stat) -> Value {
    json!({
        "runs": stat.runs, "median": stat.median, "low": stat.low, "high": stat.high,
        "interval": stat.method.name(), "coverage": stat.coverage, "min": stat.min, "max": stat.max,
        "spread_percent": stat.spread_percent,
    })
}

fn recommendation_json(verdict: &Verdict, evidence: &str) -> Value {
    let (name, best, tied) = match verdict {
        Verdict::Best { best, .. } => ("best", Some(*best), Vec::new()),
        Verdict::NoClearWinner { tied } => ("no clear winner", None, tied.clone()),
        Verdict::Undecided(_) => ("undecided", None, Vec::new()),
    };
    json!({
        "metric": METRICS[THROUGHPUT].0, "verdict": name, "best": best, "tied": tied, "evidence": evidence,
    })
}

/// One row per point and metric: `label | runs | median | interval | spread`.
fn rows(metric: usize, stats: &[[Option<Stat>; 4]], points: &[Point]) -> Vec<[String; 5]> {
    points
        .iter()
        .zip(stats)
        .map(|(point, stats)| match &stats[metric] {
            None => [point.label(), "0".into(), "—".into(), "—".into(), "—".into()],
            Some(stat) => {
                let bare = |v: f64| {
                    if metric == THROUGHPUT {
                        rate(v)
                    } else {
                        significant(v)
                    }
                };
                [
                    point.label(),
                    stat.runs.to_string(),
                    bare(stat.median),
                    match stat.method {
                        Method::Single => "—".to_owned(),
                        method => format!(
                            "{}–{} ({}, {:.0} %)",
                            bare(stat.low),
                            bare(stat.high),
                            method.name(),
                            stat.coverage.unwrap_or(0.0) * 100.0
                        ),
                    },
                    format!("{:.1} %", stat.spread_percent),
                ]
            }
        })
        .collect()
}

fn print_tables(stats: &[[Option<Stat>; 4]], points: &[Point]) {
    let width = points.iter().map(|p| p.label().len()).max().unwrap_or(5).max(5);
    for (metric, (_, label, unit, higher)) in METRICS.iter().enumerate() {
        println!(
            "\n{label} ({unit}, {} is better)",
            if *higher { "higher" } else { "lower" }
        );
        println!(
            "  {:<width$}  {:>4}  {:>9}  {:<40}  {:>7}",
            "point", "runs", "median", "interval", "spread"
        );
        for [point, runs, median, interval, spread] in rows(metric, stats, points) {
            println!("  {point:<width$}  {runs:>4}  {median:>9}  {interval:<40}  {spread:>7}");
        }
    }
    println!();
}

/// The charts sweep.md shows, by file name: throughput and CPU per message per point with their
/// intervals (low, median, high: the line between them is the interval), and p50 and p99 on a
/// log scale.
fn charts(stats: &[[Option<Stat>; 4]], points: &[Point]) -> Vec<(String, String)> {
    let interval = |metric: usize| -> Vec<(String, Vec<Option<f64>>)> {
        points
            .iter()
            .zip(stats)
            .map(|(point, stats)| {
                let values = stats[metric].as_ref().map_or(vec![None; 3], |stat| {
                    vec![Some(stat.low), Some(stat.median), Some(stat.high)]
                });
                (point.label(), values)
            })
            .collect()
    };
    let latency: Vec<(String, Vec<Option<f64>>)> = points
        .iter()
        .zip(stats)
        .map(|(point, stats)| {
            let median = |metric: usize| stats[metric].as_ref().map(|stat| stat.median);
            (point.label(), vec![median(1), median(P99)])
        })
        .collect();
    let cpu = METRICS.len() - 1;
    let knob_chart = perfgate_report::render::html::knob_chart;
    [
        (
            "sweep-throughput.svg",
            knob_chart(
                "Throughput at saturation by point (the line spans the median's interval)",
                "messages per second",
                "msg/s",
                false,
                &["interval low", "median", "interval high"],
                &interval(THROUGHPUT),
            ),
        ),
        (
            "sweep-latency.svg",
            knob_chart(
                "Latency at the shared fixed rate by point (medians)",
                "end-to-end latency, ms (log scale)",
                "ms",
                true,
                &["p50", "p99"],
                &latency,
            ),
        ),
        (
            "sweep-cpu.svg",
            knob_chart(
                "Process CPU time per message by point (the line spans the median's interval)",
                "ns per message",
                "ns",
                false,
                &["interval low", "median", "interval high"],
                &interval(cpu),
            ),
        ),
    ]
    .into_iter()
    .filter_map(|(name, svg)| Some((name.to_owned(), svg?)))
    .collect()
}

/// sweep.md. Every string in it is this task's own or a knob value checked to hold only digits,
/// letters and `.` ([`check_value`]), so none needs escaping; the machine's CPU model (from the
/// results) is left to sweep.json for that reason.
fn markdown(
    plan: &Plan,
    stats: &[[Option<Stat>; 4]],
    header: &str,
    evidence: &str,
    notes: &[String],
    charts: &[(String, String)],
) -> String {
    let knobs: Vec<&str> = plan.params.iter().map(|p| p.knob.as_str()).collect();
    let mut out = format!("# Sweep: {}\n\n{header}.\n\n", knobs.join(" × "));
    out.push_str(
        "Each figure is the median of a point's runs with an interval for that median: the order \
         statistics of `median_interval` when there are enough runs for 95 %, else the runs' \
         min–max, whose confidence is stated. Spread is (max − min) / median.\n",
    );
    if !charts.is_empty() {
        out.push('\n');
        for (name, _) in charts {
            let _ = writeln!(out, "![{name}]({name})");
        }
    }
    for (metric, (_, label, unit, higher)) in METRICS.iter().enumerate() {
        let _ = write!(
            out,
            "\n## {label} ({unit}, {} is better)\n\n| point | runs | median | interval | spread |\n|---|--:|--:|---|--:|\n",
            if *higher { "higher" } else { "lower" }
        );
        for row in rows(metric, stats, &plan.points) {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
    }
    let _ = write!(
        out,
        "\n## Recommendation\n\n{evidence}\n{}",
        notes
            .iter()
            .map(|note| format!("\n- Warning: {note}\n"))
            .collect::<String>()
    );
    out
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

    fn runs(throughputs: &[&[f64]]) -> Vec<Run> {
        let mut runs = Vec::new();
        for (point, values) in throughputs.iter().enumerate() {
            for (repeat, &throughput) in values.iter().enumerate() {
                runs.push(Run {
                    point,
                    repeat,
                    position: runs.len(),
                    seconds: 1.0,
                    results: PathBuf::from("r.json"),
                    // A faster point has a higher p99 here, so the latency note names another.
                    figures: [throughput, 0.1, throughput / 1e6, 500.0],
                });
            }
        }
        runs
    }

    fn points(values: &[&str]) -> Vec<Point> {
        values
            .iter()
            .map(|v| Point {
                knobs: vec![("batch-size".to_owned(), (*v).to_owned())],
            })
            .collect()
    }

    #[test]
    fn a_clear_winner_is_named_with_its_evidence() {
        let stats = summarise(
            3,
            &runs(&[
                &[100e3, 104e3, 102e3],
                &[150e3, 155e3, 152e3],
                &[120e3, 125e3, 130e3],
            ]),
        );
        let throughput = stats[1][THROUGHPUT].as_ref().unwrap();
        assert_eq!(throughput.method, Method::MinMax);
        assert_eq!(
            (throughput.low, throughput.median, throughput.high),
            (150e3, 152e3, 155e3)
        );
        assert_eq!(throughput.coverage, Some(0.75));
        let verdict = recommend(&stats);
        assert_eq!(
            verdict,
            Verdict::Best {
                best: 1,
                runner_up: 2
            }
        );
        let text = evidence(&verdict, &stats, &points(&["1", "10", "32"]));
        assert!(
            text.starts_with("Best: batch-size=10 — 152 k msg/s [150 k, 155 k] against the runner-up batch-size=32's 125 k msg/s [120 k, 130 k]"),
            "{text}"
        );
        assert!(text.contains("the lowest p99 is batch-size=1's"), "{text}");
        assert!(text.contains("only 75 % confidence"), "{text}");
        assert!(
            text.contains(
                "Clearly slower than batch-size=10 (whole interval below its): batch-size=1, batch-size=32."
            ),
            "{text}"
        );
    }

    #[test]
    fn the_charts_draw_every_point_and_the_markdown_shows_them() {
        let stats = summarise(3, &runs(&[&[100e3, 104e3, 102e3], &[150e3, 155e3, 152e3]]));
        let points = points(&["1", "64"]);
        let drawn = charts(&stats, &points);
        let names: Vec<&str> = drawn.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            ["sweep-throughput.svg", "sweep-latency.svg", "sweep-cpu.svg"]
        );
        for (name, svg) in &drawn {
            assert!(
                svg.contains("batch-size=1") && svg.contains("batch-size=64"),
                "{name}: {svg}"
            );
        }
        assert!(drawn[0].1.contains("interval low") && drawn[1].1.contains("p99"));
        let plan = plan(&options(&["--param", "batch-size=1,64"])).unwrap();
        let text = markdown(&plan, &stats, "header", "evidence", &[], &drawn);
        assert!(text.contains("![sweep-latency.svg](sweep-latency.svg)"), "{text}");
        // Nothing measured: no chart at all, and none linked.
        assert!(charts(&[[None, None, None, None], [None, None, None, None]], &points).is_empty());
    }

    #[test]
    fn a_point_run_near_its_limit_at_the_fixed_rate_is_flagged() {
        let stats = summarise(2, &runs(&[&[300e3, 310e3, 290e3], &[600e3, 620e3, 610e3]]));
        let notes = load_notes(Some(200e3), &stats, &points(&["1", "10"]));
        assert_eq!(
            notes,
            [
                "batch-size=1: the fixed rate is 67 % of its median saturation throughput (above 60 %), so its latency includes queueing near its limit."
            ]
        );
        assert!(load_notes(Some(150e3), &stats, &points(&["1", "10"])).is_empty());
        assert!(load_notes(None, &stats, &points(&["1", "10"])).is_empty());
    }

    #[test]
    fn overlapping_intervals_give_no_clear_winner_naming_the_tied_values() {
        let stats = summarise(
            3,
            &runs(&[
                &[100e3, 104e3, 102e3],
                &[150e3, 155e3, 140e3],
                &[120e3, 145e3, 130e3],
            ]),
        );
        let verdict = recommend(&stats);
        assert_eq!(verdict, Verdict::NoClearWinner { tied: vec![1, 2] });
        let text = evidence(&verdict, &stats, &points(&["1", "10", "32"]));
        assert!(
            text.starts_with(
                "No clear winner: the throughput intervals of batch-size=10, batch-size=32 overlap"
            ),
            "{text}"
        );
        // Touching intervals overlap too: a shared value is no evidence of a difference.
        let touching = summarise(2, &runs(&[&[100.0, 110.0], &[110.0, 120.0]]));
        assert_eq!(recommend(&touching), Verdict::NoClearWinner { tied: vec![1, 0] });
    }

    #[test]
    fn with_enough_runs_the_interval_is_the_order_statistics_at_95_percent() {
        let values: Vec<f64> = (1..=9).map(f64::from).collect();
        let stat = stat(&values).unwrap();
        assert_eq!(stat.method, Method::OrderStatistics);
        assert_eq!((stat.low, stat.median, stat.high), (2.0, 5.0, 8.0));
        assert!(stat.coverage.unwrap() >= 0.95);
        assert!((stat.spread_percent - 160.0).abs() < 1e-9);
        assert_eq!(super::stat(&[f64::NAN]), None);
    }

    #[test]
    fn one_run_per_point_or_one_point_decides_nothing() {
        let single = summarise(2, &runs(&[&[100e3], &[200e3]]));
        assert_eq!(single[0][THROUGHPUT].as_ref().unwrap().method, Method::Single);
        match recommend(&single) {
            Verdict::Undecided(why) => assert!(why.contains("single run"), "{why}"),
            verdict => panic!("{verdict:?}"),
        }
        match recommend(&summarise(1, &runs(&[&[1.0, 2.0]]))) {
            Verdict::Undecided(why) => assert!(why.contains("1 point(s)"), "{why}"),
            verdict => panic!("{verdict:?}"),
        }
        assert!(evidence(&recommend(&[]), &[], &[]).starts_with("No recommendation: 0 point(s)"));
    }
}

//! `cargo xtask scaling`: the profiler's saturation throughput at several tokio runtime worker
//! counts, Gunther's Universal Scalability Law fitted to it (`perfgate_stats::usl_intervals`), and
//! — only when the fit is trustworthy — the throughput projected at 4 to 64 cores with 95 %
//! intervals and the predicted peak (issue 16, part 3).
//!
//! Each point is one short saturation-only run of the release profiler (`--quick --probes none
//! --phases saturation`, overridable after `--`) with `--runtime-workers N`. The repeats are
//! interleaved: each pair of repeats runs the worker counts forward, then backward (as the ABBA
//! rounds of `cargo xtask compare` do for two builds), so a linear drift of the machine's speed
//! gives every count the same mean position; each later pair starts one count further on.
//! Ctrl-C stops after the point in progress (which runs in a process group of its own, out of the
//! terminal's reach) and fits what was measured; a second Ctrl-C ends that point and this task.
//!
//! `target/perfgate/scaling/scaling.json` (written atomically; `--out` moves it), fields:
//! `schema` ("perfgate-scaling/1"); `command`; `started`, `finished` (the first and last run's
//! RFC 3339 start); `stopped` (`null`, `"interrupted"` or the failure's message); `machine`
//! (`logical_cores`, `cpu_model`, `hostname`, `load_average_start`/`_end`: the 1, 5 and 15
//! minute load averages, since other jobs slow the runs); `settings` (`workers`, `repeat`,
//! `profiler_args`, `confidence`, `resamples`, `seed`); `points` in run order (`workers`,
//! `repeat` from 1, `throughput_msg_per_s`, `seconds` the run took, `results` its results.json
//! path, and `fitted`, `residual` once fitted); `per_workers` (`workers`, `runs`, `median`,
//! `min`, `max`, `fitted`); `fit` (`null` when none could be made, else `lambda`, `sigma`,
//! `kappa` each `{estimate, low, high}`, `sigma_at_bound`, `kappa_at_bound`, `r_squared`,
//! `relative_rmse`, `distinct_workers`, `workers_range`, `quality`); `peak` (`null`, or
//! `workers`, `throughput` intervals and `no_peak_share`, or `{"none": …}`); `projections`
//! (`null` or a list of `{cores, estimate, low, high, extrapolated}`); `refusal` (why there is
//! no projection, else `null`); `assumptions`; `caveat` (counts beyond the cores measured, else
//! `null`). A bound that is infinite is written as `null`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use perfgate_report::RunData;
use perfgate_stats::{
    MIN_DISTINCT_WORKERS, MIN_R_SQUARED, UslFit, UslInterval, UslIntervals, UslQuality, fit_usl, median,
    usl_intervals,
};
use serde_json::{Value, json};

use crate::cargo::build_profiler;
use crate::points::{
    catch_interrupt, duration, interleave, interrupted, load_average, progress_line, rate, refuse_help,
    run_profiler, significant, with_defaults,
};

/// The most runtime workers a point may ask for: far beyond any core count worth projecting to,
/// and a typo (`10000`) caught before it spawns ten thousand threads.
const MAX_WORKERS: usize = 1024;
/// The most repeats: 100 × 16 counts of short runs is already over an hour.
const MAX_REPEAT: u32 = 100;
/// Core counts the throughput is projected at.
const PROJECTED_CORES: [usize; 5] = [4, 8, 16, 32, 64];
/// Confidence of every interval.
const CONFIDENCE: f64 = 0.95;
/// Bootstrap resamples: plenty for a 95 % percentile interval (docs/statistics.md).
const RESAMPLES: usize = 1000;
/// A fixed seed, so that the same points give the same intervals.
const SEED: u64 = 16;
/// Each point's run unless the arguments after `--` name the same flag: short and
/// saturation-only, since the fit needs many points more than long ones, and no probe costs.
const DEFAULT_PROFILER_ARGS: [(&str, Option<&str>); 3] = [
    ("--quick", None),
    ("--probes", Some("none")),
    ("--no-progress", None),
];
/// Flags this task sets for every run itself.
const RESERVED: [&str; 3] = ["--runtime-workers", "--phases", "--out"];
/// What a projection takes for granted, printed and written with it.
const ASSUMPTIONS: &str = "Projections assume every added core is as fast as these (the same \
     per-core speed: no lower clock, no hyper-threads counted as cores) and no new bottleneck \
     beyond the measured range (I/O, a network link, a lock taken only under heavier load); the \
     intervals cover the measurements' noise, not a broken assumption.";

#[derive(Debug, Args)]
pub(crate) struct Options {
    /// Runtime worker counts to measure, comma-separated, ranges allowed (e.g. 1-8,12,16)
    /// [default: 1 to twice the logical cores, at least 1-8: counts beyond the cores show the
    /// contention]
    #[arg(long, value_name = "LIST")]
    workers: Option<String>,
    /// Runs per worker count, interleaved: each repeat goes through every count
    #[arg(long, value_name = "R", default_value_t = 3)]
    repeat: u32,
    /// Where scaling.json and the runs go
    #[arg(long, value_name = "DIR", default_value = "target/perfgate/scaling")]
    out: PathBuf,
    /// Profiler arguments for every run, after `--` (e.g. `-- --messages 1000000`); each replaces
    /// the default of its name (--quick, --probes none, --no-progress)
    #[arg(last = true, value_name = "PROFILER_ARGS")]
    profiler_args: Vec<String>,
}

/// The checked options: what to run.
#[derive(Debug, PartialEq)]
struct Plan {
    /// Distinct worker counts, ascending.
    workers: Vec<usize>,
    repeat: usize,
    /// Every run's arguments but `--runtime-workers` and `--out`.
    profiler_args: Vec<String>,
}

/// Checks the options against a machine with `cores` logical cores; the error is one line.
fn plan(options: &Options, cores: usize) -> Result<Plan, String> {
    let workers = match &options.workers {
        Some(list) => parse_workers(list)?,
        None => (1..=(2 * cores).max(8)).collect(),
    };
    if !(1..=MAX_REPEAT).contains(&options.repeat) {
        return Err(format!("--repeat {}: give 1 to {MAX_REPEAT}", options.repeat));
    }
    for arg in &options.profiler_args {
        let name = arg.split('=').next().unwrap_or(arg);
        if RESERVED.contains(&name) {
            return Err(format!("{name} after `--`: this task sets it for every run"));
        }
        refuse_help(name)?;
    }
    let mut profiler_args = with_defaults(&options.profiler_args, &DEFAULT_PROFILER_ARGS);
    profiler_args.extend(["--phases".to_owned(), "saturation".to_owned()]);
    Ok(Plan {
        workers,
        repeat: options.repeat as usize,
        profiler_args,
    })
}

/// `1,2,4` or `1-8,12`: distinct counts from 1 to [`MAX_WORKERS`], returned ascending.
fn parse_workers(list: &str) -> Result<Vec<usize>, String> {
    let count = |text: &str| -> Result<usize, String> {
        let n: usize = text
            .trim()
            .parse()
            .map_err(|_| format!("--workers {list:?}: {:?} is not a worker count", text.trim()))?;
        if !(1..=MAX_WORKERS).contains(&n) {
            return Err(format!(
                "--workers {list:?}: {n} workers: give 1 to {MAX_WORKERS}"
            ));
        }
        Ok(n)
    };
    let mut workers = Vec::new();
    for item in list.split(',') {
        if item.trim().is_empty() {
            return Err(format!(
                "--workers {list:?}: an empty item; give counts like 1,2,4 or 1-8"
            ));
        }
        match item.split_once('-') {
            Some((low, high)) => {
                let (low, high) = (count(low)?, count(high)?);
                if low > high {
                    return Err(format!(
                        "--workers {list:?}: the range {low}-{high} runs backwards"
                    ));
                }
                workers.extend(low..=high);
            }
            None => workers.push(count(item)?),
        }
    }
    workers.sort_unstable();
    if let Some(pair) = workers.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(format!("--workers {list:?}: {} is listed twice", pair[0]));
    }
    Ok(workers)
}

/// One measured point.
#[derive(Debug, Clone)]
struct Point {
    workers: usize,
    /// From 0.
    repeat: usize,
    /// Saturation throughput, messages per second.
    throughput: f64,
    /// Wall time of the run, start to results.
    seconds: f64,
    results: PathBuf,
}

/// The measured throughput at one worker count.
#[derive(Debug, Clone, PartialEq)]
struct PerWorkers {
    workers: usize,
    runs: usize,
    median: f64,
    min: f64,
    max: f64,
}

/// The fitted throughput at a worker count, with its interval.
#[derive(Debug, Clone, PartialEq)]
struct Projection {
    cores: usize,
    throughput: UslInterval,
    /// Beyond the largest worker count measured.
    extrapolated: bool,
}

/// Where the fitted curve peaks.
#[derive(Debug, Clone, PartialEq)]
enum Peak {
    /// At `workers` (interval), the throughput there being `throughput` (the interval of the
    /// resamples' curves at the fitted peak's worker count).
    At {
        workers: UslInterval,
        throughput: UslInterval,
        no_peak_share: f64,
    },
    /// `κ` is 0: throughput rises for ever, towards `λ/σ` (`ceiling`, `None` when `σ` is 0 too).
    None {
        ceiling: Option<f64>,
        no_peak_share: f64,
    },
}

/// What the points say: the measurements by worker count, the fit and either projections or
/// why there are none.
#[derive(Debug)]
struct Summary {
    per_workers: Vec<PerWorkers>,
    fit: Option<UslFit>,
    intervals: Option<UslIntervals>,
    /// The projections and the peak, or why the fit is not trusted to give them.
    outlook: Result<(Vec<Projection>, Peak), String>,
}

fn summarise(points: &[Point]) -> Summary {
    let mut counts: Vec<usize> = points.iter().map(|p| p.workers).collect();
    counts.sort_unstable();
    counts.dedup();
    let per_workers: Vec<PerWorkers> = counts
        .iter()
        .map(|&workers| {
            let values: Vec<f64> = points
                .iter()
                .filter(|p| p.workers == workers)
                .map(|p| p.throughput)
                .collect();
            PerWorkers {
                workers,
                runs: values.len(),
                median: median(&values).unwrap_or(f64::NAN),
                min: values.iter().copied().fold(f64::INFINITY, f64::min),
                max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            }
        })
        .collect();
    let xy: Vec<(f64, f64)> = points.iter().map(|p| (p.workers as f64, p.throughput)).collect();
    let intervals = usl_intervals(&xy, CONFIDENCE, RESAMPLES, SEED);
    let fit = intervals.as_ref().map(|i| i.fit.clone()).or_else(|| fit_usl(&xy));
    let outlook = match (&fit, &intervals) {
        (None, _) if counts.is_empty() => Err("nothing was measured".to_owned()),
        (None, _) => Err(format!(
            "{} distinct worker count(s) measured: the law's three parameters need at least 3, \
             a projection {MIN_DISTINCT_WORKERS}",
            counts.len()
        )),
        (Some(fit), _) if !fit.is_trustworthy() => Err(refusal(fit.quality())),
        (Some(_), None) => Err("no bootstrap interval could be computed, so no projection".to_owned()),
        (Some(fit), Some(intervals)) => Ok(outlook(fit, intervals)),
    };
    Summary {
        per_workers,
        fit,
        intervals,
        outlook,
    }
}

/// Why a fit of this quality is not used to project.
fn refusal(quality: UslQuality) -> String {
    match quality {
        UslQuality::Trustworthy => String::new(),
        UslQuality::TooFewWorkerCounts { distinct } => format!(
            "only {distinct} distinct worker counts: three parameters fit almost any {distinct} \
             points, so the fit cannot be judged; measure at least {MIN_DISTINCT_WORKERS}"
        ),
        UslQuality::PoorFit { r_squared } => format!(
            "R² {} is below {MIN_R_SQUARED}: the law does not describe these measurements (too \
             noisy, or a bottleneck it has no term for), let alone core counts nobody measured",
            r_squared.map_or("undefined (throughput did not vary)".to_owned(), |r| format!(
                "{r:.3}"
            ))
        ),
    }
}

/// Projections and the peak of a trustworthy fit.
fn outlook(fit: &UslFit, intervals: &UslIntervals) -> (Vec<Projection>, Peak) {
    let projections = PROJECTED_CORES
        .iter()
        .filter_map(|&cores| {
            Some(Projection {
                cores,
                throughput: intervals.project(cores as f64)?,
                extrapolated: cores as f64 > fit.workers_range.1,
            })
        })
        .collect();
    let peak = match (fit.peak_workers, fit.peak_throughput) {
        (Some(workers), Some(_)) => match intervals.project(workers) {
            Some(throughput) => Peak::At {
                workers: intervals.peak_workers,
                throughput,
                no_peak_share: intervals.no_peak_share,
            },
            None => unreachable_peak(fit, intervals),
        },
        _ => unreachable_peak(fit, intervals),
    };
    (projections, peak)
}

/// The fit has no peak (`κ = 0`), or none could be projected.
fn unreachable_peak(fit: &UslFit, intervals: &UslIntervals) -> Peak {
    Peak::None {
        ceiling: (fit.sigma > 0.0).then(|| fit.lambda / fit.sigma),
        no_peak_share: intervals.no_peak_share,
    }
}

// ---- Running -------------------------------------------------------------------------------

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let plan = match plan(options, cores) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("error: cargo xtask scaling: {message}");
            return Ok(ExitCode::from(2));
        }
    };
    let json_path = options.out.join("scaling.json");
    if let Err(error) = perfgate_output::check_folder_writable(&options.out) {
        eprintln!(
            "error: cargo xtask scaling: {}: cannot write there: {}",
            options.out.display(),
            error.source
        );
        return Ok(ExitCode::from(2));
    }
    if plan.workers.len() < MIN_DISTINCT_WORKERS {
        eprintln!(
            "scaling: warning: {} worker count(s): the fit needs {MIN_DISTINCT_WORKERS} to be trusted to project",
            plan.workers.len()
        );
    }
    let command = std::iter::once("cargo xtask".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let binary = build_profiler()?;
    let runs = options.out.join("runs");
    let _ = std::fs::remove_dir_all(&runs);
    std::fs::create_dir_all(&runs).with_context(|| format!("creating {}", runs.display()))?;

    let order = interleave(&plan.workers, plan.repeat);
    let load_start = load_average();
    eprintln!(
        "scaling: {} points ({} worker counts × {} repeats, interleaved) on {cores} cores; Ctrl-C stops after the current point",
        order.len(),
        plan.workers.len(),
        plan.repeat
    );
    let started = Instant::now();
    let mut points: Vec<Point> = Vec::new();
    let mut runs_data: Vec<RunData> = Vec::new();
    let mut stopped: Option<String> = None;
    catch_interrupt(true);
    for (index, &(workers, repeat)) in order.iter().enumerate() {
        if interrupted() {
            break;
        }
        let dir = runs.join(format!("w{workers:04}-r{}", repeat + 1));
        let point_started = Instant::now();
        match run_point(&binary, &dir, &plan.profiler_args, workers) {
            Ok((throughput, run)) => {
                points.push(Point {
                    workers,
                    repeat,
                    throughput,
                    seconds: point_started.elapsed().as_secs_f64(),
                    results: dir.join("results.json"),
                });
                runs_data.push(run);
            }
            Err(error) => {
                eprintln!(
                    "error: scaling: point {} (workers {workers}): {error:#}",
                    index + 1
                );
                stopped = Some(format!("{error:#}"));
                break;
            }
        }
        let done = index + 1;
        let detail = format!(
            "(workers {workers}, repeat {}), {} msg/s",
            repeat + 1,
            rate(points.last().map_or(f64::NAN, |p| p.throughput))
        );
        eprintln!(
            "{}",
            progress_line("scaling", done, order.len(), started.elapsed(), &detail)
        );
    }
    catch_interrupt(false);
    if stopped.is_none() && interrupted() {
        eprintln!(
            "scaling: interrupted: {} of {} points measured, fitting those",
            points.len(),
            order.len()
        );
        stopped = Some("interrupted".to_owned());
    }
    let elapsed = started.elapsed();
    let summary = summarise(&points);
    let machine = Machine {
        cores,
        cpu_model: runs_data
            .first()
            .and_then(|run| run.environment.as_ref()?.cpu_model.clone()),
        hostname: runs_data
            .first()
            .and_then(|run| run.environment.as_ref()?.hostname.clone()),
        load_start,
        load_end: load_average(),
    };
    print(&summary, &points, &machine, elapsed);
    let timestamp = |run: Option<&RunData>| run.and_then(|run| run.environment.as_ref()?.timestamp.clone());
    let document = json!({
        "schema": "perfgate-scaling/1",
        "command": command,
        "started": timestamp(runs_data.first()),
        "finished": timestamp(runs_data.last()),
        "seconds": elapsed.as_secs_f64(),
        "stopped": stopped,
        "machine": {
            "logical_cores": machine.cores,
            "cpu_model": machine.cpu_model,
            "hostname": machine.hostname,
            "load_average_start": machine.load_start,
            "load_average_end": machine.load_end,
        },
        "settings": {
            "workers": plan.workers,
            "repeat": plan.repeat,
            "profiler_args": plan.profiler_args,
            "confidence": CONFIDENCE,
            "resamples": RESAMPLES,
            "seed": SEED,
        },
        "points": points.iter().map(|p| {
            let fitted = summary.fit.as_ref().map(|fit| fit.throughput(p.workers as f64));
            json!({
                "workers": p.workers,
                "repeat": p.repeat + 1,
                "throughput_msg_per_s": p.throughput,
                "seconds": p.seconds,
                "results": p.results,
                "fitted": fitted,
                "residual": fitted.map(|f| p.throughput - f),
            })
        }).collect::<Vec<_>>(),
    });
    let mut document = with_summary(document, &summary);
    document["caveat"] = json!(
        plan.workers
            .last()
            .is_some_and(|&most| most > cores)
            .then(|| oversubscribed(cores))
    );
    let text = serde_json::to_string_pretty(&document).context("serialising scaling.json")?;
    // The JSON and its chart as one set: a chart never describes another run's JSON.
    let mut outputs = perfgate_output::OutputSet::new();
    outputs.stage(&json_path, text.as_bytes())?;
    let chart_path = options.out.join("scaling.svg");
    if let Some(svg) = chart(&points, &summary) {
        outputs.stage(&chart_path, svg.as_bytes())?;
    }
    for path in outputs.commit()? {
        println!("scaling: wrote {}", path.display());
    }
    Ok(match stopped.as_deref() {
        Some(reason) if reason != "interrupted" => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    })
}

/// The chart beside scaling.json: every run, the fitted law over the measured counts and, from a
/// trustworthy fit only, the projection with its interval out to 64 cores.
fn chart(points: &[Point], summary: &Summary) -> Option<String> {
    let measured: Vec<(f64, f64)> = points.iter().map(|p| (p.workers as f64, p.throughput)).collect();
    let fitted = summary.fit.as_ref().map_or_else(Vec::new, |fit| {
        let (low, high) = fit.workers_range;
        // Enough points that the curve looks like one on a log axis.
        (0..=40)
            .map(|i| low * (high / low).powf(f64::from(i) / 40.0))
            .map(|n| (n, fit.throughput(n)))
            .collect()
    });
    let projected = match (&summary.intervals, &summary.outlook) {
        (Some(intervals), Ok(_)) => {
            let from = summary.fit.as_ref().map_or(1.0, |fit| fit.workers_range.1);
            (0..=40)
                .map(|i| from * (64.0 / from).powf(f64::from(i) / 40.0))
                .filter_map(|n| intervals.project(n).map(|t| (n, t.low, t.estimate, t.high)))
                .collect()
        }
        _ => Vec::new(),
    };
    perfgate_report::render::html::scaling_chart(
        "Throughput against runtime workers, with the Universal Scalability Law fitted",
        &perfgate_report::render::html::ScalingCurves {
            measured,
            fitted,
            projected,
        },
    )
}

/// Runs one point: the profiler with `workers` runtime workers, its results in `dir`; returns
/// the saturation throughput and the results.
fn run_point(binary: &Path, dir: &Path, args: &[String], workers: usize) -> anyhow::Result<(f64, RunData)> {
    let mut args = args.to_vec();
    args.extend(["--runtime-workers".to_owned(), workers.to_string()]);
    let run = run_profiler(binary, dir, &args)?;
    let throughput = run
        .metrics
        .get("cpu.messages_per_second")
        .copied()
        .filter(|t| t.is_finite() && *t > 0.0)
        .context("the run measured no saturation throughput")?;
    // A profiler that ignored the flag would make every point the same experiment.
    let recorded = run
        .environment
        .as_ref()
        .and_then(|env| env.run.get("runtime_workers"))
        .and_then(Value::as_u64);
    if let Some(recorded) = recorded
        && recorded != workers as u64
    {
        bail!("asked for {workers} runtime workers, the results say {recorded}");
    }
    Ok((throughput, run))
}

/// What the report says about the machine.
struct Machine {
    cores: usize,
    cpu_model: Option<String>,
    hostname: Option<String>,
    load_start: Option<[f64; 3]>,
    load_end: Option<[f64; 3]>,
}

// ---- Reporting -----------------------------------------------------------------------------

fn print(summary: &Summary, points: &[Point], machine: &Machine, elapsed: Duration) {
    let load = |load: Option<[f64; 3]>| load.map_or("?".to_owned(), |l| format!("{:.2}", l[0]));
    println!(
        "scaling: {} points in {} on {} ({} logical cores; load average {} at the start, {} at the end)",
        points.len(),
        duration(elapsed),
        machine.cpu_model.as_deref().unwrap_or("an unknown CPU"),
        machine.cores,
        load(machine.load_start),
        load(machine.load_end)
    );
    let fitted = |n: usize| summary.fit.as_ref().map(|fit| fit.throughput(n as f64));
    println!(
        "\n  {:>7}  {:>4}  {:>12}  {:>19}  {:>10}  {:>7}",
        "workers", "runs", "median msg/s", "min–max msg/s", "fitted", "miss"
    );
    for row in &summary.per_workers {
        let fit = fitted(row.workers);
        println!(
            "  {:>7}  {:>4}  {:>12}  {:>19}  {:>10}  {:>7}",
            row.workers,
            row.runs,
            rate(row.median),
            format!("{}–{}", rate(row.min), rate(row.max)),
            fit.map_or("—".to_owned(), rate),
            fit.map_or("—".to_owned(), |f| format!(
                "{:+.1} %",
                (row.median / f - 1.0) * 100.0
            )),
        );
    }
    println!();
    if let Some(fit) = &summary.fit {
        let shown = |estimate: f64, interval: Option<UslInterval>, format: &dyn Fn(f64) -> String| {
            interval.map_or(format!("{:<12} (no interval)", format(estimate)), |i| {
                format!("{:<12} {:<18}", format(estimate), bracket(i, format))
            })
        };
        let i = summary.intervals.as_ref();
        println!(
            "Universal Scalability Law fit, {:.0} % intervals ({RESAMPLES} residual-bootstrap resamples):",
            CONFIDENCE * 100.0
        );
        println!(
            "  λ  {}  one worker's msg/s",
            shown(fit.lambda, i.map(|i| i.lambda), &rate)
        );
        println!(
            "  σ  {}  contention{}",
            shown(fit.sigma, i.map(|i| i.sigma), &parameter),
            if fit.sigma_at_bound { " (held at 0)" } else { "" }
        );
        println!(
            "  κ  {}  coherency{}",
            shown(fit.kappa, i.map(|i| i.kappa), &parameter),
            if fit.kappa_at_bound {
                " (held at 0: no sign of it)"
            } else {
                ""
            }
        );
        let worst = points
            .iter()
            .map(|p| (p, p.throughput / fit.throughput(p.workers as f64) - 1.0))
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
        println!(
            "  R² {}, relative RMSE {:.1} %{}",
            fit.r_squared
                .map_or("undefined".to_owned(), |r| format!("{r:.3}")),
            fit.relative_rmse * 100.0,
            worst.map_or(String::new(), |(p, miss)| format!(
                "; largest miss {:+.1} % ({} workers, repeat {})",
                miss * 100.0,
                p.workers,
                p.repeat + 1
            ))
        );
    }
    match &summary.outlook {
        Err(reason) => println!("no projection: {reason}"),
        Ok((projections, peak)) => {
            let range = summary.fit.as_ref().map_or(0.0, |fit| fit.workers_range.1);
            match peak {
                Peak::At {
                    workers,
                    throughput,
                    no_peak_share,
                } => println!(
                    "peak: {} workers {}, {} msg/s {}{}{}",
                    count(workers.estimate),
                    bracket(*workers, &count),
                    rate(throughput.estimate),
                    bracket(*throughput, &rate),
                    if workers.estimate > range {
                        format!(" (beyond the {range:.0} workers measured)")
                    } else {
                        String::new()
                    },
                    if *no_peak_share > 0.0 {
                        format!("; {:.0} % of resamples had no peak", no_peak_share * 100.0)
                    } else {
                        String::new()
                    }
                ),
                Peak::None {
                    ceiling,
                    no_peak_share,
                } => println!(
                    "no peak (κ≈0): throughput rises {}; {:.0} % of resamples had no peak",
                    ceiling.map_or("without limit".to_owned(), |c| format!(
                        "towards λ/σ = {} msg/s",
                        rate(c)
                    )),
                    no_peak_share * 100.0
                ),
            }
            println!("projected throughput (a runtime worker per core):");
            for projection in projections {
                println!(
                    "  {:>3} cores  {:>10} msg/s  {}{}",
                    projection.cores,
                    rate(projection.throughput.estimate),
                    bracket(projection.throughput, &rate),
                    if projection.extrapolated {
                        "  extrapolated"
                    } else {
                        ""
                    }
                );
            }
            println!("{ASSUMPTIONS}");
        }
    }
    if let Some(fit) = &summary.fit
        && fit.workers_range.1 > machine.cores as f64
    {
        println!("{}", oversubscribed(machine.cores));
    }
}

/// The caveat of counts beyond the cores, which this task measures on purpose.
fn oversubscribed(cores: usize) -> String {
    format!(
        "Worker counts beyond this machine's {cores} cores time-share them: the fit counts that as \
         contention and coherency, which a machine with more cores would not have, so any \
         projection understates such a machine; fit on one with at least the cores projected to."
    )
}

/// The fit, peak, projections or refusal, added to the document.
fn with_summary(mut document: Value, summary: &Summary) -> Value {
    let interval = |i: UslInterval| json!({"estimate": i.estimate, "low": i.low, "high": i.high});
    let fit = summary.fit.as_ref();
    let fitted = |n: usize| fit.map(|fit| fit.throughput(n as f64));
    document["per_workers"] = summary
        .per_workers
        .iter()
        .map(|row| {
            json!({
                "workers": row.workers, "runs": row.runs, "median": row.median,
                "min": row.min, "max": row.max, "fitted": fitted(row.workers),
            })
        })
        .collect();
    document["fit"] = fit.map_or(Value::Null, |fit| {
        let bounds = |estimate: f64, pick: fn(&UslIntervals) -> UslInterval| {
            summary
                .intervals
                .as_ref()
                .map_or(json!({"estimate": estimate, "low": null, "high": null}), |i| {
                    interval(pick(i))
                })
        };
        json!({
            "lambda": bounds(fit.lambda, |i| i.lambda),
            "sigma": bounds(fit.sigma, |i| i.sigma),
            "kappa": bounds(fit.kappa, |i| i.kappa),
            "sigma_at_bound": fit.sigma_at_bound,
            "kappa_at_bound": fit.kappa_at_bound,
            "r_squared": fit.r_squared,
            "relative_rmse": fit.relative_rmse,
            "distinct_workers": fit.distinct_workers,
            "workers_range": [fit.workers_range.0, fit.workers_range.1],
            "quality": match fit.quality() {
                UslQuality::Trustworthy => "trustworthy",
                UslQuality::TooFewWorkerCounts { .. } => "too_few_worker_counts",
                UslQuality::PoorFit { .. } => "poor_fit",
            },
        })
    });
    match &summary.outlook {
        Ok((projections, peak)) => {
            document["peak"] = match peak {
                Peak::At {
                    workers,
                    throughput,
                    no_peak_share,
                } => json!({
                    "workers": interval(*workers),
                    "throughput": interval(*throughput),
                    "no_peak_share": no_peak_share,
                }),
                Peak::None {
                    ceiling,
                    no_peak_share,
                } => json!({"none": {"ceiling": ceiling, "no_peak_share": no_peak_share}}),
            };
            document["projections"] = projections
                .iter()
                .map(|p| {
                    json!({
                        "cores": p.cores, "estimate": p.throughput.estimate, "low": p.throughput.low,
                        "high": p.throughput.high, "extrapolated": p.extrapolated,
                    })
                })
                .collect();
            document["refusal"] = Value::Null;
        }
        Err(reason) => {
            document["peak"] = Value::Null;
            document["projections"] = Value::Null;
            document["refusal"] = json!(reason);
        }
    }
    document["assumptions"] = json!(ASSUMPTIONS);
    document
}

/// `[low, high]` formatted, `∞)` for an infinite bound.
fn bracket(interval: UslInterval, format: &dyn Fn(f64) -> String) -> String {
    if interval.high.is_infinite() {
        format!("[{}, ∞)", format(interval.low))
    } else {
        format!("[{}, {}]", format(interval.low), format(interval.high))
    }
}

/// `σ` or `κ`: three significant figures, in scientific notation below 0.001.
fn parameter(value: f64) -> String {
    if value != 0.0 && value.abs() < 1e-3 {
        format!("{value:.2e}")
    } else {
        significant(value)
    }
}

/// A worker count: one decimal below 100, none above.
fn count(value: f64) -> String {
    if value.is_infinite() {
        "∞".to_owned()
    } else if value < 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use perfgate_stats::SeededRng;

    fn options(args: &[&str]) -> Options {
        crate::points::parse_options("scaling", args)
    }

    fn error(args: &[&str]) -> String {
        plan(&options(args), 2).expect_err("the plan should be refused")
    }

    #[test]
    fn worker_lists_parse_with_ranges_and_bad_ones_say_why_in_one_line() {
        assert_eq!(parse_workers("1,2,3,4,6,8"), Ok(vec![1, 2, 3, 4, 6, 8]));
        assert_eq!(parse_workers("8, 1-3 ,16"), Ok(vec![1, 2, 3, 8, 16]));
        assert_eq!(parse_workers("1024"), Ok(vec![1024]));
        for (list, says) in [
            ("", "empty item"),
            ("1,,2", "empty item"),
            ("1,2,", "empty item"),
            ("0,1,2", "0 workers: give 1 to 1024"),
            ("1,2000", "2000 workers: give 1 to 1024"),
            ("1,two", "\"two\" is not a worker count"),
            ("-3", "\"\" is not a worker count"),
            ("4-2", "the range 4-2 runs backwards"),
            ("1-4,3", "3 is listed twice"),
            ("1.5", "\"1.5\" is not a worker count"),
        ] {
            let message = parse_workers(list).expect_err(list);
            assert!(message.contains(says), "{list:?}: {message}");
            assert!(!message.contains('\n'), "{list:?}: not one line: {message}");
        }
    }

    #[test]
    fn the_plan_defaults_to_twice_the_cores_at_least_eight_and_short_saturation_runs() {
        let plan2 = plan(&options(&[]), 2).unwrap();
        assert_eq!(plan2.workers, (1..=8).collect::<Vec<_>>());
        assert_eq!(plan2.repeat, 3);
        assert_eq!(
            plan2.profiler_args,
            [
                "--quick",
                "--probes",
                "none",
                "--no-progress",
                "--phases",
                "saturation"
            ]
        );
        assert_eq!(
            plan(&options(&[]), 6).unwrap().workers,
            (1..=12).collect::<Vec<_>>()
        );
        // Arguments after `--` replace the default of their name and keep the others.
        let custom = plan(
            &options(&[
                "--workers",
                "1,2,4,8",
                "--repeat",
                "2",
                "--",
                "--probes=cpu",
                "--messages",
                "1000000",
            ]),
            2,
        )
        .unwrap();
        assert_eq!(custom.workers, [1, 2, 4, 8]);
        assert_eq!(
            custom.profiler_args,
            [
                "--probes=cpu",
                "--messages",
                "1000000",
                "--quick",
                "--no-progress",
                "--phases",
                "saturation"
            ]
        );
    }

    #[test]
    fn bad_options_are_refused_before_anything_runs() {
        assert!(error(&["--repeat", "0"]).contains("--repeat 0"));
        assert!(error(&["--repeat", "101"]).contains("give 1 to 100"));
        assert!(error(&["--workers", "0"]).contains("0 workers"));
        assert!(error(&["--", "--runtime-workers", "4"]).contains("--runtime-workers after `--`"));
        assert!(error(&["--", "--out=x"]).contains("--out after `--`"));
        assert!(error(&["--", "--phases", "both"]).contains("--phases after `--`"));
        assert!(error(&["--", "--help"]).contains("would run no point"));
    }

    #[test]
    fn every_point_runs_once_and_pairs_of_repeats_balance_a_drift() {
        let workers = [1, 2, 3, 4, 6, 8];
        let order = interleave(&workers, 4);
        assert_eq!(order.len(), 24);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 24, "a point twice: {order:?}");
        // Each repeat is one pass through every count, repeats in turn.
        for (r, pass) in order.chunks(workers.len()).enumerate() {
            assert!(pass.iter().all(|&(_, repeat)| repeat == r), "{pass:?}");
        }
        // Forward then backward: within each pair every count's positions add up alike.
        for pair in order.chunks(2 * workers.len()) {
            let (first, second) = pair.split_at(workers.len());
            for n in workers {
                let at = |pass: &[(usize, usize)]| pass.iter().position(|&(w, _)| w == n).unwrap();
                assert_eq!(at(first) + at(second), workers.len() - 1, "count {n} in {pair:?}");
            }
        }
        // The order rotates: the second pair starts elsewhere than the first.
        assert_eq!(order[0].0, 1);
        assert_eq!(order[12].0, 2);
        assert_eq!(order[6].0, 8, "the second repeat runs backwards");
        assert_eq!(interleave::<usize>(&[], 3), []);
    }

    fn usl(lambda: f64, sigma: f64, kappa: f64, n: f64) -> f64 {
        lambda * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))
    }

    fn points(throughput: impl Fn(usize, usize) -> f64, workers: &[usize], repeat: usize) -> Vec<Point> {
        interleave(workers, repeat)
            .into_iter()
            .map(|(workers, repeat)| Point {
                workers,
                repeat,
                throughput: throughput(workers, repeat),
                seconds: 1.0,
                results: PathBuf::from("r.json"),
            })
            .collect()
    }

    #[test]
    fn the_chart_shows_a_projection_only_from_a_trustworthy_fit() {
        let workers: Vec<usize> = (1..=8).collect();
        let lawful = points(|n, _| usl(200_000.0, 0.05, 0.002, n as f64), &workers, 2);
        let svg = chart(&lawful, &summarise(&lawful)).expect("a chart");
        assert!(svg.contains("fitted law") && svg.contains("projection"), "{svg}");
        // Flat noise: no fit worth projecting, so the chart has the runs and no projection.
        let mut rng = SeededRng::new(3);
        let noise: Vec<f64> = (0..16).map(|_| 300_000.0 * (1.0 + 0.2 * rng.normal())).collect();
        let noisy = points(|n, r| noise[(n - 1) * 2 + r], &workers, 2);
        let svg = chart(&noisy, &summarise(&noisy)).expect("a chart");
        assert!(
            svg.contains("measured runs") && !svg.contains("projection"),
            "{svg}"
        );
    }

    #[test]
    fn points_from_a_known_law_give_projections_whose_intervals_hold_the_truth() {
        let (lambda, sigma, kappa) = (200_000.0, 0.05, 0.002);
        let mut rng = SeededRng::new(7);
        let noisy: Vec<f64> = (0..24).map(|_| 1.0 + 0.01 * rng.normal()).collect();
        let workers: Vec<usize> = (1..=8).collect();
        let measured = points(
            |n, r| usl(lambda, sigma, kappa, n as f64) * noisy[(n - 1) * 3 + r],
            &workers,
            3,
        );
        let summary = summarise(&measured);
        let fit = summary.fit.as_ref().unwrap();
        assert!(fit.is_trustworthy(), "{fit:?}");
        assert_eq!(summary.per_workers.len(), 8);
        assert_eq!(summary.per_workers[0].runs, 3);
        let (projections, peak) = summary.outlook.as_ref().expect("a trustworthy fit projects");
        assert_eq!(
            projections.iter().map(|p| p.cores).collect::<Vec<_>>(),
            PROJECTED_CORES
        );
        for p in projections {
            let truth = usl(lambda, sigma, kappa, p.cores as f64);
            let i = p.throughput;
            assert!(
                i.low <= truth && truth <= i.high,
                "{} cores: {truth} not in {i:?}",
                p.cores
            );
            assert!(
                i.low < i.high && i.high.is_finite(),
                "a finite interval, not a point: {i:?}"
            );
            assert_eq!(p.extrapolated, p.cores > 8);
        }
        let true_peak = ((1.0 - sigma) / kappa).sqrt();
        match peak {
            Peak::At { workers, .. } => {
                assert!(
                    workers.low <= true_peak && true_peak <= workers.high,
                    "{workers:?}"
                )
            }
            Peak::None { .. } => panic!("the truth has a peak at {true_peak:.1} workers"),
        }
        let document = with_summary(json!({}), &summary);
        assert_eq!(document["refusal"], Value::Null);
        assert_eq!(document["projections"].as_array().unwrap().len(), 5);
        assert_eq!(document["fit"]["quality"], "trustworthy");
    }

    #[test]
    fn pure_contention_reports_no_peak_but_its_ceiling() {
        let measured = points(
            // Curving a little less than pure contention would (κ < 0, which the law has no
            // meaning for), so the bound holds the fitted κ at 0 whatever the order of the points.
            |n, r| usl(100_000.0, 0.1, -0.0003, n as f64) * (1.0 + 0.002 * (r as f64 - 1.0)),
            &[1, 2, 4, 8, 16],
            3,
        );
        let summary = summarise(&measured);
        match &summary.outlook.as_ref().unwrap().1 {
            Peak::None { ceiling, .. } => {
                let ceiling = ceiling.unwrap();
                assert!((0.8e6..1.5e6).contains(&ceiling), "λ/σ near 1 M: {ceiling}");
            }
            peak => panic!("κ = 0 has no peak: {peak:?}"),
        }
    }

    #[test]
    fn a_poor_fit_or_too_few_counts_is_refused_a_projection() {
        // Throughput that zigzags with the worker count: no law describes it.
        let zigzag = points(
            |n, r| if n % 2 == 0 { 100_000.0 } else { 300_000.0 } + 1_000.0 * r as f64,
            &[1, 2, 3, 4, 5, 6, 7, 8],
            2,
        );
        let summary = summarise(&zigzag);
        let reason = summary.outlook.as_ref().expect_err("a zigzag must not project");
        assert!(reason.contains("R²") && reason.contains("below 0.9"), "{reason}");
        let document = with_summary(json!({}), &summary);
        assert_eq!(document["projections"], Value::Null);
        assert_eq!(document["peak"], Value::Null);
        assert_eq!(document["fit"]["quality"], "poor_fit");
        assert!(document["refusal"].as_str().unwrap().contains("R²"));

        let three = points(|n, _| usl(1e5, 0.05, 0.01, n as f64), &[1, 2, 4], 3);
        let reason = summarise(&three).outlook.expect_err("three counts fit anything");
        assert!(reason.contains("only 3 distinct worker counts"), "{reason}");

        let two = points(|n, _| 1e5 * n as f64, &[1, 2], 3);
        let reason = summarise(&two).outlook.expect_err("two counts cannot be fitted");
        assert!(reason.contains("2 distinct worker count(s)"), "{reason}");
        assert_eq!(summarise(&[]).outlook.unwrap_err(), "nothing was measured");
    }

    #[test]
    fn figures_read_as_the_progress_line_shows_them() {
        assert_eq!(rate(412_345.0), "412 k");
        assert_eq!(rate(1_234_567.0), "1.23 M");
        assert_eq!(rate(45_678.0), "45.7 k");
        assert_eq!(rate(950.0), "950");
        assert_eq!(parameter(0.0412), "0.0412");
        assert_eq!(parameter(0.00031), "3.10e-4");
        assert_eq!(parameter(0.0), "0");
        assert_eq!(duration(Duration::from_secs(45)), "45s");
        assert_eq!(duration(Duration::from_secs(70)), "1m10s");
        assert_eq!(duration(Duration::from_secs(3720)), "1h02m");
        let open = UslInterval {
            low: 9.06,
            estimate: 17.4,
            high: f64::INFINITY,
        };
        assert_eq!(bracket(open, &count), "[9.1, ∞)");
    }
}

//! `cargo xtask perf-targets`: measures the targets written in docs/performance.md on this
//! machine, in release builds, and fails if one is missed. Throughput and efficiency come from
//! repeated runs (median, since a shared machine drifts); memory growth compares peak RSS of a
//! 1,000,000- and a 10,000,000-message run; the capacity search must finish within a minute.
//! The same throughput runs report the harness's cost per message: the pipeline's CPU time per
//! message (saturation) minus `limit` mode's, i.e. what the feeder, channels, tasks and the
//! pipeline's own measuring add to the stage functions' work (issue 19).
//! Probes are off: these targets are the pipeline's
//! own, and the CPU profiler's fixed tables (about 250 MiB resident) would hide growth.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use clap::Args;
use perfgate_results::Results;

use crate::cargo::build_profiler;

const MIN_THROUGHPUT: f64 = 1_000_000.0;
/// Issue 19's target. Met on the 2-vCPU AMD machine since the saturation feed runs on the
/// runtime (medians of 0.864–0.926 in five invocations of `--runs 5`, docs/performance.md).
const MIN_EFFICIENCY: f64 = 0.85;
const MAX_RSS_GROWTH: f64 = 1.1;
/// The capacity search on the default workload, seconds (issue 16).
const MAX_CAPACITY_SECONDS: f64 = 60.0;
/// A loose objective, so that the search has a knee to find on a shared machine whose pauses
/// alone put the p99 at a few milliseconds.
const CAPACITY_SLO: &str = "p99<=20ms";

#[derive(Debug, Args)]
pub(crate) struct Options {
    /// Repetitions of the throughput run (the median is compared)
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Skip the memory-growth check (it runs 11 million messages twice over)
    #[arg(long)]
    skip_memory: bool,
    /// Skip the capacity search's time check
    #[arg(long)]
    skip_capacity: bool,
}

struct Check {
    name: &'static str,
    measured: String,
    target: String,
    met: bool,
}

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    if options.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let binary = build_profiler()?;
    let out = PathBuf::from("target/perfgate/targets");
    let mut throughputs = Vec::new();
    let mut efficiencies = Vec::new();
    let mut harness_costs = Vec::new();
    for run in 0..options.runs {
        let results = profile(
            &binary,
            &out.join(format!("throughput-{run}")),
            &["--limit", "--phases", "saturation"],
        )?;
        let throughput = figure(&results, "cpu.messages_per_second")?;
        let efficiency = figure(&results, "pipeline.efficiency")?;
        let limit = figure(&results, "limit.messages_per_second")?;
        let cost = HarnessCost::of(&results);
        eprintln!(
            "run {}/{}: {:.0} msg/s (limit {:.0}), efficiency {:.3}, {}; load average {}",
            run + 1,
            options.runs,
            throughput,
            limit,
            efficiency,
            cost.map_or_else(|| "no CPU time per message".to_owned(), |cost| cost.to_string()),
            load_average()
        );
        throughputs.push(throughput);
        efficiencies.push(efficiency);
        harness_costs.extend(cost);
    }
    let median = |values: &[f64]| perfgate_stats::median(values).expect("at least one run");
    let throughput = median(&throughputs);
    let efficiency = median(&efficiencies);
    let mut checks = vec![
        Check {
            name: "throughput (median, msg/s)",
            measured: format!("{throughput:.0} (runs: {})", range(&throughputs, 0)),
            target: format!("≥ {MIN_THROUGHPUT:.0}"),
            met: throughput >= MIN_THROUGHPUT,
        },
        Check {
            name: "pipeline efficiency (median)",
            measured: format!("{efficiency:.3} (runs: {})", range(&efficiencies, 3)),
            target: format!("≥ {MIN_EFFICIENCY}"),
            met: efficiency >= MIN_EFFICIENCY,
        },
    ];
    let mut reported = Vec::new();
    if let Some(cost) = HarnessCost::median(&harness_costs) {
        reported.push((
            "harness cost (median, ns/msg)",
            format!(
                "{:.0} ({:.0} pipeline − {:.0} limit)",
                cost.harness_ns, cost.pipeline_ns, cost.limit_ns
            ),
        ));
    }
    if !options.skip_memory {
        let small = profile(&binary, &out.join("memory-1m"), &["--messages", "1000000"])?;
        let large = profile(&binary, &out.join("memory-10m"), &["--messages", "10000000"])?;
        let small_rss = figure(&small, "process.peak_rss_mb")?;
        let large_rss = figure(&large, "process.peak_rss_mb")?;
        let growth = large_rss / small_rss;
        checks.push(Check {
            name: "peak RSS 10M / 1M messages",
            measured: format!("{growth:.3} ({large_rss:.1} MiB / {small_rss:.1} MiB)"),
            target: format!("≤ {MAX_RSS_GROWTH}"),
            met: growth <= MAX_RSS_GROWTH,
        });
    }
    if !options.skip_capacity {
        let searched = profile(
            &binary,
            &out.join("capacity"),
            &["--quick", "--phases", "saturation", "--capacity", CAPACITY_SLO],
        )?;
        let capacity = searched
            .capacity
            .as_ref()
            .context("the capacity run recorded no search")?;
        checks.push(Check {
            name: "capacity search time (s)",
            measured: format!(
                "{:.1} ({} steps, {:.0} msg/s at {})",
                capacity.duration_seconds,
                capacity.steps.len(),
                capacity.max_rate_per_second,
                capacity.slo
            ),
            target: format!("≤ {MAX_CAPACITY_SECONDS:.0}"),
            met: capacity.duration_seconds <= MAX_CAPACITY_SECONDS,
        });
    }
    println!("{:<30} {:<36} {:<12} result", "target", "measured", "required");
    for check in &checks {
        println!(
            "{:<30} {:<36} {:<12} {}",
            check.name,
            check.measured,
            check.target,
            if check.met { "met" } else { "MISSED" }
        );
    }
    // Reported, not a target: the efficiency above is its consequence.
    for (name, measured) in &reported {
        println!("{name:<30} {measured:<36} {:<12} reported", "—");
    }
    Ok(if checks.iter().all(|check| check.met) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn profile(binary: &Path, out: &Path, args: &[&str]) -> anyhow::Result<Results> {
    let status = Command::new(binary)
        .args(args)
        .args(["--probes", "none", "--no-progress"])
        .arg("--out")
        .arg(out)
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| format!("running {}", binary.display()))?;
    if !status.success() {
        bail!("perfgate-profiler {} failed with {status}", args.join(" "));
    }
    let path = out.join("results.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    perfgate_results::read::parse(&text).with_context(|| format!("reading {}", path.display()))
}

/// The machine's 1-, 5- and 15-minute load averages, as `uptime` prints them: on a shared
/// machine a figure means little without the load it was measured under.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .filter(|loads| !loads.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The lowest and highest of `values`, e.g. `0.812–0.874`.
fn range(values: &[f64], decimals: usize) -> String {
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{low:.decimals$}–{high:.decimals$}")
}

/// What the harness adds to the stage functions' own work, per message, in one run: CPU time per
/// measured message of the pipeline's saturation window (`cpu.cpu_ns_per_message`, the whole
/// process: feeder, runtime workers, subscribers) minus that of `limit` mode's measured window
/// (`limit.cpu_ns_per_message`, the limit threads), both from the same invocation.
#[derive(Debug, Clone, Copy, PartialEq)]
struct HarnessCost {
    pipeline_ns: f64,
    limit_ns: f64,
    harness_ns: f64,
}

impl HarnessCost {
    fn new(pipeline_ns: f64, limit_ns: f64) -> Self {
        Self {
            pipeline_ns,
            limit_ns,
            harness_ns: pipeline_ns - limit_ns,
        }
    }

    /// From a run with both a saturation phase and limit mode; `None` when either CPU figure is
    /// missing (results from before limit mode measured its CPU time).
    fn of(results: &Results) -> Option<Self> {
        let pipeline = results.cpu.cpu_ns_per_message?;
        let limit = results.limit.as_ref()?.cpu_ns_per_message?;
        Some(Self::new(pipeline, limit))
    }

    /// The median of each figure over runs (each its own median, so the three need not add up
    /// exactly); `None` without runs.
    fn median(runs: &[Self]) -> Option<Self> {
        let of =
            |figure: fn(&Self) -> f64| perfgate_stats::median(&runs.iter().map(figure).collect::<Vec<_>>());
        Some(Self {
            pipeline_ns: of(|cost| cost.pipeline_ns)?,
            limit_ns: of(|cost| cost.limit_ns)?,
            harness_ns: of(|cost| cost.harness_ns)?,
        })
    }
}

impl std::fmt::Display for HarnessCost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CPU {:.0} ns/msg pipeline, {:.0} limit: harness {:.0} ns/msg",
            self.pipeline_ns, self.limit_ns, self.harness_ns
        )
    }
}

/// A metric of the catalogue from a run's results.
fn figure(results: &Results, id: &str) -> anyhow::Result<f64> {
    perfgate_results::metric(id)
        .and_then(|def| def.read(results))
        .with_context(|| format!("results have no {id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_lowest_to_highest() {
        assert_eq!(range(&[0.9, 0.812, 0.874], 3), "0.812–0.900");
        assert_eq!(range(&[1_234_567.4], 0), "1234567–1234567");
    }

    #[test]
    fn harness_cost_is_pipeline_cpu_minus_limit_cpu() {
        let cost = HarnessCost::new(1_500.0, 900.0);
        assert_eq!(cost.harness_ns, 600.0);
        assert_eq!(
            cost.to_string(),
            "CPU 1500 ns/msg pipeline, 900 limit: harness 600 ns/msg"
        );
    }

    #[test]
    fn harness_cost_needs_both_cpu_figures() {
        let mut results = Results::default();
        assert_eq!(HarnessCost::of(&results), None);
        results.cpu.cpu_ns_per_message = Some(1_200.0);
        assert_eq!(HarnessCost::of(&results), None, "no limit section");
        results.limit = Some(perfgate_results::LimitSection::default());
        assert_eq!(HarnessCost::of(&results), None, "limit without CPU time");
        results.limit.as_mut().unwrap().cpu_ns_per_message = Some(1_000.0);
        assert_eq!(
            HarnessCost::of(&results),
            Some(HarnessCost::new(1_200.0, 1_000.0))
        );
    }

    #[test]
    fn the_median_cost_takes_each_figure_median() {
        let runs = [
            HarnessCost::new(1_000.0, 900.0),
            HarnessCost::new(1_300.0, 950.0),
            HarnessCost::new(1_100.0, 700.0),
        ];
        let median = HarnessCost::median(&runs).unwrap();
        assert_eq!(median.pipeline_ns, 1_100.0);
        assert_eq!(median.limit_ns, 900.0);
        assert_eq!(median.harness_ns, 350.0, "median of 100, 350, 400");
        assert_eq!(HarnessCost::median(&[]), None);
    }
}

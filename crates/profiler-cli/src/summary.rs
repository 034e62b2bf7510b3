//! The short table printed after a run: what a person wants to see before opening the JSON.

use std::io::IsTerminal;
use std::path::Path;

use perfgate_profiler::{LatencySummary, Results};

/// ANSI styling when stdout is a terminal and `NO_COLOR` is unset (<https://no-color.org>);
/// plain text otherwise, so logs and pipes get no escape codes.
#[derive(Debug, Clone, Copy)]
struct Paint {
    on: bool,
}

impl Paint {
    fn for_stdout() -> Self {
        Self {
            on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn style(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn bold(self, text: &str) -> String {
        self.style("1", text)
    }

    fn dim(self, text: &str) -> String {
        self.style("2", text)
    }

    fn good(self, text: &str) -> String {
        self.style("32", text)
    }

    fn caution(self, text: &str) -> String {
        self.style("33", text)
    }

    fn bad(self, text: &str) -> String {
        self.style("1;31", text)
    }

    /// Green under `fine`, yellow under `poor`, red from there.
    fn graded(self, value: f64, fine: f64, poor: f64, text: &str) -> String {
        if value < fine {
            self.good(text)
        } else if value < poor {
            self.caution(text)
        } else {
            self.bad(text)
        }
    }
}

/// A rate in human units: 1.52 M, 760 k, 950.
pub(crate) fn rate(per_second: f64) -> String {
    if per_second >= 1e6 {
        format!("{:.2} M", per_second / 1e6)
    } else if per_second >= 1e3 {
        format!("{:.0} k", per_second / 1e3)
    } else {
        format!("{per_second:.0}")
    }
}

fn ms(value: f64) -> String {
    if value < 1.0 {
        format!("{:.0} µs", value * 1e3)
    } else {
        format!("{value:.2} ms")
    }
}

fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn latency_columns(latency: Option<&LatencySummary>) -> String {
    match latency {
        Some(l) => format!(
            "{:>9} {:>9} {:>9} {:>9}",
            ms(l.p50_ms),
            ms(l.p99_ms),
            ms(l.p999_ms),
            ms(l.max_ms)
        ),
        None => format!("{:>9} {:>9} {:>9} {:>9}", "-", "-", "-", "-"),
    }
}

pub(crate) fn print(results: &Results, path: &Path) {
    let paint = Paint::for_stdout();
    let env = &results.environment;
    println!();
    let header = format!(
        "perfgate · {} · {} build · {} logical cores · {}",
        env.workload
            .get("name")
            .and_then(|name| name.as_str())
            .unwrap_or("pipeline"),
        env.build_profile,
        env.logical_cores,
        env.cpu_model
    );
    println!("{}", paint.bold(&header));
    println!();
    let columns = format!(
        "{:<11} {:>12} {:>11} {:>11} {:>9} {:>9} {:>9} {:>9}",
        "phase", "rate msg/s", "messages", "throughput", "p50", "p99", "p99.9", "max"
    );
    println!("{}", paint.dim(&columns));
    for (name, phase) in &results.phases {
        let scheduled = phase
            .target_rate_per_second
            .map_or_else(|| "flat out".to_owned(), rate);
        println!(
            "{:<11} {:>12} {:>11} {} {}",
            name,
            scheduled,
            thousands(phase.measured_messages),
            paint.bold(&format!(
                "{:>11}",
                format!("{}/s", rate(phase.messages_per_second))
            )),
            latency_columns(phase.latency.as_ref())
        );
    }
    if let Some(limit) = &results.limit {
        println!(
            "{:<11} {:>12} {:>11} {:>11}",
            "limit",
            format!("{} threads", limit.threads),
            thousands(limit.messages),
            format!("{}/s", rate(limit.messages_per_second))
        );
    }
    let steal: Vec<String> = results
        .phases
        .iter()
        .filter_map(|(name, phase)| {
            let pct = phase.host_steal_pct?;
            Some(format!(
                "{name} {}",
                paint.graded(pct, 2.0, 10.0, &format!("{pct:.1} %"))
            ))
        })
        .collect();
    if !steal.is_empty() {
        // Stolen time is invisible in the process's own figures; say it where the times are.
        println!(
            "host steal (CPU time the hypervisor took from this machine): {}",
            steal.join(", ")
        );
    }
    if let Some(efficiency) = results.pipeline.efficiency {
        println!("pipeline efficiency {efficiency:.2} (saturation throughput / limit throughput)");
    }
    println!();
    let columns = format!(
        "{:<11} {:>7} {:>11} {:>11} {:>6} {:>16}",
        "stage", "workers", "service p50", "service p99", "busy", "queue p99 / cap"
    );
    println!("{}", paint.dim(&columns));
    for (name, stage) in &results.stages {
        let (p50, p99) = stage.service_time.as_ref().map_or(("-".into(), "-".into()), |s| {
            (format!("{:.2} µs", s.p50_us), format!("{:.2} µs", s.p99_us))
        });
        let queue = stage.queue_depth.as_ref().map_or("-".to_owned(), |q| {
            format!("{} / {}", q.p99, stage.queue_capacity)
        });
        println!(
            "{:<11} {:>7} {:>11} {:>11} {:>6} {:>16}",
            name,
            stage.workers,
            p50,
            p99,
            stage
                .busy_ratio
                .map_or_else(|| "—".to_owned(), |busy| format!("{:.0}%", busy * 100.0)),
            queue
        );
    }
    println!();
    let mut facts = Vec::new();
    if let Some(cache) = &results.cache {
        facts.push(format!("cache hit rate {:.1} %", cache.hit_rate * 100.0));
    }
    let errors = format!("errors {}", thousands(results.errors.total));
    facts.push(if results.errors.total > 0 {
        paint.bad(&errors)
    } else {
        errors
    });
    if let Some(fanout) = &results.fanout {
        facts.push(format!(
            "deliveries {} to {} subscribers (dropped {}, lagged {})",
            thousands(fanout.delivered),
            fanout.subscribers,
            thousands(fanout.dropped),
            thousands(fanout.lagged)
        ));
    }
    if let Some(peak) = results.process.peak_rss_mb {
        // The CPU profiler's tables are resident too; say how much of the peak is the profiler's
        // own, so it is not read as the pipeline's.
        match results.profiler.cpu_probe_rss_mb {
            Some(profiler) if profiler > 0.0 => facts.push(format!(
                "peak RSS {peak:.1} MiB (of which the CPU profiler's own {profiler:.1} MiB)"
            )),
            _ => facts.push(format!("peak RSS {peak:.1} MiB")),
        }
    }
    println!("{}", facts.join(" · "));
    print_probes(results, paint);
    if let Some(repetitions) = &results.repetitions {
        let spread = |id: &str, unit: &str, scale: f64| {
            repetitions.summary.get(id).map(|s| {
                format!(
                    "{id} median {:.3}{unit} ({:.3}–{:.3}, robust CV {:.1} %)",
                    s.median * scale,
                    s.min * scale,
                    s.max * scale,
                    s.robust_cv_percent
                )
            })
        };
        let parts: Vec<String> = [
            spread("cpu.messages_per_second", " k/s", 1e-3),
            spread("latency.p99_ms", " ms", 1.0),
        ]
        .into_iter()
        .flatten()
        .collect();
        println!("{} repetitions: {}", repetitions.count, parts.join("; "));
    }
    if let Some(capacity) = &results.capacity {
        let missed = capacity.failed_rate_per_second.map_or_else(
            || "none missed up to the search's ceiling".to_owned(),
            |failed| format!("missed at {}/s", rate(failed)),
        );
        println!(
            "{} {}/s at {} ({missed}; saturation {}/s; {} steps, {:.0} s)",
            paint.bold("capacity:"),
            rate(capacity.max_rate_per_second),
            capacity.slo,
            rate(capacity.saturation_messages_per_second),
            capacity.steps.len(),
            capacity.duration_seconds
        );
    }
    for warning in &results.warnings {
        println!("{} {warning}", paint.caution("warning:"));
    }
    println!("results: {}", path.display());
}

fn print_probes(results: &Results, paint: Paint) {
    let cpu = &results.cpu;
    if let Some(samples) = cpu.samples {
        println!();
        println!(
            "cpu profile ({}): {} samples ({:.0} per CPU-s, {} in libc and the kernel), standing for {:.0} % of the measured CPU; {:.0} % of {} cores busy; hottest functions (self):",
            cpu.profile_phase.as_deref().unwrap_or("-"),
            samples,
            cpu.effective_sample_rate_hz.unwrap_or(f64::NAN),
            cpu.not_unwound_samples.unwrap_or(0),
            cpu.profile_coverage_percent.unwrap_or(f64::NAN),
            cpu.utilisation_percent.unwrap_or(f64::NAN),
            results.environment.logical_cores
        );
        for function in cpu.hot_functions.iter().take(5) {
            println!(
                "  {:>5.1} %  {}",
                function.self_percent,
                shorten(&function.function, 100)
            );
        }
        if let Some(flamegraph) = results.files.get("flamegraph") {
            println!("  flamegraph: {flamegraph} (beside results.json); pprof: profile.pb");
        }
    }
    if let Some(memory) = &results.memory {
        println!(
            "heap ({} phase): baseline {:.1} MiB, peak {:.1} MiB, delta {:+.2} MiB, {} B and {} allocations per message, leak {}",
            memory.phase,
            memory.baseline_mb,
            memory.peak_mb,
            memory.delta_mb,
            memory
                .bytes_allocated_per_message
                .map_or_else(|| "—".to_owned(), |bytes| format!("{bytes:.0}")),
            memory
                .allocations_per_message
                .map_or_else(|| "—".to_owned(), |count| format!("{count:.1}")),
            if memory.leak_suspected {
                paint.bad("SUSPECTED")
            } else {
                paint.good("not suspected")
            }
        );
    }
    if let Some(asyncio) = &results.asyncio {
        let lag = asyncio.lag.as_ref();
        // Graded as the README reads it: well under a millisecond is healthy, milliseconds mean
        // a stage holds its worker.
        println!(
            "event-loop lag ({} phase): p50 {} p99 {} max {}; {} slow polls (≥ {} ms)",
            asyncio.phase,
            lag.map_or("-".into(), |l| ms(l.p50_ms)),
            lag.map_or("-".into(), |l| paint.graded(l.p99_ms, 1.0, 5.0, &ms(l.p99_ms))),
            lag.map_or("-".into(), |l| ms(l.max_ms)),
            asyncio.slow_polls,
            asyncio.slow_poll_threshold_ms
        );
        // Where the blocking code is: the tasks with the most slow-poll time, by spawn site
        // (every task is timed through tokio's poll hooks).
        for site in asyncio.slow_poll_sites.iter().take(3) {
            println!(
                "  {} slow polls ({:.1} ms, longest {}) in tasks spawned at {}",
                site.slow_polls,
                site.slow_poll_time_ms,
                ms(site.longest_ms),
                site.spawned_at
            );
        }
    }
    if let Some(overhead) = &results.profiler.overhead {
        if let Some(steal) = overhead.host_steal_pct {
            println!("probe overhead pairs ran with {steal:.1} % of the machine's CPU taken by the host");
        }
        println!(
            "probe overhead ({} pairs, probes {}): throughput × {:.3} (95 % interval {:.3}–{:.3})",
            overhead.pairs,
            overhead.probes,
            overhead.throughput_ratio,
            overhead.throughput_ratio_ci95.0,
            overhead.throughput_ratio_ci95.1,
        );
        if let (Some(ratio), Some((low, high))) =
            (overhead.p99_pair_ratio_median, overhead.p99_pair_ratio_ci95)
        {
            println!(
                "probe overhead in fixed-rate p99, median over pairs: × {ratio:.3} (95 % interval {low:.3}–{high:.3}; \
                 single pairs' quartiles {:.2}–{:.2})",
                overhead.p99_pair_ratio_iqr.0, overhead.p99_pair_ratio_iqr.1
            );
        }
        let pooled_interval = overhead.p99_ratio_ci95.map_or(String::new(), |(low, high)| {
            format!(" (95 % interval {low:.3}–{high:.3})")
        });
        println!(
            "probe overhead in fixed-rate p99, all runs of a side pooled: {} → {} = × {:.3}{pooled_interval}",
            ms(overhead.p99_off_ms),
            ms(overhead.p99_on_ms),
            overhead.p99_ratio,
        );
        if let (Some(ratio), Some((low, high))) = (
            overhead.cpu_per_message_ratio,
            overhead.cpu_per_message_ratio_ci95,
        ) {
            println!(
                "probe overhead in CPU per message (not blurred by time the host steals): × {ratio:.3} (95 % interval {low:.3}–{high:.3})"
            );
        }
        let throughput = against_target(
            overhead.throughput_ratio,
            overhead.throughput_ratio_ci95,
            THROUGHPUT_RATIO_TARGET,
            true,
        );
        let p99 = match (overhead.p99_pair_ratio_median, overhead.p99_pair_ratio_ci95) {
            (Some(median), Some(interval)) => against_target(median, interval, P99_RATIO_TARGET, false),
            _ => "not measured",
        };
        println!(
            "probe overhead targets: throughput ≥ {THROUGHPUT_RATIO_TARGET}: {throughput}; p99 ≤ {P99_RATIO_TARGET:.2}: {p99}"
        );
    }
}

/// The probes' cost this project holds itself to (docs/performance.md): with all probes on,
/// at least 0.97 of the throughput and at most 1.10 times the fixed-rate p99 of a run without.
const THROUGHPUT_RATIO_TARGET: f64 = 0.97;
const P99_RATIO_TARGET: f64 = 1.10;

/// Reads a ratio against its target the way docs/performance.md does: met when the whole 95 %
/// interval is on the right side, met by the estimate only when the interval crosses the target
/// (more pairs would settle it), missed when the estimate is on the wrong side.
fn against_target(estimate: f64, (low, high): (f64, f64), target: f64, at_least: bool) -> &'static str {
    let (estimate_ok, interval_ok) = if at_least {
        (estimate >= target, low >= target)
    } else {
        (estimate <= target, high <= target)
    };
    match (estimate_ok, interval_ok) {
        (true, true) => "met",
        (true, false) => "met by the estimate; the interval crosses it (more pairs would settle it)",
        (false, _) => "missed",
    }
}

fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(width - 1).collect();
        format!("{kept}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_is_met_only_when_its_whole_interval_is_on_the_right_side() {
        assert_eq!(against_target(0.984, (0.977, 0.988), 0.97, true), "met");
        assert!(against_target(0.98, (0.96, 1.0), 0.97, true).starts_with("met by the estimate"));
        assert_eq!(against_target(0.96, (0.95, 0.99), 0.97, true), "missed");
        assert_eq!(against_target(0.995, (0.910, 1.089), 1.10, false), "met");
        assert!(against_target(1.029, (0.963, 1.120), 1.10, false).starts_with("met by the estimate"));
        assert_eq!(against_target(1.2, (1.05, 1.3), 1.10, false), "missed");
        assert_eq!(
            against_target(0.97, (0.97, 0.99), 0.97, true),
            "met",
            "the target itself is met"
        );
    }

    #[test]
    fn formats_numbers_for_people() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(rate(1_520_000.0), "1.52 M");
        assert_eq!(rate(760_000.0), "760 k");
        assert_eq!(ms(0.071), "71 µs");
        assert_eq!(ms(12.345), "12.35 ms");
    }
}

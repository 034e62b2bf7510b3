//! The results sections the probes fill, shaped from what they measured: shared by a run's
//! results (`results/assemble.rs`) and the attach API's (`attach/shape.rs`), so both say the
//! same thing the same way. Knows the probes, not the pipeline or the driver.

use std::collections::BTreeMap;

use crate::probe::cpu::{CpuOutcome, CpuWindow, FunctionShare as RawShare, ProfilerFootprint};
use crate::probe::heap::{HeapOutcome, LEAK_MIN_BYTES, LEAK_MIN_R_SQUARED, LEAK_MIN_SHARE};
use crate::probe::lag::{LagOutcome, SlowSite};
use crate::probe::runtime::RuntimeOutcome;
use crate::stats::FromHistogram;
use perfgate_results::{
    Artifact, AsyncioSection, CpuSection, FunctionShare, LatencySummary, LeakSection, MemorySection,
    ProcessSection, ProfilerSection, RuntimeSection, SlowPollSite, TaskPollsSection, ToolInfo, WorkerSection,
};

pub(crate) const MIB: f64 = 1024.0 * 1024.0;

/// Below this many samples a CPU profile's ranking of functions is mostly noise (a function at
/// 5 % of 200 samples has a standard error of about 1.5 percentage points), and the results say so.
pub(crate) const MIN_TRUSTED_CPU_SAMPLES: u64 = 200;

/// The profile's sampled CPU time (samples × period) / the measured CPU time, %, outside which
/// the results say the kernel delivered far fewer samples than asked (CPU seconds stay right, as
/// they are scaled to the measured CPU, but rest on fewer samples), or more than the CPU time
/// measured (the CPU time was under-measured).
pub(crate) const COVERAGE_BAND: (f64, f64) = (50.0, 110.0);

/// Reads the process's peak RSS and CPU times from `getrusage`.
pub(crate) fn measure_process() -> ProcessSection {
    #[cfg(unix)]
    {
        // SAFETY: getrusage writes into the zeroed struct we own and reads nothing else.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            // Linux reports ru_maxrss in KiB.
            return ProcessSection {
                peak_rss_mb: Some(usage.ru_maxrss as f64 / 1024.0),
                cpu_user_s: Some(seconds(usage.ru_utime)),
                cpu_system_s: Some(seconds(usage.ru_stime)),
            };
        }
    }
    ProcessSection::default()
}

fn share(raw: &RawShare, total: u64, seconds_per_sample: f64) -> FunctionShare {
    let percent = |samples: u64| {
        if total == 0 {
            0.0
        } else {
            samples as f64 * 100.0 / total as f64
        }
    };
    FunctionShare {
        function: raw.function.clone(),
        self_samples: raw.self_samples,
        self_percent: percent(raw.self_samples),
        inclusive_samples: raw.inclusive_samples,
        inclusive_percent: percent(raw.inclusive_samples),
        selftime: raw.self_samples as f64 * seconds_per_sample,
        cumtime: raw.inclusive_samples as f64 * seconds_per_sample,
    }
}

/// Adds the CPU profile to the `cpu` section. Each sample stands for one sampling period of CPU
/// time, so `selftime` and `cumtime` are CPU seconds, and the time pprof could not unwind
/// (`[kernel]`, `[libc]`) is not spread over the other functions, as scaling the samples to the
/// measured CPU time would do.
pub(crate) fn add_profile(cpu: &mut CpuSection, profile: &CpuOutcome, cores: usize) {
    let cpu_seconds = (profile.user + profile.system).as_secs_f64();
    // Nothing is dropped (what pprof does not unwind is kept as `[kernel]` and `[libc]`), so the
    // samples only fall short of the measured CPU where the kernel sent fewer signals than asked
    // (at most one per timer tick, fewer under contention): a shortfall that falls on no function
    // in particular. Each sample therefore stands for an equal share of the CPU time measured
    // over the windows, and the functions' CPU seconds add up to it.
    let period = profile.period.as_secs_f64();
    let sampled = profile.samples as f64 * period;
    let seconds_per_sample = if profile.samples == 0 {
        period
    } else {
        cpu_seconds / profile.samples as f64
    };
    let wall = profile.window.as_secs_f64();
    cpu.profile_phase = Some(profile.phases.join("+"));
    cpu.samples = Some(profile.samples);
    cpu.sample_rate_hz = Some(profile.sample_rate_hz);
    cpu.effective_sample_rate_hz = (cpu_seconds > 0.0).then(|| profile.samples as f64 / cpu_seconds);
    cpu.sample_period_ms = Some(period * 1e3);
    cpu.sampled_cpu_s = Some(sampled);
    cpu.profile_coverage_percent = (cpu_seconds > 0.0).then(|| sampled / cpu_seconds * 100.0);
    cpu.not_unwound_samples = Some(profile.not_unwound);
    cpu.lost_samples = Some(profile.lost);
    cpu.user_time_s = Some(profile.user.as_secs_f64());
    cpu.system_time_s = Some(profile.system.as_secs_f64());
    cpu.utilisation_percent = (wall > 0.0).then(|| cpu_seconds / (wall * cores.max(1) as f64) * 100.0);
    cpu.top_functions = profile
        .top_inclusive
        .iter()
        .map(|raw| share(raw, profile.samples, seconds_per_sample))
        .collect();
    cpu.hot_functions = profile
        .top_self
        .iter()
        .map(|raw| share(raw, profile.samples, seconds_per_sample))
        .collect();
    cpu.threads = profile.threads.iter().cloned().collect();
}

pub(crate) fn memory_section(phase: &str, heap: &HeapOutcome) -> MemorySection {
    // No message finished in the window: nothing per message was measured.
    let per_message = |value: f64| (heap.messages > 0).then(|| value / heap.messages as f64);
    let jemalloc = heap.jemalloc_end;
    let mb = |bytes: u64| bytes as f64 / MIB;
    MemorySection {
        phase: phase.to_owned(),
        baseline_mb: heap.baseline_bytes / MIB,
        peak_mb: heap.peak_bytes / MIB,
        delta_mb: (heap.final_bytes - heap.baseline_bytes) / MIB,
        final_mb: heap.final_bytes / MIB,
        peak_method: format!(
            "high-water mark of live heap bytes kept by the tracking allocator on every allocation \
             (each thread folds its changes in at least every {} KiB), anchored to {}",
            crate::alloc::FLUSH_BYTES / 1024,
            if jemalloc.is_some() {
                "jemalloc's allocated bytes at the window's start"
            } else {
                "the tracked live bytes"
            }
        ),
        resident_mb: jemalloc.map(|j| mb(j.resident)),
        retained_mb: jemalloc.map(|j| mb(j.retained)),
        allocated_mb: jemalloc.map(|j| mb(j.allocated)),
        active_mb: jemalloc.map(|j| mb(j.active)),
        mapped_mb: jemalloc.map(|j| mb(j.mapped)),
        message_count: heap.messages,
        allocations_per_message: per_message(heap.allocations as f64),
        bytes_allocated_per_message: per_message(heap.allocated_bytes as f64),
        leak_suspected: heap.leak.suspected,
        leak: LeakSection {
            bytes_per_second: heap.leak.bytes_per_second,
            bytes_per_message: heap.leak.bytes_per_message,
            r_squared: heap.leak.r_squared,
            projected_growth_mb: heap.leak.projected_growth / MIB,
            points: heap.leak.points,
            rule: format!(
                "suspected when the fit against messages has R² ≥ {LEAK_MIN_R_SQUARED} and predicts growth of at least \
                 {:.0} MiB and {:.0} % of the baseline over the window",
                LEAK_MIN_BYTES / MIB,
                LEAK_MIN_SHARE * 100.0
            ),
        },
        series: heap.series.clone(),
    }
}

/// Uninstrumented work worth a warning: at least this share of the workers' time in the window.
/// The runtime's own scheduling between polls stays well under it (see the attach tests).
const UNINSTRUMENTED_WARN_SHARE: f64 = 0.05;

/// The workers' busy time that no instrumented poll accounts for, ns; only when not every task
/// was timed and the runtime probe ran.
fn uninstrumented_busy_ns(lag: &LagOutcome, runtime: Option<&RuntimeOutcome>) -> Option<f64> {
    if lag.every_task {
        return None;
    }
    let runtime = runtime?;
    let busy_ns: f64 = runtime.busy_ratio.iter().sum::<f64>() * lag.window_ns as f64;
    Some((busy_ns - lag.instrumented_poll_ns as f64).max(0.0))
}

/// A warning naming the gap, when uninstrumented work held the workers for a material share of
/// the window.
pub(crate) fn uninstrumented_warning(
    phase: &str,
    lag: &LagOutcome,
    section: &AsyncioSection,
) -> Option<String> {
    let gap_ms = section.uninstrumented_busy_ms?;
    let worker_ms = lag.window_ns as f64 * lag.workers.max(1) as f64 / 1e6;
    let share = gap_ms / worker_ms.max(f64::MIN_POSITIVE);
    (share >= UNINSTRUMENTED_WARN_SHARE).then(|| {
        format!(
            "{phase}: the runtime's workers were busy {gap_ms:.0} ms ({:.0} % of their time in the window) outside \
             any instrumented poll: tasks that are not instrumented (spawned without the probe) held them, and lag \
             cannot see their polls; instrument them, or install the poll hooks (PollHooks, a build with \
             --cfg tokio_unstable) to time every task",
            share * 100.0
        )
    })
}

pub(crate) fn asyncio_section(
    phase: &str,
    lag: &LagOutcome,
    runtime: Option<&RuntimeOutcome>,
) -> AsyncioSection {
    let ms = |ns: f64| ns / 1e6;
    let lag_summary = lag.lag.map(|lag| LatencySummary {
        count: lag.polls,
        min_ms: 0.0,
        mean_ms: ms(lag.mean_ns),
        stddev_ms: ms(lag.stddev_ns),
        p50_ms: ms(lag.p50_ns),
        p90_ms: ms(lag.p90_ns),
        p95_ms: ms(lag.p95_ns),
        p99_ms: ms(lag.p99_ns),
        p999_ms: ms(lag.p999_ns),
        max_ms: ms(lag.max_ns),
    });
    AsyncioSection {
        phase: phase.to_owned(),
        event_loop_lag_ms: lag_summary.as_ref().map(|summary| summary.p99_ms),
        method: format!(
            "time-weighted age of the poll each runtime worker is running, computed from the duration of every \
             poll of {}: how long a task that became ready at a random moment would wait for a worker busy in \
             someone else's poll (count = polls)",
            if lag.every_task {
                "every task on the runtime (tokio's poll hooks)"
            } else {
                "an instrumented task"
            }
        ),
        lag: lag_summary,
        slow_polls: lag.tasks.slow_polls,
        slow_poll_threshold_ms: lag.slow_poll_threshold_ns as f64 / 1e6,
        slow_poll_time_ms: lag.tasks.slow_poll_ns as f64 / 1e6,
        poll_time: LatencySummary::from_histogram(&lag.tasks.poll_ns),
        schedule_delay: LatencySummary::from_histogram(&lag.tasks.schedule_ns),
        timer_lag: LatencySummary::from_histogram(&lag.timer_lag_ns),
        active_tasks: runtime.map(|runtime| runtime.alive_tasks_max),
        series: lag.series.clone(),
        coverage: if lag.every_task {
            "every task"
        } else {
            "instrumented tasks"
        }
        .to_owned(),
        uninstrumented_busy_ms: uninstrumented_busy_ns(lag, runtime).map(ms),
        tasks: lag
            .named
            .iter()
            .map(|(name, report)| {
                (
                    name.clone(),
                    TaskPollsSection {
                        polls: report.poll_ns.len(),
                        busy_ms: ms(report.total_poll_ns as f64),
                        slow_polls: report.slow_polls,
                        poll_time: LatencySummary::from_histogram(&report.poll_ns),
                    },
                )
            })
            .collect(),
        slow_poll_sites: slow_poll_sites(&lag.tasks.slow_sites),
    }
}

/// The spawn sites with slow polls, most slow-poll time first, at most 10.
fn slow_poll_sites(sites: &[SlowSite]) -> Vec<SlowPollSite> {
    let mut sites = sites.to_vec();
    sites.sort_by_key(|site| std::cmp::Reverse(site.total_ns));
    sites
        .iter()
        .take(10)
        .map(|site| SlowPollSite {
            spawned_at: format!(
                "{}:{}:{}",
                site.spawned_at.file(),
                site.spawned_at.line(),
                site.spawned_at.column()
            ),
            slow_polls: site.polls,
            slow_poll_time_ms: site.total_ns as f64 / 1e6,
            longest_ms: site.longest_ns as f64 / 1e6,
        })
        .collect()
}

pub(crate) fn runtime_section(phase: &str, runtime: &RuntimeOutcome) -> RuntimeSection {
    let process = runtime.process.as_ref();
    RuntimeSection {
        phase: phase.to_owned(),
        workers: runtime.workers,
        alive_tasks_max: runtime.alive_tasks_max,
        alive_tasks_mean: runtime.alive_tasks_mean,
        global_queue_depth_max: runtime.global_queue_depth_max,
        per_worker: (0..runtime.workers)
            .map(|index| WorkerSection {
                index,
                busy_ratio: runtime.busy_ratio.get(index).copied().unwrap_or_default(),
                park_count: runtime.park_count.get(index).copied().unwrap_or_default(),
                park_unpark_count: runtime.park_unpark_count.get(index).copied().unwrap_or_default(),
            })
            .collect(),
        process_cpu_percent: process
            .map(|p| (p.user + p.system).as_secs_f64() / p.wall.as_secs_f64().max(1e-9) * 100.0),
        process_user_s: process.map(|p| p.user.as_secs_f64()),
        process_system_s: process.map(|p| p.system.as_secs_f64()),
        process_rss_max_mb: process.map(|p| p.rss_max_bytes as f64 / MIB),
        process_threads_max: process.map(|p| p.threads_max),
        series: runtime.series.clone(),
    }
}

/// Merges the CPU profiles of the measured windows into the `cpu` section, with the flamegraph
/// and pprof files, and the warnings a reader needs: too few samples to rank functions, or
/// samples that do not stand for the CPU time measured.
pub(crate) fn profile_cpu(
    cpu: &mut CpuSection,
    windows: &[&CpuWindow],
    cores: usize,
    files: &mut BTreeMap<String, String>,
    artifacts: &mut Vec<Artifact>,
    warnings: &mut Vec<String>,
) {
    if let Some((profile, profile_warnings)) = crate::probe::cpu::merge(windows) {
        warnings.extend(profile_warnings);
        add_profile(cpu, &profile, cores);
        let phases = profile.phases.join("+");
        if profile.samples < MIN_TRUSTED_CPU_SAMPLES {
            warnings.push(format!(
                "{phases}: the CPU profile holds only {} samples (fewer than {MIN_TRUSTED_CPU_SAMPLES}): its function \
                 shares are mostly sampling noise; measure a longer window (for a run: \
                 --messages, --duration)",
                profile.samples
            ));
        }
        if let Some(coverage) = cpu.profile_coverage_percent
            && !(COVERAGE_BAND.0..=COVERAGE_BAND.1).contains(&coverage)
            && profile.samples >= MIN_TRUSTED_CPU_SAMPLES
        {
            warnings.push(format!(
                "{phases}: the CPU profile's samples × period stand for {coverage:.0} % of the CPU time measured over \
                 its windows: {}",
                if coverage < COVERAGE_BAND.0 {
                    "the kernel sent far fewer samples than asked (at most one per timer tick, CONFIG_HZ per \
                     CPU-second, often 250, and fewer when other processes contend for the cores); CPU seconds per \
                     function are scaled to the measured CPU, so they rest on fewer samples"
                } else {
                    "more samples than CPU time: the process's CPU time was under-measured"
                }
            ));
        }
        if let Some(svg) = &profile.flamegraph_svg {
            files.insert("flamegraph".to_owned(), "flamegraph.svg".to_owned());
            artifacts.push(Artifact {
                file_name: "flamegraph.svg".to_owned(),
                bytes: svg.clone(),
            });
        }
        if let Some(pprof) = &profile.pprof {
            files.insert("pprof".to_owned(), "profile.pb".to_owned());
            artifacts.push(Artifact {
                file_name: "profile.pb".to_owned(),
                bytes: pprof.clone(),
            });
        }
    }
}

/// The tool that wrote the results: this crate, at its version.
pub(crate) fn tool_info() -> ToolInfo {
    ToolInfo {
        name: "perfgate".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// The profiler's own section: which probes ran and what the CPU profiler keeps for itself.
pub(crate) fn profiler_section(probes_run: &str, footprint: Option<ProfilerFootprint>) -> ProfilerSection {
    ProfilerSection {
        probes: probes_run.to_owned(),
        overhead: None,
        cpu_probe_heap_mb: footprint.map(|f| f.heap_bytes as f64 / MIB),
        cpu_probe_rss_mb: footprint.map(|f| f.rss_bytes as f64 / MIB),
    }
}

//! Shapes a run's raw outcome (histograms, counters, probe readings) into [`Results`].

use std::collections::BTreeMap;

use indexmap::IndexMap;

use crate::driver::{FEED_TICK_NS, LimitOutcome, Pacing, PhaseOutcome, RunOutcome, StageOutcome};
use crate::pipeline::ErrorTally;
use crate::probe::LagOutcome;
use crate::probe::cpu::{CpuOutcome, CpuWindow, FunctionShare as RawShare};
use crate::probe::heap::{HeapOutcome, LEAK_MIN_BYTES, LEAK_MIN_R_SQUARED, LEAK_MIN_SHARE};
use crate::probe::runtime::RuntimeOutcome;
use crate::stats::FromHistogram;
use perfgate_results::LatencySummary;
use perfgate_results::{
    Artifact, AsyncioSection, CacheSection, CpuSection, Environment, ErrorsSection, FanoutSection,
    FunctionShare, LatencySection, LeakSection, LimitSection, MemorySection, PhaseSection, PipelineSection,
    ProcessSection, ProfilerSection, Results, RuntimeSection, SCHEMA_VERSION, StageSection,
    SubscriberSection, ToolInfo, WorkerSection,
};
use perfgate_results::{DepthSummary, ServiceTimeSummary};

const MIB: f64 = 1024.0 * 1024.0;

/// Below this many samples a CPU profile's ranking of functions is mostly noise (a function at
/// 5 % of 200 samples has a standard error of about 1.5 percentage points), and the results say so.
const MIN_TRUSTED_CPU_SAMPLES: u64 = 200;

/// The profile's sampled CPU time / the measured CPU time, %, outside which its CPU seconds are
/// flagged: the accuracy the profile is meant to have (per-function CPU seconds within 10 %).
const COVERAGE_BAND: (f64, f64) = (90.0, 110.0);

/// How a phase's latency is measured.
fn measured_from(pacing: Pacing) -> String {
    match pacing {
        Pacing::Saturation => "creation time (queueing at saturation dominates)".to_owned(),
        Pacing::Rate(_) => format!(
            "intended send time on the fixed-rate schedule (open loop; includes up to {} µs of feeder tick)",
            FEED_TICK_NS / 1_000
        ),
    }
}

/// Shapes a run's raw outcome into results.
pub(crate) fn assemble(
    outcome: &RunOutcome,
    environment: Environment,
    stage_names: &[String],
    lag_threshold_ms: f64,
    probes_run: &str,
) -> Results {
    let mut warnings = Vec::new();
    if environment.build_profile != "release" {
        warnings.push(
            "measured in a debug build: figures are not representative; use cargo xtask bench".to_owned(),
        );
    }
    let phases_run: Vec<&PhaseOutcome> = [&outcome.saturation, &outcome.fixed_rate]
        .into_iter()
        .flatten()
        .collect();
    let throughput_phase = phases_run[0];
    let latency_phase = *phases_run.last().expect("validation requires at least one phase");
    let phases: IndexMap<String, PhaseSection> = phases_run
        .iter()
        .map(|phase| {
            (
                phase.name().to_owned(),
                phase_section(phase, lag_threshold_ms, &mut warnings),
            )
        })
        .collect();
    let latency_summary = LatencySummary::from_histogram(&latency_phase.latency);
    let latency = latency_summary.clone().map(|summary| LatencySection {
        phase: latency_phase.name().to_owned(),
        rate_per_second: match latency_phase.pacing {
            Pacing::Rate(rate) => Some(rate),
            Pacing::Saturation => None,
        },
        measured_from: measured_from(latency_phase.pacing),
        summary,
    });
    let cpu = CpuSection {
        phase: throughput_phase.name().to_owned(),
        messages_per_second: throughput_phase.messages_per_second(),
        avg_latency_ms: latency_summary.map(|summary| summary.mean_ms),
        total_time: throughput_phase.window().as_secs_f64(),
        message_count: throughput_phase.feed.measured_messages,
        profile_phase: None,
        samples: None,
        sample_rate_hz: None,
        effective_sample_rate_hz: None,
        sample_period_ms: None,
        sampled_cpu_s: None,
        profile_coverage_percent: None,
        not_unwound_samples: None,
        lost_samples: None,
        cpu_ns_per_message: throughput_phase
            .probes
            .window_cpu
            .filter(|(_, messages)| *messages > 0)
            .map(|(cpu, messages)| cpu.as_nanos() as f64 / messages as f64),
        user_time_s: None,
        system_time_s: None,
        utilisation_percent: None,
        top_functions: Vec::new(),
        hot_functions: Vec::new(),
        threads: IndexMap::new(),
    };
    let mut errors = ErrorTally::default();
    for phase in &phases_run {
        errors.merge(&phase.errors());
    }
    let errors = errors_section(&errors);
    let generated = phases_run.iter().map(|phase| phase.feed.generated()).sum();
    let processed = phases_run.iter().map(|phase| phase.processed).sum();
    let stages = phases[throughput_phase.name()].stages.clone();
    let memory = phases[throughput_phase.name()].memory.clone();
    let asyncio = phases[latency_phase.name()].asyncio.clone();
    if asyncio.is_some() && latency_phase.name() == "saturation" {
        warnings.push(
            "event-loop lag was measured at saturation only: there every task is always busy, so lag measures \
             load, not blocking; run the fixed-rate phase to see blocking"
                .to_owned(),
        );
    }
    let runtime = phases[latency_phase.name()].runtime.clone();
    let mut artifacts = Vec::new();
    let mut files = BTreeMap::new();
    let mut cpu = cpu;
    for phase in &phases_run {
        warnings.extend(
            phase
                .probes
                .warnings
                .iter()
                .map(|w| format!("{}: {w}", phase.name())),
        );
        if let Some(heap_profile) = &phase.probes.heap_profile {
            files.insert("heap_profile".to_owned(), "heap.pb.gz".to_owned());
            artifacts.push(Artifact {
                file_name: "heap.pb.gz".to_owned(),
                bytes: heap_profile.clone(),
            });
        }
    }
    let windows: Vec<&CpuWindow> = phases_run
        .iter()
        .filter_map(|phase| phase.probes.cpu.as_ref())
        .collect();
    if let Some((profile, profile_warnings)) = crate::probe::cpu::merge(&windows) {
        warnings.extend(profile_warnings);
        add_profile(&mut cpu, &profile, environment.logical_cores);
        let phases = profile.phases.join("+");
        if profile.samples < MIN_TRUSTED_CPU_SAMPLES {
            warnings.push(format!(
                "{phases}: the CPU profile holds only {} samples (fewer than {MIN_TRUSTED_CPU_SAMPLES}): its function \
                 shares are mostly sampling noise; profile a longer window (--messages, --duration) or raise \
                 --cpu-hz",
                profile.samples
            ));
        }
        if let Some(coverage) = cpu.profile_coverage_percent
            && !(COVERAGE_BAND.0..=COVERAGE_BAND.1).contains(&coverage)
            && profile.samples >= MIN_TRUSTED_CPU_SAMPLES
        {
            warnings.push(format!(
                "{phases}: the CPU profile's samples stand for {coverage:.0} % of the CPU time measured over its \
                 windows, so its CPU seconds per function are off by as much: {}",
                if coverage < COVERAGE_BAND.0 {
                    "the kernel did not send a sample for every period: it sends at most one per timer tick \
                     (CONFIG_HZ per CPU-second, often 250; lower --cpu-hz if it is above that), and fewer when \
                     other processes contend for the cores"
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
    let cache = sum_cache(phases.values().filter_map(|phase| phase.cache.as_ref()));
    let fanout = sum_fanout(phases.values().filter_map(|phase| phase.fanout.as_ref()));
    let limit = outcome.limit.as_ref().map(limit_section);
    let efficiency = match (&outcome.saturation, &limit) {
        (Some(saturation), Some(limit)) if limit.messages_per_second > 0.0 => {
            Some(saturation.messages_per_second() / limit.messages_per_second)
        }
        _ => None,
    };
    Results {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo {
            name: "perfgate".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        environment,
        cpu,
        memory,
        asyncio,
        runtime,
        latency,
        stages,
        cache,
        pipeline: PipelineSection {
            stages: stage_names.to_vec(),
            generated,
            processed,
            errors: errors.total,
            efficiency,
        },
        errors,
        fanout,
        limit,
        process: measure_process(),
        profiler: ProfilerSection {
            probes: probes_run.to_owned(),
            overhead: None,
            cpu_probe_heap_mb: outcome.footprint.map(|f| f.heap_bytes as f64 / MIB),
            cpu_probe_rss_mb: outcome.footprint.map(|f| f.rss_bytes as f64 / MIB),
        },
        repetitions: None,
        files,
        phases,
        warnings,
        artifacts,
    }
}

fn errors_section(tally: &ErrorTally) -> ErrorsSection {
    ErrorsSection {
        total: tally.total(),
        by_kind: tally
            .iter()
            .map(|(kind, count)| (kind.to_owned(), count))
            .collect(),
    }
}

fn phase_section(phase: &PhaseOutcome, lag_threshold_ms: f64, warnings: &mut Vec<String>) -> PhaseSection {
    let window = phase.window();
    let target_rate = match phase.pacing {
        Pacing::Rate(rate) => Some(rate),
        Pacing::Saturation => None,
    };
    let achieved = phase.messages_per_second();
    if let Some(rate) = target_rate
        && achieved < rate * 0.95
    {
        warnings.push(format!(
                "fixed_rate: achieved {achieved:.0} msg/s of the scheduled {rate:.0} msg/s; the pipeline could not keep up, so latency includes the backlog"
            ));
    }
    if phase.feed.measured_messages > 0 && window.is_zero() {
        warnings.push(format!("{}: the measured window was empty", phase.name()));
    }
    let stages = phase
        .stages
        .iter()
        .enumerate()
        .map(|(index, stage)| (stage.name.clone(), stage_section(index, stage, window)))
        .collect();
    let counters = |name: &str| -> Option<u64> {
        let mut found = false;
        let mut total = 0;
        for stage in &phase.stages {
            for counter in stage.counters.iter().filter(|counter| counter.name == name) {
                found = true;
                total += counter.value;
            }
        }
        found.then_some(total)
    };
    // A cache that was never asked has no hit rate: no section rather than a rate of 0.
    let cache = match (counters("cache_hits"), counters("cache_misses")) {
        (Some(hits), Some(misses)) if hits + misses > 0 => Some(CacheSection {
            hits,
            misses,
            hit_rate: ratio(hits, hits + misses),
            evictions: counters("cache_evictions"),
        }),
        _ => None,
    };
    PhaseSection {
        mode: phase.name().to_owned(),
        target_rate_per_second: target_rate,
        messages_per_second: achieved,
        window_seconds: window.as_secs_f64(),
        measured_messages: phase.feed.measured_messages,
        warmup_messages: phase.feed.warmup_messages,
        generated: phase.feed.generated(),
        processed: phase.processed,
        errors: errors_section(&phase.errors()),
        latency: LatencySummary::from_histogram(&phase.latency),
        stages,
        cache,
        fanout: fanout_section(phase, lag_threshold_ms),
        wall_seconds: phase.wall.as_secs_f64(),
        host_steal_pct: phase.probes.window_steal_pct,
        memory: phase
            .probes
            .heap
            .as_ref()
            .map(|heap| memory_section(phase.name(), heap)),
        asyncio: phase
            .probes
            .lag
            .as_ref()
            .map(|lag| asyncio_section(phase.name(), lag, phase.probes.runtime.as_ref())),
        runtime: phase
            .probes
            .runtime
            .as_ref()
            .map(|runtime| runtime_section(phase.name(), runtime)),
    }
}

fn stage_section(index: usize, stage: &StageOutcome, window: std::time::Duration) -> StageSection {
    let window_ns = window.as_nanos() as f64 * stage.workers as f64;
    StageSection {
        index,
        workers: stage.workers,
        processed: stage.processed,
        errors: stage.errors.total(),
        service_time: ServiceTimeSummary::from_histogram(&stage.service_ns),
        busy_ratio: (window_ns > 0.0).then(|| stage.busy_ns as f64 / window_ns),
        queue_depth: DepthSummary::from_histogram(&stage.depth),
        queue_capacity: stage.capacity_messages,
        counters: stage
            .counters
            .iter()
            .map(|counter| (counter.name.to_owned(), counter.value))
            .collect(),
    }
}

fn fanout_section(phase: &PhaseOutcome, lag_threshold_ms: f64) -> Option<FanoutSection> {
    if phase.subscribers.is_empty() {
        return None;
    }
    let per_subscriber: Vec<SubscriberSection> = phase
        .subscribers
        .iter()
        .zip(&phase.dropped)
        .enumerate()
        .map(|(index, (report, &dropped))| SubscriberSection {
            index,
            slow: report.slow,
            delivered: report.delivered,
            dropped,
            lagged: report.lagged,
        })
        .collect();
    Some(FanoutSection {
        subscribers: per_subscriber.len(),
        slow_subscribers: per_subscriber.iter().filter(|s| s.slow).count(),
        offered: phase.processed * per_subscriber.len() as u64,
        delivered: per_subscriber.iter().map(|s| s.delivered).sum(),
        dropped: per_subscriber.iter().map(|s| s.dropped).sum(),
        lagged: per_subscriber.iter().map(|s| s.lagged).sum(),
        lag_threshold_ms,
        per_subscriber,
    })
}

fn sum_cache<'a>(sections: impl Iterator<Item = &'a CacheSection>) -> Option<CacheSection> {
    sections.fold(None, |total: Option<CacheSection>, section| {
        Some(match total {
            None => section.clone(),
            Some(total) => {
                let hits = total.hits + section.hits;
                let misses = total.misses + section.misses;
                CacheSection {
                    hits,
                    misses,
                    hit_rate: ratio(hits, hits + misses),
                    evictions: match (total.evictions, section.evictions) {
                        (Some(a), Some(b)) => Some(a + b),
                        (a, b) => a.or(b),
                    },
                }
            }
        })
    })
}

fn sum_fanout<'a>(sections: impl Iterator<Item = &'a FanoutSection>) -> Option<FanoutSection> {
    sections.fold(None, |total: Option<FanoutSection>, section| {
        Some(match total {
            None => section.clone(),
            Some(mut total) => {
                total.offered += section.offered;
                total.delivered += section.delivered;
                total.dropped += section.dropped;
                total.lagged += section.lagged;
                for (sum, part) in total.per_subscriber.iter_mut().zip(&section.per_subscriber) {
                    sum.delivered += part.delivered;
                    sum.dropped += part.dropped;
                    sum.lagged += part.lagged;
                }
                total
            }
        })
    })
}

fn limit_section(limit: &LimitOutcome) -> LimitSection {
    LimitSection {
        messages_per_second: limit.messages_per_second(),
        threads: limit.threads,
        messages: limit.messages,
        total_time: limit.window.as_secs_f64(),
        processed: limit.processed,
        errors: limit.rejected,
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Reads the process's peak RSS and CPU times from `getrusage`.
fn measure_process() -> ProcessSection {
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
fn add_profile(cpu: &mut CpuSection, profile: &CpuOutcome, cores: usize) {
    let cpu_seconds = (profile.user + profile.system).as_secs_f64();
    let seconds_per_sample = profile.period.as_secs_f64();
    let sampled = profile.samples as f64 * seconds_per_sample;
    let wall = profile.window.as_secs_f64();
    cpu.profile_phase = Some(profile.phases.join("+"));
    cpu.samples = Some(profile.samples);
    cpu.sample_rate_hz = Some(profile.sample_rate_hz);
    cpu.effective_sample_rate_hz = (cpu_seconds > 0.0).then(|| profile.samples as f64 / cpu_seconds);
    cpu.sample_period_ms = Some(seconds_per_sample * 1e3);
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

fn memory_section(phase: &str, heap: &HeapOutcome) -> MemorySection {
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

fn asyncio_section(phase: &str, lag: &LagOutcome, runtime: Option<&RuntimeOutcome>) -> AsyncioSection {
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
        method: "time-weighted age of the poll each runtime worker is running, computed from the duration of every \
                 poll of a pipeline task: how long a task that became ready at a random moment would wait for a worker \
                 busy in someone else's poll (count = polls)"
            .to_owned(),
        lag: lag_summary,
        slow_polls: lag.tasks.slow_polls,
        slow_poll_threshold_ms: lag.slow_poll_threshold_ns as f64 / 1e6,
        slow_poll_time_ms: lag.tasks.slow_poll_ns as f64 / 1e6,
        poll_time: LatencySummary::from_histogram(&lag.tasks.poll_ns),
        schedule_delay: LatencySummary::from_histogram(&lag.tasks.schedule_ns),
        timer_lag: LatencySummary::from_histogram(&lag.timer_lag_ns),
        active_tasks: runtime.map(|runtime| runtime.alive_tasks_max),
        series: lag.series.clone(),
    }
}

fn runtime_section(phase: &str, runtime: &RuntimeOutcome) -> RuntimeSection {
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

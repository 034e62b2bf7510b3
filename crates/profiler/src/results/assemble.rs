//! Shapes a run's raw outcome (histograms, counters, probe readings) into [`Results`].

use std::collections::BTreeMap;

use indexmap::IndexMap;

use crate::driver::{FEED_TICK_NS, LimitOutcome, Pacing, PhaseOutcome, RunOutcome, StageOutcome};
use crate::pipeline::ErrorTally;
use crate::probe::cpu::CpuWindow;
use crate::sections::{
    asyncio_section, measure_process, memory_section, profile_cpu, profiler_section, runtime_section,
    tool_info, uninstrumented_warning,
};
use crate::stats::FromHistogram;
use perfgate_results::LatencySummary;
use perfgate_results::{
    Artifact, CacheSection, CpuSection, Environment, ErrorsSection, FanoutSection, LatencySection,
    LimitSection, PhaseSection, PipelineSection, Results, SCHEMA_VERSION, StageSection, SubscriberSection,
};
use perfgate_results::{DepthSummary, ServiceTimeSummary};

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
    profile_cpu(
        &mut cpu,
        &windows,
        environment.logical_cores,
        &mut files,
        &mut artifacts,
        &mut warnings,
    );
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
        tool: tool_info(),
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
        profiler: profiler_section(probes_run, outcome.footprint),
        repetitions: None,
        capacity: None,
        sweep: None,
        chaos: None,
        database: None,
        // Counted under Valgrind by `cargo xtask bench --instructions`, which adds it.
        instructions: None,
        files,
        phases,
        warnings,
        artifacts,
    }
}

pub(super) fn errors_section(tally: &ErrorTally) -> ErrorsSection {
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
        asyncio: phase.probes.lag.as_ref().map(|lag| {
            let section = asyncio_section(phase.name(), lag, phase.probes.runtime.as_ref());
            warnings.extend(uninstrumented_warning(phase.name(), lag, &section));
            section
        }),
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
        cpu_ns_per_message: limit.cpu_ns_per_message(),
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

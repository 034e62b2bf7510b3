//! The results file, `results.json`: the one contract between the profiler and everything that
//! reads its output. Field names keep those of the older `performance_results.json`
//! (`cpu.messages_per_second`, `cpu.avg_latency_ms`, ...) wherever they mean the same thing, so
//! existing thresholds keep working. Units are in the field names. `docs/results-schema.md`
//! describes every field.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::driver::{FEED_TICK_NS, LimitOutcome, Pacing, PhaseOutcome, RunOutcome, StageOutcome};
use crate::pipeline::ErrorTally;
use crate::stats::{DepthSummary, LatencySummary, ServiceTimeSummary};

/// Version of this layout. Additive changes keep it; renames or changes of meaning bump it.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole run's results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    /// Layout version, always the first field.
    pub schema_version: u32,
    /// The tool that wrote the file.
    pub tool: ToolInfo,
    /// What makes runs comparable: when, where, what code, what workload.
    pub environment: Environment,
    /// Throughput of the saturation phase, under the older tool's names.
    pub cpu: CpuSection,
    /// End-to-end latency of the fixed-rate phase (or of saturation if it did not run).
    pub latency: Option<LatencySection>,
    /// Per-stage figures from the saturation phase (or fixed-rate if saturation did not run).
    pub stages: IndexMap<String, StageSection>,
    /// Cache counters of the stages that report them, summed over all phases.
    pub cache: Option<CacheSection>,
    /// Rejected messages over all phases, by kind.
    pub errors: ErrorsSection,
    /// Deliveries to subscribers over all phases.
    pub fanout: Option<FanoutSection>,
    /// Message accounting over all phases, and how the pipeline compares with `limit` mode.
    pub pipeline: PipelineSection,
    /// `limit` mode, when it ran.
    pub limit: Option<LimitSection>,
    /// The profiler process itself.
    pub process: ProcessSection,
    /// Every phase in full, in the order they ran.
    pub phases: IndexMap<String, PhaseSection>,
    /// Things the reader should know about these figures.
    pub warnings: Vec<String>,
}

/// Name and version of the writer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolInfo {
    /// `perfgate`.
    pub name: String,
    /// The profiler's crate version.
    pub version: String,
}

/// The run's circumstances.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Environment {
    /// When the run started, UTC, RFC 3339.
    pub timestamp: String,
    /// `git rev-parse HEAD` of the working directory, if it is a git checkout.
    pub git_commit: Option<String>,
    /// Whether the checkout had uncommitted changes.
    pub git_dirty: Option<bool>,
    /// The compiler that built the profiler.
    pub rustc: String,
    /// `release` or `debug`: figures from a debug build are not comparable.
    pub build_profile: String,
    /// CPU brand string.
    pub cpu_model: String,
    /// Logical cores available to the process.
    pub logical_cores: usize,
    /// Operating system name and version.
    pub os: String,
    /// Kernel version.
    pub kernel: Option<String>,
    /// Host name.
    pub hostname: Option<String>,
    /// The run settings (`RunConfig`).
    pub run: Value,
    /// The workload's own configuration, as its builder describes it.
    pub workload: Value,
}

/// The older tool's `cpu` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CpuSection {
    /// Which phase these figures come from (`saturation` unless it did not run).
    pub phase: String,
    /// Measured messages divided by the measured window.
    pub messages_per_second: f64,
    /// Mean end-to-end latency, ms, from the `latency` section's phase.
    pub avg_latency_ms: Option<f64>,
    /// The measured window, s: first measured message in to last one out.
    pub total_time: f64,
    /// Measured messages.
    pub message_count: u64,
}

/// End-to-end latency and the rate it was measured at.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatencySection {
    /// `fixed_rate` or `saturation`.
    pub phase: String,
    /// The scheduled rate, messages/s; `null` at saturation.
    pub rate_per_second: Option<f64>,
    /// What latency is measured from.
    pub measured_from: String,
    /// The percentiles.
    #[serde(flatten)]
    pub summary: LatencySummary,
}

/// One stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageSection {
    /// Position in the pipeline, from 0.
    pub index: usize,
    /// Workers running the stage.
    pub workers: usize,
    /// Messages the stage passed on (warm-up included).
    pub processed: u64,
    /// Messages the stage rejected (warm-up included).
    pub errors: u64,
    /// Per-message service time over measured batches.
    pub service_time: Option<ServiceTimeSummary>,
    /// Time spent processing measured batches over the window, per worker (1.0 = always busy).
    pub busy_ratio: f64,
    /// Messages waiting for the stage, sampled during the measured window.
    pub queue_depth: Option<DepthSummary>,
    /// Messages the stage's input channels hold when full.
    pub queue_capacity: usize,
    /// The stage's own counters, summed over workers.
    pub counters: BTreeMap<String, u64>,
}

/// Cache effectiveness.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheSection {
    /// Lookups answered by the cache.
    pub hits: u64,
    /// Lookups that went to the backing store.
    pub misses: u64,
    /// `hits / (hits + misses)`.
    pub hit_rate: f64,
    /// Entries evicted to stay within capacity, if the stage reports it.
    pub evictions: Option<u64>,
}

/// Rejected messages.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorsSection {
    /// All rejected messages.
    pub total: u64,
    /// Per error kind.
    pub by_kind: BTreeMap<String, u64>,
}

/// Fan-out to subscribers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FanoutSection {
    /// Subscribers.
    pub subscribers: usize,
    /// Of which artificially slow.
    pub slow_subscribers: usize,
    /// Deliveries attempted: processed messages × subscribers.
    pub offered: u64,
    /// Deliveries a subscriber received.
    pub delivered: u64,
    /// Deliveries dropped because the subscriber's queue was full.
    pub dropped: u64,
    /// Deliveries received after waiting longer than `lag_threshold_ms` in the queue.
    pub lagged: u64,
    /// The lag threshold, ms.
    pub lag_threshold_ms: f64,
    /// Each subscriber.
    pub per_subscriber: Vec<SubscriberSection>,
}

/// One subscriber.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubscriberSection {
    /// Its index.
    pub index: usize,
    /// Whether it was made slow on purpose.
    pub slow: bool,
    /// Deliveries received.
    pub delivered: u64,
    /// Deliveries dropped.
    pub dropped: u64,
    /// Deliveries received late.
    pub lagged: u64,
}

/// Message accounting.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PipelineSection {
    /// Stage names in order.
    pub stages: Vec<String>,
    /// Messages the source produced, all phases, warm-up included.
    pub generated: u64,
    /// Messages that completed the last stage. `generated = processed + errors`.
    pub processed: u64,
    /// Messages rejected by a stage (same as `errors.total`).
    pub errors: u64,
    /// Saturation throughput divided by `limit` throughput, when both ran.
    pub efficiency: Option<f64>,
}

/// `limit` mode: the stage functions in a plain loop per thread.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LimitSection {
    /// Measured messages per second over all threads.
    pub messages_per_second: f64,
    /// Threads.
    pub threads: usize,
    /// Measured messages.
    pub messages: u64,
    /// The measured window, s.
    pub total_time: f64,
    /// Measured messages that passed every stage.
    pub processed: u64,
    /// Measured messages rejected by a stage.
    pub errors: u64,
}

/// The profiler process.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProcessSection {
    /// Peak resident set size, MiB (`getrusage` `ru_maxrss`).
    pub peak_rss_mb: Option<f64>,
    /// User CPU time of the whole process, s.
    pub cpu_user_s: Option<f64>,
    /// System CPU time of the whole process, s.
    pub cpu_system_s: Option<f64>,
}

/// One phase in full.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseSection {
    /// `saturation` or `fixed_rate`.
    pub mode: String,
    /// The scheduled rate, messages/s (`fixed_rate` only).
    pub target_rate_per_second: Option<f64>,
    /// Measured messages over the measured window.
    pub messages_per_second: f64,
    /// The measured window, s.
    pub window_seconds: f64,
    /// Messages in the measured window.
    pub measured_messages: u64,
    /// Warm-up messages before it.
    pub warmup_messages: u64,
    /// Messages generated (warm-up + measured).
    pub generated: u64,
    /// Messages that completed the last stage.
    pub processed: u64,
    /// Rejected messages.
    pub errors: ErrorsSection,
    /// End-to-end latency of measured messages.
    pub latency: Option<LatencySummary>,
    /// Per stage.
    pub stages: IndexMap<String, StageSection>,
    /// Cache counters.
    pub cache: Option<CacheSection>,
    /// Fan-out.
    pub fanout: Option<FanoutSection>,
    /// Wall time of the phase including warm-up and drain, s.
    pub wall_seconds: f64,
}

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

impl Results {
    /// Shapes a run's raw outcome into results.
    pub(crate) fn assemble(
        outcome: &RunOutcome,
        environment: Environment,
        stage_names: &[String],
        lag_threshold_ms: f64,
    ) -> Self {
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
        let latency_summary = LatencySummary::from_ns(&latency_phase.latency);
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
        };
        let mut errors = ErrorTally::default();
        for phase in &phases_run {
            errors.merge(&phase.errors());
        }
        let errors = errors_section(&errors);
        let generated = phases_run.iter().map(|phase| phase.feed.generated()).sum();
        let processed = phases_run.iter().map(|phase| phase.processed).sum();
        let stages = phases[throughput_phase.name()].stages.clone();
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
            process: ProcessSection::measure(),
            phases,
            warnings,
        }
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
    let cache = match (counters("cache_hits"), counters("cache_misses")) {
        (Some(hits), Some(misses)) => Some(CacheSection {
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
        latency: LatencySummary::from_ns(&phase.latency),
        stages,
        cache,
        fanout: fanout_section(phase, lag_threshold_ms),
        wall_seconds: phase.wall.as_secs_f64(),
    }
}

fn stage_section(index: usize, stage: &StageOutcome, window: std::time::Duration) -> StageSection {
    let window_ns = window.as_nanos() as f64 * stage.workers as f64;
    StageSection {
        index,
        workers: stage.workers,
        processed: stage.processed,
        errors: stage.errors.total(),
        service_time: ServiceTimeSummary::from_ns(&stage.service_ns),
        busy_ratio: if window_ns > 0.0 {
            stage.busy_ns as f64 / window_ns
        } else {
            0.0
        },
        queue_depth: DepthSummary::from_counts(&stage.depth),
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

impl ProcessSection {
    /// Reads the process's peak RSS and CPU times from `getrusage`.
    pub fn measure() -> Self {
        #[cfg(unix)]
        {
            // SAFETY: getrusage writes into the zeroed struct we own and reads nothing else.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
                let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
                // Linux reports ru_maxrss in KiB.
                return Self {
                    peak_rss_mb: Some(usage.ru_maxrss as f64 / 1024.0),
                    cpu_user_s: Some(seconds(usage.ru_utime)),
                    cpu_system_s: Some(seconds(usage.ru_stime)),
                };
            }
        }
        Self::default()
    }
}

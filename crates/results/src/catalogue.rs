//! The metric catalogue: every metric id perfgate knows, once, with its unit, which direction is
//! better, what it means, where it lives in `results.json`, how to read it from [`Results`] and
//! the noise floor under which a change is no change.
//!
//! Everything that names a metric reads it from here: the report's reader (figures by id),
//! thresholds (only these ids), the baseline check, `compare` and `trend` (direction and floor,
//! through [`crate::judge`]), the repetitions' key figures and `docs/thresholds.md` (tested
//! against this table). Adding a metric is one entry here, plus the code that measures it.

use std::fmt;

use crate::run::Results;

/// Which way a metric should move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Higher is better (throughput, hit rate).
    Higher,
    /// Lower is better (latency, memory, errors).
    Lower,
    /// Neither: informational (a pool size, the rate a phase ran at).
    Neither,
}

impl fmt::Display for Better {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Better::Higher => "higher is better",
            Better::Lower => "lower is better",
            Better::Neither => "informational",
        })
    }
}

/// Where a metric's value comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// perfgate's `results.json`, read by this function (`None` when not measured).
    Results(fn(&Results) -> Option<f64>),
    /// Derived from load-test output (Locust, oha) by the report.
    LoadTests,
    /// Only the older tool's `performance_results.json` has it.
    Legacy,
    /// Computed by the report from several inputs (the run's and the load tests').
    Derived,
}

/// One known metric.
#[derive(Debug, Clone, Copy)]
pub struct MetricDef {
    /// Dotted id, as in thresholds files, e.g. `cpu.messages_per_second`.
    pub id: &'static str,
    /// Unit as shown in reports.
    pub unit: &'static str,
    /// Which direction is better.
    pub better: Better,
    /// What it is, in a few words.
    pub description: &'static str,
    /// Where it lives: a JSON pointer into `results.json`, or where else it comes from.
    pub location: &'static str,
    /// How to get its value.
    pub source: Source,
    /// Changes smaller than this, percent, are no change: in the baseline check, in `compare`
    /// and in `trend` alike. Measured on a shared 2-core VM (docs/statistics.md): throughput and
    /// CPU per message are resolved to about 2 %; the heap's high-water mark depends on how full
    /// the queues are at one instant (A/A changes up to 2.5 %); latency percentiles at a fixed
    /// rate are queueing outcomes that a host pause moves a lot (A/A medians moved 16-39 % at
    /// p50 and up to 18 % at p99). Percentiles not measured in those trials take the floor of
    /// their neighbour (the tail's the p99's, the mean's the p50's).
    pub noise_floor_pct: f64,
    /// Deterministic for a seeded workload (message and error counts): any change counts.
    pub exact: bool,
}

impl MetricDef {
    /// The noise floor to apply: 0 for an exact metric.
    pub fn floor_pct(&self) -> f64 {
        if self.exact { 0.0 } else { self.noise_floor_pct }
    }

    /// Its value in a results file, when the file has it and it is finite.
    pub fn read(&self, results: &Results) -> Option<f64> {
        match self.source {
            Source::Results(read) => read(results).filter(|value| value.is_finite()),
            Source::LoadTests | Source::Legacy | Source::Derived => None,
        }
    }
}

/// The noise floor of metrics with no measured one of their own, percent.
pub const DEFAULT_NOISE_FLOOR_PCT: f64 = 2.0;

use Better::{Higher, Lower, Neither};

/// A metric from anywhere ([`Source`]), with the default floor.
const fn metric_def(
    id: &'static str,
    unit: &'static str,
    better: Better,
    description: &'static str,
    location: &'static str,
    source: Source,
) -> MetricDef {
    MetricDef {
        id,
        unit,
        better,
        description,
        location,
        source,
        noise_floor_pct: DEFAULT_NOISE_FLOOR_PCT,
        exact: false,
    }
}

/// A metric of `results.json`, read by `read`.
const fn results(
    id: &'static str,
    unit: &'static str,
    better: Better,
    description: &'static str,
    location: &'static str,
    read: fn(&Results) -> Option<f64>,
) -> MetricDef {
    metric_def(id, unit, better, description, location, Source::Results(read))
}

impl MetricDef {
    const fn floor(mut self, noise_floor_pct: f64) -> Self {
        self.noise_floor_pct = noise_floor_pct;
        self
    }

    const fn exact(mut self) -> Self {
        self.exact = true;
        self
    }
}

fn latency(results: &Results) -> Option<&crate::summary::LatencySummary> {
    results.latency.as_ref().map(|latency| &latency.summary)
}

/// A chaos scenario's recovery time moves by whole windows (100 ms) from run to run, a large
/// share of a recovery of a second or two: provisional, until A/A chaos runs measure it.
const CHAOS_RECOVERY_FLOOR_PCT: f64 = 25.0;
/// A degraded ratio is a ratio of windowed figures of a noisy machine: provisional, as above.
const CHAOS_RATIO_FLOOR_PCT: f64 = 10.0;

/// A query's time on loopback is tens of microseconds, where scheduling on a busy host moves a
/// percentile by a good share: provisional, as for the end-to-end tail, until A/A runs measure it.
const DATABASE_LATENCY_FLOOR_PCT: f64 = 20.0;
/// The wait for a connection is near zero with a pool big enough, so a small absolute change is
/// a large relative one: provisional.
const DATABASE_WAIT_FLOOR_PCT: f64 = 50.0;

/// A count under Valgrind is the same for the same binary and seed: three counts of one build
/// were equal to the instruction once the hashers had fixed keys, and two builds of one commit
/// (the same source built in two folders, 20 A/A trials) counted the same instructions and
/// estimated cycles 0.0013 % apart (docs/statistics.md). So a change above a tenth of a percent
/// is a change of the work.
pub const INSTRUCTIONS_FLOOR_PCT: f64 = 0.1;

/// The database section of a run whose pool connected.
fn connected(results: &Results) -> Option<&crate::database::DatabaseSection> {
    results
        .database
        .as_ref()
        .filter(|database| database.status == crate::database::DatabaseStatus::Connected)
}

/// Every metric, in report order.
pub const METRICS: &[MetricDef] = &[
    results(
        "cpu.messages_per_second",
        "msg/s",
        Higher,
        "throughput at saturation",
        "/cpu/messages_per_second",
        |r| Some(r.cpu.messages_per_second),
    )
    .floor(2.0),
    results(
        "cpu.cpu_ns_per_message",
        "ns",
        Lower,
        "process CPU time per message at saturation (not inflated by time the host steals)",
        "/cpu/cpu_ns_per_message",
        |r| r.cpu.cpu_ns_per_message,
    )
    .floor(2.0),
    results(
        "cpu.instructions_per_message",
        "instr",
        Lower,
        "instructions per message of the stage functions' plain loop, counted under Valgrind (cargo xtask bench --instructions)",
        "/instructions/instructions_per_message",
        |r| r.instructions.as_ref().map(|i| i.instructions_per_message),
    )
    .floor(INSTRUCTIONS_FLOOR_PCT),
    results(
        "cpu.estimated_cycles_per_message",
        "cycles",
        Lower,
        "estimated cycles per message from the same count's simulated cache misses (L1 hit 1, LL hit 5, RAM 35)",
        "/instructions/estimated_cycles_per_message",
        |r| r.instructions.as_ref().map(|i| i.estimated_cycles_per_message),
    )
    .floor(INSTRUCTIONS_FLOOR_PCT),
    results(
        "cpu.avg_latency_ms",
        "ms",
        Lower,
        "mean end-to-end latency",
        "/cpu/avg_latency_ms",
        |r| r.cpu.avg_latency_ms,
    )
    .floor(10.0),
    results(
        "cpu.total_time",
        "s",
        Lower,
        "measured window of the throughput phase",
        "/cpu/total_time",
        |r| Some(r.cpu.total_time),
    ),
    results(
        "cpu.message_count",
        "messages",
        Neither,
        "measured messages",
        "/cpu/message_count",
        |r| Some(r.cpu.message_count as f64),
    )
    .exact(),
    results(
        "cpu.utilisation_percent",
        "%",
        Neither,
        "process CPU time over the profiled window, of all cores",
        "/cpu/utilisation_percent",
        |r| r.cpu.utilisation_percent,
    ),
    results(
        "cpu.effective_sample_rate_hz",
        "Hz",
        Neither,
        "CPU profile samples per CPU-second actually taken: below the requested rate, the profile says less",
        "/cpu/effective_sample_rate_hz",
        |r| r.cpu.effective_sample_rate_hz,
    ),
    results(
        "cpu.samples",
        "samples",
        Higher,
        "CPU profile samples over the profiled windows: under 200 the ranking of functions is mostly noise",
        "/cpu/samples",
        |r| r.cpu.samples.map(|samples| samples as f64),
    ),
    results(
        "cpu.profile_coverage_percent",
        "%",
        Neither,
        "CPU time the profile's samples stand for (samples × period), of the measured process CPU time: 100 when every period got its sample",
        "/cpu/profile_coverage_percent",
        |r| r.cpu.profile_coverage_percent,
    ),
    results(
        "latency.p50_ms",
        "ms",
        Lower,
        "median end-to-end latency at the fixed rate",
        "/latency/p50_ms",
        |r| latency(r).map(|l| l.p50_ms),
    )
    .floor(10.0),
    results(
        "latency.p90_ms",
        "ms",
        Lower,
        "90th percentile latency",
        "/latency/p90_ms",
        |r| latency(r).map(|l| l.p90_ms),
    )
    .floor(20.0),
    results(
        "latency.p95_ms",
        "ms",
        Lower,
        "95th percentile latency",
        "/latency/p95_ms",
        |r| latency(r).map(|l| l.p95_ms),
    )
    .floor(20.0),
    results(
        "latency.p99_ms",
        "ms",
        Lower,
        "99th percentile latency",
        "/latency/p99_ms",
        |r| latency(r).map(|l| l.p99_ms),
    )
    .floor(20.0),
    results(
        "latency.p999_ms",
        "ms",
        Lower,
        "99.9th percentile latency",
        "/latency/p999_ms",
        |r| latency(r).map(|l| l.p999_ms),
    )
    .floor(20.0),
    results(
        "latency.max_ms",
        "ms",
        Lower,
        "largest latency",
        "/latency/max_ms",
        |r| latency(r).map(|l| l.max_ms),
    )
    .floor(20.0),
    results(
        "latency.rate_per_second",
        "msg/s",
        Neither,
        "the fixed rate latency was measured at",
        "/latency/rate_per_second",
        |r| r.latency.as_ref().and_then(|l| l.rate_per_second),
    ),
    results(
        "pipeline.efficiency",
        "ratio",
        Higher,
        "saturation throughput / limit-mode throughput",
        "/pipeline/efficiency",
        |r| r.pipeline.efficiency,
    ),
    results(
        "limit.messages_per_second",
        "msg/s",
        Higher,
        "the stage functions in a plain loop per core",
        "/limit/messages_per_second",
        |r| r.limit.as_ref().map(|l| l.messages_per_second),
    ),
    results(
        "memory.baseline_mb",
        "MiB",
        Lower,
        "heap in use when the window started",
        "/memory/baseline_mb",
        |r| r.memory.as_ref().map(|m| m.baseline_mb),
    ),
    results(
        "memory.peak_mb",
        "MiB",
        Lower,
        "highest heap in use during the window",
        "/memory/peak_mb",
        |r| r.memory.as_ref().map(|m| m.peak_mb),
    )
    .floor(5.0),
    results(
        "memory.delta_mb",
        "MiB",
        Lower,
        "heap growth over the window",
        "/memory/delta_mb",
        |r| r.memory.as_ref().map(|m| m.delta_mb),
    ),
    results(
        "memory.final_mb",
        "MiB",
        Lower,
        "heap in use when the window ended",
        "/memory/final_mb",
        |r| r.memory.as_ref().map(|m| m.final_mb),
    ),
    results(
        "memory.resident_mb",
        "MiB",
        Lower,
        "allocator's resident memory at the end",
        "/memory/resident_mb",
        |r| r.memory.as_ref().and_then(|m| m.resident_mb),
    ),
    results(
        "memory.bytes_allocated_per_message",
        "B",
        Lower,
        "allocation volume per message",
        "/memory/bytes_allocated_per_message",
        |r| r.memory.as_ref().and_then(|m| m.bytes_allocated_per_message),
    )
    .floor(2.0),
    results(
        "memory.allocations_per_message",
        "allocations",
        Lower,
        "allocations per message",
        "/memory/allocations_per_message",
        |r| r.memory.as_ref().and_then(|m| m.allocations_per_message),
    )
    .floor(2.0),
    results(
        "memory.leak_bytes_per_message",
        "B",
        Lower,
        "slope of live heap against messages",
        "/memory/leak/bytes_per_message",
        |r| r.memory.as_ref().map(|m| m.leak.bytes_per_message),
    ),
    results(
        "asyncio.event_loop_lag_ms",
        "ms",
        Lower,
        "99th percentile event-loop lag",
        "/asyncio/event_loop_lag_ms",
        |r| r.asyncio.as_ref().and_then(|a| a.event_loop_lag_ms),
    )
    .floor(20.0),
    results(
        "asyncio.lag_max_ms",
        "ms",
        Lower,
        "largest event-loop lag",
        "/asyncio/lag/max_ms",
        |r| r.asyncio.as_ref().and_then(|a| a.lag.as_ref()).map(|l| l.max_ms),
    )
    .floor(20.0),
    results(
        "asyncio.slow_polls",
        "polls",
        Lower,
        "polls of pipeline tasks over the slow-poll threshold",
        "/asyncio/slow_polls",
        |r| r.asyncio.as_ref().map(|a| a.slow_polls as f64),
    ),
    results(
        "asyncio.active_tasks",
        "tasks",
        Neither,
        "tasks alive in the runtime",
        "/asyncio/active_tasks",
        |r| r.asyncio.as_ref().and_then(|a| a.active_tasks).map(|t| t as f64),
    ),
    results(
        "cache.hit_rate",
        "ratio",
        Higher,
        "share of lookups answered by the cache",
        "/cache/hit_rate",
        |r| r.cache.as_ref().map(|c| c.hit_rate),
    ),
    results(
        "errors.total",
        "messages",
        Lower,
        "messages rejected by a stage",
        "/errors/total",
        |r| Some(r.errors.total as f64),
    )
    .exact(),
    metric_def(
        "error_rate.percent",
        "%",
        Lower,
        "failed share: the pipeline's rejected messages or load-test requests, whichever is higher",
        "/errors/total ÷ /pipeline/generated, and the load tests' failed requests",
        Source::Derived,
    ),
    results(
        "fanout.dropped",
        "deliveries",
        Lower,
        "deliveries dropped for slow subscribers",
        "/fanout/dropped",
        |r| r.fanout.as_ref().map(|f| f.dropped as f64),
    ),
    results(
        "fanout.lagged",
        "deliveries",
        Lower,
        "deliveries that waited past the lag threshold",
        "/fanout/lagged",
        |r| r.fanout.as_ref().map(|f| f.lagged as f64),
    ),
    results(
        "process.peak_rss_mb",
        "MiB",
        Lower,
        "peak resident memory of the profiler process",
        "/process/peak_rss_mb",
        |r| r.process.peak_rss_mb,
    ),
    results(
        "profiler.cpu_probe_rss_mb",
        "MiB",
        Lower,
        "resident memory the CPU profiler keeps for itself (its sample table and symbol tables), part of process.peak_rss_mb",
        "/profiler/cpu_probe_rss_mb",
        |r| r.profiler.cpu_probe_rss_mb,
    ),
    results(
        "capacity.max_rate_per_second",
        "msg/s",
        Higher,
        "highest offered rate sustained at the capacity search's latency objective",
        "/capacity/max_rate_per_second",
        |r| r.capacity.as_ref().map(|c| c.max_rate_per_second),
    )
    // The search's resolution is 2 % and its answer moves by a step of it from run to run.
    .floor(4.0),
    results(
        "chaos.slow_dependency.recovery_s",
        "s",
        Lower,
        "time from the end of a stage's dependency ten times slower until throughput and p99 were back in their steady-state band for good",
        "/chaos/scenarios/slow_dependency/recovery_s",
        |r| r.chaos.as_ref()?.scenarios.get("slow_dependency")?.recovery_s,
    )
    .floor(CHAOS_RECOVERY_FLOOR_PCT),
    results(
        "chaos.slow_dependency.degraded_throughput_ratio",
        "ratio",
        Higher,
        "throughput during a stage's dependency ten times slower, over its steady-state median",
        "/chaos/scenarios/slow_dependency/degraded_throughput_ratio",
        |r| Some(r.chaos.as_ref()?.scenarios.get("slow_dependency")?.degraded_throughput_ratio),
    )
    .floor(CHAOS_RATIO_FLOOR_PCT),
    results(
        "chaos.slow_dependency.degraded_p99_ratio",
        "ratio",
        Lower,
        "p99 latency during a stage's dependency ten times slower, over its steady-state median",
        "/chaos/scenarios/slow_dependency/degraded_p99_ratio",
        |r| r.chaos.as_ref()?.scenarios.get("slow_dependency")?.degraded_p99_ratio,
    )
    .floor(CHAOS_RATIO_FLOOR_PCT),
    results(
        "chaos.error_burst.recovery_s",
        "s",
        Lower,
        "time from the end of a 20 % error burst until throughput and p99 were back in their steady-state band for good",
        "/chaos/scenarios/error_burst/recovery_s",
        |r| r.chaos.as_ref()?.scenarios.get("error_burst")?.recovery_s,
    )
    .floor(CHAOS_RECOVERY_FLOOR_PCT),
    results(
        "chaos.error_burst.degraded_throughput_ratio",
        "ratio",
        Higher,
        "throughput during a 20 % error burst, over its steady-state median",
        "/chaos/scenarios/error_burst/degraded_throughput_ratio",
        |r| Some(r.chaos.as_ref()?.scenarios.get("error_burst")?.degraded_throughput_ratio),
    )
    .floor(CHAOS_RATIO_FLOOR_PCT),
    results(
        "chaos.error_burst.degraded_p99_ratio",
        "ratio",
        Lower,
        "p99 latency during a 20 % error burst, over its steady-state median",
        "/chaos/scenarios/error_burst/degraded_p99_ratio",
        |r| r.chaos.as_ref()?.scenarios.get("error_burst")?.degraded_p99_ratio,
    )
    .floor(CHAOS_RATIO_FLOOR_PCT),
    results(
        "chaos.subscriber_stall.recovery_s",
        "s",
        Lower,
        "time from the end of a subscriber stalling and reconnecting until throughput and p99 were back in their steady-state band for good",
        "/chaos/scenarios/subscriber_stall/recovery_s",
        |r| r.chaos.as_ref()?.scenarios.get("subscriber_stall")?.recovery_s,
    )
    .floor(CHAOS_RECOVERY_FLOOR_PCT),
    results(
        "chaos.subscriber_stall.degraded_throughput_ratio",
        "ratio",
        Higher,
        "throughput during a subscriber stalling and reconnecting, over its steady-state median",
        "/chaos/scenarios/subscriber_stall/degraded_throughput_ratio",
        |r| Some(r.chaos.as_ref()?.scenarios.get("subscriber_stall")?.degraded_throughput_ratio),
    )
    .floor(CHAOS_RATIO_FLOOR_PCT),
    results(
        "chaos.subscriber_stall.degraded_p99_ratio",
        "ratio",
        Lower,
        "p99 latency during a subscriber stalling and reconnecting, over its steady-state median",
        "/chaos/scenarios/subscriber_stall/degraded_p99_ratio",
        |r| r.chaos.as_ref()?.scenarios.get("subscriber_stall")?.degraded_p99_ratio,
    )
    .floor(CHAOS_RATIO_FLOOR_PCT),
    results(
        "chaos.blocked_worker.recovery_s",
        "s",
        Lower,
        "time from the end of a runtime worker blocked until throughput and p99 were back in their steady-state band for good",
        "/chaos/scenarios/blocked_worker/recovery_s",
        |r| r.chaos.as_ref()?.scenarios.get("blocked_worker")?.recovery_s,
    )
    .floor(CHAOS_RECOVERY_FLOOR_PCT),
    results(
        "chaos.blocked_worker.degraded_throughput_ratio",
        "ratio",
        Higher,
        "throughput during a runtime worker blocked, over its steady-state median",
        "/chaos/scenarios/blocked_worker/degraded_throughput_ratio",
        |r| Some(r.chaos.as_ref()?.scenarios.get("blocked_worker")?.degraded_throughput_ratio),
    )
    .floor(CHAOS_RATIO_FLOOR_PCT),
    results(
        "chaos.blocked_worker.degraded_p99_ratio",
        "ratio",
        Lower,
        "p99 latency during a runtime worker blocked, over its steady-state median",
        "/chaos/scenarios/blocked_worker/degraded_p99_ratio",
        |r| r.chaos.as_ref()?.scenarios.get("blocked_worker")?.degraded_p99_ratio,
    )
    .floor(CHAOS_RATIO_FLOOR_PCT),
    results(
        "chaos.stage_panic.recovery_s",
        "s",
        Lower,
        "time from the end of a stage panicking until throughput and p99 were back in their steady-state band for good",
        "/chaos/scenarios/stage_panic/recovery_s",
        |r| r.chaos.as_ref()?.scenarios.get("stage_panic")?.recovery_s,
    )
    .floor(CHAOS_RECOVERY_FLOOR_PCT),
    results(
        "chaos.stage_panic.degraded_throughput_ratio",
        "ratio",
        Higher,
        "throughput during a stage panicking, over its steady-state median",
        "/chaos/scenarios/stage_panic/degraded_throughput_ratio",
        |r| Some(r.chaos.as_ref()?.scenarios.get("stage_panic")?.degraded_throughput_ratio),
    )
    .floor(CHAOS_RATIO_FLOOR_PCT),
    results(
        "chaos.stage_panic.degraded_p99_ratio",
        "ratio",
        Lower,
        "p99 latency during a stage panicking, over its steady-state median",
        "/chaos/scenarios/stage_panic/degraded_p99_ratio",
        |r| r.chaos.as_ref()?.scenarios.get("stage_panic")?.degraded_p99_ratio,
    )
    .floor(CHAOS_RATIO_FLOOR_PCT),
    results(
        "chaos.load_burst.recovery_s",
        "s",
        Lower,
        "time from the end of a ×3 burst of offered load until throughput and p99 were back in their steady-state band for good",
        "/chaos/scenarios/load_burst/recovery_s",
        |r| r.chaos.as_ref()?.scenarios.get("load_burst")?.recovery_s,
    )
    .floor(CHAOS_RECOVERY_FLOOR_PCT),
    results(
        "chaos.load_burst.degraded_throughput_ratio",
        "ratio",
        Higher,
        "throughput during a ×3 burst of offered load, over its steady-state median",
        "/chaos/scenarios/load_burst/degraded_throughput_ratio",
        |r| Some(r.chaos.as_ref()?.scenarios.get("load_burst")?.degraded_throughput_ratio),
    )
    .floor(CHAOS_RATIO_FLOOR_PCT),
    results(
        "chaos.load_burst.degraded_p99_ratio",
        "ratio",
        Lower,
        "p99 latency during a ×3 burst of offered load, over its steady-state median",
        "/chaos/scenarios/load_burst/degraded_p99_ratio",
        |r| r.chaos.as_ref()?.scenarios.get("load_burst")?.degraded_p99_ratio,
    )
    .floor(CHAOS_RATIO_FLOOR_PCT),
    results(
        "profiler.overhead_throughput_ratio",
        "ratio",
        Higher,
        "throughput with probes / without",
        "/profiler/overhead/throughput_ratio",
        |r| r.profiler.overhead.as_ref().map(|o| o.throughput_ratio),
    ),
    results(
        "profiler.overhead_p99_ratio",
        "ratio",
        Lower,
        "fixed-rate p99 with probes / without (median over pairs)",
        "/profiler/overhead/p99_pair_ratio_median (older files: /profiler/overhead/p99_ratio)",
        // The median over pairs of each pair's p99 ratio, which one host episode cannot
        // decide; results written before it existed have only the pooled ratio.
        |r| {
            r.profiler
                .overhead
                .as_ref()
                .map(|o| o.p99_pair_ratio_median.unwrap_or(o.p99_ratio))
        },
    ),
    results(
        "profiler.overhead_cpu_ratio",
        "ratio",
        Lower,
        "process CPU time per message with probes / without",
        "/profiler/overhead/cpu_per_message_ratio",
        |r| r.profiler.overhead.as_ref().and_then(|o| o.cpu_per_message_ratio),
    ),
    results(
        "database.query_p95_ms",
        "ms",
        Lower,
        "95th percentile time of the database stage's queries (sent until rows read), every phase",
        "/database/query/p95_ms",
        |r| connected(r).map(|d| d.query.p95_ms),
    )
    .floor(DATABASE_LATENCY_FLOOR_PCT),
    results(
        "database.query_p99_ms",
        "ms",
        Lower,
        "99th percentile time of the database stage's queries",
        "/database/query/p99_ms",
        |r| connected(r).map(|d| d.query.p99_ms),
    )
    .floor(DATABASE_LATENCY_FLOOR_PCT),
    results(
        "database.acquire_wait_p99_ms",
        "ms",
        Lower,
        "99th percentile wait for a connection from the pool: a pool too small for its load shows here",
        "/database/acquire_wait/p99_ms",
        |r| connected(r).map(|d| d.acquire_wait.p99_ms),
    )
    .floor(DATABASE_WAIT_FLOOR_PCT),
    results(
        "database.queries_per_second",
        "queries/s",
        Neither,
        "database queries per second over the phases (follows throughput and the cache's misses)",
        "/database/queries_per_second",
        |r| connected(r).map(|d| d.queries_per_second),
    ),
    results(
        "database.errors",
        "errors",
        Lower,
        "failed acquisitions and queries, every kind",
        "/database/errors_by_kind (summed over the kinds)",
        |r| connected(r).map(|d| d.errors_by_kind.values().sum::<u64>() as f64),
    )
    .exact(),
    results(
        "database.outage_recovery_s",
        "s",
        Lower,
        "from the first query that failed for lack of a connection to the first success after the last one",
        "/database/outage/recovery_s",
        |r| connected(r)?.outage.as_ref()?.recovery_s,
    )
    .floor(CHAOS_RECOVERY_FLOOR_PCT),
    metric_def(
        "database.pool_size",
        "connections",
        Neither,
        "database pool size (older files)",
        "/database/pool_size of performance_results.json",
        Source::Legacy,
    ),
    metric_def(
        "database.active_connections",
        "connections",
        Lower,
        "active database connections (older files)",
        "/database/active_connections of performance_results.json",
        Source::Legacy,
    ),
    metric_def(
        "database.idle_connections",
        "connections",
        Neither,
        "idle database connections (older files)",
        "/database/idle_connections of performance_results.json",
        Source::Legacy,
    ),
    metric_def(
        "load.requests_per_second",
        "req/s",
        Higher,
        "load-test requests per second (the lowest run's, over all its endpoints)",
        "load tests (Locust, oha)",
        Source::LoadTests,
    ),
    metric_def(
        "load.error_rate_percent",
        "%",
        Lower,
        "load-test failed requests / requests (the highest run's)",
        "load tests (Locust, oha)",
        Source::LoadTests,
    ),
    metric_def(
        "rest.p95_latency_ms",
        "ms",
        Lower,
        "95th percentile response time of the slowest REST endpoint in any load test",
        "load tests (Locust, oha)",
        Source::LoadTests,
    ),
    metric_def(
        "rest.p99_latency_ms",
        "ms",
        Lower,
        "99th percentile response time of the slowest REST endpoint in any load test",
        "load tests (Locust, oha)",
        Source::LoadTests,
    ),
    metric_def(
        "websocket.p95_latency_ms",
        "ms",
        Lower,
        "95th percentile response time of the slowest WebSocket request type in any load test",
        "load tests (Locust)",
        Source::LoadTests,
    ),
    metric_def(
        "websocket.p99_latency_ms",
        "ms",
        Lower,
        "99th percentile response time of the slowest WebSocket request type in any load test",
        "load tests (Locust)",
        Source::LoadTests,
    ),
];

/// The definition of a metric id, if known.
pub fn metric(id: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|def| def.id == id)
}

/// All ids, comma separated, for error messages.
pub fn known_ids() -> String {
    METRICS.iter().map(|def| def.id).collect::<Vec<_>>().join(", ")
}

/// Every metric results have, by id (finite values only): for results the profiler made.
pub fn figures(results: &Results) -> Vec<(&'static str, f64)> {
    METRICS
        .iter()
        .filter_map(|def| Some((def.id, def.read(results)?)))
        .collect()
}

/// Every metric a results file has, by id: [`figures`] of the types read from `document`, kept
/// only where the document itself holds the value at the metric's location (a field the file
/// lacks reads as its default, which is not a measurement).
pub fn figures_in(results: &Results, document: &serde_json::Value) -> Vec<(&'static str, f64)> {
    METRICS
        .iter()
        .filter(|def| def.is_in(document))
        .filter_map(|def| Some((def.id, def.read(results)?)))
        .collect()
}

impl MetricDef {
    /// Whether `document` holds a value (not `null`) at one of this metric's JSON locations.
    pub fn is_in(&self, document: &serde_json::Value) -> bool {
        matches!(self.source, Source::Results(_))
            && self
                .location
                .split([' ', '(', ')'])
                .filter(|token| token.starts_with('/'))
                .any(|pointer| document.pointer(pointer).is_some_and(|value| !value.is_null()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_dotted() {
        let ids: BTreeSet<&str> = METRICS.iter().map(|def| def.id).collect();
        assert_eq!(ids.len(), METRICS.len());
        // `chaos.<scenario>.<figure>` has three parts; every other id two.
        assert!(
            METRICS.iter().all(|def| def.id.split('.').count() == 2
                || (def.id.starts_with("chaos.") && def.id.split('.').count() == 3)),
            "section.name"
        );
    }

    #[test]
    fn floors_are_sane() {
        for def in METRICS {
            assert!((0.0..=50.0).contains(&def.noise_floor_pct), "{}", def.id);
            assert!(!def.exact || def.floor_pct() == 0.0);
        }
    }

    /// The JSON location of every metric read from `results.json` is where serde writes the
    /// field its reader returns: a renamed field breaks this test, not the report.
    #[test]
    fn every_location_is_where_the_reader_finds_the_value() {
        let results = crate::run::Results::example();
        let json = serde_json::to_value(&results).unwrap();
        for def in METRICS {
            let Source::Results(_) = def.source else { continue };
            let pointer = def.location.split(' ').next().unwrap();
            // A map of counts (`database.errors`) is read as the sum of its values.
            let written = match json.pointer(pointer) {
                Some(serde_json::Value::Object(map)) => {
                    Some(map.values().filter_map(serde_json::Value::as_f64).sum())
                }
                other => other.and_then(serde_json::Value::as_f64),
            };
            let read = def.read(&results);
            assert!(read.is_some(), "{}: the example must have every metric", def.id);
            assert_eq!(written, read, "{} at {pointer}", def.id);
        }
    }
}

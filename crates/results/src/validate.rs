//! What a results file may not claim: negative rates, latencies, times or memory; figures that
//! are not finite; percentiles out of order; ratios out of their range; and a file with nothing
//! measured in it. Each is bad input, named by its JSON pointer.

use crate::error::{ReadError, escape_pointer_key};
use crate::summary::{DepthSummary, LatencySummary, ServiceTimeSummary};
use crate::{AsyncioSection, MemorySection, PhaseSection, Results, RuntimeSection, StageSection};

/// Checks every figure of `results` that can be impossible. The first problem found is returned.
pub fn validate(results: &Results) -> Result<(), ReadError> {
    let mut check = Check::default();
    check.results(results);
    match check.problem {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

#[derive(Default)]
struct Check {
    problem: Option<ReadError>,
}

impl Check {
    fn fail(&mut self, pointer: String, problem: &str) {
        if self.problem.is_none() {
            self.problem = Some(ReadError::at(pointer, problem));
        }
    }

    /// A figure that must be finite.
    fn finite(&mut self, at: &str, field: &str, value: f64) {
        if !value.is_finite() {
            self.fail(format!("{at}/{field}"), "expected a finite number");
        }
    }

    /// A figure that must be finite and at least 0 (rates, times, latencies, sizes).
    fn non_negative(&mut self, at: &str, field: &str, value: f64) {
        self.finite(at, field, value);
        if value < 0.0 {
            self.fail(format!("{at}/{field}"), "must not be negative");
        }
    }

    fn optional(&mut self, at: &str, field: &str, value: Option<f64>) {
        if let Some(value) = value {
            self.non_negative(at, field, value);
        }
    }

    /// A share of 1 (hit rate): 0 to 1.
    fn ratio(&mut self, at: &str, field: &str, value: f64) {
        self.non_negative(at, field, value);
        if value > 1.0 {
            self.fail(format!("{at}/{field}"), "must be between 0 and 1");
        }
    }

    /// Values that must not decrease, in the order given (percentiles). A 0 is a percentile the
    /// file left out (read as its default): no measured latency or depth percentile is 0 above
    /// the lowest one, so zeros are left out of the order.
    fn ordered(&mut self, at: &str, values: &[(&str, f64)]) {
        for &(field, value) in values {
            self.non_negative(at, field, value);
        }
        let given: Vec<(&str, f64)> = values
            .iter()
            .copied()
            .filter(|&(_, value)| value != 0.0)
            .collect();
        for pair in given.windows(2) {
            let ((low_name, low), (high_name, high)) = (pair[0], pair[1]);
            if low > high {
                self.fail(
                    format!("{at}/{low_name}"),
                    &format!("percentiles out of order: {low_name} is above {high_name}"),
                );
            }
        }
    }

    fn latency(&mut self, at: &str, summary: &LatencySummary) {
        self.non_negative(at, "mean_ms", summary.mean_ms);
        self.non_negative(at, "stddev_ms", summary.stddev_ms);
        self.ordered(
            at,
            &[
                ("min_ms", summary.min_ms),
                ("p50_ms", summary.p50_ms),
                ("p90_ms", summary.p90_ms),
                ("p95_ms", summary.p95_ms),
                ("p99_ms", summary.p99_ms),
                ("p999_ms", summary.p999_ms),
                ("max_ms", summary.max_ms),
            ],
        );
    }

    fn service_time(&mut self, at: &str, summary: &ServiceTimeSummary) {
        self.non_negative(at, "mean_us", summary.mean_us);
        self.ordered(
            at,
            &[
                ("p50_us", summary.p50_us),
                ("p99_us", summary.p99_us),
                ("max_us", summary.max_us),
            ],
        );
    }

    fn depth(&mut self, at: &str, summary: &DepthSummary) {
        self.non_negative(at, "mean", summary.mean);
        self.ordered(
            at,
            &[
                ("p50", summary.p50 as f64),
                ("p99", summary.p99 as f64),
                ("max", summary.max as f64),
            ],
        );
    }

    fn results(&mut self, results: &Results) {
        let cpu = &results.cpu;
        self.non_negative("/cpu", "messages_per_second", cpu.messages_per_second);
        self.non_negative("/cpu", "total_time", cpu.total_time);
        self.optional("/cpu", "avg_latency_ms", cpu.avg_latency_ms);
        self.optional("/cpu", "cpu_ns_per_message", cpu.cpu_ns_per_message);
        self.optional("/cpu", "utilisation_percent", cpu.utilisation_percent);
        self.optional("/cpu", "effective_sample_rate_hz", cpu.effective_sample_rate_hz);
        self.optional("/cpu", "sample_period_ms", cpu.sample_period_ms);
        self.optional("/cpu", "sampled_cpu_s", cpu.sampled_cpu_s);
        self.optional("/cpu", "profile_coverage_percent", cpu.profile_coverage_percent);
        for (list, functions) in [
            ("top_functions", &cpu.top_functions),
            ("hot_functions", &cpu.hot_functions),
        ] {
            for (index, function) in functions.iter().enumerate() {
                let at = format!("/cpu/{list}/{index}");
                self.non_negative(&at, "self_percent", function.self_percent);
                self.non_negative(&at, "inclusive_percent", function.inclusive_percent);
                self.non_negative(&at, "cumtime", function.cumtime);
                self.non_negative(&at, "selftime", function.selftime);
            }
        }
        if let Some(latency) = &results.latency {
            self.optional("/latency", "rate_per_second", latency.rate_per_second);
            self.latency("/latency", &latency.summary);
        }
        self.stages("/stages", &results.stages);
        if let Some(memory) = &results.memory {
            self.memory("/memory", memory);
        }
        if let Some(asyncio) = &results.asyncio {
            self.asyncio("/asyncio", asyncio);
        }
        if let Some(runtime) = &results.runtime {
            self.runtime("/runtime", runtime);
        }
        if let Some(cache) = &results.cache {
            self.ratio("/cache", "hit_rate", cache.hit_rate);
        }
        self.optional("/pipeline", "efficiency", results.pipeline.efficiency);
        if let Some(limit) = &results.limit {
            self.non_negative("/limit", "messages_per_second", limit.messages_per_second);
            self.non_negative("/limit", "total_time", limit.total_time);
        }
        self.optional("/process", "peak_rss_mb", results.process.peak_rss_mb);
        self.optional("/process", "cpu_user_s", results.process.cpu_user_s);
        self.optional("/process", "cpu_system_s", results.process.cpu_system_s);
        if let Some(overhead) = &results.profiler.overhead {
            self.non_negative(
                "/profiler/overhead",
                "throughput_ratio",
                overhead.throughput_ratio,
            );
            self.non_negative("/profiler/overhead", "p99_ratio", overhead.p99_ratio);
            self.optional(
                "/profiler/overhead",
                "p99_pair_ratio_median",
                overhead.p99_pair_ratio_median,
            );
            self.optional(
                "/profiler/overhead",
                "cpu_per_message_ratio",
                overhead.cpu_per_message_ratio,
            );
        }
        if let Some(capacity) = &results.capacity {
            self.capacity(capacity);
        }
        if let Some(sweep) = &results.sweep {
            self.sweep(sweep);
        }
        if let Some(chaos) = &results.chaos {
            self.chaos(chaos);
        }
        if let Some(database) = &results.database {
            self.database(database);
        }
        if let Some(instructions) = &results.instructions {
            self.instructions(instructions);
        }
        for (name, phase) in &results.phases {
            self.phase(&format!("/phases/{}", escape_pointer_key(name)), phase);
        }
    }

    fn capacity(&mut self, capacity: &crate::CapacitySection) {
        let at = "/capacity";
        self.non_negative(at, "max_rate_per_second", capacity.max_rate_per_second);
        self.optional(at, "failed_rate_per_second", capacity.failed_rate_per_second);
        self.non_negative(
            at,
            "saturation_messages_per_second",
            capacity.saturation_messages_per_second,
        );
        self.ratio(at, "min_achieved_ratio", capacity.min_achieved_ratio);
        self.non_negative(at, "max_error_rate_percent", capacity.max_error_rate_percent);
        self.non_negative(at, "step_seconds", capacity.step_seconds);
        self.non_negative(at, "resolution_percent", capacity.resolution_percent);
        self.non_negative(at, "duration_seconds", capacity.duration_seconds);
        for (index, step) in capacity.steps.iter().enumerate() {
            let at = format!("/capacity/steps/{index}");
            self.non_negative(&at, "offered_per_second", step.offered_per_second);
            self.non_negative(&at, "achieved_per_second", step.achieved_per_second);
            self.non_negative(&at, "error_rate_percent", step.error_rate_percent);
            self.ordered(
                &at,
                &[
                    ("p50_ms", step.p50_ms),
                    ("p99_ms", step.p99_ms),
                    ("p999_ms", step.p999_ms),
                    ("max_ms", step.max_ms),
                ],
            );
        }
    }

    fn sweep(&mut self, sweep: &crate::SweepSection) {
        let at = "/sweep";
        self.optional(at, "fixed_rate_per_second", sweep.fixed_rate_per_second);
        self.ratio(at, "confidence", sweep.confidence);
        self.non_negative(at, "duration_seconds", sweep.duration_seconds);
        // The report looks points up by these indices.
        let recommendation = &sweep.recommendation;
        let indices = recommendation
            .best
            .iter()
            .map(|&index| ("best".to_owned(), index))
            .chain(
                recommendation
                    .tied
                    .iter()
                    .enumerate()
                    .map(|(i, &index)| (format!("tied/{i}"), index)),
            )
            .chain(
                recommendation
                    .behind
                    .iter()
                    .enumerate()
                    .map(|(i, &index)| (format!("behind/{i}"), index)),
            );
        for (field, index) in indices {
            if index >= sweep.points.len() {
                self.fail(
                    format!("/sweep/recommendation/{field}"),
                    &format!("no point {index}: the sweep has {}", sweep.points.len()),
                );
            }
        }
        for (index, point) in sweep.points.iter().enumerate() {
            let at = format!("/sweep/points/{index}");
            for (run_index, run) in point.runs.iter().enumerate() {
                let at = format!("{at}/runs/{run_index}");
                self.non_negative(&at, "seconds", run.seconds);
                if let Some(path) = &run.results {
                    self.relative_path(&at, "results", path);
                }
                for (id, value) in &run.figures {
                    self.optional(&format!("{at}/figures"), &escape_pointer_key(id), *value);
                }
            }
            for (id, figure) in &point.summary {
                let Some(figure) = figure else { continue };
                let at = format!("{at}/summary/{}", escape_pointer_key(id));
                for (field, value) in [
                    ("median", figure.median),
                    ("low", figure.low),
                    ("high", figure.high),
                    ("min", figure.min),
                    ("max", figure.max),
                    ("spread_percent", figure.spread_percent),
                ] {
                    self.non_negative(&at, field, value);
                }
                if let Some(coverage) = figure.coverage {
                    self.ratio(&at, "coverage", coverage);
                }
                if figure.runs == 0 {
                    self.fail(format!("{at}/runs"), "a figure over no run");
                }
                if !(figure.low <= figure.median && figure.median <= figure.high) {
                    self.fail(format!("{at}/median"), "outside its interval [low, high]");
                }
                if figure.min > figure.max {
                    self.fail(format!("{at}/min"), "above max");
                }
            }
        }
    }

    fn instructions(&mut self, instructions: &crate::InstructionsSection) {
        let at = "/instructions";
        self.non_negative(
            at,
            "instructions_per_message",
            instructions.instructions_per_message,
        );
        self.non_negative(
            at,
            "estimated_cycles_per_message",
            instructions.estimated_cycles_per_message,
        );
        if instructions.messages == 0 {
            self.fail(format!("{at}/messages"), "must be at least 1");
        }
    }

    fn database(&mut self, database: &crate::DatabaseSection) {
        let at = "/database";
        self.latency("/database/acquire_wait", &database.acquire_wait);
        self.latency("/database/query", &database.query);
        self.non_negative(at, "queries_per_second", database.queries_per_second);
        self.non_negative("/database/pool", "in_use_mean", database.pool.in_use_mean);
        self.non_negative(
            "/database/pool",
            "acquire_timeout_ms",
            database.pool.acquire_timeout_ms,
        );
        if database.pool.in_use_peak > database.pool.max_size && database.pool.max_size > 0 {
            self.fail("/database/pool/in_use_peak".to_owned(), "above max_size");
        }
        if let Some(outage) = &database.outage {
            let outage_at = "/database/outage";
            self.non_negative(outage_at, "first_failure_s", outage.first_failure_s);
            self.non_negative(outage_at, "last_failure_s", outage.last_failure_s);
            self.optional(outage_at, "recovery_s", outage.recovery_s);
            if outage.last_failure_s < outage.first_failure_s {
                self.fail(format!("{outage_at}/last_failure_s"), "before first_failure_s");
            }
            if outage.recovered != outage.recovery_s.is_some() {
                self.fail(
                    format!("{outage_at}/recovery_s"),
                    "a recovery time is given exactly when `recovered` is true",
                );
            }
        }
        if let Some(server) = &database.server {
            self.optional("/database/server", "total_exec_ms", server.total_exec_ms);
            self.non_negative("/database/server", "client_total_ms", server.client_total_ms);
        }
        for (phase, series) in &database.timeline {
            self.series(
                &format!("/database/timeline/{}", escape_pointer_key(phase)),
                series,
            );
        }
    }

    fn chaos(&mut self, chaos: &crate::ChaosSection) {
        self.non_negative("/chaos", "window_ms", chaos.window_ms);
        for (name, scenario) in &chaos.scenarios {
            let at = format!("/chaos/scenarios/{}", escape_pointer_key(name));
            for (field, value) in [
                ("strength", scenario.strength),
                ("offered_per_second", scenario.offered_per_second),
                ("fault_start_s", scenario.fault_start_s),
                ("fault_end_s", scenario.fault_end_s),
                ("window_s", scenario.window_s),
                ("degraded_throughput_ratio", scenario.degraded_throughput_ratio),
            ] {
                self.non_negative(&at, field, value);
            }
            self.optional(&at, "degraded_p99_ratio", scenario.degraded_p99_ratio);
            self.optional(&at, "recovery_s", scenario.recovery_s);
            self.optional(&at, "backlog_drain_s", scenario.backlog_drain_s);
            if scenario.fault_end_s < scenario.fault_start_s {
                self.fail(format!("{at}/fault_end_s"), "the fault ends before it starts");
            }
            if scenario.recovered != scenario.recovery_s.is_some() {
                self.fail(
                    format!("{at}/recovery_s"),
                    "a recovery time is given exactly when `recovered` is true",
                );
            }
            let band = &scenario.band;
            let band_at = format!("{at}/band");
            for (field, value) in [
                ("throughput_median", band.throughput_median),
                ("throughput_low", band.throughput_low),
                ("throughput_high", band.throughput_high),
                ("p99_median_ms", band.p99_median_ms),
                ("p99_high_ms", band.p99_high_ms),
            ] {
                self.non_negative(&band_at, field, value);
            }
            if !(band.throughput_low <= band.throughput_median
                && band.throughput_median <= band.throughput_high)
            {
                self.fail(
                    format!("{band_at}/throughput_median"),
                    "outside its band [throughput_low, throughput_high]",
                );
            }
            if band.p99_median_ms > band.p99_high_ms {
                self.fail(format!("{band_at}/p99_median_ms"), "above p99_high_ms");
            }
            let timeline = &scenario.timeline;
            let timeline_at = format!("{at}/timeline");
            for (column, length) in [
                ("throughput", timeline.throughput.len()),
                ("p99_ms", timeline.p99_ms.len()),
                ("backlog", timeline.backlog.len()),
            ] {
                if length != timeline.t_s.len() {
                    self.fail(
                        format!("{timeline_at}/{column}"),
                        &format!(
                            "expected as many values as `t_s` has ({}), found {length}",
                            timeline.t_s.len()
                        ),
                    );
                }
            }
            let columns = timeline
                .t_s
                .iter()
                .chain(&timeline.throughput)
                .chain(timeline.p99_ms.iter().flatten())
                .chain(&timeline.backlog);
            if columns.clone().any(|value| !value.is_finite() || *value < 0.0) {
                self.fail(timeline_at, "a value that is negative or not finite");
            }
        }
    }

    /// A path that stays inside the file's folder: relative, without `..`.
    fn relative_path(&mut self, at: &str, field: &str, path: &str) {
        let path = std::path::Path::new(path);
        let escapes = path.is_absolute()
            || path.components().any(|part| {
                !matches!(
                    part,
                    std::path::Component::Normal(_) | std::path::Component::CurDir
                )
            });
        if escapes {
            self.fail(
                format!("{at}/{field}"),
                "a path must stay inside the results file's folder (relative, without `..`)",
            );
        }
    }

    fn stages(&mut self, at: &str, stages: &indexmap::IndexMap<String, StageSection>) {
        for (name, stage) in stages {
            let at = format!("{at}/{}", escape_pointer_key(name));
            self.optional(&at, "busy_ratio", stage.busy_ratio);
            if let Some(service) = &stage.service_time {
                self.service_time(&format!("{at}/service_time"), service);
            }
            if let Some(depth) = &stage.queue_depth {
                self.depth(&format!("{at}/queue_depth"), depth);
            }
        }
    }

    /// Every column of a series as long as its times.
    fn series(&mut self, at: &str, series: &crate::TimeSeries) {
        for (column, values) in &series.columns {
            if values.len() != series.t_ms.len() {
                self.fail(
                    format!("{at}/series/{}", escape_pointer_key(column)),
                    &format!(
                        "expected as many values as `t_ms` has ({}), found {}",
                        series.t_ms.len(),
                        values.len()
                    ),
                );
            }
        }
    }

    fn memory(&mut self, at: &str, memory: &MemorySection) {
        self.series(at, &memory.series);
        self.non_negative(at, "baseline_mb", memory.baseline_mb);
        self.non_negative(at, "peak_mb", memory.peak_mb);
        self.non_negative(at, "final_mb", memory.final_mb);
        // The heap can shrink over the window: delta may be negative, never infinite.
        self.finite(at, "delta_mb", memory.delta_mb);
        self.optional(at, "allocations_per_message", memory.allocations_per_message);
        self.optional(
            at,
            "bytes_allocated_per_message",
            memory.bytes_allocated_per_message,
        );
        self.optional(at, "resident_mb", memory.resident_mb);
        // A peak of 0 is one the file left out.
        if memory.peak_mb > 0.0 && memory.peak_mb + 1e-9 < memory.baseline_mb.max(memory.final_mb) {
            self.fail(
                format!("{at}/peak_mb"),
                "the peak is below the heap at the window's start or end",
            );
        }
        self.finite(
            &format!("{at}/leak"),
            "bytes_per_message",
            memory.leak.bytes_per_message,
        );
    }

    fn asyncio(&mut self, at: &str, asyncio: &AsyncioSection) {
        self.series(at, &asyncio.series);
        self.optional(at, "event_loop_lag_ms", asyncio.event_loop_lag_ms);
        self.non_negative(at, "slow_poll_time_ms", asyncio.slow_poll_time_ms);
        for (field, summary) in [
            ("lag", &asyncio.lag),
            ("poll_time", &asyncio.poll_time),
            ("schedule_delay", &asyncio.schedule_delay),
            ("timer_lag", &asyncio.timer_lag),
        ] {
            if let Some(summary) = summary {
                self.latency(&format!("{at}/{field}"), summary);
            }
        }
    }

    fn runtime(&mut self, at: &str, runtime: &RuntimeSection) {
        self.series(at, &runtime.series);
        self.non_negative(at, "alive_tasks_mean", runtime.alive_tasks_mean);
        self.optional(at, "process_cpu_percent", runtime.process_cpu_percent);
        self.optional(at, "process_rss_max_mb", runtime.process_rss_max_mb);
        for (index, worker) in runtime.per_worker.iter().enumerate() {
            self.non_negative(
                &format!("{at}/per_worker/{index}"),
                "busy_ratio",
                worker.busy_ratio,
            );
        }
    }

    fn phase(&mut self, at: &str, phase: &PhaseSection) {
        self.non_negative(at, "messages_per_second", phase.messages_per_second);
        self.non_negative(at, "window_seconds", phase.window_seconds);
        self.non_negative(at, "wall_seconds", phase.wall_seconds);
        self.optional(at, "target_rate_per_second", phase.target_rate_per_second);
        self.optional(at, "host_steal_pct", phase.host_steal_pct);
        if let Some(latency) = &phase.latency {
            self.latency(&format!("{at}/latency"), latency);
        }
        self.stages(&format!("{at}/stages"), &phase.stages);
        if let Some(memory) = &phase.memory {
            self.memory(&format!("{at}/memory"), memory);
        }
        if let Some(asyncio) = &phase.asyncio {
            self.asyncio(&format!("{at}/asyncio"), asyncio);
        }
        if let Some(runtime) = &phase.runtime {
            self.runtime(&format!("{at}/runtime"), runtime);
        }
        if let Some(cache) = &phase.cache {
            self.ratio(&format!("{at}/cache"), "hit_rate", cache.hit_rate);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::validate;
    use crate::Results;

    // Deserialised and validated here rather than through `crate::read`, which calls this module:
    // a test that read through it would make the two files import each other.
    fn with(changes: &[(&str, Value)]) -> Result<Results, String> {
        let mut json = serde_json::to_value(Results::example()).unwrap();
        for (pointer, value) in changes {
            *json.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer}")) = value.clone();
        }
        let results: Results = serde_json::from_value(json).map_err(|error| error.to_string())?;
        validate(&results).map_err(|error| error.to_string())?;
        Ok(results)
    }

    #[test]
    fn the_example_is_valid() {
        assert!(with(&[]).is_ok());
    }

    #[test]
    fn impossible_figures_are_named_by_their_place() {
        for (pointer, value, expected) in [
            (
                "/cpu/messages_per_second",
                Value::from(-1.0),
                "/cpu/messages_per_second: must not be negative",
            ),
            (
                "/latency/p99_ms",
                Value::from(-0.5),
                "/latency/p99_ms: must not be negative",
            ),
            (
                "/latency/p50_ms",
                Value::from(50.0),
                "/latency/p50_ms: percentiles out of order: p50_ms is above p90_ms",
            ),
            (
                "/memory/peak_mb",
                Value::from(-2.0),
                "/memory/peak_mb: must not be negative",
            ),
            (
                "/cache/hit_rate",
                Value::from(1.5),
                "/cache/hit_rate: must be between 0 and 1",
            ),
            (
                "/stages/decode/busy_ratio",
                Value::from(-0.1),
                "/stages/decode/busy_ratio: must not be negative",
            ),
            (
                "/phases/saturation/latency/p999_ms",
                Value::from(1e9),
                "/phases/saturation/latency/p999_ms: percentiles out of order: p999_ms is above max_ms",
            ),
            (
                "/asyncio/event_loop_lag_ms",
                Value::from(-3.0),
                "/asyncio/event_loop_lag_ms: must not be negative",
            ),
            (
                "/limit/messages_per_second",
                Value::from(-7.0),
                "/limit/messages_per_second: must not be negative",
            ),
            (
                "/capacity/max_rate_per_second",
                Value::from(-1.0),
                "/capacity/max_rate_per_second: must not be negative",
            ),
            (
                "/capacity/steps/0/offered_per_second",
                Value::from(-5.0),
                "/capacity/steps/0/offered_per_second: must not be negative",
            ),
            (
                "/capacity/steps/1/p50_ms",
                Value::from(1e9),
                "/capacity/steps/1/p50_ms: percentiles out of order: p50_ms is above p99_ms",
            ),
            (
                "/sweep/points/0/summary/cpu.messages_per_second/median",
                Value::from(-1.0),
                "/sweep/points/0/summary/cpu.messages_per_second/median: must not be negative",
            ),
            (
                "/sweep/points/1/summary/latency.p99_ms/low",
                Value::from(1e9),
                "/sweep/points/1/summary/latency.p99_ms/median: outside its interval [low, high]",
            ),
            (
                "/sweep/recommendation/best",
                Value::from(7),
                "/sweep/recommendation/best: no point 7: the sweep has 3",
            ),
            (
                "/sweep/points/2/runs/0/results",
                Value::from("../../../etc/passwd"),
                "/sweep/points/2/runs/0/results: a path must stay inside the results file's folder (relative, without `..`)",
            ),
            (
                "/sweep/points/2/runs/1/results",
                Value::from("/etc/passwd"),
                "/sweep/points/2/runs/1/results: a path must stay inside the results file's folder (relative, without `..`)",
            ),
            (
                "/runtime/series/rss_mb",
                Value::from(vec![1.0]),
                "/runtime/series/rss_mb: expected as many values as `t_ms` has (3), found 1",
            ),
        ] {
            assert_eq!(with(&[(pointer, value)]).unwrap_err(), expected);
        }
    }

    #[test]
    fn unmeasured_figures_are_null_not_zero() {
        let results = with(&[
            ("/asyncio/event_loop_lag_ms", Value::Null),
            ("/memory/allocations_per_message", Value::Null),
        ])
        .unwrap();
        assert_eq!(results.asyncio.unwrap().event_loop_lag_ms, None);
        assert_eq!(results.memory.unwrap().allocations_per_message, None);
    }
}

//! perfgate's `results.json`, already read and validated into the `perfgate-results` types, as
//! the report's [`RunData`]: figures by metric id from the catalogue, and the rows and series the
//! sections show.

use std::collections::BTreeMap;
use std::path::Path;

use perfgate_results::{FunctionShare, Results, SCHEMA_VERSION, TimeSeries};
use serde_json::Value;

use super::run_data::{Environment, FunctionRow, InputFormat, RunData, StageRow};
use super::series::{PhaseSeries, Series};

/// The order the profiler runs phases in; the file's maps keep insertion order, older files
/// written through another map may not.
fn phase_order(phase: &str) -> usize {
    ["saturation", "limit", "fixed_rate"]
        .iter()
        .position(|known| *known == phase)
        .unwrap_or(usize::MAX)
}

/// The report's view of a validated results file; `document` is the file as read, which says
/// which figures it really holds (the types read a missing one as its default).
pub(super) fn run_data(path: &Path, results: &Results, document: &Value) -> RunData {
    let mut run = RunData::empty(
        path,
        InputFormat::Perfgate {
            schema_version: u64::from(SCHEMA_VERSION),
        },
    );
    run.metrics = perfgate_results::catalogue::figures_in(results, document)
        .into_iter()
        .map(|(id, value)| (id.to_owned(), value))
        .collect();
    if results.pipeline.generated > 0 && document.pointer("/errors/total").is_some() {
        run.metrics.insert(
            "error_rate.percent".to_owned(),
            results.errors.total as f64 / results.pipeline.generated as f64 * 100.0,
        );
    }
    run.environment = document
        .get("environment")
        .is_some_and(Value::is_object)
        .then(|| environment(results));
    run.top_functions = functions(&results.cpu.top_functions);
    run.hot_functions = functions(&results.cpu.hot_functions);
    let mut stages: Vec<(usize, StageRow)> = results
        .stages
        .iter()
        .map(|(name, stage)| {
            let service = stage.service_time.as_ref();
            let row = StageRow {
                name: name.clone(),
                workers: stage.workers as u64,
                service_p50_us: service.map(|s| s.p50_us),
                service_p99_us: service.map(|s| s.p99_us),
                service_max_us: service.map(|s| s.max_us),
                busy_ratio: stage.busy_ratio,
                queue_p99: stage.queue_depth.as_ref().map(|d| d.p99 as f64),
                queue_capacity: (stage.queue_capacity > 0).then_some(stage.queue_capacity as f64),
                errors: stage.errors,
            };
            (stage.index, row)
        })
        .collect();
    stages.sort_by_key(|(index, _)| *index);
    run.stages = stages.into_iter().map(|(_, row)| row).collect();
    run.errors_by_kind = results.errors.by_kind.clone();
    run.leak_suspected = results.memory.as_ref().map(|memory| memory.leak_suspected);
    run.worker_busy = results
        .runtime
        .iter()
        .flat_map(|runtime| runtime.per_worker.iter().map(|worker| worker.busy_ratio))
        .collect();
    run.slow_poll_sites = results
        .asyncio
        .iter()
        .flat_map(|asyncio| asyncio.slow_poll_sites.iter())
        .map(|site| (site.spawned_at.clone(), site.slow_polls, site.slow_poll_time_ms))
        .collect();
    run.cache_capacity = results
        .environment
        .workload
        .get("cache_capacity")
        .and_then(|c| c.as_u64());
    run.files = results.files.clone();
    run.capacity = results.capacity.clone();
    run.sweep = results.sweep.clone();
    run.chaos = results.chaos.clone();
    run.database = results.database.clone().map(|mut database| {
        // The pool's use per phase, in the order the phases ran, as the probes' series are.
        database
            .timeline
            .sort_by(|a, _, b, _| (phase_order(a), a).cmp(&(phase_order(b), b)));
        database
    });
    run.warnings = results.warnings.clone();
    run.repetitions = results
        .repetitions
        .iter()
        .flat_map(|repetitions| &repetitions.runs)
        .map(|figures| {
            // Ids this report does not know are skipped: a newer profiler may keep more.
            figures
                .iter()
                .filter(|(id, value)| perfgate_results::metric(id).is_some() && value.is_finite())
                .map(|(id, value)| (id.clone(), *value))
                .collect()
        })
        .collect();
    run.series = phase_series(results);
    run
}

fn environment(results: &Results) -> Environment {
    let environment = &results.environment;
    let mut host_steal_pct: Vec<(String, f64)> = results
        .phases
        .iter()
        .filter_map(|(name, phase)| Some((name.clone(), phase.host_steal_pct?)))
        .collect();
    host_steal_pct.sort_by_key(|(name, _)| phase_order(name));
    // A text the file left out reads as empty: not a value.
    let given = |text: &String| (!text.is_empty()).then(|| text.clone());
    Environment {
        timestamp: given(&environment.timestamp),
        git_commit: environment.git_commit.clone(),
        git_dirty: environment.git_dirty,
        rustc: given(&environment.rustc),
        build_profile: given(&environment.build_profile),
        cpu_model: given(&environment.cpu_model),
        logical_cores: (environment.logical_cores > 0).then_some(environment.logical_cores as u64),
        os: given(&environment.os),
        hostname: environment.hostname.clone(),
        workload: environment.workload.clone(),
        run: environment.run.clone(),
        host_steal_pct,
    }
}

fn functions(shares: &[FunctionShare]) -> Vec<FunctionRow> {
    shares
        .iter()
        .map(|share| FunctionRow {
            function: share.function.clone(),
            self_percent: Some(share.self_percent),
            inclusive_percent: Some(share.inclusive_percent),
            cumtime: Some(share.cumtime),
        })
        .collect()
}

fn series(series: &TimeSeries) -> Series {
    Series {
        t_ms: series.t_ms.clone(),
        columns: series
            .columns
            .iter()
            .map(|(name, values)| (name.clone(), values.clone()))
            .collect::<BTreeMap<_, _>>(),
    }
}

/// The series of every phase: from `phases.<name>`, or, in files without them, from the
/// top-level sections, grouped by the phase each names.
fn phase_series(results: &Results) -> Vec<PhaseSeries> {
    let mut phases: Vec<PhaseSeries> = Vec::new();
    for (name, phase) in &results.phases {
        add_series(
            &mut phases,
            name,
            phase.memory.as_ref(),
            phase.asyncio.as_ref(),
            phase.runtime.as_ref(),
        );
    }
    if phases.iter().all(PhaseSeries::is_empty) {
        phases.clear();
        if let Some(memory) = &results.memory {
            add_series(&mut phases, &memory.phase, Some(memory), None, None);
        }
        if let Some(asyncio) = &results.asyncio {
            add_series(&mut phases, &asyncio.phase, None, Some(asyncio), None);
        }
        if let Some(runtime) = &results.runtime {
            add_series(&mut phases, &runtime.phase, None, None, Some(runtime));
        }
    }
    phases.retain(|phase| !phase.is_empty());
    phases.sort_by(|a, b| (phase_order(&a.phase), &a.phase).cmp(&(phase_order(&b.phase), &b.phase)));
    phases
}

/// Adds the series of one phase's sections to that phase's entry.
fn add_series(
    phases: &mut Vec<PhaseSeries>,
    phase: &str,
    memory: Option<&perfgate_results::MemorySection>,
    asyncio: Option<&perfgate_results::AsyncioSection>,
    runtime: Option<&perfgate_results::RuntimeSection>,
) {
    let index = match phases.iter().position(|entry| entry.phase == phase) {
        Some(index) => index,
        None => {
            phases.push(PhaseSeries::new(phase));
            phases.len() - 1
        }
    };
    let entry = &mut phases[index];
    if let Some(memory) = memory.filter(|m| !m.series.is_empty()) {
        entry.memory = series(&memory.series);
        entry.heap_baseline_mb = Some(memory.baseline_mb);
        entry.heap_peak_mb = Some(memory.peak_mb);
    }
    if let Some(asyncio) = asyncio.filter(|a| !a.series.is_empty()) {
        entry.asyncio = series(&asyncio.series);
    }
    if let Some(runtime) = runtime.filter(|r| !r.series.is_empty()) {
        entry.runtime = series(&runtime.series);
    }
}

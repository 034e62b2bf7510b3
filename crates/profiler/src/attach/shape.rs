//! Shapes what the attach API measured into [`Results`]: the sections a run's probes fill (CPU,
//! heap, lag, runtime, process) and one phase, `attached`, for the window the caller marked.
//! There is no pipeline, so the pipeline's own sections (stages, latency, limit) stay empty.

use std::collections::BTreeMap;
use std::time::Duration;

use indexmap::IndexMap;

use crate::probe::ProbeOutcome;
use crate::probe::cpu::ProfilerFootprint;
use crate::sections::{
    asyncio_section, measure_process, memory_section, profile_cpu, profiler_section, runtime_section,
    tool_info, uninstrumented_warning,
};
use perfgate_results::{CpuSection, Environment, PhaseSection, Results, SCHEMA_VERSION};

/// The phase name attached measurements are filed under.
const PHASE: &str = "attached";

/// What an attached profiler measured.
#[derive(Debug)]
pub(crate) struct AttachedOutcome {
    /// The marked window.
    pub(crate) window: Duration,
    /// Messages the caller counted in the window.
    pub(crate) messages: u64,
    /// From attach to finish.
    pub(crate) wall: Duration,
    pub(crate) probes: ProbeOutcome,
    pub(crate) footprint: Option<ProfilerFootprint>,
}

pub(crate) fn assemble_attached(
    outcome: AttachedOutcome,
    environment: Environment,
    probes_run: &str,
) -> Results {
    let mut warnings = Vec::new();
    if environment.build_profile != "release" {
        warnings.push("measured in a debug build: figures are not representative".to_owned());
    }
    let probes = &outcome.probes;
    let seconds = outcome.window.as_secs_f64();
    let messages_per_second = match (outcome.messages, seconds > 0.0) {
        (0, _) | (_, false) => 0.0,
        (messages, true) => messages as f64 / seconds,
    };
    let mut cpu = CpuSection {
        phase: PHASE.to_owned(),
        messages_per_second,
        total_time: seconds,
        message_count: outcome.messages,
        cpu_ns_per_message: probes
            .window_cpu
            .filter(|(_, messages)| *messages > 0)
            .map(|(cpu, messages)| cpu.as_nanos() as f64 / messages as f64),
        ..CpuSection::default()
    };
    let mut artifacts = Vec::new();
    let mut files = BTreeMap::new();
    let windows: Vec<_> = probes.cpu.iter().collect();
    profile_cpu(
        &mut cpu,
        &windows,
        environment.logical_cores,
        &mut files,
        &mut artifacts,
        &mut warnings,
    );
    let memory = probes.heap.as_ref().map(|heap| memory_section(PHASE, heap));
    let asyncio = probes.lag.as_ref().map(|lag| {
        let section = asyncio_section(PHASE, lag, probes.runtime.as_ref());
        warnings.extend(uninstrumented_warning(PHASE, lag, &section));
        section
    });
    let runtime = probes
        .runtime
        .as_ref()
        .map(|runtime| runtime_section(PHASE, runtime));
    warnings.extend(
        probes
            .warnings
            .iter()
            .map(|warning| format!("{PHASE}: {warning}")),
    );
    let phase = PhaseSection {
        mode: PHASE.to_owned(),
        messages_per_second,
        window_seconds: seconds,
        measured_messages: outcome.messages,
        wall_seconds: outcome.wall.as_secs_f64(),
        host_steal_pct: probes.window_steal_pct,
        memory: memory.clone(),
        asyncio: asyncio.clone(),
        runtime: runtime.clone(),
        ..PhaseSection::default()
    };
    let mut phases = IndexMap::new();
    phases.insert(PHASE.to_owned(), phase);
    Results {
        schema_version: SCHEMA_VERSION,
        tool: tool_info(),
        environment,
        cpu,
        memory,
        asyncio,
        runtime,
        process: measure_process(),
        profiler: profiler_section(probes_run, outcome.footprint),
        files,
        phases,
        warnings,
        artifacts,
        ..Results::default()
    }
}

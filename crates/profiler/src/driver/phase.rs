//! One phase of a run: a fresh runtime and a freshly installed pipeline, fed to plan, drained,
//! and every worker's figures collected.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::fault_control::{FaultRecord, control};
use super::feed::{
    Burst, DRAIN_LIMIT, DueCount, FeedPlan, FeedReport, OPEN_LIMIT, Pacing, PumpTask, TightTimerSlack, feed,
};
use crate::attach::{AttachOptions, Parts, Profiler};
use crate::clock::Clock;
use crate::config::RunConfig;
use crate::error::{ProfilerError, Result, panic_message};
use crate::faults::{FaultKind, FaultSwitches};
use crate::observer::{Observer, PhaseStart};
use crate::pipeline::{
    AsyncSource, Counter, ErrorTally, Pipeline, SubscriberReport, Wiring, WiringSettings, WorkerReport,
};
use crate::probe::ProbeOutcome;
use crate::probe::cpu::ProfilerFootprint;
use crate::probe::heap_profile::HeapProfile;
use crate::probe::lag::LagShared;
use crate::probe::poll_hooks::PollHooks;
use crate::stats::{merge_into, ns_histogram};
use crate::window::WindowState;

/// Everything one phase measured, before it is shaped into results.
#[derive(Debug)]
pub(crate) struct PhaseOutcome {
    pub(crate) pacing: Pacing,
    pub(crate) feed: FeedReport,
    pub(crate) stages: Vec<StageOutcome>,
    /// End-to-end latency of measured messages, ns.
    pub(crate) latency: Histogram<u64>,
    /// Messages that completed the last stage (warm-up included).
    pub(crate) processed: u64,
    /// When the last measured message finished, ns since the phase's epoch.
    pub(crate) last_measured_ns: u64,
    /// Deliveries dropped per subscriber.
    pub(crate) dropped: Vec<u64>,
    pub(crate) subscribers: Vec<SubscriberReport>,
    /// Wall time of the whole phase, warm-up and drain included.
    pub(crate) wall: Duration,
    /// What the probes measured over the window.
    pub(crate) probes: ProbeOutcome,
    /// The fault injected into this phase, if any: when the window began and the backlog.
    pub(crate) faults: Option<FaultRecord>,
    /// Stages that panicked: name, panics caught (each replaced the worker's stage), the first
    /// panic's message.
    pub(crate) panics: Vec<(String, u64, String)>,
}

/// One stage's figures, summed over its workers.
#[derive(Debug)]
pub(crate) struct StageOutcome {
    pub(crate) name: String,
    pub(crate) workers: usize,
    pub(crate) processed: u64,
    pub(crate) errors: ErrorTally,
    pub(crate) service_ns: Histogram<u64>,
    pub(crate) busy_ns: u64,
    pub(crate) depth: Histogram<u64>,
    pub(crate) capacity_messages: usize,
    pub(crate) counters: Vec<Counter>,
}

impl PhaseOutcome {
    pub(crate) fn name(&self) -> &'static str {
        phase_name(self.pacing)
    }

    /// From the first measured message's start to the last one's finish.
    pub(crate) fn window(&self) -> Duration {
        let first = self.feed.first_measured_ns.unwrap_or(self.last_measured_ns);
        Duration::from_nanos(self.last_measured_ns.saturating_sub(first))
    }

    /// Measured messages per second of the window; 0 when nothing was measured.
    pub(crate) fn messages_per_second(&self) -> f64 {
        let seconds = self.window().as_secs_f64();
        if seconds > 0.0 {
            self.feed.measured_messages as f64 / seconds
        } else {
            0.0
        }
    }

    pub(crate) fn errors(&self) -> ErrorTally {
        let mut all = ErrorTally::default();
        for stage in &self.stages {
            all.merge(&stage.errors);
        }
        all
    }
}

pub(crate) fn phase_name(pacing: Pacing) -> &'static str {
    match pacing {
        Pacing::Saturation => "saturation",
        Pacing::Rate(_) => "fixed_rate",
    }
}

/// How often the fault controller samples the backlog; the chaos analysis's window.
pub(crate) const FAULT_SAMPLE: Duration = Duration::from_millis(100);

fn settings(config: &RunConfig) -> WiringSettings {
    WiringSettings {
        batch_size: config.batch_size,
        channel_batches: config.channel_batches(),
        subscriber_batches: config.subscriber_batches(),
        slow_subscribers: config.slow_subscribers,
        slow_delay: config.slow_subscriber_delay,
        lag_threshold_ns: config.subscriber_lag_threshold.as_nanos() as u64,
        workers: config.workers.clone(),
        faults: None,
    }
}

pub(crate) fn run_phase<Src>(
    pipeline: &Pipeline<Src>,
    config: &RunConfig,
    pacing: Pacing,
    profile_cpu: bool,
    footprint: ProfilerFootprint,
    observer: &dyn Observer,
) -> Result<PhaseOutcome>
where
    Src: AsyncSource,
    Src::Item: Sync,
{
    observer.phase_started(&PhaseStart {
        name: phase_name(pacing),
        length: config.length,
        warmup: config.warmup,
        rate: match pacing {
            Pacing::Rate(rate) => Some(rate),
            Pacing::Saturation => None,
        },
    });
    let started = Instant::now();
    // Armed before the runtime's threads exist: see `HeapProfile::arm`.
    let heap_profile = (profile_cpu && config.heap_profile).then(|| {
        let mut profile = HeapProfile::default();
        profile.arm();
        profile
    });
    let clock = Clock::start();
    let window = Arc::new(WindowState::default());
    let mut probe_warnings = Vec::new();
    let lag = config.probes.lag.then(|| {
        LagShared::new(
            clock.clone(),
            Arc::clone(&window),
            config.runtime_workers,
            config.slow_poll_threshold,
            config.lag_comparison,
        )
    });
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .worker_threads(config.runtime_workers)
        .enable_all()
        .thread_name_fn(|| {
            // Distinct names let CPU profiles tell the workers apart.
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            // Linux keeps 15 bytes of a thread name: short names survive whole.
            format!("pg-worker-{}", NEXT.fetch_add(1, Ordering::Relaxed))
        });
    // With the poll hooks the lag probe times every task on the runtime, including tasks a
    // stage spawned itself; without them (no `--cfg tokio_unstable`), the pipeline's own.
    let hooks = PollHooks::default();
    #[cfg(tokio_unstable)]
    if lag.is_some() {
        hooks.install(&mut builder);
    }
    let runtime = builder.build().map_err(|source| ProfilerError::Start {
        what: "tokio runtime",
        source,
    })?;
    // A fault is injected into the fixed-rate phase only: it is measured against that phase's
    // steady state.
    let fault = config
        .fault
        .as_ref()
        .filter(|_| matches!(pacing, Pacing::Rate(_)));
    let fault_stage = fault
        .and_then(|fault| fault.stage())
        .and_then(|name| pipeline.stage_names().iter().position(|stage| stage == name));
    let switches = fault.map(|fault| {
        Arc::new(FaultSwitches::new(
            pipeline.stage_names().len(),
            pipeline.subscribers(),
            fault.seed,
        ))
    });
    let mut wiring_settings = settings(config);
    wiring_settings.faults = switches.clone();
    let due = DueCount::default();
    let mut wiring = Wiring::new(clock.clone(), wiring_settings, lag.clone(), config.live.clone());
    // The phase's own database pool: its connections are tasks on this phase's runtime, and
    // it is closed (and its timeline ended) only after that runtime has shut down, below.
    let database_phase = config
        .database
        .as_ref()
        .map(|database| database.begin_phase(phase_name(pacing)));
    let inlet = {
        let _inside = runtime.enter();
        if let Some(lag) = lag.as_ref().filter(|_| config.lag_comparison) {
            tokio::spawn(Arc::clone(lag).tick());
        }
        pipeline.install(&mut wiring)
    };
    let Wiring {
        stages: mut metas,
        workers,
        subscribers,
        finished,
        ..
    } = wiring;
    metas.sort_by_key(|meta| meta.index);
    let plan = FeedPlan {
        warmup: config.warmup,
        length: config.length,
        pacing,
        batch_size: config.batch_size,
        burst: fault.and_then(|fault| match fault.kind {
            FaultKind::LoadBurst { factor } => Some(Burst {
                after: fault.start,
                until: fault.start + fault.duration,
                factor,
            }),
            _ => None,
        }),
    };
    let source = pipeline.source(0);
    // This phase is a client of the attach API, with the parts its pipeline shares.
    let options = AttachOptions {
        // Every measured window is CPU-profiled, not only the throughput phase's (`profile_cpu`
        // only decides the heap profile): one window at the kernel's sampling cap holds too few
        // samples to rank functions (see `probe::cpu`); the results merge the profiles.
        probes: config.probes,
        cpu_hz: config.cpu_hz,
        sample_interval: config.queue_sample_interval,
        heap_interval: config.heap_interval,
        runtime_interval: config.runtime_interval,
        slow_poll_threshold: config.slow_poll_threshold,
        poll_hooks: Some(hooks),
        name: phase_name(pacing).to_owned(),
    };
    let parts = Parts {
        clock: clock.clone(),
        window: Arc::clone(&window),
        lag: lag.clone().unwrap_or_else(|| {
            LagShared::new(
                clock.clone(),
                Arc::clone(&window),
                config.runtime_workers,
                config.slow_poll_threshold,
                false,
            )
        }),
        finished: Arc::clone(&finished),
        queues: metas.iter().map(|meta| meta.queued.clone()).collect(),
        live: config.live.clone(),
        heap_profile,
        excluded_heap_bytes: footprint.heap_bytes as f64,
    };
    let profiler = Profiler::attach_parts(runtime.handle(), options, parts)?;
    let runtime_handle = runtime.handle().clone();
    let mut fault_record = None;
    let due = &due;
    let fed = std::thread::scope(|scope| {
        let controller = fault.zip(switches.as_deref()).map(|(fault, switches)| {
            let (clock, window, finished, handle) = (&clock, &*window, &*finished, &runtime_handle);
            std::thread::Builder::new()
                .name("pg-faults".into())
                .spawn_scoped(scope, move || {
                    control(
                        fault,
                        fault_stage,
                        switches,
                        (clock, window, due, finished),
                        handle,
                        FAULT_SAMPLE,
                    )
                })
                .expect("spawning the fault controller")
        });
        // The feeder drives the runtime from a thread of its own, never the caller's: a caller
        // inside an async context (a `#[tokio::main]`) cannot `block_on` a second runtime, and a
        // panic there must not leave the sampler waiting for a stop that never comes.
        // The runtime goes with it, and is shut down there: dropping a runtime inside an async
        // context panics just as starting one does.
        let (window, feed_clock, feed_finished) = (&window, clock.clone(), &*finished);
        // At saturation the sending runs as a task on the runtime (see `PumpTask`); at a fixed
        // rate it stays on the feeder's thread, whose sleeps keep the schedule to the
        // microsecond and must never block a worker.
        let on_runtime = matches!(pacing, Pacing::Saturation).then(|| PumpTask { lag: lag.clone() });
        let feeder = std::thread::Builder::new()
            .name("pg-feeder".into())
            .spawn_scoped(scope, move || {
                let _slack = matches!(pacing, Pacing::Rate(_)).then(TightTimerSlack::set);
                let feed_report = runtime.block_on(feed(
                    source,
                    inlet,
                    plan,
                    feed_clock,
                    window,
                    (feed_finished, due),
                    on_runtime,
                ));
                let (worker_results, subscriber_results) = runtime.block_on(async {
                    let mut worker_results = Vec::with_capacity(workers.len());
                    for handle in workers {
                        worker_results.push(handle.await);
                    }
                    let mut subscriber_results = Vec::with_capacity(subscribers.len());
                    for handle in subscribers {
                        subscriber_results.push(handle.await);
                    }
                    (worker_results, subscriber_results)
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
                (feed_report, worker_results, subscriber_results)
            })
            .expect("spawning the feeder thread");
        report_progress(observer, &finished, started, || feeder.is_finished());
        let fed = feeder.join();
        if let Some(controller) = controller {
            fault_record = controller.join().ok();
        }
        fed
    });
    drop(database_phase);
    let sampled = profiler.finish_parts();
    let (feed_report, worker_results, subscriber_results) = fed.map_err(|panic| ProfilerError::Panicked {
        what: "the feeder".to_owned(),
        message: panic_message(&*panic),
    })?;
    let (depths, probe_outcome) = sampled?;

    let mut reports = Vec::with_capacity(worker_results.len());
    for result in worker_results {
        match result {
            Ok(report) => reports.push(report),
            Err(error) => return Err(task_panic("a stage worker", error)),
        }
    }
    let mut subscriber_reports = Vec::with_capacity(subscriber_results.len());
    for (index, result) in subscriber_results.into_iter().enumerate() {
        match result {
            Ok(report) => subscriber_reports.push(report),
            Err(error) => return Err(task_panic(&format!("subscriber {index}"), error)),
        }
    }
    observer.phase_finished(phase_name(pacing));

    let mut stages: Vec<StageOutcome> = metas
        .into_iter()
        .zip(depths)
        .map(|(meta, depth)| StageOutcome {
            name: meta.name,
            workers: meta.workers,
            processed: 0,
            errors: ErrorTally::default(),
            service_ns: ns_histogram(),
            busy_ns: 0,
            depth,
            capacity_messages: meta.capacity_messages,
            counters: Vec::new(),
        })
        .collect();
    let mut outcome = PhaseOutcome {
        pacing,
        feed: feed_report,
        stages: Vec::new(),
        latency: ns_histogram(),
        processed: 0,
        last_measured_ns: 0,
        dropped: vec![0; subscriber_reports.len()],
        subscribers: subscriber_reports,
        wall: Duration::ZERO,
        probes: probe_outcome,
        faults: fault_record,
        panics: Vec::new(),
    };
    if outcome.feed.opened_late {
        probe_warnings.push(format!(
            "window: the probes had not started within {} s of the window's start, so the first measured messages may be outside their figures",
            OPEN_LIMIT.as_secs_f64()
        ));
    }
    if outcome.feed.source_ended {
        probe_warnings.push(format!(
            "source: the source ended after {} warm-up and {} measured messages, before the phase's planned length",
            outcome.feed.warmup_messages, outcome.feed.measured_messages
        ));
    }
    if outcome.feed.unfinished_at_close > 0 {
        probe_warnings.push(format!(
            "window: {} messages were still in the pipeline {} s after the last was sent, when the probes read the end of the window",
            outcome.feed.unfinished_at_close,
            DRAIN_LIMIT.as_secs_f64()
        ));
    }
    outcome.probes.warnings.splice(0..0, probe_warnings);
    let last_stage = stages.len().saturating_sub(1);
    for report in reports {
        if report.panics > 0 {
            let name = stages[report.stage_index].name.clone();
            match outcome.panics.iter_mut().find(|(stage, ..)| *stage == name) {
                Some((_, count, _)) => *count += report.panics,
                None => outcome.panics.push((
                    name,
                    report.panics,
                    report.first_panic.clone().unwrap_or_default(),
                )),
            }
        }
        absorb(&mut outcome, &mut stages[report.stage_index], report, last_stage);
    }
    for (stage, count, first) in &outcome.panics {
        outcome.probes.warnings.push(format!(
            "panic: stage {stage:?} panicked {count} time(s) (first: {first}); each message it panicked on counts as an error of kind `panic` and the worker's stage was replaced"
        ));
    }
    outcome.stages = stages;
    outcome.wall = started.elapsed();
    Ok(outcome)
}

/// How often the caller hears how many messages have finished.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Tells `observer` the progress about every [`PROGRESS_INTERVAL`] until `done`, and once more
/// at the end.
fn report_progress(observer: &dyn Observer, finished: &AtomicU64, started: Instant, done: impl Fn() -> bool) {
    let mut next = started + PROGRESS_INTERVAL;
    while !done() {
        // Short naps, so that the phase ends promptly after the feeder does.
        std::thread::sleep(Duration::from_millis(5));
        let now = Instant::now();
        if now >= next {
            observer.progress(finished.load(Ordering::Relaxed), now - started);
            next += PROGRESS_INTERVAL;
        }
    }
    observer.progress(finished.load(Ordering::Relaxed), started.elapsed());
}

fn absorb(outcome: &mut PhaseOutcome, stage: &mut StageOutcome, report: WorkerReport, last_stage: usize) {
    stage.processed += report.processed;
    stage.errors.merge(&report.errors);
    merge_into(&mut stage.service_ns, &report.service_ns);
    stage.busy_ns += report.busy_ns;
    for counter in report.counters {
        match stage.counters.iter_mut().find(|known| known.name == counter.name) {
            Some(known) => known.value += counter.value,
            None => stage.counters.push(counter),
        }
    }
    outcome.last_measured_ns = outcome.last_measured_ns.max(report.last_measured_ns);
    if report.stage_index == last_stage {
        outcome.processed += report.processed;
    }
    if let Some(terminal) = report.terminal {
        merge_into(&mut outcome.latency, &terminal.latency);
        for (total, dropped) in outcome.dropped.iter_mut().zip(terminal.dropped) {
            *total += dropped;
        }
        outcome.last_measured_ns = outcome.last_measured_ns.max(terminal.last_measured_ns);
    }
}

fn task_panic(what: &str, error: tokio::task::JoinError) -> ProfilerError {
    let message = match error.try_into_panic() {
        Ok(payload) => panic_message(&*payload),
        Err(error) => error.to_string(),
    };
    ProfilerError::Panicked {
        what: what.to_owned(),
        message,
    }
}

//! The attach API: perfgate's probes on code you already have, the way pprof-rs's
//! `ProfilerGuard` and tokio-metrics' `RuntimeMonitor`/`TaskMonitor` attach to a running
//! program. Attach to a runtime (its [`Handle`] or the current one), optionally
//! [`instrument`](Profiler::instrument) futures under a name, mark the measured window and
//! [`finish`](Profiler::finish) into the same results sections a run has: CPU profile, heap, lag
//! (per named task too), runtime and process.
//!
//! [`crate::run`] is a client of it: each phase builds its runtime (with the poll hooks) and its
//! pipeline, attaches a [`Profiler`] with the parts it shares with the pipeline (clock, window,
//! lag state, queues), lets the feeder mark the window through the same handshake, and finishes.
//!
//! Every call that waits has an async twin: the blocking ones return
//! [`ProfilerError::BlockingInRuntime`] when called on a thread inside a tokio runtime instead of
//! stalling a worker (or never returning).

mod shape;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;

use crate::clock::Clock;
use crate::config::Probes;
use crate::error::{ProfilerError, Result};
use crate::live_sink::LiveSink;
use crate::probe::cpu::ProfilerFootprint;
use crate::probe::heap::HeapProbe;
use crate::probe::heap_profile::HeapProfile;
use crate::probe::lag::{Instrumented, LagShared, instrument_named};
use crate::probe::poll_hooks::PollHooks;
use crate::probe::runtime::RuntimeProbe;
use crate::sampler::{Probes as SamplerProbes, Sampler, SamplerInputs};
use crate::window::WindowState;
use perfgate_results::Results;
use shape::{AttachedOutcome, assemble_attached};

/// How long a window edge waits for the probes' readings before going on without them.
const EDGE_LIMIT: Duration = Duration::from_secs(5);

/// What to measure when attaching; [`Default`] is every probe at the run's defaults.
#[derive(Debug, Clone)]
pub struct AttachOptions {
    /// Which probes run (`cpu`, `heap`, `lag`, `runtime`).
    pub probes: Probes,
    /// CPU profile sampling rate, Hz.
    pub cpu_hz: i32,
    /// How often the sampler thread wakes (and reads the lag).
    pub sample_interval: Duration,
    /// The heap probe's sampling interval.
    pub heap_interval: Duration,
    /// The runtime probe's sampling interval.
    pub runtime_interval: Duration,
    /// A poll at least this long counts as slow.
    pub slow_poll_threshold: Duration,
    /// Poll hooks installed on the runtime's builder (`PollHooks::install`): then every task's
    /// polls are timed, not only the instrumented futures'.
    pub poll_hooks: Option<PollHooks>,
    /// Names the results (`environment.workload.name`) and the flamegraph.
    pub name: String,
}

impl Default for AttachOptions {
    fn default() -> Self {
        let run = crate::config::RunConfig::default();
        Self {
            probes: Probes::ALL,
            cpu_hz: run.cpu_hz,
            sample_interval: run.queue_sample_interval,
            heap_interval: run.heap_interval,
            runtime_interval: run.runtime_interval,
            slow_poll_threshold: run.slow_poll_threshold,
            poll_hooks: None,
            name: "attached".to_owned(),
        }
    }
}

impl AttachOptions {
    /// Times every task's polls through `hooks`, which must be installed on the runtime's builder.
    pub fn poll_hooks(mut self, hooks: PollHooks) -> Self {
        self.poll_hooks = Some(hooks);
        self
    }

    /// Names the measurement.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}

/// What [`crate::run`]'s phases bring of their own when they attach: one clock, window and lag
/// state shared with the pipeline they built, its queues, and the probes only a run has.
#[derive(Debug)]
pub(crate) struct Parts {
    pub(crate) clock: Clock,
    pub(crate) window: Arc<WindowState>,
    pub(crate) lag: Arc<LagShared>,
    pub(crate) finished: Arc<AtomicU64>,
    /// Messages queued in front of each stage, sampled for the depth histograms.
    pub(crate) queues: Vec<Arc<AtomicU64>>,
    pub(crate) live: Option<Arc<dyn LiveSink>>,
    pub(crate) heap_profile: Option<HeapProfile>,
    /// Heap the CPU profiler keeps, left out of the heap figures (the run's, even in a phase
    /// that is not CPU-profiled).
    pub(crate) excluded_heap_bytes: f64,
}

/// Counts the messages your code finished, for the per-message figures (CPU time and allocation
/// per message, throughput). Cheap to clone; one relaxed atomic add per call.
#[derive(Debug, Clone)]
pub struct MessageCounter(Arc<AtomicU64>);

impl MessageCounter {
    /// `count` more messages finished.
    pub fn add(&self, count: u64) {
        self.0.fetch_add(count, Ordering::Relaxed);
    }
}

/// The probes, attached to a runtime. Dropping it without [`Profiler::finish`] stops them and
/// discards what they measured.
#[derive(Debug)]
pub struct Profiler {
    handle: Handle,
    options: AttachOptions,
    window: Arc<WindowState>,
    clock: Clock,
    lag: Arc<LagShared>,
    finished: Arc<AtomicU64>,
    sampler: Option<Sampler>,
    footprint: Option<ProfilerFootprint>,
    attached: Instant,
    /// The window's edges as marked, ns on the clock, and the messages finished then.
    begun: Option<(u64, u64)>,
    ended: Option<(u64, u64)>,
    warnings: Vec<String>,
}

impl Profiler {
    /// Attaches the probes to the runtime `handle` belongs to. Starts a sampler thread; measures
    /// nothing until [`Profiler::begin_window`].
    pub fn attach(handle: &Handle, options: AttachOptions) -> Result<Self> {
        let clock = Clock::start();
        let window = Arc::new(WindowState::default());
        let lag = LagShared::new(
            clock.clone(),
            Arc::clone(&window),
            handle.metrics().num_workers(),
            options.slow_poll_threshold,
            false,
        );
        let excluded_heap_bytes = match options.probes.cpu {
            true => crate::probe::cpu::prepare(options.cpu_hz).heap_bytes as f64,
            false => 0.0,
        };
        let parts = Parts {
            clock,
            window,
            lag,
            finished: Arc::new(AtomicU64::new(0)),
            queues: Vec::new(),
            live: None,
            heap_profile: None,
            excluded_heap_bytes,
        };
        Self::attach_parts(handle, options, parts)
    }

    /// Attaches with parts the caller made: [`crate::run`]'s phases, whose pipeline shares them.
    pub(crate) fn attach_parts(handle: &Handle, options: AttachOptions, parts: Parts) -> Result<Self> {
        let Parts {
            clock,
            window,
            lag,
            finished,
            queues,
            live,
            heap_profile,
            excluded_heap_bytes,
        } = parts;
        if let Some(hooks) = &options.poll_hooks
            && options.probes.lag
        {
            hooks.point_at(Some(Arc::clone(&lag)).filter(|_| PollHooks::AVAILABLE));
        }
        let mut warnings = Vec::new();
        let footprint = options
            .probes
            .cpu
            .then(|| crate::probe::cpu::prepare(options.cpu_hz));
        let heap = match options.probes.heap {
            true => {
                let probe = HeapProbe::new(options.heap_interval, excluded_heap_bytes);
                match &probe {
                    None => warnings.push(
                        "heap: no TrackingAllocator is the global allocator, so the heap was not measured"
                            .to_owned(),
                    ),
                    Some(probe) if !probe.jemalloc() => warnings.push(
                        "heap: jemalloc is not the global allocator; resident and retained memory were not measured"
                            .to_owned(),
                    ),
                    Some(_) => {}
                }
                probe
            }
            false => None,
        };
        let sampler = Sampler::start(SamplerInputs {
            queues,
            interval: options.sample_interval,
            clock: clock.clone(),
            window: Arc::clone(&window),
            finished: Arc::clone(&finished),
            probes: SamplerProbes {
                lag: options.probes.lag.then(|| Arc::clone(&lag)),
                live,
                slow_poll_threshold_ns: options.slow_poll_threshold.as_nanos() as u64,
                heap,
                runtime: options
                    .probes
                    .runtime
                    .then(|| RuntimeProbe::new(handle.clone(), options.runtime_interval)),
                cpu: options.probes.cpu.then(|| (options.cpu_hz, options.name.clone())),
                heap_profile,
            },
        })
        .map_err(|source| ProfilerError::Start {
            what: "sampler thread",
            source,
        })?;
        Ok(Self {
            handle: handle.clone(),
            options,
            window,
            clock,
            lag,
            finished,
            sampler: Some(sampler),
            footprint,
            attached: Instant::now(),
            begun: None,
            ended: None,
            warnings,
        })
    }

    /// Stops the probes and hands back what they measured, unshaped, with the warnings of the
    /// attachment first: for [`crate::run`]'s phases, which mark the window through the feeder's
    /// handshake and shape the results with their pipeline's figures.
    pub(crate) fn finish_parts(
        mut self,
    ) -> Result<(Vec<hdrhistogram::Histogram<u64>>, crate::probe::ProbeOutcome)> {
        self.stop()
    }

    /// Points the poll hooks away, stops the sampler and puts the attachment's own warnings
    /// before the probes'.
    fn stop(&mut self) -> Result<(Vec<hdrhistogram::Histogram<u64>>, crate::probe::ProbeOutcome)> {
        if let Some(hooks) = &self.options.poll_hooks {
            hooks.point_at(None);
        }
        let (depths, mut probes) = self.stop_sampler()?;
        probes.warnings.splice(0..0, self.warnings.drain(..));
        Ok((depths, probes))
    }

    fn stop_sampler(&mut self) -> Result<(Vec<hdrhistogram::Histogram<u64>>, crate::probe::ProbeOutcome)> {
        self.sampler
            .take()
            .and_then(Sampler::stop)
            .ok_or_else(|| ProfilerError::Panicked {
                what: "the sampler".to_owned(),
                message: "the probes' thread panicked".to_owned(),
            })
    }

    /// Attaches to the runtime this is called in (inside `#[tokio::main]`, a task, or a
    /// `Runtime::enter` guard).
    pub fn attach_current(options: AttachOptions) -> Result<Self> {
        let handle = Handle::try_current().map_err(|_| ProfilerError::NoRuntime)?;
        Self::attach(&handle, options)
    }

    /// Wraps `future` so its polls are timed and reported under `name` (`asyncio.tasks`), and count
    /// towards the lag unless poll hooks already time every task. Spawn the result as you would
    /// the future.
    pub fn instrument<F: Future>(&self, name: &str, future: F) -> Instrumented<F> {
        instrument_named(future, Arc::clone(&self.lag), Some(name.to_owned()))
    }

    /// A counter your code adds its finished messages to.
    pub fn messages(&self) -> MessageCounter {
        MessageCounter(Arc::clone(&self.finished))
    }

    /// Begins the measured window and waits (up to 5 s) until every probe has read its
    /// baseline, so that what follows is inside it. Blocking: inside a runtime use
    /// [`Profiler::begin_window_async`].
    pub fn begin_window(&mut self) -> Result<()> {
        refuse_inside_runtime("Profiler::begin_window", "begin_window_async")?;
        self.begin_window_now()
    }

    /// [`Profiler::begin_window`] for async code: the wait runs on the runtime's blocking pool.
    pub async fn begin_window_async(&mut self) -> Result<()> {
        self.check_can_begin()?;
        self.window.begin();
        let window = Arc::clone(&self.window);
        let opened = tokio::task::spawn_blocking(move || window.wait_opened(EDGE_LIMIT))
            .await
            .unwrap_or(false);
        self.mark_begun(opened);
        Ok(())
    }

    /// Ends the measured window and waits (up to 5 s) until every probe has read its end.
    /// Blocking: inside a runtime use [`Profiler::end_window_async`].
    pub fn end_window(&mut self) -> Result<()> {
        refuse_inside_runtime("Profiler::end_window", "end_window_async")?;
        self.end_window_now()
    }

    /// [`Profiler::end_window`] for async code.
    pub async fn end_window_async(&mut self) -> Result<()> {
        self.check_can_end()?;
        self.mark_ended();
        let window = Arc::clone(&self.window);
        let closed = tokio::task::spawn_blocking(move || window.wait_closed(EDGE_LIMIT))
            .await
            .unwrap_or(false);
        self.note_closed(closed);
        Ok(())
    }

    /// Stops the probes (ending the window first if it is open) and returns the results.
    /// Blocking (it symbolizes the CPU profile): inside a runtime use [`Profiler::finish_async`].
    pub fn finish(mut self) -> Result<Results> {
        refuse_inside_runtime("Profiler::finish", "finish_async")?;
        if self.begun.is_some() && self.ended.is_none() {
            self.end_window_now()?;
        }
        self.collect()
    }

    /// [`Profiler::finish`] for async code: the work runs on the runtime's blocking pool.
    pub async fn finish_async(mut self) -> Result<Results> {
        if self.begun.is_some() && self.ended.is_none() {
            self.end_window_async().await?;
        }
        tokio::task::spawn_blocking(move || self.collect())
            .await
            .map_err(|error| ProfilerError::Panicked {
                what: "finishing the profile".to_owned(),
                message: error.to_string(),
            })?
    }

    fn check_can_begin(&self) -> Result<()> {
        match self.begun {
            Some(_) => Err(ProfilerError::Usage("the measured window can begin only once")),
            None => Ok(()),
        }
    }

    fn check_can_end(&self) -> Result<()> {
        match (self.begun, self.ended) {
            (None, _) => Err(ProfilerError::Usage("end_window before begin_window")),
            (Some(_), Some(_)) => Err(ProfilerError::Usage("the measured window can end only once")),
            _ => Ok(()),
        }
    }

    fn begin_window_now(&mut self) -> Result<()> {
        self.check_can_begin()?;
        self.window.begin();
        let opened = self.window.wait_opened(EDGE_LIMIT);
        self.mark_begun(opened);
        Ok(())
    }

    fn mark_begun(&mut self, opened: bool) {
        if !opened {
            self.warnings.push(format!(
                "window: the probes had not started within {} s of begin_window",
                EDGE_LIMIT.as_secs()
            ));
        }
        self.begun = Some((self.clock.now_ns(), self.finished.load(Ordering::Relaxed)));
    }

    fn end_window_now(&mut self) -> Result<()> {
        self.check_can_end()?;
        self.mark_ended();
        let closed = self.window.wait_closed(EDGE_LIMIT);
        self.note_closed(closed);
        Ok(())
    }

    fn mark_ended(&mut self) {
        self.ended = Some((self.clock.now_ns(), self.finished.load(Ordering::Relaxed)));
        self.window.end();
    }

    fn note_closed(&mut self, closed: bool) {
        if !closed {
            self.warnings.push(format!(
                "window: the probes had not read the window's end within {} s of end_window",
                EDGE_LIMIT.as_secs()
            ));
        }
    }

    fn collect(mut self) -> Result<Results> {
        let (_, probes) = self.stop()?;
        let (begun, ended) = match (self.begun, self.ended) {
            (Some(begun), Some(ended)) => (begun, ended),
            _ => {
                return Err(ProfilerError::Usage(
                    "finish before a measured window: call begin_window first",
                ));
            }
        };
        let run = serde_json::json!({
            "attached": true,
            "runtime_workers": self.handle.metrics().num_workers(),
            "probes": self.options.probes.names(),
            "cpu_hz": self.options.cpu_hz,
            "slow_poll_threshold_ms": self.options.slow_poll_threshold.as_secs_f64() * 1e3,
            "poll_hooks": self.options.poll_hooks.is_some() && PollHooks::AVAILABLE,
        });
        let workload = serde_json::json!({ "name": self.options.name });
        let environment = crate::environment::capture(run, workload);
        Ok(assemble_attached(
            AttachedOutcome {
                window: Duration::from_nanos(ended.0.saturating_sub(begun.0)),
                messages: ended.1.saturating_sub(begun.1),
                wall: self.attached.elapsed(),
                probes,
                footprint: self.footprint,
            },
            environment,
            &self.options.probes.names(),
        ))
    }
}

impl Drop for Profiler {
    fn drop(&mut self) {
        if let Some(hooks) = &self.options.poll_hooks {
            hooks.point_at(None);
        }
    }
}

/// The blocking calls refuse to run on a thread inside a tokio runtime.
fn refuse_inside_runtime(call: &'static str, instead: &'static str) -> Result<()> {
    match Handle::try_current() {
        Ok(_) => Err(ProfilerError::BlockingInRuntime { call, instead }),
        Err(_) => Ok(()),
    }
}

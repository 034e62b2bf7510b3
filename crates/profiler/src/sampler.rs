//! A plain thread that samples queue depths and drives the probes over the measured window, so
//! that none of it costs the pipeline's tasks more than a relaxed atomic. It owns everything it
//! reads, so it can outlive the call that started it (the attach API hands it to the caller's
//! guard); progress is the caller's to report.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::clock::Clock;
use crate::host_steal::CpuTicks;
use crate::live_sink::LiveSink;
use crate::probe::ProbeOutcome;
use crate::probe::cpu::CpuProbe;
use crate::probe::heap::HeapProbe;
use crate::probe::heap_profile::HeapProfile;
use crate::probe::lag::{LagSampler, LagShared};
use crate::probe::runtime::RuntimeProbe;
use crate::stats::count_histogram;
use crate::window::WindowState;

/// The probes a phase runs; each is optional.
#[derive(Debug, Default)]
pub(crate) struct Probes {
    pub(crate) lag: Option<Arc<LagShared>>,
    /// Where the lag probe also reports the longest polls as they happen, if anywhere.
    pub(crate) live: Option<Arc<dyn LiveSink>>,
    pub(crate) slow_poll_threshold_ns: u64,
    pub(crate) heap: Option<HeapProbe>,
    pub(crate) runtime: Option<RuntimeProbe>,
    /// Sample rate and phase name, if this phase is CPU-profiled.
    pub(crate) cpu: Option<(i32, String)>,
    /// A jemalloc heap profile of the window, armed before the runtime started.
    pub(crate) heap_profile: Option<HeapProfile>,
}

pub(crate) struct SamplerInputs {
    /// Messages queued in front of each stage.
    pub(crate) queues: Vec<Arc<AtomicU64>>,
    pub(crate) interval: Duration,
    pub(crate) clock: Clock,
    pub(crate) window: Arc<WindowState>,
    /// Messages finished so far, for the per-message figures.
    pub(crate) finished: Arc<AtomicU64>,
    pub(crate) probes: Probes,
}

/// The sampler thread, running.
#[derive(Debug)]
pub(crate) struct Sampler {
    stop: Arc<AtomicBool>,
    window: Arc<WindowState>,
    thread: Option<JoinHandle<(Vec<Histogram<u64>>, ProbeOutcome)>>,
}

impl Sampler {
    /// Starts the sampler thread. It starts the probes when the window begins and reads their
    /// end when it ends (or when stopped).
    pub(crate) fn start(inputs: SamplerInputs) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let window = Arc::clone(&inputs.window);
        let thread = std::thread::Builder::new().name("pg-sampler".into()).spawn({
            let stop = Arc::clone(&stop);
            move || sample(inputs, &stop)
        })?;
        Ok(Self {
            stop,
            window,
            thread: Some(thread),
        })
    }

    /// Stops the sampler (reading the probes' end if the window is still open) and returns one
    /// depth histogram per queue and the probes' outcome; `None` if the thread panicked.
    pub(crate) fn stop(mut self) -> Option<(Vec<Histogram<u64>>, ProbeOutcome)> {
        self.stop.store(true, Ordering::Release);
        self.window.wake_sampler();
        self.thread.take().and_then(|thread| thread.join().ok())
    }
}

impl Drop for Sampler {
    /// A sampler dropped unstopped (its owner panicked or was dropped) winds down on its own.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.window.wake_sampler();
    }
}

/// Probes in the state the window has put them in.
struct Running {
    /// Process CPU time (user + system) and messages finished when the window began; then the
    /// window's CPU time and messages once it ended.
    cpu_at_start: Option<(Duration, u64)>,
    window_cpu: Option<(Duration, u64)>,
    /// The machine's CPU ticks when the window began; then the share the host stole in it.
    ticks_at_start: Option<CpuTicks>,
    window_steal_pct: Option<f64>,
    lag: Option<LagSampler>,
    heap: Option<HeapProbe>,
    runtime: Option<RuntimeProbe>,
    cpu: Option<CpuProbe>,
    heap_profile: Option<HeapProfile>,
}

impl Running {
    fn start(&mut self, now_ns: u64, finished: u64) {
        let (user, system) = crate::probe::cpu::process_cpu_times();
        self.cpu_at_start = Some((user + system, finished));
        self.ticks_at_start = CpuTicks::now();
        // The CPU profile starts first so that the other probes' start-up is in it too, as their
        // steady-state cost is.
        if let Some(cpu) = &mut self.cpu {
            cpu.start();
        }
        if let Some(lag) = &mut self.lag {
            lag.start(now_ns);
        }
        if let Some(heap) = &mut self.heap {
            heap.start(now_ns, finished);
        }
        if let Some(runtime) = &mut self.runtime {
            runtime.start(now_ns);
        }
    }

    fn sample(&mut self, now_ns: u64, finished: u64) {
        if let Some(lag) = &mut self.lag {
            lag.sample(now_ns);
        }
        if let Some(heap) = &mut self.heap {
            heap.sample(now_ns, finished);
        }
        if let Some(runtime) = &mut self.runtime {
            runtime.sample(now_ns);
        }
    }

    fn end(&mut self, now_ns: u64, finished: u64) {
        self.window_steal_pct = self
            .ticks_at_start
            .zip(CpuTicks::now())
            .and_then(|(start, end)| end.steal_pct_since(&start));
        if let Some((cpu, messages)) = self.cpu_at_start {
            let (user, system) = crate::probe::cpu::process_cpu_times();
            self.window_cpu = Some((
                (user + system).saturating_sub(cpu),
                finished.saturating_sub(messages),
            ));
        }
        if let Some(heap) = &mut self.heap {
            heap.end(now_ns, finished);
        }
        if let Some(profile) = &mut self.heap_profile {
            profile.end();
        }
        if let Some(runtime) = &mut self.runtime {
            runtime.end(now_ns);
        }
        if let Some(lag) = &mut self.lag {
            lag.end(now_ns);
        }
        if let Some(cpu) = &mut self.cpu {
            cpu.end();
        }
    }

    fn finish(self, slow_poll_threshold_ns: u64) -> ProbeOutcome {
        let mut outcome = ProbeOutcome {
            window_cpu: self.window_cpu,
            window_steal_pct: self.window_steal_pct,
            ..ProbeOutcome::default()
        };
        if let Some(cpu) = self.cpu {
            let (cpu, warnings) = cpu.finish();
            outcome.cpu = cpu;
            outcome.warnings.extend(warnings);
        }
        outcome.heap = self.heap.and_then(HeapProbe::finish);
        outcome.pending_heap_profile = self.heap_profile;
        outcome.runtime = self.runtime.and_then(RuntimeProbe::finish);
        outcome.lag = self.lag.map(|lag| lag.finish(slow_poll_threshold_ns));
        outcome
    }
}

/// Samples until `stop` is set; returns one depth histogram per stage and the probes' outcome.
fn sample(inputs: SamplerInputs, stop: &AtomicBool) -> (Vec<Histogram<u64>>, ProbeOutcome) {
    let mut depths: Vec<Histogram<u64>> = inputs.queues.iter().map(|_| count_histogram()).collect();
    let Probes {
        lag,
        live,
        slow_poll_threshold_ns,
        heap,
        runtime,
        cpu,
        heap_profile,
    } = inputs.probes;
    let mut running = Running {
        cpu_at_start: None,
        window_cpu: None,
        ticks_at_start: None,
        window_steal_pct: None,
        lag: lag.map(|shared| LagSampler::new(shared, live)),
        heap,
        runtime,
        cpu: cpu.map(|(hz, phase)| CpuProbe::new(hz, phase)),
        heap_profile,
    };
    let (mut started, mut ended) = (false, false);
    let clock = inputs.clock;
    loop {
        let stopping = stop.load(Ordering::Acquire);
        let now_ns = clock.now_ns();
        let finished = inputs.finished.load(Ordering::Relaxed);
        if !started && inputs.window.has_begun() {
            started = true;
            running.start(now_ns, finished);
            // The feeder sends the first measured message only now.
            inputs.window.open();
        }
        if started && !ended {
            if inputs.window.has_ended() || stopping {
                ended = true;
                running.end(now_ns, finished);
                inputs.window.close();
            } else {
                for (histogram, queue) in depths.iter_mut().zip(&inputs.queues) {
                    histogram.saturating_record(queue.load(Ordering::Relaxed));
                }
                running.sample(now_ns, finished);
            }
        }
        if stopping {
            break;
        }
        // Woken early when the window begins or ends, so that the feeder's wait is short.
        inputs.window.nap(inputs.interval);
    }
    let mut outcome = running.finish(slow_poll_threshold_ns);
    // Symbolized here, off the caller's thread, which may be an async task.
    if let Some(pending) = outcome.pending_heap_profile.take() {
        let (profile, warnings) = pending.into_pprof();
        outcome.heap_profile = profile;
        outcome.warnings.extend(warnings);
    }
    (depths, outcome)
}

//! How a run is driven: how long, how fast, how the pipeline is sized. Independent of the
//! workload, so the same settings drive the default pipeline and a user's own.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::database::InstrumentedPool;
use crate::error::{ProfilerError, Result};
use crate::length::Length;
use crate::live_sink::LiveSink;

/// Which probes run during the measured windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probes {
    /// CPU profile (pprof) of the throughput phase: flamegraph, pprof file, top functions.
    pub cpu: bool,
    /// Heap: baseline, peak, delta, allocation per message, leak trend. Needs the
    /// [`TrackingAllocator`](crate::alloc::TrackingAllocator) as the global allocator.
    pub heap: bool,
    /// Event-loop lag: every poll of every pipeline task timed.
    pub lag: bool,
    /// Tokio runtime metrics and process metrics over time.
    pub runtime: bool,
}

impl Probes {
    /// Every probe.
    pub const ALL: Probes = Probes {
        cpu: true,
        heap: true,
        lag: true,
        runtime: true,
    };
    /// No probe: the pipeline's own measurements only.
    pub const NONE: Probes = Probes {
        cpu: false,
        heap: false,
        lag: false,
        runtime: false,
    };

    /// Parses a comma-separated list of `cpu`, `heap`, `lag`, `runtime`, or `all` / `none`.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let mut probes = Probes::NONE;
        for name in text.split(',').map(str::trim).filter(|name| !name.is_empty()) {
            match name {
                "all" => probes = Probes::ALL,
                "none" => {}
                "cpu" => probes.cpu = true,
                "heap" => probes.heap = true,
                "lag" => probes.lag = true,
                "runtime" => probes.runtime = true,
                other => {
                    return Err(format!(
                        "unknown probe '{other}' (probes: cpu, heap, lag, runtime, all, none)"
                    ));
                }
            }
        }
        Ok(probes)
    }

    /// The enabled probes' names, comma separated (`none` if none).
    pub fn names(&self) -> String {
        let names: Vec<&str> = [
            (self.cpu, "cpu"),
            (self.heap, "heap"),
            (self.lag, "lag"),
            (self.runtime, "runtime"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(",")
        }
    }
}

/// The longest a phase may measure or warm up for.
pub const MAX_PHASE_DURATION: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);
/// The most messages a phase may measure or warm up with.
pub const MAX_PHASE_MESSAGES: u64 = 1_000_000_000_000;
/// The slowest and fastest fixed rates, messages per second: below the slowest the schedule's
/// arithmetic loses its meaning, above the fastest no machine keeps up.
pub const MIN_RATE: f64 = 0.01;
/// See [`MIN_RATE`].
pub const MAX_RATE: f64 = 1e9;
/// The most runtime workers, limit threads or workers of one stage.
pub const MAX_THREADS: usize = 1_024;
/// The most subscribers a pipeline may fan out to.
pub const MAX_SUBSCRIBERS: usize = 10_000;
/// The largest batch, channel or subscriber queue, in messages.
pub const MAX_QUEUE: usize = 10_000_000;

/// Settings of one profiling run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The measured window of each phase.
    pub length: Length,
    /// Messages (or time) pushed through before each phase's measured window; not measured.
    pub warmup: Length,
    /// Run the saturation phase: the source runs flat out, giving throughput.
    pub saturation: bool,
    /// Run the fixed-rate phase: open-loop at a set rate, giving latency.
    pub fixed_rate: bool,
    /// Fixed rate in messages per second. `None`: `rate_fraction` of the saturation throughput
    /// just measured.
    pub rate: Option<f64>,
    /// Fraction of the saturation throughput used when `rate` is `None`.
    pub rate_fraction: f64,
    /// Also run `limit` mode: the same source and stages in one plain loop per thread.
    pub limit: bool,
    /// Threads in `limit` mode.
    pub limit_threads: usize,
    /// Messages moved per channel send.
    pub batch_size: usize,
    /// Messages each stage worker's input channel holds (rounded up to whole batches).
    pub channel_capacity: usize,
    /// Messages each subscriber's queue holds before deliveries to it are dropped.
    pub subscriber_queue: usize,
    /// How many subscribers (the last ones) pause after every batch, to show that a slow
    /// subscriber does not stall the rest.
    pub slow_subscribers: usize,
    /// The pause of a slow subscriber.
    pub slow_subscriber_delay: Duration,
    /// A delivery that waited longer than this in a subscriber queue counts as lagged.
    pub subscriber_lag_threshold: Duration,
    /// Worker threads of the tokio runtime.
    pub runtime_workers: usize,
    /// Workers per stage, by stage name; unnamed stages get one.
    pub workers: BTreeMap<String, usize>,
    /// How often queue depths are sampled.
    pub queue_sample_interval: Duration,
    /// Which probes run.
    pub probes: Probes,
    /// CPU profile sampling rate, Hz (samples per CPU-second). Default 250: the kernel delivers at
    /// most one sample per timer tick, `CONFIG_HZ` per CPU-second, and 250 is the lowest common
    /// `CONFIG_HZ` (measured: 93–102 % of 250 Hz delivered on a `CONFIG_HZ=250` VM, 25 % of 1000).
    pub cpu_hz: i32,
    /// Heap sampling interval.
    pub heap_interval: Duration,
    /// Runtime and process sampling interval.
    pub runtime_interval: Duration,
    /// A poll of a pipeline task at least this long counts as slow.
    pub slow_poll_threshold: Duration,
    /// With the lag probe, also run the two measurements it was chosen over, for comparison:
    /// the classic tick probe (a task that sleeps 1 ms and records how late it wakes,
    /// `asyncio.timer_lag`) and wake-up-to-poll delay (`asyncio.schedule_delay`, through a waker
    /// wrapper). Off by default: neither sees a single blocked worker on a multi-threaded
    /// runtime, and both cost a clock read per wake-up.
    pub lag_comparison: bool,
    /// Take an allocation-site heap profile (jemalloc sampling) of the throughput phase's
    /// window. Needs jemalloc started with profiling enabled (see `alloc::HEAP_PROFILE_ENV`).
    pub heap_profile: bool,
    /// Where live figures go while the run is under way (the `--serve-metrics` endpoint,
    /// `live::LiveMetrics`): the driver hands it to the pipeline's
    /// terminals and the lag probe and tells it the phases. `None`: nowhere.
    pub live: Option<Arc<dyn LiveSink>>,
    /// A fault to inject into the fixed-rate phase (`chaos`), at its times from the measured
    /// window's start. `None`: a healthy run.
    pub fault: Option<crate::faults::Fault>,
    /// The database pool the pipeline's stages query (`--reference-store postgres://...`, or a
    /// user's stage's [`InstrumentedPool`]): each phase gets connections of its own on its own
    /// runtime, and `run` writes the pool's figures as `results.database`. `None`: no database.
    pub database: Option<InstrumentedPool>,
}

/// A fault the pipeline can take: a stage it names exists, a subscriber it names is there, its
/// strength is sane and it lasts.
fn validate_fault(fault: &crate::faults::Fault, stages: &[String], subscribers: usize) -> Result<()> {
    use crate::faults::FaultKind;
    let invalid = |message: String| Err(ProfilerError::InvalidConfig(format!("fault: {message}")));
    if let Some(name) = fault.stage()
        && !stages.iter().any(|stage| stage == name)
    {
        return Err(ProfilerError::UnknownStage {
            name: name.to_owned(),
            known: stages.join(", "),
        });
    }
    if fault.duration.is_zero() || fault.duration > MAX_PHASE_DURATION || fault.start > MAX_PHASE_DURATION {
        return invalid(format!(
            "it must last more than 0 s and start and last at most {} s",
            MAX_PHASE_DURATION.as_secs()
        ));
    }
    match &fault.kind {
        FaultKind::SlowStage { factor, .. } if !(factor.is_finite() && (1.0..=1_000.0).contains(factor)) => {
            invalid(format!("slowdown factor {factor}: give 1 to 1000"))
        }
        FaultKind::ErrorBurst { share, .. } if !(0.0..=1.0).contains(share) => {
            invalid(format!("error share {share}: give 0 to 1"))
        }
        FaultKind::LoadBurst { factor } if !(factor.is_finite() && *factor > 0.0 && *factor <= 100.0) => {
            invalid(format!("load factor {factor}: give more than 0, at most 100"))
        }
        FaultKind::SubscriberStall { subscriber } if *subscriber >= subscribers => {
            invalid(format!("subscriber {subscriber}: the pipeline has {subscribers}"))
        }
        _ => Ok(()),
    }
}

impl Default for RunConfig {
    fn default() -> Self {
        let cores = available_cores();
        Self {
            length: Length::Messages(1_500_000),
            warmup: Length::Messages(100_000),
            saturation: true,
            fixed_rate: true,
            rate: None,
            rate_fraction: 0.5,
            limit: false,
            limit_threads: cores,
            batch_size: 64,
            channel_capacity: 1024,
            subscriber_queue: 4096,
            slow_subscribers: 0,
            slow_subscriber_delay: Duration::from_millis(1),
            subscriber_lag_threshold: Duration::from_millis(10),
            runtime_workers: cores,
            workers: BTreeMap::new(),
            queue_sample_interval: Duration::from_millis(10),
            probes: Probes::ALL,
            cpu_hz: 250,
            heap_interval: Duration::from_millis(10),
            runtime_interval: Duration::from_millis(100),
            slow_poll_threshold: Duration::from_millis(1),
            heap_profile: false,
            lag_comparison: false,
            live: None,
            fault: None,
            database: None,
        }
    }
}

/// Logical cores available to this process.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

impl RunConfig {
    /// A tiny run for tests and examples: a few thousand messages, no limit mode, no probes.
    pub fn smoke() -> Self {
        Self {
            length: Length::Messages(20_000),
            warmup: Length::Messages(2_000),
            probes: Probes::NONE,
            ..Self::default()
        }
    }

    /// Checks every value and its consistency with the pipeline's stages and subscribers.
    pub fn validate(&self, stages: &[String], subscribers: usize) -> Result<()> {
        let invalid = |message: String| Err(ProfilerError::InvalidConfig(message));
        if self.length.is_empty() {
            return invalid("the measured length must be more than 0 messages or 0 s".into());
        }
        // Bounds checked before anything is allocated or spawned: a value past them is a typo or
        // a hostile setting, and would abort allocating, panic in tokio or run for ever.
        for (name, length) in [("measured length", self.length), ("warm-up", self.warmup)] {
            match length {
                Length::Duration(span) if span > MAX_PHASE_DURATION => {
                    return invalid(format!(
                        "{name} must be at most a week ({} s), got {} s",
                        MAX_PHASE_DURATION.as_secs(),
                        span.as_secs_f64()
                    ));
                }
                Length::Messages(count) if count > MAX_PHASE_MESSAGES => {
                    return invalid(format!(
                        "{name} must be at most {MAX_PHASE_MESSAGES} messages, got {count}"
                    ));
                }
                _ => {}
            }
        }
        if !self.saturation && !self.fixed_rate {
            return invalid("at least one of the saturation and fixed-rate phases must run".into());
        }
        if let Some(rate) = self.rate
            && !(rate.is_finite() && (MIN_RATE..=MAX_RATE).contains(&rate))
        {
            return invalid(format!(
                "rate must be {MIN_RATE} to {MAX_RATE:e} messages/s, got {rate}"
            ));
        }
        if !(self.rate_fraction.is_finite() && self.rate_fraction > 0.0 && self.rate_fraction <= 1.0) {
            return invalid(format!(
                "rate fraction must be in (0, 1], got {}",
                self.rate_fraction
            ));
        }
        if self.fixed_rate && self.rate.is_none() && !self.saturation {
            return invalid(
                "the fixed-rate phase needs a rate when the saturation phase does not run".into(),
            );
        }
        for (name, value) in [
            ("batch size", self.batch_size),
            ("channel capacity", self.channel_capacity),
            ("subscriber queue", self.subscriber_queue),
            ("runtime workers", self.runtime_workers),
            ("limit threads", self.limit_threads),
        ] {
            if value == 0 {
                return invalid(format!("{name} must be at least 1"));
            }
        }
        for (name, value, most) in [
            ("batch size", self.batch_size, MAX_QUEUE),
            ("channel capacity", self.channel_capacity, MAX_QUEUE),
            ("subscriber queue", self.subscriber_queue, MAX_QUEUE),
            ("runtime workers", self.runtime_workers, MAX_THREADS),
            ("limit threads", self.limit_threads, MAX_THREADS),
            ("subscribers", subscribers, MAX_SUBSCRIBERS),
        ] {
            if value > most {
                return invalid(format!("{name} must be at most {most}, got {value}"));
            }
        }
        if self.slow_subscribers > subscribers {
            return invalid(format!(
                "{} slow subscribers requested but the pipeline has {subscribers}",
                self.slow_subscribers
            ));
        }
        for (name, interval) in [
            ("queue sample interval", self.queue_sample_interval),
            ("heap interval", self.heap_interval),
            ("runtime interval", self.runtime_interval),
            ("slow poll threshold", self.slow_poll_threshold),
        ] {
            if interval.is_zero() {
                return invalid(format!("{name} must be more than 0"));
            }
        }
        if !(1..=10_000).contains(&self.cpu_hz) {
            return invalid(format!(
                "cpu sampling rate must be 1 to 10000 Hz, got {}",
                self.cpu_hz
            ));
        }
        for (name, &count) in &self.workers {
            if !stages.iter().any(|stage| stage == name) {
                return Err(ProfilerError::UnknownStage {
                    name: name.clone(),
                    known: stages.join(", "),
                });
            }
            if count == 0 {
                return invalid(format!("stage '{name}' needs at least 1 worker"));
            }
            if count > MAX_THREADS {
                return invalid(format!(
                    "stage '{name}' can have at most {MAX_THREADS} workers, got {count}"
                ));
            }
        }
        if let Some(fault) = &self.fault {
            validate_fault(fault, stages, subscribers)?;
        }
        Ok(())
    }

    /// Batches per stage channel: the capacity in messages, rounded up to whole batches.
    pub(crate) fn channel_batches(&self) -> usize {
        self.channel_capacity.div_ceil(self.batch_size).max(1)
    }

    /// Batches per subscriber queue.
    pub(crate) fn subscriber_batches(&self) -> usize {
        self.subscriber_queue.div_ceil(self.batch_size).max(1)
    }

    /// The settings as recorded in `environment.run`.
    pub fn to_json(&self) -> Value {
        json!({
            "length": self.length.to_json(),
            "warmup": self.warmup.to_json(),
            "saturation": self.saturation,
            "fixed_rate": self.fixed_rate,
            "rate": self.rate,
            "rate_fraction": self.rate_fraction,
            "limit": self.limit,
            "limit_threads": self.limit_threads,
            "batch_size": self.batch_size,
            "channel_capacity": self.channel_capacity,
            "subscriber_queue": self.subscriber_queue,
            "slow_subscribers": self.slow_subscribers,
            "slow_subscriber_delay_ms": self.slow_subscriber_delay.as_secs_f64() * 1e3,
            "subscriber_lag_threshold_ms": self.subscriber_lag_threshold.as_secs_f64() * 1e3,
            "runtime_workers": self.runtime_workers,
            "workers": self.workers,
            "queue_sample_interval_ms": self.queue_sample_interval.as_secs_f64() * 1e3,
            "probes": self.probes.names(),
            "cpu_hz": self.cpu_hz,
            "heap_interval_ms": self.heap_interval.as_secs_f64() * 1e3,
            "runtime_interval_ms": self.runtime_interval.as_secs_f64() * 1e3,
            "slow_poll_threshold_ms": self.slow_poll_threshold.as_secs_f64() * 1e3,
            "heap_profile": self.heap_profile,
            "lag_comparison": self.lag_comparison,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages() -> Vec<String> {
        vec!["decode".into(), "enrich".into()]
    }

    fn check(config: RunConfig, expected_error: Option<&str>) {
        let outcome = config.validate(&stages(), 8);
        match (outcome, expected_error) {
            (Ok(()), None) => {}
            (Err(error), Some(fragment)) => {
                let text = error.to_string();
                assert!(text.contains(fragment), "{text:?} lacks {fragment:?}");
            }
            (outcome, expected) => panic!("got {outcome:?}, expected error {expected:?}"),
        }
    }

    #[test]
    fn validation_accepts_defaults_and_rejects_bad_values() {
        check(RunConfig::default(), None);
        check(
            RunConfig {
                length: Length::Messages(0),
                ..RunConfig::default()
            },
            Some("more than 0"),
        );
        check(
            RunConfig {
                rate: Some(f64::NAN),
                ..RunConfig::default()
            },
            Some("rate must be"),
        );
        check(
            RunConfig {
                rate: Some(-5.0),
                ..RunConfig::default()
            },
            Some("rate must be"),
        );
        check(
            RunConfig {
                batch_size: 0,
                ..RunConfig::default()
            },
            Some("batch size"),
        );
        check(
            RunConfig {
                slow_subscribers: 9,
                ..RunConfig::default()
            },
            Some("slow subscribers"),
        );
        check(
            RunConfig {
                saturation: false,
                fixed_rate: false,
                ..RunConfig::default()
            },
            Some("at least one"),
        );
        check(
            RunConfig {
                saturation: false,
                rate: None,
                ..RunConfig::default()
            },
            Some("needs a rate"),
        );
        let mut workers = BTreeMap::new();
        workers.insert("nope".to_owned(), 2);
        check(
            RunConfig {
                workers,
                ..RunConfig::default()
            },
            Some("unknown stage 'nope'"),
        );
        let mut workers = BTreeMap::new();
        workers.insert("decode".to_owned(), 0);
        check(
            RunConfig {
                workers,
                ..RunConfig::default()
            },
            Some("at least 1 worker"),
        );
    }

    #[test]
    fn probe_lists_parse_and_print() {
        assert_eq!(
            Probes::parse("cpu,lag").unwrap(),
            Probes {
                cpu: true,
                lag: true,
                ..Probes::NONE
            }
        );
        assert_eq!(Probes::parse("all").unwrap(), Probes::ALL);
        assert_eq!(Probes::parse("none").unwrap(), Probes::NONE);
        assert!(
            Probes::parse("cpu,gpu")
                .unwrap_err()
                .contains("unknown probe 'gpu'")
        );
        assert_eq!(Probes::ALL.names(), "cpu,heap,lag,runtime");
        assert_eq!(Probes::NONE.names(), "none");
        check(
            RunConfig {
                cpu_hz: 0,
                ..RunConfig::default()
            },
            Some("cpu sampling rate"),
        );
    }

    #[test]
    fn capacities_round_up_to_whole_batches() {
        let config = RunConfig {
            batch_size: 64,
            channel_capacity: 100,
            subscriber_queue: 1,
            ..RunConfig::default()
        };
        assert_eq!(config.channel_batches(), 2);
        assert_eq!(config.subscriber_batches(), 1);
    }
}

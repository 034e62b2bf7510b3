//! Command-line interface of `perfgate-profiler`: flags → workload and run settings → run →
//! `results.json` and a summary. Bad flags or values exit with code 2.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, ValueEnum};
use perfgate_profiler::ResultsFiles;
use perfgate_profiler::capacity::{CapacityOptions, Slo, find_capacity};
use perfgate_profiler::chaos::{ChaosOptions, Scenario, run_chaos, scenario, scenario_names};
use perfgate_profiler::database::{DatabaseError, DatabaseOptions, InstrumentedPool};
use perfgate_profiler::live::{LiveMetrics, serve};
use perfgate_profiler::market::{
    MarketConfig, REFERENCE_TABLE, SeedOutcome, market_data_pipeline, recommended_workers,
    seed_reference_table,
};
use perfgate_profiler::{Length, Observer, Probes, ProfilerError, RunConfig, Silent, available_cores};

use crate::progress::ProgressBars;
use crate::summary;

/// Exit code for bad flags or values, as clap uses for usage errors.
const USAGE_ERROR: u8 = 2;

/// Profile perfgate's market-data pipeline: throughput at saturation, latency at a fixed rate,
/// and optionally the plain-loop limit the pipeline is compared with.
#[derive(Debug, Parser)]
#[command(name = "perfgate-profiler", version)]
struct Args {
    /// Measured messages per phase [default: 1500000; 200000 with --quick]
    #[arg(long, value_name = "N", value_parser = positive_count, conflicts_with = "duration")]
    messages: Option<u64>,

    /// Measure each phase for this long instead of a message count (e.g. 10s, 500ms)
    #[arg(long, value_name = "TIME", value_parser = positive_duration)]
    duration: Option<Duration>,

    /// Warm-up before each phase: a message count (50000) or a time (1s) [default: 10% of the
    /// measured length]
    #[arg(long, value_name = "N|TIME", value_parser = parse_length)]
    warmup: Option<Length>,

    /// Fixed rate of the latency phase, messages/s [default: half the saturation throughput]
    #[arg(long, value_name = "MSG_PER_S", value_parser = positive_float, allow_negative_numbers = true)]
    rate: Option<f64>,

    /// Which pipeline phases to run
    #[arg(long, value_enum, default_value_t = Phases::Both)]
    phases: Phases,

    /// Also run limit mode (the stages in a plain loop per core) and report pipeline efficiency
    #[arg(long)]
    limit: bool,

    /// CI preset: 200,000 messages per phase (flags given explicitly still win)
    #[arg(long)]
    quick: bool,

    /// Instruments in the symbol universe
    #[arg(long, value_name = "N", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    symbols: u64,

    /// Zipf exponent of symbol popularity (0 = uniform)
    #[arg(long, value_name = "S", default_value_t = 1.1, value_parser = non_negative_float, allow_negative_numbers = true)]
    zipf: f64,

    /// Seed of the synthetic feed; the same seed gives the same messages
    #[arg(long, default_value_t = 42)]
    seed: u64,

    /// Target size of each JSON message in bytes (padding is added up to it)
    #[arg(long, value_name = "BYTES", default_value_t = 200, value_parser = clap::value_parser!(u64).range(0..=1 << 20))]
    payload_bytes: u64,

    /// Share of messages corrupted on purpose (0 to 1)
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = probability, allow_negative_numbers = true)]
    malformed_rate: f64,

    /// Fan-out subscribers (WebSocket-like clients)
    #[arg(long, value_name = "N", default_value_t = 8)]
    subscribers: usize,

    /// Make every stage's work this many percent slower (busy wait), to prove that
    /// `cargo xtask compare` catches a regression; recorded in the results
    #[arg(long, value_name = "PCT", default_value_t = 0.0, hide = true, value_parser = non_negative_float)]
    inject_slowdown: f64,

    /// Add exactly N instructions to every message's work (a counted loop, spread over the
    /// stages), to prove that the instruction-count gate of `cargo xtask compare` catches a
    /// change of CPU work; recorded in the results
    #[arg(long, value_name = "N", default_value_t = 0, hide = true)]
    inject_instructions: u64,

    /// Run only the stage functions' plain loop, on the main thread, for --warmup then --messages
    /// messages, with no probes and no output files: what `cargo xtask instructions` counts
    /// under Valgrind. Prints the counts
    #[arg(long, hide = true, conflicts_with_all = ["duration", "limit", "overhead", "capacity", "chaos", "serve_metrics", "heap_profile", "repeat"])]
    plain_loop: bool,

    /// How many subscribers are slow (they pause after every batch)
    #[arg(long, value_name = "N", default_value_t = 0)]
    slow_subscribers: usize,

    /// Pause of a slow subscriber after each batch
    #[arg(long, value_name = "TIME", default_value = "1ms", value_parser = positive_duration)]
    slow_subscriber_delay: Duration,

    /// A delivery that waits longer than this in a subscriber queue counts as lagged
    #[arg(long, value_name = "TIME", default_value = "10ms", value_parser = positive_duration)]
    subscriber_lag_threshold: Duration,

    /// Messages each subscriber's queue holds before deliveries to it are dropped
    #[arg(long, value_name = "N", default_value_t = 4_096, value_parser = positive_usize)]
    subscriber_queue: usize,

    /// Entries in each enrich worker's LRU cache
    #[arg(long, value_name = "N", default_value_t = 1_024, value_parser = positive_usize)]
    cache_capacity: usize,

    /// Look the enrich stage's cache misses up in PostgreSQL instead of the in-process store:
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE. The table is made and seeded when missing or
    /// short; the run's `database` section holds the pool's and the server's figures (see
    /// docs/database.md). A server that cannot be reached at the start ends the run with exit
    /// code 2, unless --reference-store-fallback
    #[arg(long, value_name = "URL")]
    #[arg(env = "PERFGATE_REFERENCE_STORE", hide_env_values = true)]
    reference_store: Option<String>,

    /// With --reference-store: a server that cannot be reached at the start is a warning, and
    /// the run goes on with the in-process store (its `database` section says `unavailable`)
    #[arg(long, requires = "reference_store")]
    reference_store_fallback: bool,

    /// With --reference-store: create the reference table if it is missing, write the records
    /// of --symbols into it (rows already right are kept), print one line and exit without
    /// running anything else. `cargo xtask db seed` runs this
    #[arg(long, requires = "reference_store")]
    seed_reference_store: bool,

    /// With --reference-store: the most connections the pool opens
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = positive_usize, requires = "reference_store")]
    db_pool_size: usize,

    /// Messages each stage worker's input channel holds
    #[arg(long, value_name = "N", default_value_t = 1_024, value_parser = positive_usize)]
    channel_capacity: usize,

    /// Messages per channel send
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = positive_usize)]
    batch_size: usize,

    /// Workers per stage, e.g. decode=1,aggregate=2 [default: decode=<logical cores>, others 1]
    #[arg(long, value_name = "STAGE=N", value_delimiter = ',', value_parser = parse_workers)]
    workers: Vec<(String, usize)>,

    /// Worker threads of the tokio runtime [default: logical cores]
    #[arg(long, value_name = "N", value_parser = positive_usize)]
    runtime_workers: Option<usize>,

    /// Probes to run during the measured windows: cpu, heap, lag, runtime, all or none
    #[arg(long, value_name = "LIST", default_value = "all", value_parser = Probes::parse)]
    probes: Probes,

    /// CPU profile sampling rate, per CPU-second. The kernel sends at most one sample per timer tick
    /// (CONFIG_HZ, often 250, per CPU-second): above that each sample stands for more CPU than its
    /// period and the results warn
    #[arg(long, value_name = "HZ", default_value_t = 250, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    cpu_hz: i32,

    /// Heap sampling interval
    #[arg(long, value_name = "TIME", default_value = "10ms", value_parser = positive_duration)]
    heap_interval: Duration,

    /// A poll of a pipeline task at least this long counts as slow
    #[arg(long, value_name = "TIME", default_value = "1ms", value_parser = positive_duration)]
    slow_poll: Duration,

    /// Also take an allocation-site heap profile (jemalloc sampling) of the saturation window,
    /// written as heap.pb.gz; restarts the profiler with jemalloc profiling enabled
    #[arg(long)]
    heap_profile: bool,

    /// Also measure what the probes cost: PAIRS pairs of runs without and with them, interleaved,
    /// recorded as profiler.overhead
    #[arg(long, value_name = "PAIRS", num_args = 0..=1, default_missing_value = "6", value_parser = positive_usize)]
    overhead: Option<usize>,

    /// Run the measured windows N times, each on a fresh pipeline, and keep every repetition's
    /// key figures and their spread in results.json (`repetitions`)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    repeat: u32,

    /// After the run, find the capacity at this latency objective: the highest offered rate
    /// sustained with e.g. `p99<=2ms` (terms `pN<=LIMIT` or `max<=LIMIT`, comma-separated),
    /// at least 99 % of it achieved and at most 1 % rejected; recorded as `capacity` (see
    /// docs/capacity.md). Ctrl-C stops the search and keeps what it found
    #[arg(long, value_name = "SLO", value_parser = parse_slo)]
    capacity: Option<Slo>,

    /// Each capacity step's measured window
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_step, requires = "capacity")]
    capacity_step: Duration,

    /// After the run, inject faults into fixed-rate phases and measure degradation and
    /// recovery: `all`, or scenarios by name, comma-separated (slow_dependency, error_burst,
    /// subscriber_stall, blocked_worker, stage_panic, load_burst); recorded as `chaos` (see
    /// docs/chaos.md). With --quick each phase is 1.5 s + 1 s of fault + 3 s, else 3 + 2 + 5 s
    #[arg(long, value_name = "SCENARIOS", value_parser = parse_chaos)]
    chaos: Option<ChaosList>,

    /// Seed of the faults' choices (which messages an error burst rejects): the same seed gives
    /// the same faults, so two builds' chaos runs compare
    #[arg(long, value_name = "N", default_value_t = 42, requires = "chaos")]
    chaos_seed: u64,

    /// The rate the chaos phases offer, msg/s [default: 30 % of the run's saturation
    /// throughput, a steady state for the whole phase]
    #[arg(long, value_name = "MSG_PER_S", requires = "chaos", value_parser = positive_float)]
    chaos_rate: Option<f64>,

    /// Output directory for results.json, flamegraph.svg and profile.pb
    #[arg(long, value_name = "DIR", default_value = "target/perfgate/latest")]
    out: PathBuf,

    /// No progress bar even on a terminal
    #[arg(long)]
    no_progress: bool,

    /// Serve live figures (throughput, latency histogram, lag, heap) for Prometheus at
    /// http://ADDR/metrics while the run lasts; a bare PORT listens on 127.0.0.1 only
    #[arg(long, value_name = "ADDR")]
    serve_metrics: Option<String>,

    /// Run even though this is a debug build (figures will not be representative)
    #[arg(long)]
    allow_debug: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Phases {
    /// Saturation then fixed rate
    Both,
    /// Throughput only
    Saturation,
    /// Latency only (needs --rate)
    FixedRate,
}

/// Parses the command line; help and errors name the command the user typed (`cargo xtask
/// bench` sets `PERFGATE_INVOKED_AS`).
fn parse_args() -> Args {
    use clap::{CommandFactory, FromArgMatches};
    let mut command = Args::command();
    if let Ok(name) = std::env::var("PERFGATE_INVOKED_AS") {
        command = command.bin_name(name);
    }
    let matches = command.get_matches();
    Args::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

pub(crate) fn main() -> anyhow::Result<ExitCode> {
    let args = parse_args();
    if cfg!(debug_assertions) && !args.allow_debug {
        eprintln!(
            "error: this is a debug build of perfgate-profiler; its figures would be meaningless.\n\
             Run `cargo xtask bench` (which builds in release), or pass --allow-debug to run anyway."
        );
        return Ok(ExitCode::from(USAGE_ERROR));
    }
    let (mut market, mut run) = settings(&args);
    let mut unavailable = None;
    if let Some(url) = &args.reference_store {
        if let Some(warning) = perfgate_profiler::database::command_line_password_warning(
            "--reference-store",
            url,
            "PERFGATE_REFERENCE_STORE",
        ) {
            eprintln!("{warning}");
        }
        if args.seed_reference_store {
            return Ok(seed_only(url, &args));
        }
        match connect_reference_store(url, &args) {
            Ok(pool) => {
                market.database = Some(pool.clone());
                run.database = Some(pool);
            }
            Err(error @ DatabaseError::Unavailable { .. }) if args.reference_store_fallback => {
                eprintln!(
                    "warning: reference store unavailable: {error}; the enrich stage uses the in-process store (--reference-store-fallback)"
                );
                unavailable = Some(perfgate_profiler::database::unavailable_section(url, &error));
            }
            Err(error) => {
                // One line, naming the endpoint without the password.
                eprintln!("error: reference store unavailable: {error}");
                return Ok(ExitCode::from(USAGE_ERROR));
            }
        }
    }
    let pipeline = match market_data_pipeline(&market) {
        Ok(pipeline) => pipeline,
        Err(error) => return Ok(usage_error(&error)),
    };
    if let Err(error) = run.validate(pipeline.stage_names(), pipeline.subscribers()) {
        return Ok(usage_error(&error));
    }
    // Found now, not after the whole run: an output folder that cannot be written.
    if let Err(error) = perfgate_output::check_folder_writable(&args.out) {
        eprintln!(
            "error: {}: cannot write the results there: {}",
            error.path.display(),
            error.source
        );
        return Ok(ExitCode::from(USAGE_ERROR));
    }
    if args.plain_loop {
        let counts = perfgate_profiler::run_plain_loop(&pipeline, &run).context("the plain loop failed")?;
        println!(
            "plain loop: {} messages measured, {} processed, {} rejected",
            counts.messages, counts.processed, counts.rejected
        );
        return Ok(ExitCode::SUCCESS);
    }
    let show_progress = !args.no_progress && std::io::stderr().is_terminal();
    let bars = ProgressBars::new();
    let observer: &dyn Observer = if show_progress { &bars } else { &Silent };
    if let Some(address) = &args.serve_metrics {
        // The run feeds the live figures through its sink; the endpoint reads the same set.
        let live = Arc::new(LiveMetrics::new("market-data"));
        match serve(address, Arc::clone(&live)) {
            Ok(server) => eprintln!("metrics: http://{}/metrics", server.address()),
            Err(error) => return Ok(usage_error(&error)),
        }
        run.live = Some(live);
    }
    let overhead = match args.overhead {
        Some(pairs) => Some(
            perfgate_profiler::measure_overhead(&pipeline, &run, pairs, observer)
                .context("measuring the probes' overhead failed")?,
        ),
        None => None,
    };
    let mut results =
        perfgate_profiler::run_repeated(&pipeline, &run, observer, market.to_json(), args.repeat as usize)
            .context("profiling run failed")?;
    results.profiler.overhead = overhead;
    if let Some(section) = unavailable {
        results.warnings.push(format!(
            "database: {} was unavailable ({}); the enrich stage used the in-process store",
            section.endpoint,
            section.error.as_deref().unwrap_or("")
        ));
        results.database = Some(section);
    }
    if let Some(slo) = &args.capacity {
        let mut options = CapacityOptions::new(slo.clone());
        options.step = args.capacity_step;
        // The search measures its own saturation, with the probes off like its steps: the run's
        // (probes on) would be a ceiling from other conditions, and a capacity "above
        // saturation" (116 % of it, seen) would read as nonsense.
        options.stop = stop_on_interrupt();
        let started = Instant::now();
        let mut count = 0;
        let capacity = find_capacity(&pipeline, &run, &options, &Silent, &mut |step, left| {
            count += 1;
            let per_step = started.elapsed().as_secs_f64() / f64::from(count);
            eprintln!(
                "capacity: step {count}, ~{left} left (~{:.0} s) ({}) {} msg/s offered → p99 {:.3} ms, {:.1} % achieved: {}",
                per_step * left as f64,
                step.purpose,
                summary::rate(step.offered_per_second),
                step.p99_ms,
                step.achieved_per_second / step.offered_per_second * 100.0,
                if step.passed { "met".to_owned() } else { format!("missed ({})", step.missed.join("; ")) }
            );
        })
        .context("the capacity search failed")?;
        if options.stop.load(std::sync::atomic::Ordering::Relaxed) {
            results.warnings.push(
                "the capacity search was interrupted: its answer is what it had found by then".to_owned(),
            );
        }
        if capacity.max_rate_per_second == 0.0 {
            results.warnings.push(format!(
                "no offered rate met {} (down to {}/s): the objective is tighter than this pipeline on this machine, or the host is too noisy for it (see host steal)",
                capacity.slo,
                summary::rate(capacity.failed_rate_per_second.unwrap_or(0.0))
            ));
        }
        results.capacity = Some(capacity);
    }
    if let Some(list) = &args.chaos {
        let mut options = if args.quick {
            ChaosOptions::quick()
        } else {
            ChaosOptions::default()
        };
        options.seed = args.chaos_seed;
        // A share of the run's saturation throughput (probes on, so a little under the chaos
        // phases' own limit), or the rate given; measured afresh if that phase did not run.
        options.rate = args.chaos_rate.or_else(|| {
            (results.cpu.messages_per_second > 0.0)
                .then(|| (results.cpu.messages_per_second * options.rate_fraction).round())
        });
        let scenarios: Vec<Scenario> = list
            .0
            .iter()
            .filter_map(|name| scenario(name, pipeline.stage_names(), pipeline.subscribers(), &options))
            .collect();
        let count = scenarios.len();
        let mut done = 0;
        let chaos = run_chaos(
            &pipeline,
            &run,
            &scenarios,
            &options,
            &Silent,
            &mut |name, result| {
                done += 1;
                eprintln!(
                    "chaos: {name} ({done} of {count}): throughput ×{:.2} and p99 ×{} during the fault; {}",
                    result.degraded_throughput_ratio,
                    result
                        .degraded_p99_ratio
                        .map_or("—".to_owned(), |ratio| format!("{ratio:.1}")),
                    match result.recovery_s {
                        Some(seconds) => format!("back to normal {seconds:.1} s after it"),
                        None => "did not recover within the run".to_owned(),
                    }
                );
            },
        )
        .context("the chaos run failed")?;
        results.chaos = Some(chaos);
    }
    let path = results.write_to_dir(&args.out).context("writing results")?;
    summary::print(&results, &path);
    Ok(ExitCode::SUCCESS)
}

/// `--seed-reference-store`: seeds the whole table (every row checked, not only a short table's)
/// and says what it did in one line; exit code 2 when the server cannot be used.
fn seed_only(url: &str, args: &Args) -> ExitCode {
    let symbols = args.symbols as usize;
    let seeded = InstrumentedPool::connect(DatabaseOptions::new(url))
        .and_then(|pool| Ok((seed(&pool, symbols, false)?, pool)));
    match seeded {
        Ok((outcome, pool)) => {
            println!(
                "db seed: {REFERENCE_TABLE} at {}: {symbols} symbols, {} were there, {} records written",
                pool.endpoint(),
                outcome.present,
                outcome.written
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            // The endpoint, never the URL: it holds the password.
            eprintln!("error: seeding the reference table: {error}");
            ExitCode::from(USAGE_ERROR)
        }
    }
}

/// The pool for `--reference-store`, with the reference table seeded if it is missing or short
/// (said in one line).
fn connect_reference_store(url: &str, args: &Args) -> Result<InstrumentedPool, DatabaseError> {
    let mut options = DatabaseOptions::new(url);
    options.max_size = args.db_pool_size;
    options.table = REFERENCE_TABLE.to_owned();
    let pool = InstrumentedPool::connect(options)?;
    let symbols = args.symbols as usize;
    let seeded = seed(&pool, symbols, true)?;
    if seeded.written > 0 {
        eprintln!(
            "database: seeded {REFERENCE_TABLE} at {} with {} records for {symbols} symbols ({} were there)",
            pool.endpoint(),
            seeded.written,
            seeded.present
        );
    }
    Ok(pool)
}

/// Seeds the reference table through `pool` (only when short, or every row checked), from this
/// synchronous command line.
fn seed(pool: &InstrumentedPool, symbols: usize, only_if_short: bool) -> Result<SeedOutcome, DatabaseError> {
    let seeding = pool.clone();
    perfgate_profiler::database::block_on(async move {
        seed_reference_table(&seeding, symbols, only_if_short).await
    })?
}

/// `--chaos`: the scenarios to run, by name, in the order known.
#[derive(Debug, Clone)]
struct ChaosList(Vec<String>);

fn parse_chaos(text: &str) -> Result<ChaosList, String> {
    let known: Vec<&str> = scenario_names().collect();
    if text.trim() == "all" {
        return Ok(ChaosList(known.iter().map(|name| (*name).to_owned()).collect()));
    }
    let mut names = Vec::new();
    for name in text.split(',').map(str::trim) {
        if !known.contains(&name) {
            return Err(format!(
                "{name:?} is not a scenario (all, or: {})",
                known.join(", ")
            ));
        }
        if !names.iter().any(|known: &String| known == name) {
            names.push(name.to_owned());
        }
    }
    Ok(ChaosList(names))
}

fn parse_slo(text: &str) -> Result<Slo, String> {
    Slo::parse(text)
}

fn parse_step(text: &str) -> Result<Duration, String> {
    let step = humantime::parse_duration(text).map_err(|error| format!("{text:?}: {error}"))?;
    if step < Duration::from_millis(100) || step > Duration::from_secs(600) {
        return Err(format!("{text:?}: give a step from 100ms to 10m"));
    }
    Ok(step)
}

/// A flag that Ctrl-C sets (once; a second Ctrl-C ends the process as usual), so that a long
/// search stops after its current step and keeps what it measured.
fn stop_on_interrupt() -> Arc<AtomicBool> {
    static STOP: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    extern "C" fn on_interrupt(_: libc::c_int) {
        if let Some(stop) = STOP.get() {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        // Back to the default, so that a second Ctrl-C ends the process.
        // SAFETY: signal() is async-signal-safe; SIG_DFL is a valid disposition.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
        }
    }
    let stop = Arc::clone(STOP.get_or_init(Arc::default));
    // SAFETY: the handler only stores to an atomic and resets the disposition, both
    // async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_interrupt as *const () as libc::sighandler_t);
    }
    stop
}

fn usage_error(error: &ProfilerError) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(USAGE_ERROR)
}

fn settings(args: &Args) -> (MarketConfig, RunConfig) {
    let market = MarketConfig {
        symbols: args.symbols as usize,
        zipf: args.zipf,
        seed: args.seed,
        payload_bytes: args.payload_bytes as usize,
        malformed_rate: args.malformed_rate,
        subscribers: args.subscribers,
        cache_capacity: args.cache_capacity,
        inject_slowdown_pct: args.inject_slowdown,
        inject_instructions: args.inject_instructions,
        ..MarketConfig::default()
    };
    let length = match (args.duration, args.messages) {
        (Some(duration), _) => Length::Duration(duration),
        (None, Some(messages)) => Length::Messages(messages),
        (None, None) if args.quick => Length::Messages(200_000),
        // 1.5 million: the kernel delivers about 150 CPU samples per CPU-second here, and the
        // default run should hold the 1,000 samples a ranking of functions needs.
        (None, None) => Length::Messages(1_500_000),
    };
    let warmup = args.warmup.unwrap_or(match length {
        Length::Messages(count) => Length::Messages(count / 10),
        Length::Duration(span) => Length::Duration(span / 10),
    });
    let cores = available_cores();
    let mut workers: BTreeMap<String, usize> = recommended_workers(cores);
    workers.extend(args.workers.iter().cloned());
    let run = RunConfig {
        length,
        warmup,
        saturation: args.phases != Phases::FixedRate,
        fixed_rate: args.phases != Phases::Saturation,
        rate: args.rate,
        limit: args.limit,
        limit_threads: cores,
        batch_size: args.batch_size,
        channel_capacity: args.channel_capacity,
        subscriber_queue: args.subscriber_queue,
        slow_subscribers: args.slow_subscribers,
        slow_subscriber_delay: args.slow_subscriber_delay,
        subscriber_lag_threshold: args.subscriber_lag_threshold,
        runtime_workers: args.runtime_workers.unwrap_or(cores),
        workers,
        probes: args.probes,
        cpu_hz: args.cpu_hz,
        heap_interval: args.heap_interval,
        slow_poll_threshold: args.slow_poll,
        heap_profile: args.heap_profile,
        ..RunConfig::default()
    };
    (market, run)
}

fn positive_count(text: &str) -> Result<u64, String> {
    let value: u64 = text
        .replace('_', "")
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number"))?;
    if value == 0 {
        return Err("must be at least 1".into());
    }
    Ok(value)
}

fn positive_usize(text: &str) -> Result<usize, String> {
    positive_count(text).map(|value| value as usize)
}

fn positive_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text)
        .map_err(|error| format!("'{text}' is not a duration like 10s or 500ms: {error}"))?;
    if duration.is_zero() {
        return Err("must be more than 0".into());
    }
    Ok(duration)
}

fn parse_length(text: &str) -> Result<Length, String> {
    if text.chars().all(|c| c.is_ascii_digit() || c == '_') {
        let count: u64 = text
            .replace('_', "")
            .parse()
            .map_err(|_| format!("'{text}' is not a whole number"))?;
        return Ok(Length::Messages(count));
    }
    humantime::parse_duration(text)
        .map(Length::Duration)
        .map_err(|_| format!("'{text}' is neither a message count nor a duration like 2s"))
}

fn parse_float(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|_| format!("'{text}' is not a number"))?;
    if !value.is_finite() {
        return Err(format!("'{text}' is not a finite number"));
    }
    Ok(value)
}

fn positive_float(text: &str) -> Result<f64, String> {
    let value = parse_float(text)?;
    if value <= 0.0 {
        return Err("must be more than 0".into());
    }
    Ok(value)
}

fn non_negative_float(text: &str) -> Result<f64, String> {
    let value = parse_float(text)?;
    if value < 0.0 {
        return Err("must be 0 or more".into());
    }
    Ok(value)
}

fn probability(text: &str) -> Result<f64, String> {
    let value = parse_float(text)?;
    if !(0.0..=1.0).contains(&value) {
        return Err("must be between 0 and 1".into());
    }
    Ok(value)
}

fn parse_workers(text: &str) -> Result<(String, usize), String> {
    let (stage, count) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}' is not STAGE=N, e.g. decode=2"))?;
    let count = positive_usize(count)?;
    Ok((stage.trim().to_owned(), count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_parsers_accept_good_and_reject_bad_input() {
        assert_eq!(positive_count("1_000"), Ok(1_000));
        assert!(positive_count("0").is_err());
        assert!(positive_count("-3").is_err());
        assert_eq!(parse_length("500"), Ok(Length::Messages(500)));
        assert_eq!(parse_length("2s"), Ok(Length::Duration(Duration::from_secs(2))));
        assert!(parse_length("soon").is_err());
        assert!(non_negative_float("-1").is_err());
        assert!(non_negative_float("NaN").is_err());
        assert!(probability("1.5").is_err());
        assert_eq!(parse_workers("decode=2"), Ok(("decode".into(), 2)));
        assert!(parse_workers("decode").is_err());
        assert!(parse_workers("decode=0").is_err());
    }

    #[test]
    fn quick_preset_and_explicit_flags() {
        let args = Args::parse_from(["perfgate-profiler", "--quick"]);
        let (_, run) = settings(&args);
        assert_eq!(run.length, Length::Messages(200_000));
        assert_eq!(run.warmup, Length::Messages(20_000));
        let args = Args::parse_from([
            "perfgate-profiler",
            "--quick",
            "--messages",
            "5000",
            "--warmup",
            "1s",
        ]);
        let (_, run) = settings(&args);
        assert_eq!(run.length, Length::Messages(5_000));
        assert_eq!(run.warmup, Length::Duration(Duration::from_secs(1)));
    }

    #[test]
    fn messages_and_duration_conflict() {
        assert!(Args::try_parse_from(["perfgate-profiler", "--messages", "5", "--duration", "1s"]).is_err());
    }
}

//! What the pipeline's harness costs per message, apart from the work of the stage functions
//! (issue 19): `cargo bench -p perfgate-profiler --bench harness`.
//!
//! First, the whole harness: a pipeline whose source, stages and subscribers do nothing, shaped
//! like the default workload (four stages, the first keyed on two workers, eight subscribers,
//! batches of 64, the default channels and runtime), run at saturation and in `limit` mode in
//! one invocation. Its CPU time per message in the pipeline, minus that of `limit` mode, is the
//! harness's cost per message: the feeder, the channel handoffs, the tasks' wake-ups, the batch
//! bookkeeping and the pipeline's own measuring (service times, latency, counts). It is printed
//! (median of a few runs), not timed by criterion: one run is a whole pipeline.
//!
//! Then the pieces, per message, with criterion: a batch handed through a bounded tokio channel
//! from one task to another on a two-worker runtime (what every stage boundary does), and the
//! recording of a batch's latencies into a histogram when every message of the batch has the
//! same start (saturation) and when each has its own (a fixed rate).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use perfgate_profiler::{
    Length, Pipeline, Probes, RunConfig, Silent, Source, StageError, Subscriber, stage_fn,
};

/// Messages per batch, as in the default workload.
const BATCH: usize = 64;
/// Runs of the no-op pipeline; the median is printed.
const RUNS: usize = 3;

/// A message about the size of the default workload's raw tick without its payload.
#[derive(Debug, Clone, Copy)]
struct Message {
    channel: u16,
    value: u64,
}

struct Counter(u64);

impl Source for Counter {
    type Item = Message;

    fn next_item(&mut self) -> Message {
        self.0 += 1;
        Message {
            channel: (self.0 % 16) as u16,
            value: self.0,
        }
    }
}

struct Ignore;

impl Subscriber<Message> for Ignore {
    async fn deliver(&mut self, batch: &[Message]) {
        black_box(batch.len());
    }
}

fn noop_pipeline() -> Pipeline<Counter> {
    let pass = |_| stage_fn(|message: Message| async move { Ok::<_, StageError>(message) });
    Pipeline::builder(|stream| Counter(stream as u64 * 1_000_000_000))
        .keyed_stage("decode", |message: &Message| u64::from(message.channel), pass)
        .stage("enrich", pass)
        .keyed_stage("aggregate", |message: &Message| message.value, pass)
        .stage("fanout", pass)
        .fan_out(8, |_| Ignore)
}

/// Pipeline and limit-mode CPU time per message, ns, and the efficiency, of one run.
fn measure_noop(pipeline: &Pipeline<Counter>) -> (f64, f64, f64) {
    let cores = perfgate_profiler::available_cores();
    let config = RunConfig {
        length: Length::Messages(1_000_000),
        warmup: Length::Messages(100_000),
        fixed_rate: false,
        limit: true,
        probes: Probes::NONE,
        workers: perfgate_profiler::market::recommended_workers(cores),
        ..RunConfig::default()
    };
    let results = perfgate_profiler::run(pipeline, &config, &Silent, serde_json::Value::Null)
        .expect("the no-op pipeline runs");
    let pipeline_ns = results.cpu.cpu_ns_per_message.expect("CPU time of the window");
    let limit_ns = results
        .limit
        .as_ref()
        .and_then(|limit| limit.cpu_ns_per_message)
        .expect("CPU time of limit mode");
    let efficiency = results.pipeline.efficiency.expect("both ran");
    (pipeline_ns, limit_ns, efficiency)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The whole harness's cost per message, printed.
fn whole_harness() {
    let pipeline = noop_pipeline();
    let runs: Vec<_> = (0..RUNS).map(|_| measure_noop(&pipeline)).collect();
    let pipeline_ns = median(runs.iter().map(|run| run.0).collect());
    let limit_ns = median(runs.iter().map(|run| run.1).collect());
    let harness_ns = median(runs.iter().map(|run| run.0 - run.1).collect());
    let efficiency = median(runs.iter().map(|run| run.2).collect());
    println!(
        "harness/noop_pipeline: CPU {pipeline_ns:.0} ns/msg pipeline, {limit_ns:.0} limit: harness cost {harness_ns:.0} ns/msg (median of {RUNS}); efficiency {efficiency:.3}"
    );
}

fn handoff(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a runtime");
    let mut group = c.benchmark_group("harness");
    group.throughput(Throughput::Elements(BATCH as u64));
    // Channels of 1,024 messages hold 16 batches of 64, as the default workload's do.
    group.bench_function("batch_handoff_64", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async move {
                let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<(u64, Message)>>(16);
                let consumer = tokio::spawn(async move {
                    let mut seen = 0u64;
                    while let Some(batch) = rx.recv().await {
                        seen += batch.len() as u64;
                    }
                    seen
                });
                let started = Instant::now();
                for round in 0..iters {
                    let batch = (0..BATCH as u64)
                        .map(|n| {
                            (
                                n,
                                Message {
                                    channel: 0,
                                    value: round,
                                },
                            )
                        })
                        .collect();
                    tx.send(batch).await.expect("the consumer runs");
                }
                drop(tx);
                let seen = consumer.await.expect("the consumer finishes");
                assert_eq!(seen, iters * BATCH as u64);
                started.elapsed()
            })
        })
    });
    group.finish();
}

fn latency_recording(c: &mut Criterion) {
    let mut histogram =
        hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).expect("bounds");
    let mut group = c.benchmark_group("harness");
    group.throughput(Throughput::Elements(BATCH as u64));
    let same: Vec<u64> = vec![1_000_000; BATCH];
    let distinct: Vec<u64> = (0..BATCH as u64).map(|n| 1_000_000 + n * 1_000).collect();
    let mut done = 2_000_000u64;
    for (name, starts) in [
        ("latency_batch_same_start", &same),
        ("latency_batch_distinct_starts", &distinct),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                done += 1;
                perfgate_profiler::record_latencies(&mut histogram, black_box(done), black_box(starts));
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = pieces;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = handoff, latency_recording
}

fn main() {
    // Criterion's own arguments (a filter, `--list`) apply to the pieces; the whole harness runs
    // unless a filter leaves it out.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let listing = args.iter().any(|arg| arg == "--list" || arg == "--test");
    let filter = args.iter().find(|arg| !arg.starts_with('-'));
    if !listing && filter.is_none_or(|filter| "harness/noop_pipeline".contains(filter.as_str())) {
        whole_harness();
    }
    pieces();
    Criterion::default().configure_from_args().final_summary();
}

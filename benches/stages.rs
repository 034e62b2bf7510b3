//! Micro-benchmarks of the market-data stage functions and of recording one latency sample.
//! Run with `cargo bench -p perfgate-profiler --bench stages`. Figures are per message.

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use perfgate_profiler::Source;
use perfgate_profiler::market::{
    Aggregate, ClientConnection, Decode, Encode, Enrich, MarketConfig, RawTick, ReferenceStore, TickSource,
};

/// Messages per iteration: enough to exercise the Zipf mix and the cache.
const BATCH: usize = 4_096;

fn messages(config: &MarketConfig) -> Vec<RawTick> {
    let mut source = TickSource::new(config, 0);
    (0..BATCH).map(|_| source.next_item()).collect()
}

fn stages(c: &mut Criterion) {
    let config = MarketConfig::default();
    let raw = messages(&config);
    let ticks: Vec<_> = raw
        .iter()
        .map(|m| Decode::decode(&m.payload).expect("generated ticks decode"))
        .collect();
    let store = Arc::new(ReferenceStore::synthetic(config.symbols));
    let capacity = NonZeroUsize::new(config.cache_capacity).expect("non-zero");
    let mut warm = Enrich::new(Arc::clone(&store), capacity);
    let enriched: Vec<_> = ticks
        .iter()
        .map(|t| warm.enrich(t.clone()).expect("known symbols"))
        .collect();
    let mut aggregate = Aggregate::new(1_000_000_000);
    let updates: Vec<_> = enriched.iter().map(|e| aggregate.aggregate(e)).collect();
    let frames: Vec<_> = updates.iter().map(Encode::encode).collect();

    let mut group = c.benchmark_group("stage");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("generate", |b| {
        let mut source = TickSource::new(&config, 0);
        b.iter(|| {
            for _ in 0..BATCH {
                black_box(source.next_item());
            }
        })
    });
    group.bench_function("decode", |b| {
        b.iter(|| {
            for message in &raw {
                black_box(Decode::decode(&message.payload).expect("decodes"));
            }
        })
    });
    group.bench_function("enrich", |b| {
        b.iter_batched(
            || ticks.clone(),
            |ticks| {
                for tick in ticks {
                    black_box(warm.enrich(tick).expect("known"));
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("aggregate", |b| {
        b.iter(|| {
            for tick in &enriched {
                black_box(aggregate.aggregate(tick));
            }
        })
    });
    group.bench_function("encode", |b| {
        b.iter(|| {
            for update in &updates {
                black_box(Encode::encode(update));
            }
        })
    });
    group.bench_function("deliver_8_subscribers", |b| {
        let mut connections = vec![ClientConnection::default(); 8];
        b.iter(|| {
            for connection in &mut connections {
                connection.take(black_box(&frames));
            }
        })
    });
    group.finish();
}

fn latency_record(c: &mut Criterion) {
    let mut histogram =
        hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).expect("bounds");
    let mut group = c.benchmark_group("latency");
    group.throughput(Throughput::Elements(1));
    let mut value = 12_345u64;
    group.bench_function("record_one_sample", |b| {
        b.iter(|| {
            value = value.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1) % 10_000_000;
            histogram.saturating_record(black_box(value));
        })
    });
    group.finish();
}

/// What the heap probe adds to every allocation: the tracking wrapper against jemalloc alone.
fn tracking_allocator(c: &mut Criterion) {
    use std::alloc::{GlobalAlloc, Layout};
    static PLAIN: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
    static TRACKED: perfgate_profiler::alloc::TrackingAllocator<tikv_jemallocator::Jemalloc> =
        perfgate_profiler::alloc::TrackingAllocator::new(tikv_jemallocator::Jemalloc);
    let layout = Layout::from_size_align(200, 8).expect("valid layout");
    let mut group = c.benchmark_group("allocator");
    group.throughput(Throughput::Elements(1));
    group.bench_function("jemalloc_alloc_free_200b", |b| {
        b.iter(|| unsafe {
            // SAFETY: the pointer comes from the same allocator with the same layout.
            let ptr = PLAIN.alloc(layout);
            PLAIN.dealloc(black_box(ptr), layout);
        })
    });
    group.bench_function("tracked_jemalloc_alloc_free_200b", |b| {
        b.iter(|| unsafe {
            // SAFETY: as above.
            let ptr = TRACKED.alloc(layout);
            TRACKED.dealloc(black_box(ptr), layout);
        })
    });
    group.finish();
}

criterion_group!(benches, stages, latency_record, tracking_allocator);
criterion_main!(benches);

//! `--heap-profile` against ground truth. One stage keeps a 64 MiB buffer, another allocates and
//! frees 128 KiB per message for a counted number of messages; the heap profile must charge the
//! kept bytes (`inuse_space`) and the churned volume (`alloc_space`) to those two functions, by
//! their full paths, as the top frame of their samples, with no allocator frame on top of any
//! sample. jemalloc reads its profiling switch only at start-up, so the test re-runs this test
//! binary with the switch set and checks the child's verdict.

use std::sync::atomic::{AtomicU64, Ordering};

use perfgate_profiler::alloc::{HEAP_PROFILE_ENV, TrackingAllocator};
use perfgate_profiler::{Length, Pipeline, Probes, RunConfig, Silent, Source, Stage, StageError};
use pprof::protos::{Message, Profile};
use tikv_jemallocator::Jemalloc;

#[global_allocator]
static GLOBAL: TrackingAllocator<Jemalloc> = TrackingAllocator::new(Jemalloc);

const KEPT_BYTES: usize = 64 << 20;
const CHURN_BYTES: usize = 128 << 10;
/// How many times the churning function ran: the ground truth for its allocation volume.
static CHURNED: AtomicU64 = AtomicU64::new(0);

struct Sequence(u64);

impl Source for Sequence {
    type Item = u64;
    fn next_item(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

/// Keeps a 64 MiB buffer from message `at` on.
struct HeapProfileHoarder {
    at: u64,
    kept: Option<Vec<u8>>,
}

impl HeapProfileHoarder {
    #[inline(never)]
    fn hoard_for_heap_profile_test(&mut self) {
        self.kept = Some(vec![3u8; KEPT_BYTES]);
    }
}

impl Stage<u64> for HeapProfileHoarder {
    type Out = u64;
    async fn process(&mut self, value: u64) -> Result<u64, StageError> {
        if value == self.at {
            self.hoard_for_heap_profile_test();
        }
        Ok(value)
    }
}

/// Allocates and frees 128 KiB for every message in `range`: volume, nothing kept.
struct HeapProfileChurner {
    range: std::ops::RangeInclusive<u64>,
}

impl HeapProfileChurner {
    #[inline(never)]
    fn churn_for_heap_profile_test(&self) {
        let buffer: Vec<u8> = Vec::with_capacity(CHURN_BYTES);
        // Without this the allocation could be optimised away.
        std::hint::black_box(&buffer);
        CHURNED.fetch_add(1, Ordering::Relaxed);
    }
}

impl Stage<u64> for HeapProfileChurner {
    type Out = u64;
    async fn process(&mut self, value: u64) -> Result<u64, StageError> {
        if self.range.contains(&value) {
            self.churn_for_heap_profile_test();
        }
        Ok(value)
    }
}

/// A function of jemalloc, libc's allocator API or Rust's allocation path: never a top frame.
fn is_allocator_frame(name: &str) -> bool {
    [
        "prof_",
        "_rjem_",
        "je_",
        "malloc",
        "calloc",
        "realloc",
        "alloc::alloc::",
        "alloc::raw_vec::",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
        || ["__rust_", "__rdl_", "__rg_", "GlobalAlloc>::", "tikv_jemalloc"]
            .iter()
            .any(|part| name.contains(part))
}

#[test]
fn issue_14_heap_profile_tops_are_the_allocating_functions() {
    let (variable, value) = HEAP_PROFILE_ENV;
    if std::env::var_os(variable).is_none() {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "issue_14_heap_profile_tops_are_the_allocating_functions",
                "--nocapture",
            ])
            .env(variable, value)
            .status()
            .unwrap();
        assert!(status.success(), "the child run with {variable}={value} failed");
        return;
    }
    let pipeline = Pipeline::builder(|_| Sequence(0))
        .stage("hoard", |_| HeapProfileHoarder {
            at: 3_000,
            kept: None,
        })
        .stage("churn", |_| HeapProfileChurner { range: 2_001..=6_000 })
        .build();
    let config = RunConfig {
        length: Length::Messages(10_000),
        warmup: Length::Messages(1_000),
        fixed_rate: false,
        probes: Probes::NONE,
        heap_profile: true,
        ..RunConfig::smoke()
    };
    let results = perfgate_profiler::run(&pipeline, &config, &Silent, serde_json::Value::Null).unwrap();
    assert!(
        !results.warnings.iter().any(|w| w.contains("heap profile")),
        "{:?}",
        results.warnings
    );
    assert_eq!(
        results.files.get("heap_profile").map(String::as_str),
        Some("heap.pb.gz")
    );
    let gzipped = &results
        .artifacts
        .iter()
        .find(|a| a.file_name == "heap.pb.gz")
        .unwrap()
        .bytes;
    let mut encoded = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut encoded).unwrap();
    let profile = Profile::decode(&encoded[..]).unwrap();
    let string = |id: i64| profile.string_table[id as usize].as_str();
    let types: Vec<&str> = profile.sample_type.iter().map(|t| string(t.ty)).collect();
    assert_eq!(
        types,
        ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"]
    );
    assert_eq!(string(profile.default_sample_type), "inuse_space");
    let (alloc_space, inuse_space) = (1, 3);

    // A sample's functions, innermost first (inlined ones included).
    let stack = |sample: &pprof::protos::Sample| -> Vec<String> {
        let mut names = Vec::new();
        for id in &sample.location_id {
            let location = profile.location.iter().find(|l| l.id == *id).unwrap();
            for line in &location.line {
                let function = profile
                    .function
                    .iter()
                    .find(|f| f.id == line.function_id)
                    .unwrap();
                names.push(string(function.name).to_owned());
            }
        }
        names
    };
    // Each top function's self values, as `go tool pprof -top` ranks them.
    let mut self_values: std::collections::HashMap<String, [i64; 4]> = Default::default();
    for sample in &profile.sample {
        let names = stack(sample);
        let top = names.first().expect("the top frame is symbolized").clone();
        assert!(!is_allocator_frame(&top), "an allocator frame on top: {names:#?}");
        for (sum, value) in self_values.entry(top).or_default().iter_mut().zip(&sample.value) {
            *sum += value;
        }
    }
    let first_by = |index: usize| {
        self_values
            .iter()
            .max_by_key(|(_, values)| values[index])
            .map(|(name, values)| (name.clone(), values[index]))
            .unwrap()
    };

    let (top, kept) = first_by(inuse_space);
    assert_eq!(
        top,
        "heap_profile::HeapProfileHoarder::hoard_for_heap_profile_test"
    );
    // A 64 MiB allocation is sampled for certain, and jemalloc's size class for it is exact.
    assert!(
        (kept as f64 - KEPT_BYTES as f64).abs() <= 0.05 * KEPT_BYTES as f64,
        "kept {kept} bytes, expected {KEPT_BYTES}"
    );

    let churned = CHURNED.load(Ordering::Relaxed) * CHURN_BYTES as u64;
    assert_eq!(churned, 4_000 * CHURN_BYTES as u64, "every churning message ran");
    let churner = &self_values["heap_profile::HeapProfileChurner::churn_for_heap_profile_test"];
    println!(
        "heap profile: kept {kept} bytes (truth {KEPT_BYTES}); churn alloc_space {} bytes, \
         alloc_objects {} (truth {churned} bytes, 4000 objects)",
        churner[alloc_space], churner[0]
    );
    // 500 MiB in 128 KiB allocations at a sample every 512 KiB on average: about 900 sampled
    // allocations, so the unbiased estimate is within ±15 % (over 4 standard errors) of the truth.
    assert!(
        (churner[alloc_space] as f64 - churned as f64).abs() <= 0.15 * churned as f64,
        "churn charged {} bytes allocated, {churned} were",
        churner[alloc_space]
    );
    assert!(
        churner[inuse_space] < CHURN_BYTES as i64 * 4,
        "the churned buffers were freed, yet {} bytes are in use",
        churner[inuse_space]
    );
    let (top, _) = first_by(alloc_space);
    assert_eq!(
        top,
        "heap_profile::HeapProfileChurner::churn_for_heap_profile_test"
    );
}

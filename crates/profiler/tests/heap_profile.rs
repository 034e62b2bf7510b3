//! `--heap-profile` against ground truth: a stage that keeps a 64 MiB buffer must show up, by
//! name, in the allocation-site profile. jemalloc reads its profiling switch only at start-up,
//! so the test re-runs this test binary with the switch set and checks the child's verdict.

use perfgate_profiler::alloc::{HEAP_PROFILE_ENV, TrackingAllocator};
use perfgate_profiler::{Length, Pipeline, Probes, RunConfig, Silent, Source, Stage, StageError};
use tikv_jemallocator::Jemalloc;

#[global_allocator]
static GLOBAL: TrackingAllocator<Jemalloc> = TrackingAllocator::new(Jemalloc);

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
        self.kept = Some(vec![3u8; 64 << 20]);
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

#[test]
fn issue_3_heap_profile_names_the_allocation_site() {
    let (variable, value) = HEAP_PROFILE_ENV;
    if std::env::var_os(variable).is_none() {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "issue_3_heap_profile_names_the_allocation_site",
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
    let mut profile = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut profile).unwrap();
    let text = String::from_utf8_lossy(&profile);
    assert!(text.contains("inuse_space"), "a pprof heap profile");
    assert!(
        text.contains("hoard_for_heap_profile_test"),
        "the allocation site is named"
    );
}

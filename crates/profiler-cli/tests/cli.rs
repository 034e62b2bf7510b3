//! The `perfgate-profiler` command line: bad input gets one clear line and exit code 2; a good
//! run writes `results.json` where asked.

use std::process::{Command, Output};

fn profiler(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfgate-profiler"))
        .args(args)
        .output()
        .expect("the profiler binary runs")
}

fn first_error_line(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .find(|line| line.starts_with("error"))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn bad_flags_and_values_exit_2_with_a_message_naming_them() {
    for (args, expected) in [
        (&["--messages", "0"][..], "--messages"),
        (&["--zipf", "-1"], "--zipf"),
        (&["--zipf", "NaN"], "--zipf"),
        (&["--malformed-rate", "1.5"], "--malformed-rate"),
        (&["--bogus"], "--bogus"),
        (&["--rate", "0"], "--rate"),
        (&["--duration", "soon"], "--duration"),
        (&["--messages", "10", "--duration", "1s"], "cannot be used with"),
        (&["--workers", "nope=2"], "unknown stage 'nope'"),
        (&["--workers", "decode"], "STAGE=N"),
        (&["--slow-subscribers", "9"], "slow subscribers"),
        (&["--phases", "fixed-rate"], "needs a rate"),
        // Issue 15, point 8: values that aborted, panicked or ran for ever are refused at once.
        (
            &["--cache-capacity", "1000000000000"],
            "cache capacity must be 1 to 10000000",
        ),
        (
            &["--subscribers", "100000000"],
            "subscribers must be at most 10000",
        ),
        (
            &["--runtime-workers", "5000"],
            "runtime workers must be at most 1024",
        ),
        (&["--workers", "decode=100000"], "at most 1024 workers"),
        (&["--duration", "100000h"], "at most a week"),
        (&["--rate", "1e-300"], "rate must be 0.01 to"),
        (&["--rate", "1e300"], "rate must be 0.01 to"),
    ] {
        let mut all = vec!["--allow-debug"];
        all.extend_from_slice(args);
        let output = profiler(&all);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = first_error_line(&output);
        assert!(
            line.contains(expected),
            "{args:?}: {line:?} should mention {expected:?}"
        );
    }
}

#[test]
fn a_debug_build_refuses_to_measure_unless_told() {
    if !cfg!(debug_assertions) {
        return;
    }
    let output = profiler(&["--quick"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(first_error_line(&output).contains("debug build"));
}

#[test]
fn a_small_run_writes_results_where_asked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/run");
    let output = profiler(&[
        "--allow-debug",
        "--messages",
        "5000",
        "--warmup",
        "500",
        "--malformed-rate",
        "0.01",
        "--subscribers",
        "2",
        "--no-progress",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("saturation") && stdout.contains("fixed_rate"),
        "{stdout}"
    );
    assert!(stdout.contains("results:"), "{stdout}");
    let text = std::fs::read_to_string(out.join("results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(results["cpu"]["message_count"], 5_000);
    assert_eq!(results["environment"]["workload"]["subscribers"], 2);
    assert_eq!(results["environment"]["workload"]["malformed_rate"], 0.01);
    let generated = results["pipeline"]["generated"].as_u64().unwrap();
    let processed = results["pipeline"]["processed"].as_u64().unwrap();
    let errors = results["errors"]["total"].as_u64().unwrap();
    assert_eq!(generated, 11_000);
    assert_eq!(generated, processed + errors);
    if cfg!(debug_assertions) {
        let warnings = results["warnings"].as_array().unwrap();
        assert!(
            warnings
                .iter()
                .any(|w| w.as_str().unwrap().contains("debug build"))
        );
    }
}

#[test]
fn overhead_pairs_record_throughput_and_cpu_per_message_on_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let output = profiler(&[
        "--allow-debug",
        "--no-progress",
        "--messages",
        "8000",
        "--warmup",
        "1000",
        "--probes",
        "heap,lag,runtime",
        "--overhead",
        "2",
        "--out",
        out,
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap()).unwrap();
    let overhead = &results["profiler"]["overhead"];
    assert_eq!(overhead["pairs"], 2);
    assert_eq!(overhead["runs"].as_array().unwrap().len(), 2);
    for run in overhead["runs"].as_array().unwrap() {
        for side in ["cpu_ns_per_message_off", "cpu_ns_per_message_on"] {
            assert!(run[side].as_f64().is_some_and(|ns| ns > 0.0), "{side}: {run}");
        }
    }
    // Debug builds and two pairs say nothing about the size; the ratio must only be sane.
    let ratio = overhead["cpu_per_message_ratio"].as_f64().unwrap();
    assert!(ratio > 0.2 && ratio < 5.0, "{ratio}");
    let (low, high) = (
        overhead["cpu_per_message_ratio_ci95"][0].as_f64().unwrap(),
        overhead["cpu_per_message_ratio_ci95"][1].as_f64().unwrap(),
    );
    assert!(low <= ratio && ratio <= high, "{low} {ratio} {high}");
    let p99 = overhead["p99_pair_ratio_median"].as_f64().unwrap();
    let (low, high) = (
        overhead["p99_pair_ratio_ci95"][0].as_f64().unwrap(),
        overhead["p99_pair_ratio_ci95"][1].as_f64().unwrap(),
    );
    assert!(low <= p99 && p99 <= high, "{low} {p99} {high}");
    let pooled = overhead["p99_ratio"].as_f64().unwrap();
    let (on, off) = (
        overhead["p99_on_ms"].as_f64().unwrap(),
        overhead["p99_off_ms"].as_f64().unwrap(),
    );
    assert!((pooled - on / off).abs() < 1e-9, "{pooled} vs {on} / {off}");
    let (low, high) = (
        overhead["p99_ratio_ci95"][0].as_f64().unwrap(),
        overhead["p99_ratio_ci95"][1].as_f64().unwrap(),
    );
    // Two pairs: the all-pairs sample is the middle of the resamples.
    assert!(low <= pooled && pooled <= high, "{low} {pooled} {high}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("probe overhead in CPU per message"), "{stdout}");
    assert!(
        stdout.contains("probe overhead targets: throughput ≥ 0.97: "),
        "{stdout}"
    );
}

/// Issue 15, point 5 (in part): an output folder that cannot be written is found before the run,
/// not after it.
#[test]
fn issue_15_an_unwritable_out_is_refused_before_the_run() {
    let started = std::time::Instant::now();
    let output = profiler(&[
        "--allow-debug",
        "--no-progress",
        "--out",
        "/proc/perfgate-cannot-be-here",
    ]);
    let message = first_error_line(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(
        message.contains("/proc/perfgate-cannot-be-here") && message.contains("cannot write"),
        "{message}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

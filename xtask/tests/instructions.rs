//! `cargo xtask instructions` end to end: the same small measurement twice gives exactly the same
//! instruction count, whatever else the machine is doing (the enrich stage's hash maps have
//! fixed keys; with random ones two counts differed by a few dozen instructions, and with
//! jemalloc's clock-driven housekeeping left on by 1 %), and the injection knob
//! `--inject-instructions N` adds N instructions per message, give or take the few its call
//! costs. It builds the release profiler (as `cargo xtask bench` does) and needs Valgrind:
//! without `valgrind` on PATH it is skipped, saying so, unless `PERFGATE_REQUIRE_VALGRIND=1`,
//! when that is a failure.

use std::path::Path;
use std::process::Command;

fn valgrind_installed() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

fn measure(out: &Path, profiler_args: &[&str]) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "instructions",
            "--messages",
            "2000",
            "--warmup",
            "500",
            "--seed",
            "7",
            "--out",
        ])
        .arg(out)
        .arg("--")
        .args(profiler_args)
        .output()
        .expect("running xtask");
    assert!(
        output.status.success(),
        "cargo xtask instructions failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(out).expect("the JSON was written");
    serde_json::from_str(&text).expect("the JSON parses")
}

fn skip_without_valgrind() -> bool {
    if valgrind_installed() {
        return false;
    }
    assert!(
        std::env::var_os("PERFGATE_REQUIRE_VALGRIND").is_none_or(|value| value != "1"),
        "PERFGATE_REQUIRE_VALGRIND=1 but valgrind is not on PATH"
    );
    eprintln!("skipped: valgrind is not on PATH (install it to run this test)");
    true
}

fn instructions(value: &serde_json::Value) -> u64 {
    value["events"]["Ir"].as_u64().expect("a count")
}

#[test]
fn the_same_measurement_twice_counts_the_same_instructions() {
    if skip_without_valgrind() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let first = measure(&dir.path().join("first.json"), &[]);
    let second = measure(&dir.path().join("second.json"), &[]);
    assert!(instructions(&first) > 0, "{first}");
    assert_eq!(first["messages"], 2000);
    assert_eq!(
        instructions(&first),
        instructions(&second),
        "two counts of one build differ"
    );
    // The cache simulation sees addresses, which differ between processes by a few lines: the
    // estimated cycles agree to a part in 10,000, not exactly.
    let cycles = |value: &serde_json::Value| value["estimated_cycles_per_message"].as_f64().expect("cycles");
    let (a, b) = (cycles(&first), cycles(&second));
    assert!(
        (a - b).abs() <= a * 1e-4,
        "{a} and {b} estimated cycles differ by more than 0.01 %"
    );
}

#[test]
fn the_injection_knob_adds_the_instructions_it_is_asked_for() {
    if skip_without_valgrind() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let plain = measure(&dir.path().join("plain.json"), &[]);
    let injected = measure(
        &dir.path().join("injected.json"),
        &["--inject-instructions", "1000"],
    );
    let per_message =
        |value: &serde_json::Value| value["instructions_per_message"].as_f64().expect("a figure");
    let added = per_message(&injected) - per_message(&plain);
    // 500 iterations of two instructions, and the call into the loop (measured: 2).
    assert!(
        (1_000.0..=1_010.0).contains(&added),
        "--inject-instructions 1000 added {added} instructions per message"
    );
    assert_eq!(injected["profiler_args"][8], "--inject-instructions");
}

#[test]
fn bench_with_instructions_adds_the_count_to_the_results() {
    if skip_without_valgrind() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("run");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "bench",
            "--instructions",
            "--no-history",
            "--phases",
            "saturation",
            "--messages",
            "20000",
            "--warmup",
            "2000",
            "--probes",
            "none",
            "--no-progress",
            "--symbols",
            "300",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("running xtask");
    assert!(
        output.status.success(),
        "cargo xtask bench --instructions failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(out.join("results.json")).expect("results.json");
    // Read as every tool reads it: validated, and the catalogue finds both figures.
    let results = perfgate_results::read::parse(&text).expect("valid results");
    let section = results.instructions.as_ref().expect("an instructions section");
    // The run's workload went into the count, its lengths and probes did not.
    assert_eq!(
        &section.profiler_args[section.profiler_args.len() - 2..],
        ["--symbols", "300"]
    );
    for id in ["cpu.instructions_per_message", "cpu.estimated_cycles_per_message"] {
        let value = perfgate_results::metric(id)
            .and_then(|def| def.read(&results))
            .unwrap_or_else(|| panic!("{id} is not read from the results"));
        assert!(value > 100.0, "{id} = {value}");
    }
}

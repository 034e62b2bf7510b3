//! `cargo xtask instructions` end to end: the same small measurement twice gives the same
//! instruction count, whatever else the machine is doing, to within one part in 10,000. Not
//! exactly: the enrich stage's hash maps take random hash keys per process, which moves a count
//! of 2,000 messages by a few dozen instructions (about 1 in a million); time-driven work, such
//! as jemalloc's clock-driven housekeeping left on, moved it by 1 %. It builds the release profiler (as
//! `cargo xtask bench` does) and needs Valgrind: without `valgrind` on PATH it is skipped,
//! saying so, unless `PERFGATE_REQUIRE_VALGRIND=1`, when that is a failure.

use std::path::Path;
use std::process::Command;

fn valgrind_installed() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

fn measure(out: &Path) -> serde_json::Value {
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

#[test]
fn the_same_measurement_twice_counts_the_same_instructions() {
    if !valgrind_installed() {
        assert!(
            std::env::var_os("PERFGATE_REQUIRE_VALGRIND").is_none_or(|value| value != "1"),
            "PERFGATE_REQUIRE_VALGRIND=1 but valgrind is not on PATH"
        );
        eprintln!("skipped: valgrind is not on PATH (install it to run this test)");
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let first = measure(&dir.path().join("first.json"));
    let second = measure(&dir.path().join("second.json"));
    let instructions = &first["events"]["Ir"];
    assert!(instructions.as_u64().is_some_and(|count| count > 0), "{first}");
    assert_eq!(first["messages"], 2000);
    let count = |value: &serde_json::Value| value["events"]["Ir"].as_u64().expect("a count") as f64;
    let (a, b) = (count(&first), count(&second));
    assert!(
        (a - b).abs() <= a * 1e-4,
        "{a} and {b} instructions differ by more than 0.01 %"
    );
    let cycles = |value: &serde_json::Value| value["estimated_cycles_per_message"].as_f64().expect("cycles");
    let (a, b) = (cycles(&first), cycles(&second));
    assert!(
        (a - b).abs() <= a * 1e-4,
        "{a} and {b} estimated cycles differ by more than 0.01 %"
    );
}

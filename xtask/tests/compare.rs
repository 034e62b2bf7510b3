//! `cargo xtask compare` end to end where no build is needed: the unpaired comparison of two sets
//! of results files, its outputs and exit codes, and bad input.

use std::path::Path;
use std::process::Command;

fn results(dir: &Path, name: &str, throughputs: &[f64], rejected: u64) -> String {
    let runs: Vec<String> = throughputs
        .iter()
        .map(|t| {
            format!(r#"{{"cpu.messages_per_second":{t},"latency.p99_ms":1.0,"errors.total":{rejected}}}"#)
        })
        .collect();
    let text = format!(
        r#"{{"schema_version":1,"cpu":{{"messages_per_second":{}}},"errors":{{"total":{rejected}}},
            "repetitions":{{"count":{},"runs":[{}]}}}}"#,
        throughputs[0],
        runs.len(),
        runs.join(",")
    );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn compare(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("compare")
        .args(args)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap()
}

#[test]
fn unpaired_comparison_of_repeated_runs_gates_and_writes_every_format() {
    let dir = tempfile_dir();
    let base = results(&dir, "base.json", &[500.0, 505.0, 495.0, 502.0, 498.0, 500.0], 0);
    let slow = results(&dir, "slow.json", &[350.0, 352.0, 348.0, 351.0, 349.0, 350.0], 0);
    let same = results(&dir, "same.json", &[501.0, 499.0, 503.0, 497.0, 500.0, 502.0], 0);
    let out = |name: &str| dir.join(name).display().to_string();
    let output = compare(&[
        "--base-results",
        &base,
        "--candidate-results",
        &slow,
        "--json",
        &out("verdict.json"),
        "--markdown",
        &out("summary.md"),
        "--junit",
        &out("junit.xml"),
        "--bmf",
        &out("bmf.json"),
        "--gab",
        &out("gab"),
        "--out",
        &out("work"),
        "--noise-history",
        &out("aa.jsonl"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "a 30 % slowdown fails: {stderr}");
    let verdict: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out("verdict.json")).unwrap()).unwrap();
    assert_eq!(verdict["overall"], "fail");
    assert_eq!(verdict["design"], "unpaired");
    let throughput = &verdict["metrics"][0];
    assert_eq!(throughput["id"], "cpu.messages_per_second");
    assert_eq!(throughput["verdict"], "regressed");
    assert!(
        std::fs::read_to_string(out("summary.md"))
            .unwrap()
            .contains("**unpaired**")
    );
    assert!(
        std::fs::read_to_string(out("junit.xml"))
            .unwrap()
            .contains("<failure ")
    );
    assert!(Path::new(&out("gab/bigger-is-better.json")).exists());
    assert!(Path::new(&out("gab/smaller-is-better.json")).exists());
    assert!(
        std::fs::read_to_string(out("bmf.json"))
            .unwrap()
            .contains("lower_value")
    );

    let output = compare(&[
        "--base-results",
        &base,
        "--candidate-results",
        &same,
        "--out",
        &out("work"),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("unchanged"));

    // A deterministic figure that changes fails even with the same speed.
    let errors = results(
        &dir,
        "errors.json",
        &[501.0, 499.0, 503.0, 497.0, 500.0, 502.0],
        3,
    );
    let output = compare(&[
        "--base-results",
        &base,
        "--candidate-results",
        &errors,
        "--out",
        &out("work"),
    ]);
    assert_eq!(output.status.code(), Some(1));
}

/// A results file with a `load_burst` chaos run: recovered after `recovery_s`, or not (`None`).
fn chaos_results(dir: &Path, name: &str, recovery_s: Option<f64>) -> String {
    let recovery = recovery_s.map_or("null".to_owned(), |s| s.to_string());
    let text = format!(
        r#"{{"schema_version":1,"cpu":{{"messages_per_second":500}},"chaos":{{"seed":42,"window_ms":100,
            "scenarios":{{"load_burst":{{"degraded_throughput_ratio":0.9,"degraded_p99_ratio":3.0,
            "recovered":{},"recovery_s":{recovery}}}}}}}}}"#,
        recovery_s.is_some()
    );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Unpaired, `--chaos` compares the files' figures of the scenario; a candidate that did not
/// recover is counted as such, not left out.
#[test]
fn unpaired_chaos_figures_come_from_the_files() {
    let dir = tempfile_dir();
    let out = |name: &str| dir.join(name).display().to_string();
    let base: Vec<String> = (0..3)
        .map(|i| chaos_results(&dir, &format!("base{i}.json"), Some(0.5 + f64::from(i) / 10.0)))
        .collect();
    let candidate: Vec<String> = (0..3)
        .map(|i| chaos_results(&dir, &format!("candidate{i}.json"), (i == 0).then_some(0.6)))
        .collect();
    let mut args = vec!["--chaos", "load_burst", "--base-results"];
    args.extend(base.iter().map(String::as_str));
    args.push("--candidate-results");
    args.extend(candidate.iter().map(String::as_str));
    let (json, work) = (out("verdict.json"), out("work"));
    args.extend(["--json", &json, "--out", &work, "--noise-history", "/dev/null"]);
    let output = compare(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "unpaired, not recovering warns: {stderr}"
    );
    let verdict: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(verdict["overall"], "warn", "{verdict}");
    let metrics = verdict["metrics"].as_array().unwrap();
    let recovery = metrics
        .iter()
        .find(|m| m["id"] == "chaos.load_burst.recovery_s")
        .expect("the chaos rows are compared");
    assert_eq!(recovery["verdict"], "regressed", "{recovery}");
    assert_eq!(recovery["candidate_unbounded"], 2, "{recovery}");
    assert_eq!(recovery["base_unbounded"], 0, "{recovery}");
    assert!(
        metrics
            .iter()
            .any(|m| m["id"] == "chaos.load_burst.degraded_p99_ratio")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile_dir();
    let base = results(&dir, "base.json", &[500.0], 0);
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"schema_version\": 1, \"cpu\": ").unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--base-results", &base, "--candidate-results", "/no/such.json"],
            "/no/such.json",
        ),
        (
            &[
                "--base-results",
                &base,
                "--candidate-results",
                broken.to_str().unwrap(),
            ],
            "broken.json",
        ),
        (&["--base", "no-such-revision-xyz"], "no-such-revision-xyz"),
        // Refused before anything is built, naming the scenarios there are.
        (&["--chaos", "load_bust"], "load_bust' (known: slow_dependency,"),
    ];
    for (args, expected) in cases {
        let output = compare(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "perfgate-compare-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

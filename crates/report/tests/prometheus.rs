//! `--prometheus FILE`: the run's figures in the Prometheus text exposition format, checked by
//! Prometheus' own `promtool check metrics` when it is installed (Debian: `prometheus`).

use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn prometheus_export_passes_promtool() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let dir = std::env::temp_dir().join(format!("perfgate-prom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prom = dir.join("perfgate.prom");
    let output = Command::new(env!("CARGO_BIN_EXE_perfgate-report"))
        .arg("--results")
        .arg(fixtures.join("results-v1-full.json"))
        .arg("--thresholds")
        .arg(fixtures.join("thresholds-default.toml"))
        .arg("--out")
        .arg(dir.join("report.md"))
        .arg("--prometheus")
        .arg(&prom)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("# TYPE perfgate_cpu_messages_per_second gauge"));
    assert!(text.contains("perfgate_latency_p99_seconds{workload=\"market-data\",commit=\""));
    // Every sample line follows its HELP and TYPE lines and holds a finite number.
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(value.is_finite(), "{line}");
    }
    let promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    match promtool {
        Ok(mut child) => {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
            let result = child.wait_with_output().unwrap();
            assert!(
                result.status.success(),
                "promtool check metrics: {}{}",
                String::from_utf8_lossy(&result.stdout),
                String::from_utf8_lossy(&result.stderr)
            );
        }
        Err(_) => eprintln!("promtool not installed: only the built-in checks ran"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

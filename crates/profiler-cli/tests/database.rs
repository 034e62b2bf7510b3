//! `--reference-store` from the command line: an unreachable server is one clear line and exit
//! code 2 (or, with `--reference-store-fallback`, a warning and an `unavailable` section), a
//! reachable one is seeded and measured, and the password shows up nowhere: not in the results
//! file, not on stdout, not on stderr.

use std::process::{Command, Output};

use perfgate_throwaway_postgres::{Server, skip_or_fail};

const QUICK: &[&str] = &[
    "--allow-debug",
    "--no-progress",
    "--messages",
    "3000",
    "--warmup",
    "300",
    "--probes",
    "none",
];

fn profiler(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfgate-profiler"))
        .args(QUICK)
        .args(args)
        .env_remove("PERFGATE_REFERENCE_STORE")
        .output()
        .expect("the profiler binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A local port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port()
}

#[test]
fn an_unreachable_server_is_one_clear_line_and_exit_code_2() {
    let port = closed_port();
    let url = format!("postgres://app:hunter2-not-shown@127.0.0.1:{port}/orders");
    let out = tempfile::tempdir().unwrap();
    let output = profiler(&["--reference-store", &url, "--out", out.path().to_str().unwrap()]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(
        output.status.code(),
        Some(2),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    // The URL came on the command line with a password: one warning says so (without it), then
    // the one line of the error.
    let warning = "warning: --reference-store carries a password on the command line";
    let lines: Vec<&str> = stderr.lines().filter(|line| !line.starts_with(warning)).collect();
    assert_eq!(stderr.lines().count() - lines.len(), 1, "{stderr}");
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with(&format!(
            "error: reference store unavailable: postgres://app@127.0.0.1:{port}/orders: cannot connect"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked") && !stdout.contains("hunter2") && !stderr.contains("hunter2"));
    assert!(!out.path().join("results.json").exists());
}

#[test]
fn with_the_fallback_an_unreachable_server_is_a_warning_and_an_unavailable_section() {
    let port = closed_port();
    let url = format!("postgres://app:hunter2-not-shown@127.0.0.1:{port}/orders");
    let out = tempfile::tempdir().unwrap();
    let output = profiler(&[
        "--reference-store",
        &url,
        "--reference-store-fallback",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stderr.contains("warning: reference store unavailable"),
        "{stderr}"
    );
    let written = std::fs::read_to_string(out.path().join("results.json")).unwrap();
    for shown in [&stdout, &stderr, &written] {
        assert!(!shown.contains("hunter2"), "the password was shown");
    }
    let results: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(results["database"]["status"], "unavailable");
    assert_eq!(
        results["database"]["endpoint"],
        format!("postgres://app@127.0.0.1:{port}/orders")
    );
    assert!(
        results["database"]["error"]
            .as_str()
            .unwrap()
            .contains("cannot connect")
    );
    assert_eq!(results["environment"]["workload"]["reference_store"], "memory");
}

#[test]
fn a_reachable_server_is_seeded_measured_and_its_password_never_shown() {
    let Some(server) = skip_or_fail("a_reachable_server_is_seeded", Server::start()) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let output = profiler(&[
        "--reference-store",
        server.url(),
        "--cache-capacity",
        "8",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    let written = std::fs::read_to_string(out.path().join("results.json")).unwrap();
    for shown in [&stdout, &stderr, &written] {
        assert!(!shown.contains(server.password()), "the password was shown");
    }
    assert_eq!(
        stderr
            .lines()
            .filter(|line| line.starts_with("database: seeded perfgate_reference"))
            .count(),
        1,
        "{stderr}"
    );
    let results: serde_json::Value = serde_json::from_str(&written).unwrap();
    let database = &results["database"];
    assert_eq!(database["status"], "connected");
    assert_eq!(database["table"], "perfgate_reference");
    assert!(database["queries"].as_u64().unwrap() > 0);
    assert_eq!(database["server"]["calls"], database["queries"]);
    // A second run finds the table seeded and says nothing about it.
    let again = profiler(&[
        "--reference-store",
        server.url(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(again.status.success());
    assert!(!text(&again.stderr).contains("seeded"), "{}", text(&again.stderr));
}

#[test]
fn seeding_alone_fills_the_table_once_says_so_in_one_line_and_runs_nothing() {
    let Some(server) = skip_or_fail("seeding_alone_fills_the_table", Server::start()) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let seed = || {
        // The URL through the environment, as `cargo xtask db seed` hands it over.
        let output = Command::new(env!("CARGO_BIN_EXE_perfgate-profiler"))
            .args([
                "--allow-debug",
                "--seed-reference-store",
                "--symbols",
                "300",
                "--out",
            ])
            .arg(out.path())
            .env("PERFGATE_REFERENCE_STORE", server.url())
            .output()
            .expect("the profiler binary runs");
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert!(output.status.success(), "stdout: {stdout}\nstderr: {stderr}");
        assert!(!stdout.contains(server.password()) && !stderr.contains(server.password()));
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        stdout
    };
    let first = seed();
    assert!(
        first.starts_with("db seed: perfgate_reference at postgres://"),
        "{first}"
    );
    assert!(
        first.contains(": 300 symbols, 0 were there, 300 records written"),
        "{first}"
    );
    // Idempotent: the second finds every row right and writes none.
    let second = seed();
    assert!(
        second.contains(": 300 symbols, 300 were there, 0 records written"),
        "{second}"
    );
    // Nothing was run: no results.
    assert!(!out.path().join("results.json").exists());
}

#[test]
fn seeding_an_unreachable_server_is_one_line_and_exit_code_2() {
    let port = closed_port();
    let url = format!("postgres://app:hunter2-not-shown@127.0.0.1:{port}/orders");
    let output = Command::new(env!("CARGO_BIN_EXE_perfgate-profiler"))
        .args(["--allow-debug", "--seed-reference-store"])
        .env("PERFGATE_REFERENCE_STORE", &url)
        .output()
        .expect("the profiler binary runs");
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(
        output.status.code(),
        Some(2),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: seeding the reference table: postgres://app@127.0.0.1:{port}/orders: cannot connect"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2") && stdout.is_empty());
}

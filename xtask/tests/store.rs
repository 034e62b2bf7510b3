//! The shared results store through the commands, against a real PostgreSQL server: history
//! import (twice: nothing added the second time) and export (the same records back), the trend
//! from the store filtered by branch and machine against the same runs as a JSON Lines file,
//! and the store's password in no output of any command, with a live server, a closed port and
//! a wrong password.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use perfgate_report::history::{self, HistoryRecord, TrendOptions, TrendVerdict, shared};
use perfgate_store::{RunFilter, Store, StoreUrl};
use perfgate_throwaway_postgres::{Shared, shared as shared_server, skip_or_fail};
use postgres::{Client, NoTls};

/// A database of its own for the test, on the shared or a private server.
fn fresh(test: &str) -> Option<(Shared, String)> {
    let server = skip_or_fail(test, shared_server())?;
    let name = format!("x_{test}_{}", std::process::id()).to_lowercase();
    Client::connect(server.url(), NoTls)
        .expect("connecting to the test server")
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("creating the test database");
    let url = server.url();
    let authority_end = url.find("://").unwrap() + 3 + url[url.find("://").unwrap() + 3..].find('/').unwrap();
    let url = format!("{}/{name}", &url[..authority_end]);
    Some((server, url))
}

fn password(url: &str) -> String {
    let userinfo = url.split_once("://").unwrap().1.rsplit_once('@').unwrap().0;
    userinfo.split_once(':').unwrap().1.to_owned()
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env_remove("PERFGATE_STORE")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs of two branches on two machines over twelve days: on main at ci-a throughput rises
/// 2 % a day; elsewhere it is flat with noise.
fn records() -> Vec<HistoryRecord> {
    let mut records = Vec::new();
    for day in 0..12u32 {
        for (branch, host) in [("main", "ci-a"), ("main", "ci-b"), ("feature", "ci-a")] {
            let rising = branch == "main" && host == "ci-a";
            let throughput = if rising {
                100_000.0 * (1.0 + 0.02 * f64::from(day))
            } else {
                100_000.0 + if day % 2 == 0 { 300.0 } else { -300.0 }
            };
            records.push(HistoryRecord {
                schema_version: history::HISTORY_SCHEMA_VERSION,
                timestamp: format!("2026-11-{:02}T0{}:00:00Z", day + 1, records.len() % 3),
                git_commit: Some(format!("{day:040x}")),
                git_dirty: Some(false),
                branch: Some(branch.to_owned()),
                host: Some(host.to_owned()),
                cpu_model: Some("Test CPU".to_owned()),
                logical_cores: Some(2),
                rustc: Some("rustc 1.95.0".to_owned()),
                build_profile: Some("release".to_owned()),
                workload: Some("market-data".to_owned()),
                length: Some("200000 messages".to_owned()),
                settings: Some("0123456789abcdef".to_owned()),
                metrics: BTreeMap::from([
                    ("cpu.messages_per_second".to_owned(), throughput),
                    ("latency.p99_ms".to_owned(), 2.0 + f64::from(day % 3) * 0.01),
                ]),
            });
        }
    }
    records
}

fn write_history(path: &Path, records: &[HistoryRecord]) {
    for record in records {
        history::append(path, record).unwrap();
    }
}

fn count_runs(url: &str) -> i64 {
    Client::connect(url, NoTls)
        .unwrap()
        .query_one("SELECT count(*) FROM benchmark_runs", &[])
        .unwrap()
        .get(0)
}

#[test]
fn history_import_is_idempotent_and_export_gives_the_same_records_back() {
    let Some((_server, url)) = fresh("import_export") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.jsonl");
    let records = records();
    write_history(&file, &records);
    let file_arg = file.display().to_string();

    let first = xtask(&["history", "import", "--store", &url, &file_arg]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains(&format!("{} runs imported", records.len())),
        "{}",
        text(&first.stdout)
    );
    let second = xtask(&["history", "import", "--store", &url, &file_arg]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(
        text(&second.stdout).contains(&format!("0 runs imported from {file_arg}")),
        "{}",
        text(&second.stdout)
    );
    assert!(text(&second.stdout).contains(&format!("({} already there)", records.len())));
    assert_eq!(count_runs(&url), records.len() as i64);

    let out = dir.path().join("exported/history.jsonl");
    let export = xtask(&[
        "history",
        "export",
        "--store",
        &url,
        "--out",
        &out.display().to_string(),
    ]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    let exported = history::read(&out).unwrap();
    assert!(exported.warnings.is_empty(), "{:?}", exported.warnings);
    let back: Vec<HistoryRecord> = exported.entries.into_iter().map(|entry| entry.record).collect();
    let original: Vec<HistoryRecord> = history::read(&file)
        .unwrap()
        .entries
        .into_iter()
        .map(|entry| entry.record)
        .collect();
    assert_eq!(
        back, original,
        "export gives back the JSON Lines history's records, in order"
    );
    // And the exported file is the same runs: importing it adds nothing.
    let again = xtask(&["history", "import", "--store", &url, &out.display().to_string()]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).starts_with("history: 0 runs imported"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(count_runs(&url), records.len() as i64);
    // Written as a set: nothing but the file in its folder (no temporary left behind).
    let names: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["history.jsonl"]);

    // One branch's runs only.
    let main = dir.path().join("main.jsonl");
    let export = xtask(&[
        "history",
        "export",
        "--store",
        &url,
        "--branch",
        "main",
        "--out",
        &main.display().to_string(),
    ]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    let main_runs = history::read(&main).unwrap().entries;
    assert_eq!(
        main_runs.len(),
        records
            .iter()
            .filter(|r| r.branch.as_deref() == Some("main"))
            .count()
    );
}

#[test]
fn trend_from_the_store_filtered_by_branch_and_machine_is_the_trend_of_the_same_runs_in_a_file() {
    let Some((_server, url)) = fresh("trend_from_store") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let records = records();
    let all = dir.path().join("all.jsonl");
    write_history(&all, &records);
    let only = dir.path().join("main-ci-a.jsonl");
    let wanted: Vec<HistoryRecord> = records
        .iter()
        .filter(|r| r.branch.as_deref() == Some("main") && r.host.as_deref() == Some("ci-a"))
        .cloned()
        .collect();
    write_history(&only, &wanted);
    let parsed: StoreUrl = url.parse().unwrap();
    let mut store = Store::open(&parsed).unwrap();
    shared::import(&mut store, &history::read(&all).unwrap()).unwrap();

    let filter = RunFilter {
        branch: Some("main".to_owned()),
        host: Some("ci-a".to_owned()),
    };
    let options = TrendOptions::default();
    let mut from_store = history::analyze(&shared::read(&mut store, &filter).unwrap(), &options);
    let from_file = history::analyze(&history::read(&only).unwrap(), &options);
    assert_eq!(from_store.source, PathBuf::from(parsed.to_string()));
    from_store.source = from_file.source.clone();
    assert_eq!(from_store, from_file);
    // The analysis says something, and the filter matters: every run together is not the same.
    let throughput = from_file
        .metrics
        .iter()
        .find(|m| m.id == "cpu.messages_per_second")
        .unwrap();
    assert_eq!(throughput.verdict, TrendVerdict::Improving);
    let unfiltered = history::analyze(
        &shared::read(&mut store, &RunFilter::default()).unwrap(),
        &options,
    );
    assert_ne!(unfiltered.runs_in_file, from_file.runs_in_file);

    // The command: the same table from the store as from the file, but for the source.
    let md_store = dir.path().join("store.md");
    let md_file = dir.path().join("file.md");
    let by_store = xtask(&[
        "trend",
        "--store",
        &url,
        "--branch",
        "main",
        "--machine",
        "ci-a",
        "--markdown",
        &md_store.display().to_string(),
    ]);
    assert!(by_store.status.success(), "{}", text(&by_store.stderr));
    let by_file = xtask(&[
        "trend",
        "--history",
        &only.display().to_string(),
        "--markdown",
        &md_file.display().to_string(),
    ]);
    assert!(by_file.status.success(), "{}", text(&by_file.stderr));
    let normalise = |text: String, source: &str, md: &Path| {
        text.replace(source, "SOURCE")
            .replace(&md.display().to_string(), "MD")
    };
    assert_eq!(
        normalise(text(&by_store.stdout), &parsed.to_string(), &md_store),
        normalise(text(&by_file.stdout), &only.display().to_string(), &md_file)
    );
    assert_eq!(
        normalise(
            std::fs::read_to_string(&md_store).unwrap(),
            &parsed.to_string(),
            &md_store
        ),
        normalise(
            std::fs::read_to_string(&md_file).unwrap(),
            &only.display().to_string(),
            &md_file
        )
    );
}

/// Every file under `dir`, read.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files
}

#[test]
fn the_password_is_in_no_output_of_any_command() {
    let Some((_server, live)) = fresh("redaction") else {
        return;
    };
    let password = password(&live);
    assert!(password.len() >= 8, "a password to look for");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = format!("postgres://perfgate:{password}@127.0.0.1:{port}/perfgate");
    let wrong_password = format!("{password}Q");
    let wrong = live.replace(&password, &wrong_password);

    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    std::fs::write(
        &results,
        serde_json::to_string(&perfgate_results::Results::example()).unwrap(),
    )
    .unwrap();
    let history_file = dir.path().join("history.jsonl");
    write_history(&history_file, &records()[..6]);
    let results_arg = results.display().to_string();
    let history_arg = history_file.display().to_string();

    let mut checked = 0;
    for (what, url, works) in [
        ("live", &live, true),
        ("closed port", &closed, false),
        ("wrong password", &wrong, false),
    ] {
        let out = dir.path().join(what.replace(' ', "-"));
        std::fs::create_dir_all(&out).unwrap();
        let at = |name: &str| out.join(name).display().to_string();
        let mut commands: Vec<Vec<String>> = vec![
            vec![
                "history".into(),
                "import".into(),
                "--store".into(),
                url.clone(),
                history_arg.clone(),
            ],
            vec![
                "history".into(),
                "export".into(),
                "--store".into(),
                url.clone(),
                "--out".into(),
                at("export.jsonl"),
            ],
            vec![
                "trend".into(),
                "--store".into(),
                url.clone(),
                "--markdown".into(),
                at("trend.md"),
            ],
            vec![
                "report".into(),
                "--store".into(),
                url.clone(),
                "--results".into(),
                results_arg.clone(),
                "--out".into(),
                at("report.md"),
                "--json".into(),
                at("verdict.json"),
                "--prometheus".into(),
                at("metrics.prom"),
            ],
            vec![
                "compare".into(),
                "--store".into(),
                url.clone(),
                "--base-results".into(),
                results_arg.clone(),
                "--candidate-results".into(),
                results_arg.clone(),
                "--out".into(),
                at("compare"),
                "--json".into(),
                at("compare.json"),
                "--markdown".into(),
                at("compare.md"),
            ],
        ];
        if !works {
            // Refused before the profiler is built: no run is made for a store that cannot take it.
            commands.push(vec![
                "bench".into(),
                "--store".into(),
                url.clone(),
                "--quick".into(),
            ]);
            commands.push(vec!["bench".into(), format!("--store={url}"), "--quick".into()]);
        }
        for command in &commands {
            let args: Vec<&str> = command.iter().map(String::as_str).collect();
            let output = xtask(&args);
            let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
            let name = format!("{what}: {}", command[..2].join(" "));
            for (stream, content) in [("stdout", &stdout), ("stderr", &stderr)] {
                assert!(
                    !content.contains(&password),
                    "{name}: the password is on {stream}:\n{content}"
                );
            }
            let code = output.status.code();
            if works {
                assert!(matches!(code, Some(0 | 1)), "{name}: {code:?}\n{stderr}");
                assert!(
                    stdout.contains("postgres://perfgate:***@127.0.0.1") || stderr.contains("***"),
                    "{name}: names the store masked:\n{stdout}{stderr}"
                );
            } else {
                assert_eq!(code, Some(2), "{name}\n{stdout}\n{stderr}");
                let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
                assert_eq!(errors.len(), 1, "{name}: one line:\n{stderr}");
                assert!(
                    errors[0].contains("postgres://perfgate:***@127.0.0.1"),
                    "{name}: {}",
                    errors[0]
                );
            }
            checked += 1;
        }
        // The environment variable instead of the flag.
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["trend", "--markdown", &at("env-trend.md")])
            .env("PERFGATE_STORE", url)
            .output()
            .unwrap();
        assert_eq!(
            output.status.success(),
            works,
            "{what}: PERFGATE_STORE: {}",
            text(&output.stderr)
        );
        assert!(!text(&output.stdout).contains(&password) && !text(&output.stderr).contains(&password));
        checked += 1;
    }
    let files = files_under(dir.path());
    assert!(
        files.len() >= 8,
        "the live commands wrote their files: {}",
        files.len()
    );
    for (path, bytes) in files {
        let content = String::from_utf8_lossy(&bytes);
        assert!(
            !content.contains(&password),
            "{}: holds the password",
            path.display()
        );
        assert!(!content.contains(&wrong_password));
    }
    assert!(checked >= 17);
}

#[test]
fn a_report_with_a_store_records_its_verdict_beside_the_run_it_judged() {
    let Some((_server, url)) = fresh("report_insight") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let example = perfgate_results::Results::example();
    let results = dir.path().join("results.json");
    std::fs::write(&results, serde_json::to_string_pretty(&example).unwrap()).unwrap();
    let run = perfgate_report::load_results(&results).unwrap();
    let mut record = HistoryRecord::from_run(&run, std::time::SystemTime::now());
    record.branch = Some("main".to_owned());
    let mut store = Store::open(&url.parse().unwrap()).unwrap();
    let id = shared::record_run(&mut store, &record, Some(&example))
        .unwrap()
        .id();

    let verdict = dir.path().join("verdict.json");
    let output = xtask(&[
        "report",
        "--store",
        &url,
        "--results",
        &results.display().to_string(),
        "--out",
        &dir.path().join("report.md").display().to_string(),
        "--json",
        &verdict.display().to_string(),
    ]);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        text(&output.stderr)
    );
    assert!(
        text(&output.stdout).contains(&format!("for run {id}")),
        "{}",
        text(&output.stdout)
    );
    let row = Client::connect(&url, NoTls)
        .unwrap()
        .query_one(
            "SELECT run_id, overall, verdict, recommendations FROM performance_insights",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, Option<i64>>(0), Some(id));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&verdict).unwrap()).unwrap();
    assert_eq!(row.get::<_, String>(1), written["overall"].as_str().unwrap());
    let stored: serde_json::Value = row.get(2);
    assert_eq!(
        stored["metrics"], written["metrics"],
        "the verdict stored is the one written"
    );
    let recommendations: serde_json::Value = row.get(3);
    assert_eq!(recommendations, written["recommendations"]);
    assert!(
        recommendations.as_array().is_some_and(|list| !list.is_empty()),
        "the example has recommendations"
    );
    // The Trend section came from the store: the report names it, masked.
    let report = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(
        report.contains(&store.url().to_string()),
        "the Trend section names the store"
    );
}

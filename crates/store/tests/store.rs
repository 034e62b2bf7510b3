//! The store against a real PostgreSQL server: migrations (from empty, again, and by eight
//! connections at once), eight concurrent writers, the insert-only trigger, idempotent
//! recording, insights linked to their run, A/A noise, and errors that keep the password out.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};
use std::time::Instant;

use perfgate_results::Results;
use perfgate_store::{
    MIGRATIONS, Machine, NewInsight, NewRun, Recorded, RunFilter, Store, StoreError, StoreUrl,
};
use postgres::{Client, NoTls};
use serde_json::{Value, json};

fn open(url: &str) -> Store {
    Store::open(&url.parse::<StoreUrl>().unwrap()).unwrap()
}

/// A distinct run of `writer`: the example results with its own timestamp, commit, host and
/// throughput, and a record that says which it is.
fn run_of(writer: u32, sequence: u32) -> (Results, Value, Machine) {
    let mut results = Results::example();
    results.environment.timestamp = format!(
        "2026-11-{:02}T{:02}:{:02}:00Z",
        1 + writer,
        sequence / 60,
        sequence % 60
    );
    results.environment.git_commit = Some(format!("{writer:04x}{sequence:036x}"));
    results.environment.hostname = Some(format!("ci-{}", writer % 3));
    results.cpu.messages_per_second = 100_000.0 + f64::from(writer * 1000 + sequence) + 0.25;
    let machine = Machine {
        host: results.environment.hostname.clone(),
        cpu_model: Some(results.environment.cpu_model.clone()),
        logical_cores: i32::try_from(results.environment.logical_cores).ok(),
    };
    let record = json!({
        "schema_version": 1,
        "timestamp": results.environment.timestamp,
        "writer": writer,
        "sequence": sequence,
        "metrics": {"cpu.messages_per_second": results.cpu.messages_per_second},
    });
    (results, record, machine)
}

fn record(store: &mut Store, results: &Results, record: &Value, machine: &Machine, branch: &str) -> Recorded {
    store
        .record_run(&NewRun {
            timestamp: &results.environment.timestamp,
            git_commit: results.environment.git_commit.as_deref(),
            git_dirty: Some(false),
            branch: Some(branch),
            machine,
            workload: Some("market-data"),
            settings: Some("0123456789abcdef"),
            record,
            results: Some(results),
        })
        .unwrap()
}

fn count(url: &str, table: &str) -> i64 {
    let mut client = Client::connect(url, NoTls).unwrap();
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap()
        .get(0)
}

#[test]
fn migrations_apply_from_empty_once_then_are_a_no_op() {
    let Some(db) = common::fresh("migrations_from_empty") else {
        return;
    };
    let mut first = open(&db.url);
    let all: Vec<i32> = MIGRATIONS.iter().map(|&(version, _, _)| version).collect();
    assert_eq!(first.migrated_now(), all);
    assert_eq!(first.schema_version().unwrap(), *all.last().unwrap());
    let second = open(&db.url);
    assert!(second.migrated_now().is_empty(), "{:?}", second.migrated_now());
    assert_eq!(count(&db.url, "schema_migrations"), all.len() as i64);
}

#[test]
fn eight_connections_at_once_apply_the_migrations_once() {
    let Some(db) = common::fresh("migrations_concurrent") else {
        return;
    };
    let barrier = Arc::new(Barrier::new(8));
    let applied: Vec<Vec<i32>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (barrier, url) = (barrier.clone(), db.url.clone());
                scope.spawn(move || {
                    let url: StoreUrl = url.parse().unwrap();
                    barrier.wait();
                    Store::open(&url).map(|store| store.migrated_now().to_vec())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap().unwrap()).collect()
    });
    let total: usize = applied.iter().map(Vec::len).sum();
    assert_eq!(
        total,
        MIGRATIONS.len(),
        "each migration applied by exactly one connection: {applied:?}"
    );
    assert_eq!(count(&db.url, "schema_migrations"), MIGRATIONS.len() as i64);
}

#[test]
fn eight_concurrent_writers_of_fifty_runs_lose_nothing_and_duplicate_nothing() {
    let Some(db) = common::fresh("eight_writers") else {
        return;
    };
    open(&db.url); // migrated first, so the timing is of the writes
    const WRITERS: u32 = 8;
    const RUNS: u32 = 50;
    let barrier = Arc::new(Barrier::new(WRITERS as usize + 1));
    let started = std::thread::scope(|scope| {
        for writer in 0..WRITERS {
            let (barrier, url) = (barrier.clone(), db.url.clone());
            scope.spawn(move || {
                let mut store = open(&url);
                barrier.wait();
                for sequence in 0..RUNS {
                    let (results, value, machine) = run_of(writer, sequence);
                    let recorded = record(&mut store, &results, &value, &machine, "main");
                    assert!(
                        matches!(recorded, Recorded::New(_)),
                        "{writer}/{sequence}: {recorded:?}"
                    );
                }
            });
        }
        barrier.wait();
        Instant::now()
    });
    let elapsed = started.elapsed();
    eprintln!(
        "8 concurrent writers x 50 runs: {} rows in {:.3} s ({:.1} runs/s)",
        WRITERS * RUNS,
        elapsed.as_secs_f64(),
        f64::from(WRITERS * RUNS) / elapsed.as_secs_f64()
    );
    let size: f64 = Client::connect(&db.url, NoTls)
        .unwrap()
        .query_one(
            "SELECT avg(octet_length(results::text))::float8 FROM benchmark_runs",
            &[],
        )
        .unwrap()
        .get(0);
    eprintln!("  each run's results: {:.0} KiB of JSON", size / 1024.0);
    let runs = open(&db.url).runs(&RunFilter::default()).unwrap();
    assert_eq!(runs.len(), (WRITERS * RUNS) as usize);
    let mut seen: BTreeMap<(u64, u64), usize> = BTreeMap::new();
    for run in &runs {
        let key = (
            run.record["writer"].as_u64().unwrap(),
            run.record["sequence"].as_u64().unwrap(),
        );
        *seen.entry(key).or_default() += 1;
        let (results, value, _) = run_of(key.0 as u32, key.1 as u32);
        assert_eq!(run.record, value, "{key:?}: the record comes back intact");
        assert_eq!(
            run.results.as_ref(),
            Some(&serde_json::to_value(&results).unwrap()),
            "{key:?}: the results come back intact"
        );
    }
    assert_eq!(seen.len(), (WRITERS * RUNS) as usize, "every run is there");
    assert!(seen.values().all(|&n| n == 1), "each exactly once");
    // By branch and machine: hosts ci-0, ci-1, ci-2 by writer % 3.
    let mut store = open(&db.url);
    let on = |store: &mut Store, host: &str| {
        store
            .runs(&RunFilter {
                branch: Some("main".into()),
                host: Some(host.into()),
            })
            .unwrap()
            .len()
    };
    assert_eq!(on(&mut store, "ci-0"), 3 * RUNS as usize);
    assert_eq!(on(&mut store, "ci-2"), 2 * RUNS as usize);
    assert!(
        store
            .runs(&RunFilter {
                branch: Some("other".into()),
                host: None
            })
            .unwrap()
            .is_empty()
    );
}

#[test]
fn recording_the_same_run_twice_adds_one_row() {
    let Some(db) = common::fresh("idempotent") else {
        return;
    };
    let mut store = open(&db.url);
    let (results, value, machine) = run_of(1, 2);
    let first = record(&mut store, &results, &value, &machine, "main");
    let again = record(&mut store, &results, &value, &machine, "main");
    assert!(matches!(first, Recorded::New(_)));
    assert_eq!(again, Recorded::AlreadyThere(first.id()));
    assert_eq!(count(&db.url, "benchmark_runs"), 1);
    // A different record is a different run, even with the same results.
    let other = json!({"timestamp": results.environment.timestamp, "writer": 9});
    assert!(matches!(
        record(&mut store, &results, &other, &machine, "main"),
        Recorded::New(_)
    ));
    assert_eq!(count(&db.url, "benchmark_runs"), 2);
}

#[test]
fn updates_deletes_and_truncates_are_refused_by_the_database() {
    let Some(db) = common::fresh("insert_only") else {
        return;
    };
    let mut store = open(&db.url);
    let (results, value, machine) = run_of(0, 0);
    let id = record(&mut store, &results, &value, &machine, "main").id();
    let verdict = json!({"overall": "pass"});
    store
        .record_insight(&NewInsight {
            results: Some(&serde_json::to_value(&results).unwrap()),
            overall: "pass",
            verdict: &verdict,
            recommendations: &json!([]),
        })
        .unwrap();
    store
        .record_noise(&json!({"metrics": {}}), None, &machine)
        .unwrap();
    let mut client = Client::connect(&db.url, NoTls).unwrap();
    for statement in [
        format!("UPDATE benchmark_runs SET branch = 'x' WHERE id = {id}"),
        format!("DELETE FROM benchmark_runs WHERE id = {id}"),
        "TRUNCATE benchmark_runs CASCADE".to_owned(),
        "UPDATE performance_insights SET overall = 'fail'".to_owned(),
        "DELETE FROM performance_insights".to_owned(),
        "TRUNCATE performance_insights".to_owned(),
        "UPDATE aa_noise SET host = 'x'".to_owned(),
        "DELETE FROM aa_noise".to_owned(),
        "TRUNCATE aa_noise".to_owned(),
    ] {
        let error = client.batch_execute(&statement).unwrap_err();
        let message = error
            .as_db_error()
            .map(|db| db.message().to_owned())
            .unwrap_or_default();
        assert!(
            message.contains("results are insert-only"),
            "{statement}: {error:?}"
        );
    }
    for table in ["benchmark_runs", "performance_insights", "aa_noise"] {
        assert_eq!(count(&db.url, table), 1, "{table} kept its row");
    }
    let runs = store.runs(&RunFilter::default()).unwrap();
    assert_eq!(runs[0].branch.as_deref(), Some("main"));
}

#[test]
fn an_insight_is_linked_to_the_run_whose_results_it_judged() {
    let Some(db) = common::fresh("insight_link") else {
        return;
    };
    let mut store = open(&db.url);
    let (results, value, machine) = run_of(3, 4);
    let id = record(&mut store, &results, &value, &machine, "main").id();
    let insight = |store: &mut Store, results: &Value| {
        store
            .record_insight(&NewInsight {
                results: Some(results),
                overall: "warn",
                verdict: &json!({"overall": "warn"}),
                recommendations: &json!([{"topic": "cpu"}]),
            })
            .unwrap()
    };
    let (_, linked) = insight(&mut store, &serde_json::to_value(&results).unwrap());
    assert_eq!(linked, Some(id));
    let (_, unknown) = insight(&mut store, &json!({"schema_version": 1}));
    assert_eq!(unknown, None, "a report on results the store lacks links no run");
}

#[test]
fn noise_records_read_back_filtered_by_machine() {
    let Some(db) = common::fresh("noise") else { return };
    let mut store = open(&db.url);
    let machine = |host: &str| Machine {
        host: Some(host.into()),
        ..Machine::default()
    };
    for (host, change) in [("a", 1.0), ("b", 2.0), ("a", 3.0)] {
        store
            .record_noise(
                &json!({"design": "paired", "metrics": {"m": change}}),
                Some("main"),
                &machine(host),
            )
            .unwrap();
    }
    let a = store
        .noise(&RunFilter {
            branch: None,
            host: Some("a".into()),
        })
        .unwrap();
    let changes: Vec<f64> = a.iter().map(|v| v["metrics"]["m"].as_f64().unwrap()).collect();
    assert_eq!(changes, [1.0, 3.0]);
    assert_eq!(store.noise(&RunFilter::default()).unwrap().len(), 3);
}

#[test]
fn errors_name_the_store_without_its_password() {
    let Some(db) = common::fresh("errors_redacted") else {
        return;
    };
    let password = common::password(&db.url);
    assert!(password.len() >= 8);
    // A closed port: bind one, learn its number, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = format!("postgres://perfgate:{password}@127.0.0.1:{port}/perfgate");
    let wrong = db.url.replace(&password, &format!("{password}x"));
    for (what, url) in [("closed port", closed), ("wrong password", wrong)] {
        let parsed: StoreUrl = url.parse().unwrap();
        let error = Store::open(&parsed).unwrap_err();
        assert!(matches!(error, StoreError::Connect { .. }), "{what}: {error:?}");
        for text in [
            error.to_string(),
            format!("{error:?}"),
            parsed.to_string(),
            format!("{parsed:?}"),
        ] {
            assert!(!text.contains(&password), "{what}: {text}");
            assert!(!text.contains('\n'), "{what}: {text}");
        }
        assert!(
            error.to_string().contains("postgres://perfgate:***@127.0.0.1"),
            "{what}: {error}"
        );
        eprintln!("{what}: {error}");
    }
}

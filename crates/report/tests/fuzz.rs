//! Fuzzing in the tree (issue 15): a short run of every reader under the fuzz harness, and proof
//! that the harness fails when a case panics or hangs (with the reader, the seed and the input
//! saved), using cases that fail on purpose rather than a real reader. The long run is
//! `cargo xtask fuzz` (docs/fuzzing.md).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use perfgate_report::fuzz::{self, Outcome, Problem, Reader, RunOptions, Seeds, Summary, Target};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| Seeds::load(&root()).expect("the seeds are in the tree"))
}

fn options(cases: u64, readers: Vec<Reader>, failures: &Path) -> RunOptions {
    RunOptions {
        cases,
        seed: 15,
        readers,
        threads: 2,
        hang_after: Duration::from_secs(30),
        failures_dir: failures.to_owned(),
        in_flight_dir: None,
        progress_every: Duration::from_secs(3600),
    }
}

fn describe(summary: &Summary) -> String {
    summary
        .failures
        .iter()
        .map(|failure| {
            format!(
                "{} seed {} (replay: cargo xtask fuzz --reader {} --replay {}): {:?}, input {}",
                failure.case.reader.name(),
                failure.case.seed,
                failure.case.reader.name(),
                failure.case.seed,
                failure.problem,
                failure.input.display()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Cases per reader in the short run: a few seconds in a debug build.
const SHORT_RUN_PER_READER: u64 = 200;

#[test]
fn a_short_run_of_every_reader_panics_and_hangs_nowhere() {
    let target = Target::new(&root()).unwrap();
    let failures = tempfile::tempdir().unwrap();
    let readers = Reader::ALL.to_vec();
    let summary = fuzz::run(
        &options(
            SHORT_RUN_PER_READER * readers.len() as u64,
            readers,
            failures.path(),
        ),
        seeds(),
        &|reader, bytes, scratch| target.exercise(reader, bytes, scratch),
        &mut |_| {},
    );
    assert!(summary.failures.is_empty(), "{}", describe(&summary));
    for (reader, counts) in &summary.readers {
        assert_eq!(counts.cases, SHORT_RUN_PER_READER, "{}", reader.name());
        assert_eq!(counts.accepted + counts.rejected, counts.cases);
        // A mutator that broke every input would test only the parsers; one that broke none,
        // nothing.
        assert!(counts.accepted > 0, "{}: nothing accepted", reader.name());
        // The history's reader skips a bad line with a warning instead of refusing the file.
        if *reader != Reader::History {
            assert!(counts.rejected > 0, "{}: nothing rejected", reader.name());
        }
    }
}

#[test]
fn every_seed_is_accepted_whole() {
    let target = Target::new(&root()).unwrap();
    let scratch = fuzz::Scratch::new().unwrap();
    for reader in Reader::ALL {
        for seed in seeds().of(reader) {
            assert_eq!(
                fuzz::guarded(|| target.exercise(reader, seed, &scratch)),
                Ok(Outcome::Accepted),
                "{}",
                reader.name()
            );
        }
    }
}

#[test]
fn a_case_is_its_seed() {
    for reader in Reader::ALL {
        let seed = fuzz::case_seed(7, reader.index() as u64);
        assert_eq!(
            fuzz::generate(reader, seeds(), seed),
            fuzz::generate(reader, seeds(), seed)
        );
        let distinct: std::collections::BTreeSet<Vec<u8>> = (0..50)
            .map(|index| fuzz::generate(reader, seeds(), fuzz::case_seed(7, index)))
            .collect();
        assert!(distinct.iter().all(|input| input.len() <= fuzz::MAX_INPUT));
        assert!(
            distinct.len() > 40,
            "{}: {} distinct inputs of 50",
            reader.name(),
            distinct.len()
        );
    }
}

#[test]
fn guarded_turns_a_panic_into_its_message_and_place() {
    let error = fuzz::guarded(|| -> u32 { panic!("boom {}", 7) }).unwrap_err();
    assert!(error.contains("boom 7"), "{error}");
    assert!(error.contains("tests/fuzz.rs"), "{error}");
    assert_eq!(fuzz::guarded(|| 5), Ok(5));
}

/// The harness on a case that panics for `failing` on every 7th case: the run goes on, and each
/// panic is a failure naming the reader and the seed, its input saved.
fn harness_reports_a_panic_of(failing: Reader) {
    let failures = tempfile::tempdir().unwrap();
    let readers = Reader::ALL.to_vec();
    let cases = 7 * readers.len() as u64 * 3;
    let summary = fuzz::run(
        &options(cases, readers, failures.path()),
        seeds(),
        &|reader, bytes, _| {
            if reader == failing && bytes.len() % 7 == 3 {
                panic!("injected panic in {}", reader.name());
            }
            if bytes.is_empty() {
                Outcome::Rejected
            } else {
                Outcome::Accepted
            }
        },
        &mut |_| {},
    );
    let total = summary.total();
    assert_eq!(total.cases, cases, "the run went on after the panics");
    for (reader, counts) in &summary.readers {
        if *reader != failing {
            assert_eq!(counts.panics, 0, "{}", reader.name());
        }
    }
    let failing_cases: Vec<_> = (0..cases)
        .filter(|&index| Reader::ALL[(index % Reader::ALL.len() as u64) as usize] == failing)
        .map(|index| fuzz::case_seed(15, index))
        .filter(|&seed| fuzz::generate(failing, seeds(), seed).len() % 7 == 3)
        .collect();
    assert!(
        !failing_cases.is_empty(),
        "the injected panic never fires: the test would prove nothing"
    );
    assert_eq!(
        summary.failures.len(),
        failing_cases.len(),
        "{}",
        describe(&summary)
    );
    assert_eq!(total.panics, failing_cases.len() as u64);
    for failure in &summary.failures {
        assert_eq!(failure.case.reader, failing);
        assert!(failing_cases.contains(&failure.case.seed));
        let Problem::Panic(message) = &failure.problem else {
            panic!("{:?}", failure.problem)
        };
        assert!(
            message.contains(&format!("injected panic in {}", failing.name())),
            "{message}"
        );
        assert_eq!(
            std::fs::read(&failure.input).unwrap(),
            fuzz::generate(failing, seeds(), failure.case.seed),
            "the saved input is the case's"
        );
        let note = std::fs::read_to_string(failure.input.with_extension("txt")).unwrap();
        assert!(
            note.contains(&format!("--replay {}", failure.case.seed)),
            "{note}"
        );
    }
}

/// One test per reader: each reader's panics are caught and reported as that reader's.
macro_rules! panics_are_reported {
    ($($name:ident: $reader:expr,)*) => {$(
        #[test]
        fn $name() {
            harness_reports_a_panic_of($reader);
        }
    )*};
}

panics_are_reported! {
    a_panic_reading_results_is_reported: Reader::Results,
    a_panic_reading_the_older_format_is_reported: Reader::Legacy,
    a_panic_reading_a_baseline_is_reported: Reader::Baseline,
    a_panic_reading_thresholds_is_reported: Reader::Thresholds,
    a_panic_reading_a_history_is_reported: Reader::History,
    a_panic_reading_locust_json_is_reported: Reader::LocustJson,
    a_panic_reading_locust_stats_csv_is_reported: Reader::LocustCsv,
    a_panic_reading_locust_history_csv_is_reported: Reader::LocustHistoryCsv,
    a_panic_reading_locust_failures_csv_is_reported: Reader::LocustFailuresCsv,
    a_panic_reading_oha_is_reported: Reader::Oha,
}

#[test]
fn a_slow_case_is_a_hang_reported_while_it_runs() {
    let failures = tempfile::tempdir().unwrap();
    let in_flight = tempfile::tempdir().unwrap();
    let mut options = options(40, vec![Reader::Oha, Reader::History], failures.path());
    options.hang_after = Duration::from_millis(100);
    options.in_flight_dir = Some(in_flight.path().to_owned());
    options.progress_every = Duration::from_millis(1);
    let slow_seed = fuzz::case_seed(15, 9);
    let mut progress_calls = 0;
    let summary = fuzz::run(
        &options,
        seeds(),
        &|_, bytes, _| {
            if *bytes == fuzz::generate(Reader::History, seeds(), slow_seed) {
                std::thread::sleep(Duration::from_millis(600));
            }
            Outcome::Rejected
        },
        &mut |_| progress_calls += 1,
    );
    assert_eq!(summary.failures.len(), 1, "{}", describe(&summary));
    let failure = &summary.failures[0];
    assert_eq!(
        (failure.case.reader, failure.case.seed, failure.case.index),
        (Reader::History, slow_seed, 9)
    );
    let Problem::Hang(took) = failure.problem else {
        panic!("{:?}", failure.problem)
    };
    // Reported by the watchdog while the case still ran, not when it ended.
    assert!(took < Duration::from_millis(600), "{took:?}");
    assert_eq!(summary.total().hangs, 1);
    assert_eq!(summary.slowest.unwrap().case.seed, slow_seed);
    assert!(summary.slowest.unwrap().took >= Duration::from_millis(600));
    assert!(progress_calls > 0);
    assert_eq!(
        std::fs::read(&failure.input).unwrap(),
        fuzz::generate(Reader::History, seeds(), slow_seed)
    );
    // Each thread left the last case it ran on record: the last case of the run among them.
    let last: Vec<u64> = (0..2)
        .map(|thread| {
            let text = std::fs::read_to_string(in_flight.path().join(format!("thread-{thread}"))).unwrap();
            fuzz::read_in_flight(&text).unwrap().index
        })
        .collect();
    assert_eq!(last.iter().max(), Some(&39), "{last:?}");
}

/// serde_json stops at 128 levels and toml at 80, so a file nested far deeper is refused with an
/// error (or, in the history, a skipped line), never a stack overflow: an overflow would abort
/// this test binary. A parser built without its limit (serde_json's `unbounded_depth`, toml's
/// `unbounded`) fails here.
#[test]
fn nesting_a_hundred_thousand_deep_is_refused_without_overflowing_the_stack() {
    const DEPTH: usize = 100_000;
    let target = Target::new(&root()).unwrap();
    let scratch = fuzz::Scratch::new().unwrap();
    let json = format!(
        "{{\"schema_version\":{}1{}}}",
        "[".repeat(DEPTH),
        "]".repeat(DEPTH)
    );
    let toml = format!(
        "[metrics.\"latency.p99_ms\"]\nmax = {}1{}\n",
        "[".repeat(DEPTH),
        "]".repeat(DEPTH)
    );
    let inline = format!(
        "[metrics.\"latency.p99_ms\"]\nmax = {}1{}\n",
        "{a=".repeat(DEPTH),
        "}".repeat(DEPTH)
    );
    let cases = [
        (Reader::Results, &json, Outcome::Rejected),
        (Reader::Oha, &json, Outcome::Rejected),
        (Reader::LocustJson, &json, Outcome::Rejected),
        (Reader::Thresholds, &toml, Outcome::Rejected),
        (Reader::Thresholds, &inline, Outcome::Rejected),
        // The history skips the line with a warning and reads the file.
        (Reader::History, &json, Outcome::Accepted),
    ];
    // On a thread with the stack the command's main thread has, as the fuzz runner's threads.
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(fuzz::STACK_BYTES)
            .spawn_scoped(scope, || {
                for (reader, input, expected) in cases {
                    assert_eq!(
                        fuzz::guarded(|| target.exercise(reader, input.as_bytes(), &scratch)),
                        Ok(expected),
                        "{}",
                        reader.name()
                    );
                }
            })
            .unwrap()
            .join()
            .unwrap();
    });
}

/// Found by `cargo xtask fuzz`: a figure of `5e-324` (the smallest subnormal) in a Locust
/// history or in the benchmark history made the HTML report's chart axis ask for 2^64 ticks, a
/// "capacity overflow" panic (exit 101 instead of a report) in `render::html::chart::scale`.
#[test]
fn a_subnormal_figure_in_a_history_draws_its_chart() {
    let target = Target::new(&root()).unwrap();
    let scratch = fuzz::Scratch::new().unwrap();
    // The first seconds of a run, before any request: 0 requests per second, then 5e-324.
    let locust =
        std::fs::read_to_string(root().join("crates/report/tests/fixtures/locust-run_stats_history.csv"))
            .unwrap()
            .lines()
            .take(4)
            .map(|line| format!("{line}\n"))
            .collect::<String>();
    let locust = format!(
        "{}{}",
        &locust[..locust.rfind("\n17").unwrap()],
        locust[locust.rfind("\n17").unwrap()..].replacen(",0.000000,", ",5e-324,", 1)
    );
    assert!(locust.contains(",5e-324,"), "{locust}");
    // No error in any run but one, with 5e-324 of them.
    let history = String::from_utf8(seeds().of(Reader::History)[0].clone()).unwrap();
    assert!(history.contains("\"errors.total\":0.0"));
    let history = history.replacen("\"errors.total\":0.0", "\"errors.total\":5e-324", 1);
    for (reader, input) in [(Reader::History, &history), (Reader::LocustHistoryCsv, &locust)] {
        assert_eq!(
            fuzz::guarded(|| target.exercise(reader, input.as_bytes(), &scratch)),
            Ok(Outcome::Accepted),
            "{}",
            reader.name()
        );
    }
}

//! The fuzz loop: cases spread over threads, each one's panic caught and its time measured, so
//! that one bad case is a reported failure (reader, seed, input saved) instead of a crashed run.
//! What cannot be caught in the process (a stack overflow, running out of memory) ends it; each
//! thread therefore writes the case it is on to a file before running it, for a parent process to
//! name the case that killed its child.

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use super::mutate::{case_seed, generate};
use super::reader::{Format, Reader};
use super::seeds::Seeds;
use super::target::{Outcome, Scratch};

/// A worker thread's stack: the 8 MiB of a program's main thread on Linux, where the report's
/// command runs its readers, so that a stack overflow here is one there too (and the reverse).
pub const STACK_BYTES: usize = 8 << 20;

/// How often the watchdog looks at the running cases.
const WATCH_EVERY: Duration = Duration::from_millis(50);

/// The function a case runs: a reader and its downstream ([`Target::exercise`](super::Target::exercise)),
/// or in tests, one that fails on purpose.
pub type CaseFn<'a> = dyn Fn(Reader, &[u8], &Scratch) -> Outcome + Sync + 'a;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Cases in all, spread evenly over `readers`.
    pub cases: u64,
    /// The run's seed; case `i` is seeded with [`case_seed`]`(seed, i)`.
    pub seed: u64,
    /// The readers to feed, in turn.
    pub readers: Vec<Reader>,
    /// Worker threads.
    pub threads: usize,
    /// A case that runs longer than this is a hang.
    pub hang_after: Duration,
    /// Where failing inputs are written.
    pub failures_dir: PathBuf,
    /// Where each thread writes the case it is on (`thread-N`), if anywhere.
    pub in_flight_dir: Option<PathBuf>,
    /// How often `progress` is called.
    pub progress_every: Duration,
}

/// Counts for one reader.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReaderCounts {
    /// Cases run.
    pub cases: u64,
    /// Inputs the reader accepted (and everything downstream ran).
    pub accepted: u64,
    /// Inputs refused with a typed error.
    pub rejected: u64,
    /// Cases that panicked.
    pub panics: u64,
    /// Cases that took longer than [`RunOptions::hang_after`].
    pub hangs: u64,
}

/// A case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    /// Its reader.
    pub reader: Reader,
    /// Its index in the run.
    pub index: u64,
    /// Its seed: `cargo xtask fuzz --reader READER --replay SEED` runs it again.
    pub seed: u64,
}

/// What went wrong with a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// It panicked, with this message.
    Panic(String),
    /// It ran for at least this long.
    Hang(Duration),
}

/// A failing case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The case.
    pub case: Case,
    /// What happened.
    pub problem: Problem,
    /// Its input, saved.
    pub input: PathBuf,
}

/// The slowest case of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slowest {
    /// The case.
    pub case: Case,
    /// How long it took.
    pub took: Duration,
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Cases finished.
    pub done: u64,
    /// Cases in all.
    pub total: u64,
    /// Since the run began.
    pub elapsed: Duration,
    /// Panics so far.
    pub panics: u64,
    /// Hangs so far.
    pub hangs: u64,
}

/// A run's outcome.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Counts per reader, in [`Reader::ALL`]'s order, for the readers run.
    pub readers: Vec<(Reader, ReaderCounts)>,
    /// Every failing case.
    pub failures: Vec<Failure>,
    /// The slowest case.
    pub slowest: Option<Slowest>,
    /// How long the run took.
    pub duration: Duration,
}

impl Summary {
    /// The counts over every reader.
    pub fn total(&self) -> ReaderCounts {
        self.readers
            .iter()
            .fold(ReaderCounts::default(), |sum, (_, c)| ReaderCounts {
                cases: sum.cases + c.cases,
                accepted: sum.accepted + c.accepted,
                rejected: sum.rejected + c.rejected,
                panics: sum.panics + c.panics,
                hangs: sum.hangs + c.hangs,
            })
    }
}

thread_local! {
    /// Set while a case runs under [`guarded`] on this thread: the panic hook keeps the message
    /// instead of printing it, so a million cases do not flood the terminal.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs, once per process, a panic hook that records the panic of a guarded case (message and
/// place) and leaves every other panic to the hook that was there before.
fn install_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.get() {
                PANIC_MESSAGE.set(Some(info.to_string()));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, catching a panic: `Err` carries the panic's message and where it happened.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    GUARDED.set(true);
    PANIC_MESSAGE.set(None);
    let result = catch_unwind(AssertUnwindSafe(f));
    GUARDED.set(false);
    result.map_err(|payload| {
        PANIC_MESSAGE.take().unwrap_or_else(|| {
            payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned())
        })
    })
}

/// The case a thread is running.
#[derive(Debug, Clone, Copy)]
struct Running {
    case: Case,
    started: Instant,
    /// The watchdog has reported it as a hang already.
    reported: bool,
}

/// The file name a failing case's input is saved under.
fn input_name(problem: &Problem, case: Case) -> String {
    let kind = match problem {
        Problem::Panic(_) => "panic",
        Problem::Hang(_) => "hang",
    };
    let extension = match case.reader.format() {
        Format::Json => "json",
        Format::JsonLines => "jsonl",
        Format::Toml => "toml",
        Format::Csv => "csv",
    };
    format!("{kind}-{}-{:016x}.{extension}", case.reader.name(), case.seed)
}

/// Writes a failing case's input and a note beside it (what happened, how to run it again).
fn save(dir: &Path, case: Case, problem: &Problem, input: &[u8]) -> PathBuf {
    let path = dir.join(input_name(problem, case));
    let note = format!(
        "reader: {}\nseed: {} (case {})\nproblem: {problem:?}\nreplay: cargo xtask fuzz --reader {} --replay {}\n",
        case.reader.name(),
        case.seed,
        case.index,
        case.reader.name(),
        case.seed
    );
    // Saving is best effort: the failure is reported with its seed either way.
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, input))
        .and_then(|()| std::fs::write(path.with_extension("txt"), note));
    if let Err(error) = written {
        eprintln!("warning: saving {}: {error}", path.display());
    }
    path
}

/// What each thread writes before each case, fixed-width so it overwrites the last one whole.
fn in_flight_record(case: Case) -> String {
    format!(
        "{:<24} {:020} {:020}\n",
        case.reader.name(),
        case.seed,
        case.index
    )
}

/// Reads a thread's in-flight file back: the case it was on.
pub fn read_in_flight(text: &str) -> Option<Case> {
    let mut words = text.split_whitespace();
    let reader = Reader::from_name(words.next()?)?;
    let seed = words.next()?.parse().ok()?;
    let index = words.next()?.parse().ok()?;
    Some(Case { reader, index, seed })
}

/// Runs `options.cases` cases of `case` over `options.threads` threads, calling `progress` from
/// this thread every `options.progress_every`.
pub fn run(
    options: &RunOptions,
    seeds: &Seeds,
    case: &CaseFn<'_>,
    progress: &mut dyn FnMut(&Progress),
) -> Summary {
    assert!(!options.readers.is_empty(), "no reader to run");
    let threads = options.threads.max(1);
    let start = Instant::now();
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let panics = AtomicU64::new(0);
    let hangs = AtomicU64::new(0);
    let finished = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let slots: Vec<Mutex<Option<Running>>> = (0..threads).map(|_| Mutex::new(None)).collect();
    let readers = &options.readers;
    let results = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let (next, done, panics, hangs, finished, failures, slot) = (
                    &next,
                    &done,
                    &panics,
                    &hangs,
                    &finished,
                    &failures,
                    &slots[thread],
                );
                std::thread::Builder::new()
                    .name(format!("fuzz-{thread}"))
                    .stack_size(STACK_BYTES)
                    .spawn_scoped(scope, move || {
                        let scratch = Scratch::new().expect("creating the scratch folder");
                        let mut in_flight = options.in_flight_dir.as_ref().map(|dir| {
                            let path = dir.join(format!("thread-{thread}"));
                            File::create(&path)
                                .unwrap_or_else(|error| panic!("creating {}: {error}", path.display()))
                        });
                        let mut counts = vec![ReaderCounts::default(); Reader::ALL.len()];
                        let mut slowest: Option<Slowest> = None;
                        loop {
                            let index = next.fetch_add(1, Ordering::Relaxed);
                            if index >= options.cases {
                                break;
                            }
                            let reader = readers[(index % readers.len() as u64) as usize];
                            let this = Case {
                                reader,
                                index,
                                seed: case_seed(options.seed, index),
                            };
                            if let Some(file) = &mut in_flight {
                                // Before the case: after an abort, this names it.
                                let _ = file
                                    .seek(SeekFrom::Start(0))
                                    .and_then(|_| file.write_all(in_flight_record(this).as_bytes()));
                            }
                            let input = generate(reader, seeds, this.seed);
                            let started = Instant::now();
                            *slot.lock().expect("slot") = Some(Running {
                                case: this,
                                started,
                                reported: false,
                            });
                            let outcome = guarded(|| case(reader, &input, &scratch));
                            let took = started.elapsed();
                            let reported = slot.lock().expect("slot").take().is_some_and(|r| r.reported);
                            let counts = &mut counts[reader.index()];
                            counts.cases += 1;
                            match outcome {
                                Ok(Outcome::Accepted) => counts.accepted += 1,
                                Ok(Outcome::Rejected) => counts.rejected += 1,
                                Err(message) => {
                                    counts.panics += 1;
                                    panics.fetch_add(1, Ordering::Relaxed);
                                    let problem = Problem::Panic(message);
                                    let input = save(&options.failures_dir, this, &problem, &input);
                                    failures.lock().expect("failures").push(Failure {
                                        case: this,
                                        problem,
                                        input,
                                    });
                                }
                            }
                            if took > options.hang_after {
                                counts.hangs += 1;
                                if !reported {
                                    hangs.fetch_add(1, Ordering::Relaxed);
                                    let problem = Problem::Hang(took);
                                    let input = save(&options.failures_dir, this, &problem, &input);
                                    failures.lock().expect("failures").push(Failure {
                                        case: this,
                                        problem,
                                        input,
                                    });
                                }
                            }
                            if slowest.is_none_or(|s| took > s.took) {
                                slowest = Some(Slowest { case: this, took });
                            }
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        finished.fetch_add(1, Ordering::Release);
                        (counts, slowest)
                    })
                    .expect("spawning a fuzz thread")
            })
            .collect();
        // The watchdog: a case past its budget is reported (and its input saved) while it still
        // runs, so a case that never ends is on record before anyone kills the run.
        let mut last_progress = Instant::now();
        while finished.load(Ordering::Acquire) < threads {
            std::thread::sleep(WATCH_EVERY);
            for slot in &slots {
                let mut running = slot.lock().expect("slot");
                if let Some(running) = running.as_mut()
                    && !running.reported
                    && running.started.elapsed() > options.hang_after
                {
                    running.reported = true;
                    hangs.fetch_add(1, Ordering::Relaxed);
                    let problem = Problem::Hang(running.started.elapsed());
                    let input = generate(running.case.reader, seeds, running.case.seed);
                    let path = save(&options.failures_dir, running.case, &problem, &input);
                    failures.lock().expect("failures").push(Failure {
                        case: running.case,
                        problem,
                        input: path,
                    });
                }
            }
            if last_progress.elapsed() >= options.progress_every {
                last_progress = Instant::now();
                progress(&Progress {
                    done: done.load(Ordering::Relaxed),
                    total: options.cases,
                    elapsed: start.elapsed(),
                    panics: panics.load(Ordering::Relaxed),
                    hangs: hangs.load(Ordering::Relaxed),
                });
            }
        }
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a fuzz thread failed outside a case"))
            .collect::<Vec<_>>()
    });
    let mut counts = vec![ReaderCounts::default(); Reader::ALL.len()];
    let mut slowest: Option<Slowest> = None;
    for (thread_counts, thread_slowest) in results {
        for (sum, c) in counts.iter_mut().zip(thread_counts) {
            sum.cases += c.cases;
            sum.accepted += c.accepted;
            sum.rejected += c.rejected;
            sum.panics += c.panics;
            sum.hangs += c.hangs;
        }
        if let Some(s) = thread_slowest
            && slowest.is_none_or(|slowest| s.took > slowest.took)
        {
            slowest = Some(s);
        }
    }
    let mut failures = failures.into_inner().expect("failures");
    failures.sort_by_key(|failure| failure.case.index);
    Summary {
        readers: Reader::ALL
            .into_iter()
            .filter(|reader| readers.contains(reader))
            .map(|reader| (reader, counts[reader.index()]))
            .collect(),
        failures,
        slowest,
        duration: start.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_in_flight_record_reads_back() {
        let case = Case {
            reader: Reader::LocustHistoryCsv,
            index: 12,
            seed: u64::MAX,
        };
        assert_eq!(read_in_flight(&in_flight_record(case)), Some(case));
        assert_eq!(read_in_flight("garbage"), None);
    }
}

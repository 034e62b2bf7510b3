//! The instruction counts of a paired comparison: each build's plain loop counted under
//! Valgrind (`crate::instructions`), base and candidate alternating, into the samples of the
//! counted metrics ([`COUNTED`]). A count needs no rounds against drift, so a side is counted a
//! few times only to show that its count repeats.

use anyhow::bail;
use perfgate_report::compare::{COUNTED, Samples};

use super::builds::Builds;
use super::options::{InstructionsMode, Options};
use crate::instructions::{CountSpec, NO_VALGRIND, count_instructions, valgrind_version};

/// The counted metrics' samples, or `None` when they are not counted: `--instructions off`, or
/// `auto` on a machine without Valgrind or with a base that cannot be counted (each said in one
/// line). Under `on` and `only` those are errors.
pub(super) fn count(
    builds: &Builds,
    options: &Options,
    extra: &[String],
) -> anyhow::Result<Option<Vec<Samples>>> {
    let required = matches!(
        options.instructions,
        InstructionsMode::On | InstructionsMode::Only
    );
    if options.instructions == InstructionsMode::Off {
        return Ok(None);
    }
    let Some(valgrind) = valgrind_version() else {
        if required {
            bail!("--instructions {}: {NO_VALGRIND}", options.instructions.name());
        }
        eprintln!("compare: instructions not counted: {NO_VALGRIND}");
        return Ok(None);
    };
    let mut samples: Vec<Samples> = COUNTED.iter().map(Samples::empty).collect();
    let started = std::time::Instant::now();
    // Base, candidate, candidate, base, ...: the order the counts are listed (and their
    // samples kept) in, though a count does not care. They run at once, one per core: a count
    // is one single-threaded Valgrind process, and how busy the machine is changes its time,
    // never its figures.
    let jobs: Vec<bool> = (0..options.instruction_counts)
        .flat_map(|turn| {
            if turn % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            }
        })
        .collect();
    let counted = run_at_once(&jobs, |is_base| {
        let (binary, args) = if is_base {
            (&builds.base_binary, Vec::new())
        } else {
            (&builds.candidate_binary, extra.to_vec())
        };
        count_instructions(binary, &CountSpec::new(args), &valgrind).and_then(|section| {
            if section.instructions_per_message > 0.0 {
                Ok(section)
            } else {
                bail!("counted no instructions (the revision may predate the plain loop's measured_window)")
            }
        })
    });
    for (is_base, counted) in jobs.iter().copied().zip(counted) {
        let section = match counted {
            Ok(section) => section,
            Err(error) if !required && is_base => {
                eprintln!("compare: instructions not counted: the base build: {error:#}");
                return Ok(None);
            }
            Err(error) => {
                let side = if is_base { "base" } else { "candidate" };
                return Err(error.context(format!("counting the {side}'s instructions")));
            }
        };
        // Read as every other figure is, through the catalogue.
        let results = perfgate_results::Results {
            instructions: Some(section),
            ..perfgate_results::Results::default()
        };
        for sample in &mut samples {
            let value = perfgate_results::metric(&sample.id).and_then(|def| def.read(&results));
            sample.push(is_base, value.unwrap_or(f64::NAN));
        }
    }
    eprintln!(
        "compare: instructions counted, {} per side ({:.0} s)",
        options.instruction_counts,
        started.elapsed().as_secs_f64()
    );
    Ok(Some(samples))
}

/// `work` on every job, as many at once as the machine has cores; the outcomes in the jobs'
/// order.
fn run_at_once<J: Copy + Sync, T: Send>(jobs: &[J], work: impl Fn(J) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Vec<std::sync::Mutex<Option<T>>> =
        jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(jobs.len()) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(job) = jobs.get(index) else { break };
                    let outcome = work(*job);
                    *outcomes[index]
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(outcome);
                }
            });
        }
    });
    outcomes
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .expect("every job ran")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_at_once_keep_their_order() {
        let jobs: Vec<u64> = (0..17).collect();
        let outcomes = run_at_once(&jobs, |job| {
            std::thread::sleep(std::time::Duration::from_millis(17 - job));
            job * 10
        });
        assert_eq!(outcomes, jobs.iter().map(|job| job * 10).collect::<Vec<_>>());
        assert!(run_at_once(&[] as &[u8], |job| job).is_empty());
    }
}

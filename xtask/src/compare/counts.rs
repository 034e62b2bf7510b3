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
    let mut samples: Vec<Samples> = COUNTED
        .iter()
        .map(|compared| Samples {
            id: compared.id.to_owned(),
            kind: compared.kind,
            base: Vec::new(),
            candidate: Vec::new(),
        })
        .collect();
    let started = std::time::Instant::now();
    for turn in 0..options.instruction_counts {
        // Base, candidate, candidate, base, ...: as the rounds, though a count should not care.
        let order = if turn % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_base in order {
            let (binary, args) = if is_base {
                (&builds.base_binary, Vec::new())
            } else {
                (&builds.candidate_binary, extra.to_vec())
            };
            let counted = count_instructions(binary, &CountSpec::new(args), &valgrind).and_then(|section| {
                if section.instructions_per_message > 0.0 {
                    Ok(section)
                } else {
                    bail!(
                        "counted no instructions (the revision may predate the plain loop's measured_window)"
                    )
                }
            });
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
            for sample in &mut samples {
                let value = match sample.id.as_str() {
                    "cpu.instructions_per_message" => section.instructions_per_message,
                    _ => section.estimated_cycles_per_message,
                };
                if is_base {
                    sample.base.push(value);
                } else {
                    sample.candidate.push(value);
                }
            }
        }
    }
    eprintln!(
        "compare: instructions counted, {} per side ({:.0} s)",
        options.instruction_counts,
        started.elapsed().as_secs_f64()
    );
    Ok(Some(samples))
}

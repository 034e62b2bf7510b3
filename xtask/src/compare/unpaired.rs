//! The unpaired comparison's input: two sets of existing results files (`--base-results`,
//! `--candidate-results`) read into per-metric samples, and the labels naming them. Weaker than
//! the paired rounds (`rounds.rs`), which it does not use.

use std::collections::BTreeMap;
use std::path::PathBuf;

use perfgate_report::compare::formats::Labels;
use perfgate_report::compare::{COMPARED, Samples};
use perfgate_report::load_results;

/// The samples of every compared metric, from the two sides' files.
pub(super) fn samples(base: &[PathBuf], candidate: &[PathBuf]) -> anyhow::Result<Vec<Samples>> {
    // Each file is one sample, or one per repetition when it was written with --repeat N.
    let load = |files: &[PathBuf]| -> anyhow::Result<Vec<BTreeMap<String, f64>>> {
        let mut samples = Vec::new();
        for file in files {
            let run = load_results(file)?;
            if run.repetitions.is_empty() {
                samples.push(run.metrics);
            } else {
                samples.extend(run.repetitions);
            }
        }
        Ok(samples)
    };
    let (base, candidate) = (load(base)?, load(candidate)?);
    Ok(COMPARED
        .iter()
        .map(|compared| {
            let values = |runs: &[BTreeMap<String, f64>]| {
                runs.iter()
                    .map(|metrics| metrics.get(compared.id).copied().unwrap_or(f64::NAN))
                    .collect()
            };
            Samples {
                id: compared.id.to_owned(),
                kind: compared.kind,
                base: values(&base),
                candidate: values(&candidate),
            }
        })
        .collect())
}

/// What the outputs call the two sides: their files.
pub(super) fn labels(base: &[PathBuf], candidate: &[PathBuf]) -> Labels {
    Labels {
        base: files_label(base),
        candidate: files_label(candidate),
        bench: "perfgate/market-data".to_owned(),
    }
}

/// A side's files as a label: the file, or the first and how many more.
fn files_label(files: &[PathBuf]) -> String {
    match files {
        [one] => one.display().to_string(),
        [first, ..] => format!("{} and {} more", first.display(), files.len() - 1),
        [] => String::new(),
    }
}

//! The unpaired comparison's input: two sets of existing results files (`--base-results`,
//! `--candidate-results`) read into per-metric samples, and the labels naming them. Weaker than
//! the paired rounds (`rounds.rs`), which it does not use.

use std::collections::BTreeMap;
use std::path::PathBuf;

use perfgate_report::compare::formats::Labels;
use perfgate_report::compare::{Samples, chaos_figures, compared_metrics};
use perfgate_report::load_results;

/// The samples of every compared metric, from the two sides' files; with `chaos`, also that
/// scenario's figures from the files that ran it.
pub(super) fn samples(
    base: &[PathBuf],
    candidate: &[PathBuf],
    chaos: Option<&str>,
) -> anyhow::Result<Vec<Samples>> {
    // Each file is one sample, or one per repetition when it was written with --repeat N. A
    // chaos section is the file's, not a repetition's: one chaos sample per file.
    let load = |files: &[PathBuf]| -> anyhow::Result<Side> {
        let (mut samples, mut chaos_samples) = (Vec::new(), Vec::new());
        for file in files {
            let run = load_results(file)?;
            if let Some(scenario) = chaos {
                chaos_samples.push(chaos_figures(&run, scenario));
            }
            if run.repetitions.is_empty() {
                samples.push(run.metrics);
            } else {
                samples.extend(run.repetitions);
            }
        }
        Ok((samples, chaos_samples))
    };
    let (base, candidate) = (load(base)?, load(candidate)?);
    Ok(compared_metrics(chaos)
        .iter()
        .map(|compared| {
            let values = |(runs, chaos_runs): &Side| {
                let runs = if compared.id.starts_with("chaos.") {
                    chaos_runs
                } else {
                    runs
                };
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

/// A side's figures: per run (or repetition), and per file the chaos scenario's.
type Side = (Vec<BTreeMap<String, f64>>, Vec<BTreeMap<String, f64>>);

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

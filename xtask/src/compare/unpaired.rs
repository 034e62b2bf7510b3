//! The unpaired comparison's input: two sets of existing results files (`--base-results`,
//! `--candidate-results`) read into per-metric samples, and the labels naming them. Weaker than
//! the paired rounds (`rounds.rs`), which it does not use.

use std::collections::BTreeMap;
use std::path::PathBuf;

use perfgate_report::compare::formats::Labels;
use perfgate_report::compare::{COUNTED, Samples, chaos_figures, compared_metrics};
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
    // An instruction count (the `instructions` section) is the file's too.
    let load = |files: &[PathBuf]| -> anyhow::Result<Side> {
        let (mut samples, mut per_file) = (Vec::new(), Vec::new());
        for file in files {
            let run = load_results(file)?;
            let mut file_figures: BTreeMap<String, f64> = COUNTED
                .iter()
                .filter_map(|counted| Some((counted.id.to_owned(), *run.metrics.get(counted.id)?)))
                .collect();
            if let Some(scenario) = chaos {
                file_figures.extend(chaos_figures(&run, scenario));
            }
            per_file.push(file_figures);
            if run.repetitions.is_empty() {
                samples.push(run.metrics);
            } else {
                samples.extend(run.repetitions);
            }
        }
        Ok((samples, per_file))
    };
    let (base, candidate) = (load(base)?, load(candidate)?);
    // The counted metrics join when both sides have a count.
    let counted = COUNTED.iter().filter(|counted| {
        let has = |(_, per_file): &Side| per_file.iter().any(|figures| figures.contains_key(counted.id));
        has(&base) && has(&candidate)
    });
    Ok(compared_metrics(chaos)
        .iter()
        .chain(counted)
        .map(|compared| {
            let values = |(runs, per_file): &Side| {
                let by_file =
                    compared.id.starts_with("chaos.") || COUNTED.iter().any(|c| c.id == compared.id);
                let runs = if by_file { per_file } else { runs };
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

/// A side's figures: per run (or repetition), and per file the chaos scenario's and the
/// instruction count's.
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

//! The verdict files the options ask for (Markdown, JUnit, Bencher Metric Format,
//! github-action-benchmark, JSON), the GitHub step summary when there is one, and the raw samples
//! beside the runs. Rendering each format is `perfgate_report::compare`'s.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use perfgate_report::OutputSet;
use perfgate_report::compare::formats::{self, Labels};
use perfgate_report::compare::{Comparison, Samples, markdown};

use super::options::Options;

/// Writes every output `options` asks for, and the raw samples.
pub(super) fn write(
    options: &Options,
    comparison: &Comparison,
    samples: &[Samples],
    labels: &Labels,
) -> anyhow::Result<()> {
    // Staged, then renamed into place together: one output that cannot be written replaces
    // none of the others.
    let mut outputs = OutputSet::new();
    let mut write = |path: &Path, text: &str| -> anyhow::Result<()> {
        outputs.stage(path, text.as_bytes())?;
        Ok(())
    };
    let summary = markdown::render(comparison, labels);
    if let Some(path) = &options.markdown {
        write(path, &summary)?;
    }
    if let Some(path) = &options.junit {
        write(path, &formats::junit(comparison, labels))?;
    }
    if let Some(path) = &options.bmf {
        write(path, &formats::bmf(comparison, samples, labels))?;
    }
    if let Some(dir) = &options.gab {
        let (bigger, smaller) = formats::github_action_benchmark(comparison, samples, labels);
        write(&dir.join("bigger-is-better.json"), &bigger)?;
        write(&dir.join("smaller-is-better.json"), &smaller)?;
    }
    if let Some(path) = &options.json {
        write(path, &formats::json_verdict(comparison, labels))?;
    }
    // Every comparison also keeps its raw samples beside the runs, to recompute or audit it.
    let raw: Vec<serde_json::Value> = samples
        .iter()
        .map(|s| serde_json::json!({"id": s.id, "kind": s.kind, "base": s.base, "candidate": s.candidate}))
        .collect();
    let raw = serde_json::to_string_pretty(&raw).unwrap_or_default();
    outputs.stage(&options.out_dir().join("samples.json"), raw.as_bytes())?;
    for path in outputs.commit()? {
        eprintln!("compare: wrote {}", path.display());
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        // Once the outputs are in place. The step summary is GitHub's file, appended to by every step: append, do not replace.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .with_context(|| format!("opening $GITHUB_STEP_SUMMARY ({})", Path::new(&path).display()))?;
        file.write_all(summary.as_bytes())
            .context("writing $GITHUB_STEP_SUMMARY")?;
    }
    Ok(())
}

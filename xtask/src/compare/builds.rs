//! The two builds of a paired comparison: the base revision checked out in a git worktree under
//! `--out` and built there, and the working tree built as usual, each binary copied beside the
//! other. Running them is `rounds.rs`'s.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use perfgate_report::compare::formats::Labels;

use super::options::Options;
use crate::cargo::build_release_of;

/// The two builds of a paired comparison.
#[derive(Debug)]
pub(super) struct Builds {
    /// The profiler built at the base revision.
    pub(super) base_binary: PathBuf,
    /// The profiler built from the working tree.
    pub(super) candidate_binary: PathBuf,
    /// What the outputs call the two sides.
    pub(super) labels: Labels,
    /// Base and candidate are the same commit and the tree is clean: an A/A comparison whose
    /// outcome teaches the noise floor.
    pub(super) same_clean_commit: bool,
}

impl Builds {
    /// Resolves the base revision (by default the merge base of HEAD and main), then builds it
    /// and the working tree.
    pub(super) fn prepare(options: &Options) -> anyhow::Result<Self> {
        let base_rev = match &options.base {
            Some(rev) => rev.clone(),
            None => git(&["merge-base", "HEAD", "main"])
                .context("finding the merge base with main (give --base REV)")?,
        };
        let base_sha = git(&["rev-parse", "--verify", &format!("{base_rev}^{{commit}}")])
            .with_context(|| format!("--base {base_rev}: not a commit"))?;
        let head_sha = git(&["rev-parse", "HEAD"])?;
        let dirty = !git(&["status", "--porcelain", "--untracked-files=no"])?.is_empty();
        let out = options.out_dir();
        let bin = out.join("bin");
        std::fs::create_dir_all(&bin).with_context(|| format!("creating {}", bin.display()))?;

        // The base build: a detached worktree at the base commit, reused between comparisons,
        // built into a target directory of its own (kept warm between comparisons).
        let worktree = out.join("worktree");
        if worktree.join(".git").exists() {
            git(&[
                "-C",
                &worktree.display().to_string(),
                "checkout",
                "--quiet",
                "--detach",
                "--force",
                &base_sha,
            ])?;
        } else {
            let _ = git(&["worktree", "prune"]);
            git(&[
                "worktree",
                "add",
                "--quiet",
                "--detach",
                "--force",
                &worktree.display().to_string(),
                &base_sha,
            ])?;
        }
        eprintln!("compare: building the base ({}) …", short(&base_sha));
        let built = build_release_of(
            Some((&worktree.join("Cargo.toml"), &out.join("target"))),
            "perfgate-profiler",
            "perfgate-profiler",
        )
        .with_context(|| format!("building the base revision {}", short(&base_sha)))?;
        let base_binary = bin.join("perfgate-profiler-base");
        install(&built, &base_binary).context("copying the base binary")?;
        eprintln!("compare: building the candidate (working tree) …");
        let built = build_release_of(None, "perfgate-profiler", "perfgate-profiler")
            .context("building the candidate")?;
        let candidate_binary = bin.join("perfgate-profiler-candidate");
        install(&built, &candidate_binary).context("copying the candidate binary")?;

        Ok(Self {
            base_binary,
            candidate_binary,
            labels: Labels {
                base: format!("{base_rev} ({})", short(&base_sha)),
                candidate: format!("{}{}", short(&head_sha), if dirty { " + changes" } else { "" }),
                bench: "perfgate/market-data".to_owned(),
            },
            same_clean_commit: base_sha == head_sha && !dirty && options.candidate_args.is_none(),
        })
    }
}

/// Runs git; its output, trimmed, or its error message.
fn git(args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .context("running git")?;
    if !output.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Copies a binary into place through a temporary file and a rename: overwriting a binary that
/// is still running (a comparison interrupted a moment ago) fails with "text file busy", while a
/// rename replaces it and leaves the running process its old file.
fn install(from: &Path, to: &Path) -> std::io::Result<()> {
    let temporary = to.with_extension("tmp");
    std::fs::copy(from, &temporary)?;
    std::fs::rename(&temporary, to)
}

/// A commit's abbreviated hash, as labels and messages show it.
fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}

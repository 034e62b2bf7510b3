//! Building the profiler in release mode and finding its binary.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

/// The workspace root: the parent of this crate's directory.
pub(crate) fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_owned()
}

/// Builds `perfgate-profiler` in release mode and returns the binary's path.
pub(crate) fn build_profiler() -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "--package",
            "perfgate-profiler",
            "--bin",
            "perfgate-profiler",
        ])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("building perfgate-profiler in release mode failed");
    }
    let target_dir =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let binary = target_dir
        .join("release")
        .join(format!("perfgate-profiler{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        bail!("the release build did not produce {}", binary.display());
    }
    Ok(binary)
}

//! Building release binaries of the workspace and finding them.

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
    build_release("perfgate-profiler", "perfgate-profiler")
}

/// Builds `package`'s binary `bin` in release mode and returns its path.
pub(crate) fn build_release(package: &str, bin: &str) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "--package",
            package,
            "--bin",
            bin,
        ])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("building {bin} in release mode failed");
    }
    let target_dir =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let binary = target_dir
        .join("release")
        .join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        bail!("the release build did not produce {}", binary.display());
    }
    Ok(binary)
}

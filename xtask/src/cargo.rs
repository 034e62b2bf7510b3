//! Building release binaries of the workspace and finding them.

use std::path::{Path, PathBuf};
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
    build_release_of(None, package, bin)
}

/// Builds `package`'s binary `bin` in release mode from the workspace at `manifest` (another
/// checkout, e.g. a git worktree) or this one, into this workspace's target directory (so the
/// dependencies are built once for both), and returns the binary's path. The next build
/// overwrites it: copy it away first if both are needed.
pub(crate) fn build_release_of(manifest: Option<&Path>, package: &str, bin: &str) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let target_dir =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let mut command = Command::new(cargo);
    command.args([
        "build",
        "--release",
        "--quiet",
        "--package",
        package,
        "--bin",
        bin,
    ]);
    if let Some(manifest) = manifest {
        command
            .arg("--manifest-path")
            .arg(manifest)
            .arg("--target-dir")
            .arg(&target_dir);
    }
    let status = command.status().context("running cargo build")?;
    if !status.success() {
        bail!("building {bin} in release mode failed");
    }
    let binary = target_dir
        .join("release")
        .join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        bail!("the release build did not produce {}", binary.display());
    }
    Ok(binary)
}

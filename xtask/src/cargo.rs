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

/// Builds `package`'s binary `bin` in release mode from the workspace whose manifest is
/// `manifest` (another checkout, e.g. a git worktree) into `target_dir`, or from this workspace
/// into its own target directory, and returns the binary's path.
///
/// Another checkout needs a target directory of its own: cargo identifies a path package by its
/// path relative to its workspace root, so the same crate in two checkouts would share (and
/// overwrite) one fingerprint and one binary, and cargo would call one build fresh after the
/// other.
pub(crate) fn build_release_of(
    manifest: Option<(&Path, &Path)>,
    package: &str,
    bin: &str,
) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let own_target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let target_dir = manifest.map_or(own_target, |(_, dir)| dir.to_owned());
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
    if let Some((manifest, _)) = manifest {
        command
            .arg("--manifest-path")
            .arg(manifest)
            .arg("--target-dir")
            .arg(&target_dir)
            .env_remove("CARGO_TARGET_DIR");
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

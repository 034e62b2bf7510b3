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

/// The profiler command's binary name.
const PROFILER_BIN: &str = "perfgate-profiler";
/// The package that builds it; the library's package (`perfgate-profiler`) has no binary.
const PROFILER_PACKAGE: &str = "perfgate-profiler-cli";
/// The package that built it before it had a package of its own.
const PROFILER_PACKAGE_BEFORE: &str = "perfgate-profiler";

/// Said once, before the first release build of the profiler in a target directory.
const FIRST_BUILD: &str = "Building the release profiler for the first time: about 5 to 6 minutes on two cores. \
     Cargo's bar below names the crates being compiled; the clock after it says how long the \
     current one has taken, up to about 40 s on one (perfgate-results, perfgate-profiler, and \
     tikv-jemalloc-sys(build), jemalloc's C library).";

/// Builds `perfgate-profiler` in release mode and returns the binary's path.
pub(crate) fn build_profiler() -> anyhow::Result<PathBuf> {
    build_release(PROFILER_PACKAGE, PROFILER_BIN)
}

/// The package that builds `bin` in the checkout at `root`: the profiler command moved from the
/// library's package to `perfgate-profiler-cli`, so a request for it from the library's package
/// goes to the new one where the checkout has it, and stays where it is in a checkout from before
/// the move (e.g. an older base revision that `cargo xtask compare` builds).
fn package_in<'a>(root: &Path, package: &'a str, bin: &str) -> &'a str {
    let moved = root
        .join("crates")
        .join("profiler-cli")
        .join("Cargo.toml")
        .exists();
    if package == PROFILER_PACKAGE_BEFORE && bin == PROFILER_BIN && moved {
        PROFILER_PACKAGE
    } else {
        package
    }
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
    let root = manifest
        .and_then(|(manifest, _)| manifest.parent())
        .map_or_else(workspace_root, Path::to_owned);
    let package = package_in(&root, package, bin);
    let mut command = Command::new(cargo);
    // Not `--quiet`: a first release build takes minutes on a small machine and must show its
    // progress (issue 19). `CARGO_TERM_QUIET=true` quiets it when a user asks, as for any cargo
    // command.
    command.args(["build", "--release", "--package", package, "--bin", bin]);
    if let Some((manifest, _)) = manifest {
        command
            .arg("--manifest-path")
            .arg(manifest)
            .arg("--target-dir")
            .arg(&target_dir)
            .env_remove("CARGO_TARGET_DIR");
    }
    let binary = target_dir
        .join("release")
        .join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
    if bin == PROFILER_BIN && !binary.exists() {
        // A first build takes minutes; this line says so before cargo's bar starts.
        eprintln!("{FIRST_BUILD}");
    }
    // Cargo's bar with a clock that moves while one crate compiles (issue 19).
    let status = perfgate_cargo_progress::run(command).context("running cargo build")?;
    if !status.success() {
        bail!("building {bin} in release mode failed");
    }
    if !binary.exists() {
        bail!("the release build did not produce {}", binary.display());
    }
    Ok(binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profiler_is_built_from_its_own_package_only_where_the_checkout_has_it() {
        let here = workspace_root();
        assert_eq!(
            package_in(&here, "perfgate-profiler", "perfgate-profiler"),
            "perfgate-profiler-cli"
        );
        let before_the_move = here.join("target").join("no-such-checkout");
        assert_eq!(
            package_in(&before_the_move, "perfgate-profiler", "perfgate-profiler"),
            "perfgate-profiler"
        );
        assert_eq!(
            package_in(&here, "perfgate-report", "perfgate-report"),
            "perfgate-report"
        );
    }
}

//! `cargo xtask`'s front door (the alias in `.cargo/config.toml` runs this).
//!
//! A fresh clone's `cargo xtask` first compiles xtask and its libraries, about 130 crates; cargo's
//! bar rests up to ten seconds on one of them. So the alias runs this small program instead,
//! which compiles in seconds, builds xtask with cargo's bar and a moving clock
//! (perfgate-cargo-progress), and then becomes xtask with the same arguments. A fresh xtask costs
//! one up-to-date check and prints nothing.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode, ExitStatus};

/// Exit code for a failure of the launcher itself (cargo or xtask cannot be started), as xtask's
/// `anyhow` errors use.
const FAILED: u8 = 1;

fn main() -> ExitCode {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut build = Command::new(&cargo);
    // The same working directory and environment as the `cargo xtask` that started this: cargo
    // then reads the same configuration and target directory, so xtask is built with the same
    // flags as the alias would have built it, and nothing rebuilds.
    build
        .args(["build", "--package", "xtask", "--bin", "xtask", "--manifest-path"])
        .arg(&manifest);
    match perfgate_cargo_progress::run(build) {
        Ok(status) if status.success() => {}
        // Cargo's own code (101 for a compile error), as `cargo run` would have returned.
        Ok(status) => return exit_code_of(status),
        Err(error) => {
            eprintln!("error: running {} build: {error}", cargo.to_string_lossy());
            return ExitCode::from(FAILED);
        }
    }
    // xtask lands beside this program: the same target directory and profile, wherever the
    // configuration or CARGO_TARGET_DIR put them.
    let xtask = match std::env::current_exe() {
        Ok(launcher) => launcher.with_file_name(format!("xtask{}", std::env::consts::EXE_SUFFIX)),
        Err(error) => {
            eprintln!("error: finding the launcher's own path: {error}");
            return ExitCode::from(FAILED);
        }
    };
    let mut run = Command::new(&xtask);
    run.args(std::env::args_os().skip(1));
    become_xtask(run, &xtask.to_string_lossy())
}

/// A child's exit code as ours; [`FAILED`] when it has none (killed by a signal) or it does not
/// fit.
fn exit_code_of(status: ExitStatus) -> ExitCode {
    status
        .code()
        .and_then(|code| u8::try_from(code).ok())
        .map_or(ExitCode::from(FAILED), ExitCode::from)
}

/// Replaces this process with xtask, so its exit code, signals and terminal are xtask's alone.
#[cfg(unix)]
fn become_xtask(mut run: Command, shown: &str) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let error = run.exec();
    eprintln!("error: running {shown}: {error}");
    ExitCode::from(FAILED)
}

/// Runs xtask and exits with its code (no `exec` off Unix).
#[cfg(not(unix))]
fn become_xtask(mut run: Command, shown: &str) -> ExitCode {
    match run.status() {
        Ok(status) => exit_code_of(status),
        Err(error) => {
            eprintln!("error: running {shown}: {error}");
            ExitCode::from(FAILED)
        }
    }
}

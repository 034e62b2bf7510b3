//! `cargo xtask bench`: release build of the profiler, then a run with the given arguments. The
//! profiler's exit code is passed through (2 for bad flags).

use std::process::{Command, ExitCode};

use anyhow::Context;

use crate::cargo::build_profiler;

pub(crate) fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let binary = build_profiler()?;
    let status = Command::new(&binary)
        .args(args)
        .env("PERFGATE_INVOKED_AS", "cargo xtask bench")
        .status()
        .with_context(|| format!("running {}", binary.display()))?;
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}

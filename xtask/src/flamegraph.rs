//! `cargo xtask flamegraph`: where the latest run's flamegraph is, and optionally open it.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct Options {
    /// Open it in the default viewer (xdg-open, or open on macOS)
    #[arg(long)]
    open: bool,
    /// The run's output directory
    #[arg(long, value_name = "DIR", default_value = "target/perfgate/latest")]
    dir: PathBuf,
}

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    let path = options.dir.join("flamegraph.svg");
    if !path.is_file() {
        eprintln!(
            "error: no flamegraph at {}: run `cargo xtask bench` first (with the cpu probe, which is on by default)",
            path.display()
        );
        return Ok(ExitCode::from(2));
    }
    let path = path
        .canonicalize()
        .with_context(|| format!("resolving {}", path.display()))?;
    println!("{}", path.display());
    if options.open {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        let status = Command::new(opener)
            .arg(&path)
            .status()
            .with_context(|| format!("running {opener}; open {} in a browser instead", path.display()))?;
        if !status.success() {
            bail!(
                "{opener} failed ({status}); open {} in a browser instead",
                path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `cargo xtask regression-issue`: what the nightly workflow does with its regression issue,
//! from the JSON verdict of `cargo xtask compare --confirm` (main's head against the last
//! nightly that passed): `open` (or update) on a confirmed failure, `close` when the gate passes
//! again, `keep` on an unconfirmed warning; and the issue's body, rendered by
//! `perfgate_report::compare::issue`. The GitHub calls stay in the workflow. A verdict that does
//! not read is bad input: one line, exit code 2, nothing written.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use perfgate_report::compare::issue::{ISSUE_LABEL, ISSUE_TITLE, IssueContext, regression_issue};
use perfgate_report::write_atomic;

#[derive(Debug, Args)]
pub(crate) struct Options {
    /// The JSON verdict of `cargo xtask compare --json FILE`
    #[arg(long, value_name = "FILE")]
    verdict: PathBuf,
    /// Where the issue body (or the closing comment) goes
    #[arg(
        long,
        value_name = "FILE",
        default_value = "target/perfgate/regression-issue.md"
    )]
    out: PathBuf,
    /// The workflow run to link to
    #[arg(long, value_name = "URL")]
    run_url: Option<String>,
    /// Append `action=`, `title=` and `label=` lines to this file (GitHub's `$GITHUB_OUTPUT`)
    #[arg(long, value_name = "FILE")]
    github_output: Option<PathBuf>,
    /// The date the body shows (the workflow passes `$(date -u +%F)`; golden tests a fixed one)
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<String>,
}

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    let context = IssueContext {
        run_url: options.run_url.clone(),
        date: options.date.clone(),
    };
    let issue = match regression_issue(&options.verdict, &context) {
        Ok(issue) => issue,
        Err(error) => {
            eprintln!("error: cargo xtask regression-issue: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(folder) = options
        .out
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder)?;
    }
    write_atomic(&options.out, issue.body.as_bytes())?;
    if let Some(path) = &options.github_output {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        writeln!(
            file,
            "action={}\ntitle={ISSUE_TITLE}\nlabel={ISSUE_LABEL}",
            issue.action.name()
        )?;
    }
    println!(
        "regression-issue: {} ({})",
        issue.action.name(),
        options.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

//! `cargo xtask alerts`: Prometheus alerting rules from a thresholds file, over the series the
//! live `/metrics` endpoint serves (`--serve-metrics`): a `critical` rule per limit, a `warning`
//! rule per target, each held for a window (`perfgate_report::render::alert_rules`). A thresholds
//! file that does not read is bad input: one line, exit code 2, nothing written.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use perfgate_report::render::alert_rules::render;
use perfgate_report::{Thresholds, write_atomic};

#[derive(Debug, Args)]
pub(crate) struct Options {
    /// The thresholds to turn into rules
    #[arg(long, value_name = "FILE", default_value = "thresholds/default.toml")]
    thresholds: PathBuf,
    /// Where the rule file goes (for Prometheus's `rule_files`)
    #[arg(long, value_name = "FILE", default_value = "target/perfgate/alerts.yml")]
    out: PathBuf,
}

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    let thresholds = match Thresholds::from_path(&options.thresholds) {
        Ok(thresholds) => thresholds,
        Err(error) => {
            eprintln!("error: cargo xtask alerts: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    let rules = render(&thresholds);
    if let Some(folder) = options
        .out
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder)?;
    }
    write_atomic(&options.out, rules.yaml.as_bytes())?;
    println!(
        "alerts: {} rules for {} metrics in {}",
        rules.rules.len(),
        rules
            .rules
            .iter()
            .map(|rule| rule.id.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        options.out.display()
    );
    if !rules.skipped.is_empty() {
        println!(
            "alerts: no live series, so no rule, for: {}",
            rules.skipped.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

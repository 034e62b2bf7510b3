//! `cargo xtask report-scale`: checks that the report streams a load test's history instead of
//! holding it. It writes Locust `_stats_history.csv` files of a small and a large size, runs the
//! release `perfgate-report` on each and compares the peak resident memory of the two runs:
//! flat memory means the large file costs no more than the small one.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;

use crate::cargo::build_release;

/// Peak RSS of the large run over the small one's: at most this.
const MAX_RSS_GROWTH: f64 = 1.1;

#[derive(Debug, Args)]
pub(crate) struct Options {
    /// Size of the large history file, GiB
    #[arg(long, default_value_t = 1.0)]
    gib: f64,
}

/// The header Locust 2.x writes.
const HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,\
99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response \
Time,Total Min Response Time,Total Max Response Time,Total Average Content Size\n";

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    if !(options.gib > 0.0 && options.gib <= 64.0) {
        bail!("--gib must be between 0 and 64");
    }
    let binary = build_release("perfgate-report", "perfgate-report")?;
    let dir = PathBuf::from("target/perfgate/report-scale");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let large_bytes = (options.gib * (1u64 << 30) as f64) as u64;
    let mut rows = Vec::new();
    for (label, bytes) in [("small", large_bytes / 10), ("large", large_bytes)] {
        let prefix = dir.join(label);
        write_run(&prefix, bytes)?;
        let (seconds, peak_kib) = report(&binary, &prefix, &dir)?;
        let mib = bytes as f64 / f64::from(1 << 20);
        eprintln!(
            "{label}: {mib:.0} MiB history read in {seconds:.2} s ({:.0} MiB/s), peak RSS {:.1} MiB",
            mib / seconds,
            peak_kib as f64 / 1024.0
        );
        rows.push((mib, seconds, peak_kib as f64 / 1024.0));
    }
    let growth = rows[1].2 / rows[0].2;
    let met = growth <= MAX_RSS_GROWTH;
    println!(
        "peak RSS reading {:.0} MiB of history / {:.0} MiB: {growth:.3} ({:.1} MiB / {:.1} MiB), required ≤ {MAX_RSS_GROWTH}: {}",
        rows[1].0,
        rows[0].0,
        rows[1].2,
        rows[0].2,
        if met { "met" } else { "MISSED" }
    );
    // The histories are large and regenerated on every run.
    for label in ["small", "large"] {
        let _ = std::fs::remove_file(dir.join(format!("{label}_stats_history.csv")));
    }
    Ok(if met { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// A `_stats.csv` with one endpoint and a `_stats_history.csv` of about `bytes`.
fn write_run(prefix: &Path, bytes: u64) -> anyhow::Result<()> {
    let stats = PathBuf::from(format!("{}_stats.csv", prefix.display()));
    std::fs::write(
        &stats,
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max \
         Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n\
         GET,/quotes,1000,0,5,5.5,1,40,120,100.0,0.0,5,6,7,8,9,10,12,13,20,40,40\n\
         ,Aggregated,1000,0,5,5.5,1,40,120,100.0,0.0,5,6,7,8,9,10,12,13,20,40,40\n",
    )
    .with_context(|| format!("writing {}", stats.display()))?;
    let history = PathBuf::from(format!("{}_stats_history.csv", prefix.display()));
    let file = std::fs::File::create(&history).with_context(|| format!("creating {}", history.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    out.write_all(HEADER.as_bytes())?;
    let mut written = HEADER.len() as u64;
    let mut second = 0u64;
    while written < bytes {
        // Every endpoint row and the aggregate, as `--csv-full-history` writes them.
        for (kind, name) in [("GET", "/quotes"), ("", "Aggregated")] {
            let line = format!(
                "{},20,{kind},{name},{}.5,0.0,5,6,7,8,9,{},12,13,14,15,16,{},0,5,5.5,1,16,120\n",
                1_700_000_000 + second,
                100 + second % 7,
                10 + second % 3,
                second * 100
            );
            out.write_all(line.as_bytes())?;
            written += line.len() as u64;
        }
        second += 1;
    }
    out.flush()
        .with_context(|| format!("writing {}", history.display()))?;
    Ok(())
}

/// Runs the report on the run at `prefix`; returns wall seconds and the child's peak RSS, KiB.
fn report(binary: &Path, prefix: &Path, dir: &Path) -> anyhow::Result<(f64, i64)> {
    let started = Instant::now();
    let child = Command::new(binary)
        .arg("--locust")
        .arg(prefix)
        .arg("--thresholds")
        .arg("thresholds/loadtest.toml")
        .arg("--out")
        .arg(dir.join("report.md"))
        .arg("--quiet")
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("running {}", binary.display()))?;
    let (status, peak_kib) = wait_with_peak_rss(child.id())?;
    let seconds = started.elapsed().as_secs_f64();
    // Exit 1 (a threshold failed) is a verdict, not a failure of the run.
    if !matches!(status, 0 | 1) {
        bail!("perfgate-report exited with {status} on {}", prefix.display());
    }
    Ok((seconds, peak_kib))
}

/// Waits for a child and returns its exit code and peak resident set, KiB (from `wait4`).
fn wait_with_peak_rss(pid: u32) -> anyhow::Result<(i32, i64)> {
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in; zeroed is a valid value for it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; both pointers are valid for the call.
    let waited = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    if waited < 0 {
        bail!("waiting for perfgate-report: {}", std::io::Error::last_os_error());
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((code, usage.ru_maxrss))
}

//! What the tasks that measure many points of the release profiler share (`cargo xtask scaling`,
//! `cargo xtask sweep`): running one point in a process group of its own, the Ctrl-C flag that
//! lets the point in progress finish, the interleaved order of points and repeats, and the
//! progress line with the time left. A leaf: it imports no task module, the tasks import it.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use anyhow::Context;
use perfgate_report::{RunData, load_results};

use crate::compare::{profiler_command, profiler_outcome};

// ---- Interrupting ----------------------------------------------------------------------------

/// Set by the first Ctrl-C: stop after the point in progress.
static STOP: AtomicBool = AtomicBool::new(false);
/// The process (and process group) id of the run in progress, 0 between runs.
static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_interrupt(_: libc::c_int) {
    if STOP.swap(true, Ordering::Relaxed) {
        // The second Ctrl-C. The run in progress is in its own process group, out of the
        // terminal's reach, so it is ended here; then this process, as the default action would.
        let child = CHILD.load(Ordering::Relaxed);
        // SAFETY: kill, signal and raise are async-signal-safe; SIG_DFL is a valid disposition.
        unsafe {
            if child > 0 {
                libc::kill(-child, libc::SIGTERM);
            }
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::raise(libc::SIGINT);
        }
    }
}

/// Installs [`on_interrupt`] (`true`) or the default disposition back.
pub(crate) fn catch_interrupt(on: bool) {
    let handler = if on {
        on_interrupt as *const () as libc::sighandler_t
    } else {
        libc::SIG_DFL
    };
    // SAFETY: the handler only touches atomics and calls async-signal-safe functions.
    unsafe {
        libc::signal(libc::SIGINT, handler);
    }
}

/// Whether a Ctrl-C asked to stop after the point in progress.
pub(crate) fn interrupted() -> bool {
    STOP.load(Ordering::Relaxed)
}

// ---- Running ---------------------------------------------------------------------------------

/// Runs the profiler `binary` once with `args`, its results going to `dir`, and reads them.
pub(crate) fn run_profiler(binary: &Path, dir: &Path, args: &[String]) -> anyhow::Result<RunData> {
    let mut command = profiler_command(binary, dir, args);
    // A process group of its own: the terminal sends Ctrl-C to the foreground group, which is
    // then this task alone, so the run in progress finishes and counts.
    command.process_group(0);
    let child = command
        .spawn()
        .with_context(|| format!("running {}", binary.display()))?;
    CHILD.store(i32::try_from(child.id()).unwrap_or(0), Ordering::Relaxed);
    let output = child.wait_with_output();
    CHILD.store(0, Ordering::Relaxed);
    let output = output.with_context(|| format!("waiting for {}", binary.display()))?;
    profiler_outcome(binary, args, &output)?;
    Ok(load_results(&dir.join("results.json"))?)
}

// ---- Profiler arguments ----------------------------------------------------------------------

/// `given`, then each of `defaults` (a flag and its value, if it takes one) that `given` does not
/// set itself (as `--flag` or `--flag=value`).
pub(crate) fn with_defaults(given: &[String], defaults: &[(&str, Option<&str>)]) -> Vec<String> {
    let mut args = given.to_vec();
    for (flag, value) in defaults {
        let set = given
            .iter()
            .any(|arg| arg == flag || arg.starts_with(&format!("{flag}=")));
        if !set {
            args.push((*flag).to_owned());
            args.extend(value.map(str::to_owned));
        }
    }
    args
}

/// A help or version flag among the profiler's arguments would print and run no point: refused.
pub(crate) fn refuse_help(name: &str) -> Result<(), String> {
    if ["-h", "--help", "-V", "--version"].contains(&name) {
        return Err(format!(
            "{name} after `--` would run no point (the profiler's flags: cargo xtask bench --help)"
        ));
    }
    Ok(())
}

// ---- Ordering --------------------------------------------------------------------------------

pub(crate) use perfgate_stats::interleave;

// ---- Progress --------------------------------------------------------------------------------

/// `{task}: point {done}/{total} {detail}, ~{time} left`, the time left being the mean time of
/// the points so far times the points left.
pub(crate) fn progress_line(
    task: &str,
    done: usize,
    total: usize,
    elapsed: Duration,
    detail: &str,
) -> String {
    let mean = elapsed.as_secs_f64() / done.max(1) as f64;
    format!(
        "{task}: point {done}/{total} {detail}, ~{} left",
        duration(Duration::from_secs_f64(mean * total.saturating_sub(done) as f64))
    )
}

/// The 1, 5 and 15 minute load averages (Linux), to judge how busy the machine was.
pub(crate) fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

/// Messages per second to three significant figures: `412 k`, `1.23 M`, `950`.
pub(crate) fn rate(value: f64) -> String {
    if !value.is_finite() {
        return "—".to_owned();
    }
    let (scaled, unit) = match value.abs() {
        v if v >= 1e6 => (value / 1e6, " M"),
        v if v >= 1e3 => (value / 1e3, " k"),
        _ => (value, ""),
    };
    format!("{}{unit}", significant(scaled))
}

/// Three significant figures (no exponent).
pub(crate) fn significant(value: f64) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    if !value.is_finite() {
        return "—".to_owned();
    }
    let digits = value.abs().log10().floor() as i32;
    let decimals = (2 - digits).max(0) as usize;
    format!("{value:.decimals$}")
}

/// `45s`, `1m10s`, `1h02m`.
pub(crate) fn duration(time: Duration) -> String {
    let seconds = time.as_secs_f64().round() as u64;
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// A command's options parsed from `args` as clap would (for the tests of the commands that
/// share this module).
#[cfg(test)]
pub(crate) fn parse_options<T: clap::Args>(command: &'static str, args: &[&str]) -> T {
    let matches = T::augment_args(clap::Command::new(command))
        .try_get_matches_from(std::iter::once(command).chain(args.iter().copied()))
        .expect("clap accepts it");
    <T as clap::FromArgMatches>::from_arg_matches(&matches).expect("clap accepts it")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_says_which_point_how_many_left_and_the_time_left() {
        assert_eq!(
            progress_line(
                "sweep",
                3,
                10,
                Duration::from_secs(30),
                "(batch-size=64, repeat 1)"
            ),
            "sweep: point 3/10 (batch-size=64, repeat 1), ~1m10s left"
        );
        assert_eq!(
            progress_line("sweep", 10, 10, Duration::from_secs(30), "(x)"),
            "sweep: point 10/10 (x), ~0s left"
        );
    }

    #[test]
    fn figures_read_as_the_progress_line_shows_them() {
        assert_eq!(rate(412_345.0), "412 k");
        assert_eq!(rate(1_234_567.0), "1.23 M");
        assert_eq!(rate(950.0), "950");
        assert_eq!(rate(f64::NAN), "—");
        assert_eq!(significant(0.01234), "0.0123");
        assert_eq!(duration(Duration::from_secs(45)), "45s");
        assert_eq!(duration(Duration::from_secs(3720)), "1h02m");
    }
}

//! Captures what makes a run comparable with another: time, code revision, compiler, build
//! profile, machine. Every probe is best effort: what cannot be read is left `null`.

use std::process::Command;
use std::time::SystemTime;

use serde_json::Value;

use crate::config::available_cores;
use perfgate_results::Environment;

/// Reads the environment now; `run` and `workload` describe the settings.
pub(crate) fn capture(run: Value, workload: Value) -> Environment {
    let (git_commit, git_dirty) = git_state();
    let cpu_model = sysinfo::System::new_with_specifics(
        sysinfo::RefreshKind::nothing().with_cpu(sysinfo::CpuRefreshKind::nothing()),
    )
    .ok()
    .and_then(|system| system.cpus().first().map(|cpu| cpu.brand().trim().to_owned()))
    .filter(|brand| !brand.is_empty())
    .unwrap_or_else(|| "unknown".to_owned());
    Environment {
        timestamp: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        git_commit,
        git_dirty,
        rustc: env!("PERFGATE_RUSTC_VERSION").to_owned(),
        build_profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .to_owned(),
        cpu_model,
        logical_cores: available_cores(),
        os: sysinfo::System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.to_owned()),
        kernel: sysinfo::System::kernel_version().ok(),
        hostname: sysinfo::System::host_name().ok(),
        run,
        workload,
    }
}

/// The current commit and whether the work tree differs from it, if `git` can tell.
fn git_state() -> (Option<String>, Option<bool>) {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "HEAD"]).filter(|hash| !hash.is_empty());
    let dirty = commit
        .as_ref()
        .and_then(|_| git(&["status", "--porcelain", "--untracked-files=no"]))
        .map(|status| !status.is_empty());
    (commit, dirty)
}

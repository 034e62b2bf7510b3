//! The GitHub workflows parse, pin their actions to versions, and call only `cargo xtask`
//! commands and flags that exist: a workflow that breaks is only found out on GitHub otherwise.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn workflows() -> Vec<(PathBuf, Yaml)> {
    let dir = root().join(".github/workflows");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let mut docs = YamlLoader::load_from_str(&text)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            assert_eq!(docs.len(), 1, "{}", path.display());
            found.push((path, docs.remove(0)));
        }
    }
    assert!(found.len() >= 2, "ci.yml and benchmarks.yml expected");
    found
}

fn steps(workflow: &Yaml) -> Vec<&Yaml> {
    let jobs = workflow["jobs"].as_hash().expect("jobs");
    jobs.values()
        .flat_map(|job| job["steps"].as_vec().expect("steps").iter())
        .collect()
}

#[test]
fn workflows_parse_and_pin_their_actions() {
    for (path, workflow) in workflows() {
        assert!(!workflow["on"].is_badvalue(), "{}: no `on`", path.display());
        for step in steps(&workflow) {
            let Some(action) = step["uses"].as_str() else {
                assert!(
                    step["run"].as_str().is_some(),
                    "{}: a step with neither uses nor run",
                    path.display()
                );
                continue;
            };
            let (_, version) = action.split_once('@').expect("an action with a version");
            let sha = version.len() == 40 && version.chars().all(|c| c.is_ascii_hexdigit());
            let semver = version.starts_with('v') && version[1..].split('.').count() == 3;
            assert!(
                sha || semver,
                "{}: {action} is not pinned to a version",
                path.display()
            );
        }
    }
}

/// Each `cargo xtask TASK --flag ...` in a `run:` script, as (task, flags). A command ends at a
/// line break (unless the line ends in `\\`), `|`, `||`, `&&` or `;`.
fn xtask_calls(script: &str) -> Vec<(String, Vec<String>)> {
    script
        .replace("\\\n", " ")
        .lines()
        .flat_map(xtask_calls_in_line)
        .collect()
}

fn xtask_calls_in_line(line: &str) -> Vec<(String, Vec<String>)> {
    let mut calls = Vec::new();
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut i = 0;
    while i + 2 < words.len() {
        if words[i] == "cargo" && words[i + 1] == "xtask" {
            let task = words[i + 2].to_owned();
            let mut flags = Vec::new();
            for word in &words[i + 3..] {
                if matches!(*word, "|" | "||" | "&&" | ";") || word.ends_with(';') {
                    break;
                }
                if let Some(flag) = word.strip_prefix("--") {
                    flags.push(format!("--{}", flag.split('=').next().unwrap()));
                }
            }
            calls.push((task, flags));
            i += 3;
        } else {
            i += 1;
        }
    }
    calls
}

/// `--help` of the debug binary `bin` of this workspace's `package`, built if `cargo test` did not
/// build it.
fn help_of_binary(package: &str, bin: &str) -> String {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let binary = target.join("debug").join(bin);
    if !binary.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", package, "--bin", bin])
            .current_dir(root())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let output = Command::new(&binary).arg("--help").output().unwrap();
    assert!(output.status.success(), "{bin} --help");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn help_of_task(task: &str) -> String {
    match task {
        // These pass their arguments on to the binaries; bench also takes the history flags.
        "bench" => help_of_binary("perfgate-profiler-cli", "perfgate-profiler") + " --history --no-history",
        "report" => help_of_binary("perfgate-report", "perfgate-report"),
        _ => {
            let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
                .args([task, "--help"])
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "`cargo xtask {task}` does not exist: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
    }
}

#[test]
fn workflows_call_only_xtask_commands_and_flags_that_exist() {
    let mut checked = BTreeSet::new();
    for (path, workflow) in workflows() {
        for step in steps(&workflow) {
            let Some(script) = step["run"].as_str() else {
                continue;
            };
            for (task, flags) in xtask_calls(script) {
                let help = help_of_task(&task);
                for flag in flags {
                    let known = help
                        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
                        .any(|word| {
                            word == flag
                                || word.starts_with(&format!("{flag}="))
                                || word.starts_with(&format!("{flag}<"))
                        });
                    assert!(known, "{}: `cargo xtask {task}` has no {flag}", path.display());
                    checked.insert(format!("{task} {flag}"));
                }
            }
        }
    }
    for expected in [
        "compare --base",
        "compare --quick",
        "compare --instructions",
        "bench --quick",
        "report --thresholds",
    ] {
        assert!(
            checked.contains(expected),
            "{expected} was not checked: {checked:?}"
        );
    }
}

#[test]
fn the_call_scanner_reads_folded_and_chained_commands() {
    let calls = xtask_calls(
        "cargo xtask compare --base x --quick \\\n  --json f && cargo xtask report --out y || test\ncargo xtask trend --last 3",
    );
    assert_eq!(
        calls,
        vec![
            (
                "compare".to_owned(),
                vec!["--base".to_owned(), "--quick".to_owned(), "--json".to_owned()]
            ),
            ("report".to_owned(), vec!["--out".to_owned()]),
            ("trend".to_owned(), vec!["--last".to_owned()]),
        ]
    );
}

/// The nightly regression issue: the step that decides (`id: nightly`) calls
/// `cargo xtask regression-issue` with `--github-output`, the step after it acts only on
/// `open`/`close` through `gh` with the label and title that command wrote, and the job may
/// write issues. A renamed output or a lost permission would only show on GitHub otherwise.
#[test]
fn every_gating_comparison_counts_instructions_with_valgrind_installed_first() {
    let (path, workflow) = workflows()
        .into_iter()
        .find(|(path, _)| path.ends_with("benchmarks.yml"))
        .expect("benchmarks.yml");
    let mut gating = 0;
    for (name, job) in workflow["jobs"].as_hash().expect("jobs") {
        let runs: Vec<&str> = job["steps"]
            .as_vec()
            .map(|steps| steps.iter().filter_map(|step| step["run"].as_str()).collect())
            .unwrap_or_default();
        let installs = runs
            .iter()
            .position(|run| run.contains("apt-get install") && run.contains("valgrind"));
        for (index, run) in runs.iter().enumerate() {
            // A comparison whose verdict gates (with --confirm) must count: `on` fails without
            // Valgrind instead of quietly gating on the timed figures alone.
            if run.contains("cargo xtask compare") && run.contains("--confirm") {
                gating += 1;
                assert!(
                    run.contains("--instructions on"),
                    "{}: job {name:?}: a gating compare without --instructions on",
                    path.display()
                );
                assert!(
                    installs.is_some_and(|at| at < index),
                    "{}: job {name:?} does not install valgrind before comparing",
                    path.display()
                );
            }
        }
    }
    assert_eq!(gating, 2, "the pull-request gate and the nightly check");
}

#[test]
fn the_nightly_job_keeps_one_regression_issue() {
    let (path, workflow) = workflows()
        .into_iter()
        .find(|(path, _)| path.ends_with("benchmarks.yml"))
        .expect("benchmarks.yml");
    let jobs = workflow["jobs"].as_hash().expect("jobs");
    let (name, job) = jobs
        .iter()
        .find(|(_, job)| {
            job["steps"].as_vec().is_some_and(|steps| {
                steps.iter().any(|step| {
                    step["run"]
                        .as_str()
                        .is_some_and(|run| run.contains("cargo xtask regression-issue"))
                })
            })
        })
        .unwrap_or_else(|| panic!("{}: no job calls regression-issue", path.display()));
    let name = name.as_str().unwrap_or_default();
    assert_eq!(
        job["permissions"]["issues"].as_str(),
        Some("write"),
        "{}: job {name} needs `issues: write`",
        path.display()
    );
    let steps = job["steps"].as_vec().unwrap();
    let decide = steps
        .iter()
        .position(|step| step["id"].as_str() == Some("nightly"))
        .expect("a step with id: nightly");
    let script = steps[decide]["run"].as_str().unwrap();
    assert!(
        script.contains("cargo xtask regression-issue")
            && script.contains("--github-output \"$GITHUB_OUTPUT\"")
    );
    assert!(script.contains("cargo xtask compare") && script.contains("--confirm"));
    let act = &steps[decide + 1];
    let condition = act["if"].as_str().unwrap_or_default();
    assert!(
        condition.contains("steps.nightly.outputs.action == 'open'")
            && condition.contains("steps.nightly.outputs.action == 'close'"),
        "{condition}"
    );
    let env = &act["env"];
    for (variable, output) in [("ACTION", "action"), ("TITLE", "title"), ("LABEL", "label")] {
        assert_eq!(
            env[variable].as_str(),
            Some(format!("${{{{ steps.nightly.outputs.{output} }}}}").as_str()),
            "{variable}"
        );
    }
    let run = act["run"].as_str().unwrap();
    for needed in [
        "gh issue list --label \"$LABEL\" --state open",
        "gh issue create --title \"$TITLE\" --label \"$LABEL\"",
        "gh issue edit",
        "gh issue close",
    ] {
        assert!(run.contains(needed), "the issue step lacks `{needed}`");
    }
    // What regression-issue writes to $GITHUB_OUTPUT is what the step reads.
    let dir = tempfile::tempdir().unwrap();
    let verdict = dir.path().join("verdict.json");
    std::fs::write(
        &verdict,
        r#"{"overall":"fail","base":"a","candidate":"b","metrics":[]}"#,
    )
    .unwrap();
    let output = dir.path().join("github-output");
    let status = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["regression-issue", "--verdict"])
        .arg(&verdict)
        .arg("--out")
        .arg(dir.path().join("issue.md"))
        .arg("--github-output")
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success());
    let written = std::fs::read_to_string(&output).unwrap();
    let keys: BTreeSet<&str> = written
        .lines()
        .filter_map(|line| line.split_once('=').map(|(key, _)| key))
        .collect();
    assert_eq!(keys, BTreeSet::from(["action", "title", "label"]), "{written}");
    assert!(written.contains("action=open\n"), "{written}");
}

//! `run_into` against a real child process that writes what cargo writes and then rests, as one
//! long crate does: the clock must move while the child prints nothing.

#![cfg(unix)]

use std::process::Command;

use perfgate_cargo_progress::{Sink, run_into};

/// A stand-in for cargo: says which bar settings it was given, draws a bar, rests 3.5 s, then
/// compiles one more crate and finishes with exit code 3.
fn resting_cargo() -> Command {
    let mut command = Command::new("sh");
    command.arg("-c").arg(
        r#"printf '   Compiling a v1 (when=%s width=%s)\n' "$CARGO_TERM_PROGRESS_WHEN" "$CARGO_TERM_PROGRESS_WIDTH" >&2
printf '    Building [===>   ] 1/2: a   \r' >&2
sleep 3.5
printf '\033[K   Compiling b v1\n' >&2
printf '    Finished `dev` profile in 3.50s\n' >&2
exit 3"#,
    );
    command
}

#[test]
fn in_a_terminal_the_clock_moves_while_cargo_rests_and_the_exit_status_is_cargos() {
    let mut out = Vec::new();
    let status = run_into(resting_cargo(), Sink::Terminal, 77, &mut out).unwrap();
    assert_eq!(status.code(), Some(3));
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("Compiling a v1 (when=always width=77)\n"),
        "{text:?}"
    );
    // Drawn at least at 0, 1, 2 and 3 s while the child printed nothing.
    for clock in ["  0:00", "  0:01", "  0:02", "  3 s on this step · 0:03"] {
        assert!(
            text.contains(&format!("1/2: a{clock}")),
            "no {clock:?} in {text:?}"
        );
    }
    let last_bar = text.rfind("1/2: a").unwrap();
    let line_b = text.find("Compiling b v1").unwrap();
    assert!(
        last_bar < line_b,
        "the bar is taken off before cargo's next line: {text:?}"
    );
    assert!(text.ends_with("Finished `dev` profile in 3.50s\n"), "{text:?}");
}

#[test]
fn in_a_log_there_is_no_bar_and_a_short_rest_adds_nothing() {
    let mut out = Vec::new();
    let status = run_into(resting_cargo(), Sink::Log, 200, &mut out).unwrap();
    assert_eq!(status.code(), Some(3));
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text,
        "   Compiling a v1 (when=always width=200)\n   Compiling b v1\n    Finished `dev` profile in 3.50s\n"
    );
}

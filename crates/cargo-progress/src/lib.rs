//! Cargo's own progress, with a clock that keeps moving while one crate compiles.
//!
//! Cargo's bar (`Building [====>  ] 249/268: perfgate-results, tikv-jemalloc-sys(build)`) names
//! what is compiling but stands still while one rustc or one C build runs: up to 45 s in a
//! measured first release build (issue 19). So `cargo xtask`'s launcher (building xtask) and
//! xtask (building the release profiler) run cargo with its bar forced on into a pipe and pass
//! everything through unchanged, adding only time:
//! - in a terminal, the bar is redrawn every second with how long the current step has lasted
//!   and how long the build has taken;
//! - in a log (CI, a pipe), cargo prints its `Compiling …` lines and no bar; when nothing was
//!   printed for [`LOG_HEARTBEAT`], one line says what is still compiling and for how long.
//!
//! A build with nothing to compile prints nothing: its `Finished` line is dropped, so that every
//! `cargo xtask` does not say it twice.
//!
//! [`Progress`] is the pure part (bytes and instants in, bytes out), so its rendering is tested
//! without a build; [`run`] wires it to a cargo process.

use std::io::{self, IsTerminal, Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// How long a log may go without a line before one says what is still compiling.
pub const LOG_HEARTBEAT: Duration = Duration::from_secs(15);

/// How often the terminal's bar is redrawn while nothing else happens.
const REDRAW: Duration = Duration::from_millis(250);

/// Columns kept free after cargo's bar for the clock (`  35 s on this step · 4:12`).
const CLOCK_COLUMNS: usize = 30;

/// The narrowest bar worth drawing: `Building [==>  ] 249/268: ` and a crate's name.
const MIN_BAR_WIDTH: usize = 50;

/// Cargo's bar width in a log: wide, since the bar is never shown there and its text only names
/// the crates in a heartbeat line.
const LOG_BAR_WIDTH: usize = 200;

/// The terminal's erase-to-end-of-line sequence, which cargo writes before a line to erase its bar.
const ERASE_LINE: &[u8] = b"\x1b[K";

/// Where the output goes, which decides how time is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// A terminal: cargo's bar, redrawn with a clock.
    Terminal,
    /// A log: cargo's lines, and a heartbeat line after [`LOG_HEARTBEAT`] of silence.
    Log,
}

/// Cargo's stderr, passed through with time added.
#[derive(Debug)]
pub struct Progress {
    sink: Sink,
    started: Instant,
    /// Bytes after the last `\r` or `\n`: a line or a bar cargo has not finished writing.
    partial: Vec<u8>,
    /// Cargo's latest bar as cargo wrote it (colours included, padding trimmed).
    bar: Option<String>,
    /// When the bar last changed: the current step's start.
    bar_since: Instant,
    /// Whether a bar is on the terminal's last line now.
    drawn: bool,
    /// What the last drawn clock said, so a redraw happens only when it changes (or the bar was
    /// taken off for a line).
    drawn_clock: String,
    /// When the log last received a line (a line of cargo's or a heartbeat).
    last_log_line: Instant,
    /// Whether cargo compiled anything (said `Compiling`): if not, its `Finished` line is dropped.
    compiled: bool,
}

impl Progress {
    /// Starts with nothing shown; `now` is the build's start.
    pub fn new(sink: Sink, now: Instant) -> Self {
        Self {
            sink,
            started: now,
            partial: Vec::new(),
            bar: None,
            bar_since: now,
            drawn: false,
            drawn_clock: String::new(),
            last_log_line: now,
            compiled: false,
        }
    }

    /// Takes a chunk of cargo's stderr.
    pub fn feed(&mut self, bytes: &[u8], now: Instant, out: &mut impl Write) -> io::Result<()> {
        for &byte in bytes {
            match byte {
                b'\n' => {
                    let line = std::mem::take(&mut self.partial);
                    self.line(&line, now, out)?;
                }
                b'\r' => {
                    let segment = std::mem::take(&mut self.partial);
                    self.segment(&segment, now, out)?;
                }
                _ => self.partial.push(byte),
            }
        }
        out.flush()
    }

    /// Called between chunks: redraws the clock, or writes a heartbeat line into a log.
    pub fn tick(&mut self, now: Instant, out: &mut impl Write) -> io::Result<()> {
        match self.sink {
            Sink::Terminal => {
                let moved = clock(self.step(now), self.elapsed(now)) != self.drawn_clock;
                if self.bar.is_some() && (moved || !self.drawn) {
                    self.draw(now, out)?;
                }
            }
            Sink::Log => {
                if let Some(bar) = &self.bar
                    && now.duration_since(self.last_log_line) >= LOG_HEARTBEAT
                {
                    writeln!(
                        out,
                        "    Building {} (still compiling: {} on this step, {} in all)",
                        bar_words(bar),
                        seconds(self.step(now)),
                        minutes(self.elapsed(now))
                    )?;
                    self.last_log_line = now;
                }
            }
        }
        out.flush()
    }

    /// Cargo has exited: writes what it left unfinished and takes the bar off the terminal.
    pub fn finish(&mut self, now: Instant, out: &mut impl Write) -> io::Result<()> {
        let rest = std::mem::take(&mut self.partial);
        if !is_bar(&rest) && !strip_ansi(&rest).trim().is_empty() {
            self.line(&rest, now, out)?;
        }
        self.clear(out)?;
        self.bar = None;
        out.flush()
    }

    /// A whole line of cargo's (`Compiling x`, a warning, `Finished …`): written as it is, above
    /// the bar.
    fn line(&mut self, line: &[u8], now: Instant, out: &mut impl Write) -> io::Result<()> {
        // Cargo erases its bar (`\r`, then erase-line) before a line; the bar here is erased by
        // `clear`, and a log should not carry the escape.
        let line = line.strip_prefix(ERASE_LINE).unwrap_or(line);
        let words = strip_ansi(line);
        let words = words.trim_start();
        if words.starts_with("Compiling") {
            self.compiled = true;
        } else if words.starts_with("Finished") {
            if !self.compiled {
                return Ok(());
            }
            // The build is over: its last bar is not drawn again.
            self.bar = None;
        }
        self.clear(out)?;
        out.write_all(line)?;
        out.write_all(b"\n")?;
        self.last_log_line = now;
        // The bar comes back with cargo's next one or the next tick, not after every line: a
        // burst of lines then costs no redraws.
        Ok(())
    }

    /// A piece ending in `\r`: cargo's bar, or the erase-line cargo writes before clearing it.
    fn segment(&mut self, segment: &[u8], now: Instant, out: &mut impl Write) -> io::Result<()> {
        if !is_bar(segment) {
            // `\x1b[K` alone (cargo erasing its bar), or nothing: the bar is gone for now; cargo
            // draws it again on its next tick.
            return Ok(());
        }
        let text = String::from_utf8_lossy(segment).trim_end().to_owned();
        if self.bar.as_deref() != Some(text.as_str()) {
            self.bar = Some(text);
            self.bar_since = now;
        }
        if self.sink == Sink::Terminal {
            self.draw(now, out)?;
        }
        Ok(())
    }

    fn draw(&mut self, now: Instant, out: &mut impl Write) -> io::Result<()> {
        let Some(bar) = &self.bar else { return Ok(()) };
        let clock = clock(self.step(now), self.elapsed(now));
        write!(out, "\r{bar}{clock}\x1b[K")?;
        self.drawn = true;
        self.drawn_clock = clock;
        Ok(())
    }

    fn clear(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.drawn {
            out.write_all(b"\r\x1b[K")?;
            self.drawn = false;
        }
        Ok(())
    }

    fn step(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.bar_since)
    }

    fn elapsed(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.started)
    }
}

/// The clock after the bar: the build's time, and the current step's once it has lasted long
/// enough to make someone wonder.
fn clock(step: Duration, elapsed: Duration) -> String {
    if step >= Duration::from_secs(3) {
        format!("  {} on this step · {}", seconds(step), minutes(elapsed))
    } else {
        format!("  {}", minutes(elapsed))
    }
}

fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs())
}

fn minutes(duration: Duration) -> String {
    let seconds = duration.as_secs();
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// Whether a piece of cargo's output is its progress bar (`Building [`, possibly coloured).
fn is_bar(segment: &[u8]) -> bool {
    let text = strip_ansi(segment);
    let text = text.trim_start();
    text.starts_with("Building [")
}

/// The bar's words without colours or the bar itself: `249/268: perfgate-results, …`.
fn bar_words(bar: &str) -> String {
    let text = strip_ansi(bar.as_bytes());
    match text.split_once("] ") {
        Some((_, words)) => words.trim().to_owned(),
        None => text.trim().to_owned(),
    }
}

/// The text without ANSI escape sequences (CSI `ESC [ … letter` and OSC `ESC ] … BEL/ST`).
fn strip_ansi(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            plain.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\x07' || (c == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    plain
}

/// Whether the user asked cargo to be quiet or to show no bar: then the build runs as it would
/// without xtask.
fn left_alone() -> bool {
    let quiet = std::env::var("CARGO_TERM_QUIET").is_ok_and(|value| value == "true");
    let no_bar = std::env::var("CARGO_TERM_PROGRESS_WHEN").is_ok_and(|value| value == "never");
    quiet || no_bar
}

/// Runs a `cargo build` command with its progress shown as this crate describes, and returns
/// its exit status. Its standard output is left as the command has it.
///
/// # Errors
/// When cargo cannot be started or waited for.
pub fn run(mut command: Command) -> io::Result<ExitStatus> {
    if left_alone() {
        return command.status();
    }
    let stderr = io::stderr();
    let columns = stderr.is_terminal().then(|| terminal_width().unwrap_or(80));
    let (sink, width) = sink_and_width(columns);
    run_into(command, sink, width, &mut stderr.lock())
}

/// Where the output goes and how wide cargo's bar may be, given the terminal's columns (`None`
/// when stderr is not a terminal). A terminal too narrow for a useful bar and the clock is
/// treated as a log: a redrawn line that wraps would leave a trail of bars.
fn sink_and_width(columns: Option<usize>) -> (Sink, usize) {
    match columns {
        Some(columns) if columns >= CLOCK_COLUMNS + MIN_BAR_WIDTH => {
            (Sink::Terminal, columns - CLOCK_COLUMNS)
        }
        _ => (Sink::Log, LOG_BAR_WIDTH),
    }
}

/// [`run`] with the sink, cargo's bar width and the output chosen by the caller (tests, or a
/// caller that keeps its own log).
///
/// # Errors
/// When cargo cannot be started or waited for. Writing to `out` may fail without stopping the
/// build: cargo's output is still read to its end.
pub fn run_into(
    mut command: Command,
    sink: Sink,
    width: usize,
    out: &mut impl Write,
) -> io::Result<ExitStatus> {
    command
        .env("CARGO_TERM_PROGRESS_WHEN", "always")
        .env("CARGO_TERM_PROGRESS_WIDTH", width.to_string())
        .stderr(Stdio::piped());
    if sink == Sink::Terminal && std::env::var_os("CARGO_TERM_COLOR").is_none() {
        // A pipe would turn cargo's colours off; the terminal behind it wants them.
        command.env("CARGO_TERM_COLOR", "always");
    }
    let mut child = command.spawn()?;
    let Some(mut cargo_stderr) = child.stderr.take() else {
        return Err(io::Error::other("cargo's stderr was not piped"));
    };
    let (chunks, received) = mpsc::channel::<Vec<u8>>();
    let reader = thread::spawn(move || {
        let mut buffer = [0_u8; 8192];
        loop {
            match cargo_stderr.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(read) => {
                    if chunks.send(buffer[..read].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let mut progress = Progress::new(sink, Instant::now());
    loop {
        // A failed write (a closed pipe) must not stop cargo's output being read, or cargo would
        // block on a full pipe; so write errors are ignored here.
        match received.recv_timeout(REDRAW) {
            Ok(chunk) => {
                let _ = progress.feed(&chunk, Instant::now(), out);
            }
            Err(RecvTimeoutError::Timeout) => {
                let _ = progress.tick(Instant::now(), out);
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = progress.finish(Instant::now(), out);
    let _ = reader.join();
    child.wait()
}

/// The width of the terminal behind stderr, in columns.
fn terminal_width() -> Option<usize> {
    terminal_size::terminal_size_of(io::stderr()).map(|(width, _)| usize::from(width.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cargo's stderr with its bar forced on and colours, as recorded from a real build.
    const RECORDED: &[u8] = b"\x1b[1m\x1b[92m   Compiling\x1b[0m libc v0.2.191\n\
\x1b[1m\x1b[96m    Building\x1b[0m [====>      ] 249/268: perfgate-results, tikv-jemalloc-sys(build)   \r\
\x1b[K\x1b[1m\x1b[92m   Compiling\x1b[0m sysinfo v0.37.2\n\
\x1b[1m\x1b[96m    Building\x1b[0m [=====>     ] 250/268: perfgate-results, sysinfo   \r";

    fn plain(bytes: &[u8]) -> String {
        strip_ansi(bytes)
    }

    /// A `Progress` for `sink` that was given [`RECORDED`] `after` its start: it, its start and
    /// what it wrote.
    fn fed_recorded(sink: Sink, after: Duration) -> (Progress, Instant, Vec<u8>) {
        let start = Instant::now();
        let mut progress = Progress::new(sink, start);
        let mut out = Vec::new();
        progress.feed(RECORDED, start + after, &mut out).unwrap();
        (progress, start, out)
    }

    #[test]
    fn in_a_terminal_every_line_of_cargo_passes_through_and_the_bar_gets_a_clock() {
        let (_, _, out) = fed_recorded(Sink::Terminal, Duration::from_secs(61));
        let text = plain(&out);
        assert!(text.contains("Compiling libc v0.2.191\n"), "{text:?}");
        assert!(text.contains("Compiling sysinfo v0.37.2\n"), "{text:?}");
        assert!(
            text.contains("250/268: perfgate-results, sysinfo  1:01"),
            "{text:?}"
        );
        // The colours cargo wrote are kept.
        assert!(out.windows(5).any(|w| w == b"\x1b[96m"));
    }

    #[test]
    fn in_a_terminal_the_clock_moves_while_the_bar_stands_still() {
        let (mut progress, start, mut out) = fed_recorded(Sink::Terminal, Duration::ZERO);
        out.clear();
        progress
            .tick(start + Duration::from_millis(400), &mut out)
            .unwrap();
        assert!(
            out.is_empty(),
            "nothing to redraw within the same second: {:?}",
            plain(&out)
        );
        progress.tick(start + Duration::from_secs(35), &mut out).unwrap();
        let text = plain(&out);
        assert!(text.starts_with('\r'), "redrawn over itself: {text:?}");
        assert!(
            text.contains("250/268: perfgate-results, sysinfo  35 s on this step · 0:35"),
            "{text:?}"
        );
        // Cargo redrawing the same bar is the same step: the step's time is not reset.
        out.clear();
        progress
            .feed(
                b"\x1b[1m\x1b[96m    Building\x1b[0m [=====>     ] 250/268: perfgate-results, sysinfo   \r",
                start + Duration::from_secs(36),
                &mut out,
            )
            .unwrap();
        assert!(plain(&out).contains("36 s on this step"), "{:?}", plain(&out));
        // A new bar is a new step.
        out.clear();
        progress
            .feed(
                b"\x1b[1m\x1b[96m    Building\x1b[0m [======>    ] 251/268: perfgate-results   \r",
                start + Duration::from_secs(37),
                &mut out,
            )
            .unwrap();
        let text = plain(&out);
        assert!(text.contains("251/268: perfgate-results  0:37"), "{text:?}");
        assert!(!text.contains("on this step"), "{text:?}");
    }

    #[test]
    fn in_a_terminal_the_bar_is_taken_off_before_a_line_back_at_the_next_tick_and_off_at_the_end() {
        let start = Instant::now();
        let mut progress = Progress::new(Sink::Terminal, start);
        let mut out = Vec::new();
        progress
            .feed(
                b"\x1b[1m\x1b[96m    Building\x1b[0m [=>   ] 1/3: a   \r\x1b[K   Compiling b v1\n",
                start,
                &mut out,
            )
            .unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        let bar = text.find("1/3: a").unwrap();
        let cleared = text[bar..].find("\r\x1b[K").map(|at| at + bar).unwrap();
        let line = text.find("Compiling b").unwrap();
        assert!(bar < cleared && cleared < line, "{text:?}");
        assert!(
            text.ends_with("Compiling b v1\n"),
            "not drawn again after every line: {text:?}"
        );
        out.clear();
        progress
            .tick(start + Duration::from_millis(250), &mut out)
            .unwrap();
        assert!(
            plain(&out).contains("1/3: a  0:00"),
            "back at the next tick: {:?}",
            plain(&out)
        );
        out.clear();
        progress.finish(start + Duration::from_secs(1), &mut out).unwrap();
        assert_eq!(out, b"\r\x1b[K");
    }

    #[test]
    fn in_a_log_no_bar_is_written_and_a_silence_gets_one_line_naming_the_crates() {
        let (mut progress, start, mut out) = fed_recorded(Sink::Log, Duration::from_secs(100));
        assert!(!out.windows(3).any(|w| w == ERASE_LINE), "{:?}", plain(&out));
        let text = plain(&out);
        assert!(!text.contains("Building ["), "{text:?}");
        assert!(text.contains("Compiling sysinfo v0.37.2\n"), "{text:?}");
        out.clear();
        progress
            .tick(
                start + Duration::from_secs(100) + LOG_HEARTBEAT - Duration::from_secs(1),
                &mut out,
            )
            .unwrap();
        assert!(out.is_empty(), "{:?}", plain(&out));
        progress
            .tick(start + Duration::from_secs(100) + LOG_HEARTBEAT, &mut out)
            .unwrap();
        let text = plain(&out);
        assert_eq!(
            text,
            format!(
                "    Building 250/268: perfgate-results, sysinfo (still compiling: {} s on this step, 1:{} in all)\n",
                LOG_HEARTBEAT.as_secs(),
                100 + LOG_HEARTBEAT.as_secs() - 60
            )
        );
        // The next heartbeat waits for another silence.
        out.clear();
        progress
            .tick(start + Duration::from_secs(101) + LOG_HEARTBEAT, &mut out)
            .unwrap();
        assert!(out.is_empty(), "{:?}", plain(&out));
    }

    #[test]
    fn in_a_log_nothing_is_said_before_cargo_draws_a_bar() {
        let start = Instant::now();
        let mut progress = Progress::new(Sink::Log, start);
        let mut out = Vec::new();
        progress.tick(start + Duration::from_secs(60), &mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn a_line_cargo_left_unfinished_is_written_at_the_end_and_a_bar_is_not() {
        let start = Instant::now();
        let mut progress = Progress::new(Sink::Log, start);
        let mut out = Vec::new();
        progress
            .feed(b"error: could not compile `x`", start, &mut out)
            .unwrap();
        assert!(out.is_empty());
        progress.finish(start, &mut out).unwrap();
        assert_eq!(out, b"error: could not compile `x`\n");
        let mut progress = Progress::new(Sink::Log, start);
        out.clear();
        progress
            .feed(b"    Building [=> ] 1/2: x", start, &mut out)
            .unwrap();
        progress.finish(start, &mut out).unwrap();
        assert!(out.is_empty(), "{:?}", plain(&out));
    }

    #[test]
    fn a_build_with_nothing_to_compile_says_nothing_and_one_that_compiled_says_finished() {
        let start = Instant::now();
        let finished = b"\x1b[1m\x1b[92m    Finished\x1b[0m `dev` profile [unoptimized] target(s) in 0.10s\n";
        for sink in [Sink::Terminal, Sink::Log] {
            let mut progress = Progress::new(sink, start);
            let mut out = Vec::new();
            progress.feed(finished, start, &mut out).unwrap();
            progress.finish(start, &mut out).unwrap();
            assert!(out.is_empty(), "{sink:?}: {:?}", plain(&out));
            let mut progress = Progress::new(sink, start);
            progress.feed(RECORDED, start, &mut out).unwrap();
            progress.feed(finished, start, &mut out).unwrap();
            assert!(
                plain(&out).contains("Finished `dev` profile"),
                "{sink:?}: {:?}",
                plain(&out)
            );
        }
    }

    #[test]
    fn ansi_sequences_are_stripped_for_the_heartbeat() {
        assert_eq!(strip_ansi(b"\x1b[1m\x1b[96mBuilding\x1b[0m x"), "Building x");
        assert_eq!(strip_ansi(b"a\x1b]9;4;1;50\x1b\\b\x1b]0;t\x07c"), "abc");
        assert_eq!(
            bar_words("\x1b[1m    Building\x1b[0m [==>  ] 3/9: a, b(build)"),
            "3/9: a, b(build)"
        );
    }

    #[test]
    fn a_terminal_gets_the_bar_with_room_for_the_clock_and_a_narrow_one_is_a_log() {
        assert_eq!(sink_and_width(Some(120)), (Sink::Terminal, 120 - CLOCK_COLUMNS));
        assert_eq!(
            sink_and_width(Some(CLOCK_COLUMNS + MIN_BAR_WIDTH)),
            (Sink::Terminal, MIN_BAR_WIDTH)
        );
        assert_eq!(
            sink_and_width(Some(CLOCK_COLUMNS + MIN_BAR_WIDTH - 1)).0,
            Sink::Log
        );
        assert_eq!(sink_and_width(None), (Sink::Log, LOG_BAR_WIDTH));
        // The longest clock fits its columns: a step of minutes in a build of hours.
        assert!(
            clock(Duration::from_secs(999), Duration::from_secs(35_999))
                .chars()
                .count()
                <= CLOCK_COLUMNS
        );
    }

    #[test]
    fn the_clock_reads_minutes_and_seconds() {
        assert_eq!(clock(Duration::from_secs(2), Duration::from_secs(5)), "  0:05");
        assert_eq!(
            clock(Duration::from_secs(45), Duration::from_secs(252)),
            "  45 s on this step · 4:12"
        );
    }
}

//! `cargo xtask browser-check [FILE]`: opens the HTML report in headless Chromium, fails on any
//! console message, page error, failed or refused request, and saves screenshots of the whole
//! page at a desktop and a narrow width.
//!
//! It drives Chromium through the DevTools protocol over `--remote-debugging-pipe` (JSON
//! messages separated by NUL bytes on file descriptors 3 and 4), which needs no WebSocket client
//! and no port. The report has no script, so any console message at all means something is
//! wrong: a Content-Security-Policy refusal, a resource that did not load.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

#[derive(Debug, clap::Args)]
pub(crate) struct Options {
    /// The HTML file to open
    #[arg(default_value = "docs/benchmark-results.html")]
    file: PathBuf,
    /// Where the screenshots go: DIR/desktop.png (1200 px wide) and DIR/narrow.png (420 px)
    #[arg(long, value_name = "DIR", default_value = "target/perfgate/browser")]
    screenshots: PathBuf,
    /// The browser to run
    #[arg(long, value_name = "PROGRAM", default_value = "chromium")]
    browser: String,
}

/// What the page did that a clean report never does.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub(crate) problems: Vec<String>,
}

pub(crate) fn run(options: &Options) -> anyhow::Result<ExitCode> {
    let findings = check(&options.file, &options.screenshots, &options.browser)?;
    if findings.problems.is_empty() {
        println!(
            "browser-check: {} loaded with no console message and no failed request; screenshots in {}",
            options.file.display(),
            options.screenshots.display()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for problem in &findings.problems {
            eprintln!("browser-check: {problem}");
        }
        Ok(ExitCode::FAILURE)
    }
}

/// Opens `file` at two widths, saves `desktop.png` and `narrow.png` in `screenshots`, and
/// returns what went wrong on the page.
pub(crate) fn check(file: &Path, screenshots: &Path, browser: &str) -> anyhow::Result<Findings> {
    let file = file
        .canonicalize()
        .with_context(|| format!("{}: cannot open", file.display()))?;
    std::fs::create_dir_all(screenshots).with_context(|| format!("creating {}", screenshots.display()))?;
    let mut session = Session::start(browser)?;
    let mut findings = Findings::default();
    for (name, width) in [("desktop", 1200), ("narrow", 420)] {
        let png = session.load_and_capture(&file, width, &mut findings)?;
        let path = screenshots.join(format!("{name}.png"));
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
    }
    session.close();
    Ok(findings)
}

/// A headless browser and the page it is driving.
struct Session {
    child: Child,
    to_browser: std::fs::File,
    from_browser: mpsc::Receiver<Value>,
    next_id: u64,
    session_id: String,
    _profile: TempDir,
}

/// A scratch profile directory, removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pipe() -> anyhow::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe writes two descriptors into the array we own.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        bail!("pipe: {}", std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just opened and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

const TIMEOUT: Duration = Duration::from_secs(60);

impl Session {
    fn start(browser: &str) -> anyhow::Result<Self> {
        let profile = std::env::temp_dir().join(format!("perfgate-browser-{}", std::process::id()));
        std::fs::create_dir_all(&profile)?;
        // The browser reads commands from fd 3 and writes replies and events to fd 4.
        let (commands_read, commands_write) = pipe()?;
        let (replies_read, replies_write) = pipe()?;
        let (child_in, child_out) = (commands_read.as_raw_fd(), replies_write.as_raw_fd());
        let mut command = Command::new(browser);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: between fork and exec only async-signal-safe calls (dup2) are made.
        unsafe {
            command.pre_exec(move || {
                if libc::dup2(child_in, 3) < 0 || libc::dup2(child_out, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {browser} (is Chromium installed?)"))?;
        drop((commands_read, replies_write));
        let (sender, receiver) = mpsc::channel();
        let replies = std::fs::File::from(replies_read);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(replies);
            let mut message = Vec::new();
            while reader.read_until(0, &mut message).is_ok_and(|read| read > 0) {
                message.pop_if(|byte| *byte == 0);
                if let Ok(value) = serde_json::from_slice::<Value>(&message)
                    && sender.send(value).is_err()
                {
                    break;
                }
                message.clear();
            }
        });
        let mut session = Self {
            child,
            to_browser: std::fs::File::from(commands_write),
            from_browser: receiver,
            next_id: 0,
            session_id: String::new(),
            _profile: TempDir(profile),
        };
        let target = session.call(
            "Target.createTarget",
            json!({"url": "about:blank"}),
            &mut Vec::new(),
        )?;
        let target_id = target["targetId"].as_str().context("no targetId")?.to_owned();
        let attached = session.call(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
            &mut Vec::new(),
        )?;
        session.session_id = attached["sessionId"].as_str().context("no sessionId")?.to_owned();
        for domain in ["Page", "Runtime", "Log", "Network"] {
            session.call(&format!("{domain}.enable"), json!({}), &mut Vec::new())?;
        }
        Ok(session)
    }

    fn send(&mut self, method: &str, params: Value) -> anyhow::Result<u64> {
        self.next_id += 1;
        let mut message = json!({"id": self.next_id, "method": method, "params": params});
        if !self.session_id.is_empty() && !method.starts_with("Target.") {
            message["sessionId"] = json!(self.session_id);
        }
        let mut bytes = serde_json::to_vec(&message)?;
        bytes.push(0);
        self.to_browser
            .write_all(&bytes)
            .context("writing to the browser")?;
        Ok(self.next_id)
    }

    /// Sends a command and waits for its reply; events that arrive meanwhile go to `events`.
    fn call(&mut self, method: &str, params: Value, events: &mut Vec<Value>) -> anyhow::Result<Value> {
        let id = self.send(method, params)?;
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .from_browser
                .recv_timeout(left)
                .with_context(|| format!("no reply to {method} within {TIMEOUT:?}"))?;
            if message["id"].as_u64() == Some(id) {
                if let Some(error) = message.get("error") {
                    bail!("{method}: {error}");
                }
                return Ok(message["result"].clone());
            }
            if message.get("method").is_some() {
                events.push(message);
            }
        }
    }

    /// Collects events until `until` has been seen, then for `settle` more.
    fn wait_for(&mut self, until: &str, settle: Duration, events: &mut Vec<Value>) -> anyhow::Result<()> {
        let deadline = Instant::now() + TIMEOUT;
        let mut seen_at: Option<Instant> = None;
        loop {
            let now = Instant::now();
            let stop = match seen_at {
                Some(at) => at + settle,
                None => deadline,
            };
            if now >= stop {
                return match seen_at {
                    Some(_) => Ok(()),
                    None => bail!("the page did not finish loading within {TIMEOUT:?}"),
                };
            }
            match self.from_browser.recv_timeout(stop - now) {
                Ok(message) => {
                    if message["method"].as_str() == Some(until) && seen_at.is_none() {
                        seen_at = Some(Instant::now());
                    }
                    events.push(message);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => bail!("the browser went away"),
            }
        }
    }

    fn load_and_capture(
        &mut self,
        file: &Path,
        width: u32,
        findings: &mut Findings,
    ) -> anyhow::Result<Vec<u8>> {
        let mut events = Vec::new();
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
            &mut events,
        )?;
        let url = format!("file://{}", file.display());
        self.call("Page.navigate", json!({"url": url}), &mut events)?;
        self.wait_for("Page.loadEventFired", Duration::from_millis(500), &mut events)?;
        let metrics = self.call("Page.getLayoutMetrics", json!({}), &mut events)?;
        let height = metrics["cssContentSize"]["height"]
            .as_f64()
            .or_else(|| metrics["contentSize"]["height"].as_f64())
            .unwrap_or(900.0)
            .clamp(300.0, 30_000.0);
        let content_width = metrics["cssContentSize"]["width"]
            .as_f64()
            .unwrap_or(f64::from(width));
        if content_width > f64::from(width) + 1.0 {
            findings.problems.push(format!(
                "at {width} px the page is {content_width:.0} px wide: it scrolls sideways"
            ));
        }
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height.ceil() as u64, "deviceScaleFactor": 1, "mobile": false}),
            &mut events,
        )?;
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}), &mut events)?;
        for event in &events {
            if let Some(problem) = problem(event) {
                findings.problems.push(format!("at {width} px: {problem}"));
            }
        }
        decode_base64(shot["data"].as_str().context("no screenshot data")?)
    }

    fn close(mut self) {
        let _ = self.send("Browser.close", json!({}));
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The problem an event reports, if it reports one.
fn problem(event: &Value) -> Option<String> {
    let params = &event["params"];
    match event["method"].as_str()? {
        "Runtime.consoleAPICalled" => Some(format!(
            "console.{}: {}",
            params["type"].as_str().unwrap_or("?"),
            params["args"]
                .as_array()
                .map(|args| {
                    args.iter()
                        .map(|arg| arg["value"].to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        )),
        "Runtime.exceptionThrown" => Some(format!(
            "uncaught exception: {}",
            params["exceptionDetails"]["text"].as_str().unwrap_or("?")
        )),
        "Log.entryAdded" => Some(format!(
            "console {} ({}): {} {}",
            params["entry"]["level"].as_str().unwrap_or("?"),
            params["entry"]["source"].as_str().unwrap_or("?"),
            params["entry"]["text"].as_str().unwrap_or(""),
            params["entry"]["url"].as_str().unwrap_or("")
        )),
        "Network.loadingFailed" => Some(format!(
            "request failed: {} {}",
            params["errorText"].as_str().unwrap_or("?"),
            params["blockedReason"].as_str().unwrap_or("")
        )),
        "Network.responseReceived" => {
            let status = params["response"]["status"].as_u64()?;
            let url = params["response"]["url"].as_str().unwrap_or("?");
            // file:// responses carry status 0 or 200; anything 400+ is a failure.
            (status >= 400).then(|| format!("HTTP {status} for {url}"))
        }
        _ => None,
    }
}

/// Standard base64 (with padding), as the DevTools protocol sends binary data.
fn decode_base64(text: &str) -> anyhow::Result<Vec<u8>> {
    fn value(byte: u8) -> Option<u32> {
        Some(match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let digits: Vec<u32> = chunk
            .iter()
            .take_while(|b| **b != b'=')
            .map(|b| value(*b).context("not base64"))
            .collect::<anyhow::Result<_>>()?;
        let mut group = 0u32;
        for (i, digit) in digits.iter().enumerate() {
            group |= digit << (18 - 6 * i);
        }
        let produced = match digits.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => bail!("truncated base64"),
        };
        out.extend_from_slice(&group.to_be_bytes()[1..=produced]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("YWJj").unwrap(), b"abc");
        assert_eq!(decode_base64("iVBORw0KGgo=").unwrap(), b"\x89PNG\r\n\x1a\n");
        assert!(decode_base64("a!==").is_err());
    }

    #[test]
    fn any_console_message_or_failed_request_is_a_problem() {
        let console = json!({"method": "Runtime.consoleAPICalled", "params": {"type": "log", "args": [{"value": "hi"}]}});
        assert_eq!(problem(&console).unwrap(), "console.log: \"hi\"");
        let refused = json!({"method": "Log.entryAdded", "params": {"entry": {"level": "error", "source": "security", "text": "Refused to load", "url": "https://cdn.example/x.js"}}});
        assert!(problem(&refused).unwrap().contains("Refused to load"));
        let missing =
            json!({"method": "Network.loadingFailed", "params": {"errorText": "net::ERR_FILE_NOT_FOUND"}});
        assert!(problem(&missing).unwrap().contains("ERR_FILE_NOT_FOUND"));
        let fine = json!({"method": "Network.responseReceived", "params": {"response": {"status": 200, "url": "file:///x"}}});
        assert!(problem(&fine).is_none());
        assert!(problem(&json!({"method": "Page.loadEventFired", "params": {}})).is_none());
    }
}

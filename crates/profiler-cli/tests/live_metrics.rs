//! `--serve-metrics`: the live endpoint answers during a run with figures that move, passes
//! Prometheus' own `promtool check metrics`, and a real Prometheus (Debian: `prometheus`) scrapes
//! it on loopback. The last two need those tools and say so when they are missing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts the (debug) profiler serving metrics on an ephemeral loopback port; returns it and the
/// address it printed.
fn start_profiler(out: &std::path::Path, duration: &str) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_perfgate-profiler"))
        .args([
            "--allow-debug",
            "--no-progress",
            "--serve-metrics",
            "0",
            "--duration",
            duration,
            "--warmup",
            "200ms",
            "--rate",
            "4000",
            "--probes",
            "heap,lag",
            "--out",
        ])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the profiler starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
    let mut line = String::new();
    let address = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).expect("stderr readable") > 0,
            "the profiler ended without printing its metrics address"
        );
        if let Some(rest) = line.trim().strip_prefix("metrics: http://") {
            break rest
                .trim_end_matches("/metrics")
                .parse::<SocketAddr>()
                .expect("a socket address");
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (child, address)
}

/// A plain HTTP/1.0 GET; returns the status line and the body.
fn get(address: SocketAddr, target: &str) -> (String, String) {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).expect("connects");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {target} HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("a response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (head.lines().next().unwrap_or("").to_owned(), body.to_owned())
}

fn value(text: &str, series_prefix: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(series_prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[test]
fn the_live_endpoint_serves_moving_figures_that_promtool_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, address) = start_profiler(dir.path(), "2s");
    assert!(
        address.ip().is_loopback(),
        "a bare port must bind loopback: {address}"
    );
    let (status, _) = get(address, "/nothing");
    assert!(status.contains("404"), "{status}");
    let mut scrapes = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) && child.try_wait().unwrap().is_none() {
        if let Ok(mut stream) = TcpStream::connect(address) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(stream, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
            let mut response = String::new();
            if stream.read_to_string(&mut response).is_ok() {
                scrapes.push(response);
            }
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(child.wait().unwrap().success());
    assert!(scrapes.len() >= 3, "only {} scrapes answered", scrapes.len());
    let first = &scrapes[0];
    assert!(first.starts_with("HTTP/1.1 200 OK\r\n"), "{first}");
    assert!(
        first.contains("Content-Type: text/plain; version=0.0.4"),
        "{first}"
    );
    let bodies: Vec<&str> = scrapes
        .iter()
        .map(|response| response.split_once("\r\n\r\n").unwrap().1)
        .collect();
    let messages: Vec<f64> = bodies
        .iter()
        .filter_map(|body| value(body, "perfgate_live_messages_total{"))
        .collect();
    assert!(
        messages.windows(2).all(|pair| pair[1] >= pair[0]) && messages.last() > messages.first(),
        "the message counter must grow: {messages:?}"
    );
    let last = bodies.last().unwrap();
    for phase in ["saturation", "fixed_rate"] {
        let count = value(
            last,
            &format!("perfgate_live_latency_seconds_count{{workload=\"market-data\",phase=\"{phase}\"}}"),
        );
        assert!(count.is_some_and(|count| count > 0.0), "{phase}: {last}");
    }
    assert!(
        bodies.iter().any(
            |body| value(body, "perfgate_live_throughput_messages_per_second{").is_some_and(|v| v > 0.0)
        ),
        "some scrape during a phase sees a throughput"
    );
    assert!(
        value(last, "perfgate_live_heap_live_bytes{").is_some_and(|v| v > 0.0),
        "{last}"
    );
    assert!(
        value(last, "process_resident_memory_bytes").is_some_and(|v| v > 1e6),
        "{last}"
    );

    match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(mut promtool) => {
            promtool.stdin.take().unwrap().write_all(last.as_bytes()).unwrap();
            let output = promtool.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "promtool: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Err(_) => eprintln!("promtool not installed (Debian: prometheus): format check skipped"),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the server when the test ends, whatever happens.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_real_prometheus_scrapes_the_live_endpoint() {
    if Command::new("prometheus").arg("--version").output().is_err() {
        eprintln!("prometheus not installed (Debian: prometheus): scrape test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut child, target) = start_profiler(&dir.path().join("run"), "4s");
    let web = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 500ms\n  scrape_timeout: 400ms\nscrape_configs:\n  - job_name: perfgate\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let _prometheus = Killed(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts"),
    );
    assert!(child.wait().unwrap().success(), "the profiler run failed");
    // Ask for the largest message count Prometheus stored: it must have scraped during the run.
    let query = "/api/v1/query?query=max_over_time%28perfgate_live_messages_total%5B10m%5D%29";
    let deadline = Instant::now() + Duration::from_secs(30);
    let stored = loop {
        let answer = TcpStream::connect(web).ok().map(|_| get(web, query));
        let stored = answer.as_ref().and_then(|(_, body)| {
            let json: serde_json::Value = serde_json::from_str(body).ok()?;
            json["data"]["result"][0]["value"][1]
                .as_str()?
                .parse::<f64>()
                .ok()
        });
        if let Some(stored) = stored {
            break stored;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus stored no perfgate_live_messages_total: {answer:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(stored > 1_000.0, "Prometheus saw {stored} messages");
    let (_, body) = get(
        web,
        "/api/v1/query?query=max_over_time%28perfgate_live_latency_seconds_count%7Bphase%3D%22saturation%22%7D%5B10m%5D%29",
    );
    assert!(
        body.contains("\"status\":\"success\"") && body.contains("\"result\":[{"),
        "{body}"
    );
}

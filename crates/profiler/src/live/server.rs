//! A small HTTP/1.1 endpoint for the live metrics: `GET /metrics` only, `Connection: close`.
//!
//! It serves on its own thread with its own single-threaded tokio runtime, never on the runtime
//! being measured, and it protects that run from its clients:
//! - connections are served concurrently, so a client that sends slowly (or nothing) delays no
//!   scrape;
//! - each connection has a whole-request deadline (read and answer), not a per-read timeout that
//!   a client sending a byte a second can stretch forever;
//! - at most [`MAX_CONNECTIONS`] are open; when a new one arrives at the cap, the oldest is
//!   closed to make room. A scrape is answered in milliseconds, so the oldest connection is
//!   always a slow one: a flood of slow clients cannot lock the scraper out, and the memory and
//!   descriptors they hold stay bounded;
//! - the exposition is rendered at most every [`RENDER_INTERVAL`] however often it is scraped;
//! - connections are accepted at most [`MAX_ACCEPTS_PER_SECOND`] a second (after a burst of
//!   [`ACCEPT_BURST`]); past that they wait in the kernel's backlog. Even with the rendering
//!   cached, each scrape costs the sockets' system calls (about 40 µs of CPU on a 2-vCPU EPYC
//!   VM): an unthrottled storm of 6,000 scrapes a second took 28 % of a core from the run being
//!   measured. Prometheus scrapes once every few seconds, so the budget never touches it. The
//!   price: a flood of N new connections delays a scrape behind them by about N / 200 s (a
//!   thousand stalled clients, 5 s) where the old endpoint was stopped by one.
//!
//! Hand-written on tokio's sockets rather than an HTTP server crate: the only client is a
//! Prometheus scrape (one request line, no body, no keep-alive needed), and the parts that
//! matter here — the deadline, the cap and eviction, the render cache — would be ours to write
//! around a crate's server anyway.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener as StdListener, ToSocketAddrs};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use super::metrics::LiveMetrics;
use super::render_cache::RenderCache;
use crate::error::{ProfilerError, Result};

/// Connections open at once; past it the oldest is closed.
pub const MAX_CONNECTIONS: usize = 64;
/// Time a connection has from its accept to the end of its answer.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
/// The exposition is rendered at most this often; scrapes in between get the last rendering.
pub const RENDER_INTERVAL: Duration = Duration::from_millis(100);
/// Connections accepted per second at most, once the burst is spent.
pub const MAX_ACCEPTS_PER_SECOND: u32 = 200;
/// Connections accepted at once before the rate applies (many scrapers arriving together).
pub const ACCEPT_BURST: u32 = 50;
/// A request head longer than this is cut off (a scrape's is a few hundred bytes).
const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// A running metrics endpoint; it serves until the process exits.
#[derive(Debug)]
pub struct MetricsServer {
    address: SocketAddr,
}

impl MetricsServer {
    /// The address it listens on (with the port the system chose for port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

/// How the endpoint guards the run from its clients (the constants above; tests shrink them).
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_connections: usize,
    request_deadline: Duration,
    render_interval: Duration,
    accepts_per_second: u32,
    accept_burst: u32,
}

const LIMITS: Limits = Limits {
    max_connections: MAX_CONNECTIONS,
    request_deadline: REQUEST_DEADLINE,
    render_interval: RENDER_INTERVAL,
    accepts_per_second: MAX_ACCEPTS_PER_SECOND,
    accept_burst: ACCEPT_BURST,
};

/// A token bucket for accepts: `burst` at once, then one per `1 / per_second`.
#[derive(Debug)]
struct AcceptBudget {
    per_second: f64,
    burst: f64,
    tokens: f64,
    refilled: Instant,
}

impl AcceptBudget {
    fn new(per_second: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            tokens: f64::from(burst.max(1)),
            refilled: Instant::now(),
        }
    }

    /// How long to wait at `now` before the next accept (and spends its token).
    fn wait(&mut self, now: Instant) -> Duration {
        let earned = now.saturating_duration_since(self.refilled).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + earned).min(self.burst);
        self.refilled = now;
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.per_second)
        }
    }
}

/// Resolves `--serve-metrics`: `PORT` or `:PORT` listen on 127.0.0.1 (the live figures of a
/// benchmark are nobody else's business unless the user says so); `HOST:PORT` as given.
pub(crate) fn parse_address(given: &str) -> Result<SocketAddr> {
    let invalid = |why: &str| ProfilerError::Serve(format!("--serve-metrics {given}: {why}"));
    let trimmed = given.strip_prefix(':').unwrap_or(given);
    if let Ok(port) = trimmed.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    given
        .to_socket_addrs()
        .map_err(|error| invalid(&format!("not an address ({error}); give PORT or HOST:PORT")))?
        .next()
        .ok_or_else(|| invalid("the host name resolves to no address"))
}

/// Starts serving `live` on `address`: `PORT` or `:PORT` for 127.0.0.1, `HOST:PORT` as given.
pub fn serve(address: &str, live: Arc<LiveMetrics>) -> Result<MetricsServer> {
    serve_with(address, live, LIMITS)
}

fn serve_with(address: &str, live: Arc<LiveMetrics>, limits: Limits) -> Result<MetricsServer> {
    let failed = |what: &str, error: std::io::Error| {
        ProfilerError::Serve(format!("--serve-metrics {address}: {what}: {error}"))
    };
    let wanted = parse_address(address)?;
    let listener =
        StdListener::bind(wanted).map_err(|error| failed(&format!("cannot listen on {wanted}"), error))?;
    let bound = listener.local_addr().unwrap_or(wanted);
    listener
        .set_nonblocking(true)
        .map_err(|error| failed("cannot set up the socket", error))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|error| failed("cannot start its runtime", error))?;
    std::thread::Builder::new()
        .name("perfgate-metrics".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(listener) => accept_loop(listener, live, limits).await,
                    Err(error) => eprintln!("warning: --serve-metrics stopped: {error}"),
                }
            });
        })
        .map_err(|error| failed("cannot start its thread", error))?;
    Ok(MetricsServer { address: bound })
}

/// The open connections by age (accept order), to close the oldest at the cap.
type Open = Arc<Mutex<BTreeMap<u64, AbortHandle>>>;

async fn accept_loop(listener: TcpListener, live: Arc<LiveMetrics>, limits: Limits) {
    let cache = Arc::new(RenderCache::new(limits.render_interval));
    let open: Open = Arc::default();
    let mut budget = AcceptBudget::new(limits.accepts_per_second, limits.accept_burst);
    for id in 0_u64.. {
        let wait = budget.wait(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors, or a connection reset before its accept: wait a little
                // rather than spin, then go on.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        {
            let mut open = open.lock().unwrap_or_else(PoisonError::into_inner);
            while open.len() >= limits.max_connections {
                match open.pop_first() {
                    Some((_, oldest)) => oldest.abort(),
                    None => break,
                }
            }
        }
        let (live, cache, finished) = (Arc::clone(&live), Arc::clone(&cache), Arc::clone(&open));
        let task = tokio::spawn(async move {
            let body = || cache.get(Instant::now(), || live.render());
            // A client that misbehaves or runs out of time costs it its connection, never the run.
            let _ = tokio::time::timeout(limits.request_deadline, answer(stream, body)).await;
            finished
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id);
        });
        // The task cannot have run yet (this runtime has one thread and it is here), so its
        // entry is in place before it can remove it.
        open.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, task.abort_handle());
    }
}

async fn answer(mut stream: TcpStream, metrics: impl FnOnce() -> Arc<str>) -> std::io::Result<()> {
    let mut request = Vec::with_capacity(1024);
    let mut buffer = [0_u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < MAX_REQUEST_HEAD {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        request.extend_from_slice(&buffer[..read]);
    }
    let response = respond(&request, metrics);
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// The whole response to a request head: the metrics for `GET`/`HEAD /metrics`, 404 for other
/// paths, 405 for other methods.
fn respond(request: &[u8], metrics: impl FnOnce() -> Arc<str>) -> String {
    let line = String::from_utf8_lossy(request);
    let mut parts = line.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, content_type, body): (_, _, Arc<str>) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => ("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics()),
        ("GET" | "HEAD", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "only /metrics is served here\n".into(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET is served here\n".into(),
        ),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if method != "HEAD" {
        response.push_str(&body);
    }
    response
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream as StdStream;

    use super::*;

    #[test]
    fn a_bare_port_listens_on_loopback_only() {
        assert_eq!(parse_address("9898").unwrap(), "127.0.0.1:9898".parse().unwrap());
        assert_eq!(parse_address(":9898").unwrap(), "127.0.0.1:9898".parse().unwrap());
        assert_eq!(
            parse_address("0.0.0.0:9898").unwrap(),
            "0.0.0.0:9898".parse().unwrap()
        );
        assert_eq!(parse_address("[::1]:9").unwrap(), "[::1]:9".parse().unwrap());
        let error = parse_address("nonsense").unwrap_err().to_string();
        assert!(error.contains("--serve-metrics nonsense"), "{error}");
    }

    #[test]
    fn routes_metrics_other_paths_and_other_methods() {
        let metrics = || Arc::from("m 1\n");
        let get = respond(b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", metrics);
        assert!(get.starts_with("HTTP/1.1 200 OK\r\n"), "{get}");
        assert!(
            get.contains("Content-Length: 4\r\n") && get.ends_with("\r\n\r\nm 1\n"),
            "{get}"
        );
        let head = respond(b"HEAD /metrics HTTP/1.1\r\n\r\n", metrics);
        assert!(
            head.contains("Content-Length: 4\r\n") && head.ends_with("\r\n\r\n"),
            "{head}"
        );
        assert!(respond(b"GET / HTTP/1.1\r\n\r\n", metrics).starts_with("HTTP/1.1 404"));
        assert!(respond(b"POST /metrics HTTP/1.1\r\n\r\n", metrics).starts_with("HTTP/1.1 405"));
        assert!(respond(b"\xff\x00garbage", metrics).starts_with("HTTP/1.1 405"));
    }

    fn start(limits: Limits) -> SocketAddr {
        serve_with("127.0.0.1:0", Arc::new(LiveMetrics::new("test")), limits)
            .unwrap()
            .address()
    }

    /// A scrape that must be answered within `within`; returns the status line.
    fn scrape(address: SocketAddr, within: Duration) -> String {
        let mut stream = StdStream::connect_timeout(&address, within).unwrap();
        stream.set_read_timeout(Some(within)).unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .unwrap_or_else(|error| panic!("no answer within {within:?}: {error}"));
        response.lines().next().unwrap_or("").to_owned()
    }

    /// Whether the server has closed `stream` (EOF or reset), waiting up to `within`.
    fn closed_within(stream: &mut StdStream, within: Duration) -> bool {
        stream.set_read_timeout(Some(within)).unwrap();
        let mut byte = [0_u8; 1];
        match stream.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(error) => !matches!(
                error.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        }
    }

    #[test]
    fn the_accept_budget_allows_a_burst_then_the_rate() {
        let mut budget = AcceptBudget::new(100, 3);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(budget.wait(start), Duration::ZERO);
        }
        let wait = budget.wait(start);
        assert!((wait.as_secs_f64() - 0.01).abs() < 1e-6, "{wait:?}");
        // After the wait, it was spent; a second later the bucket is full again, not fuller.
        let later = start + Duration::from_secs(1);
        for _ in 0..3 {
            assert_eq!(budget.wait(later), Duration::ZERO);
        }
        assert!(budget.wait(later) > Duration::ZERO);
    }

    #[test]
    fn a_scrape_storm_is_answered_no_faster_than_the_budget() {
        let address = start(Limits {
            accepts_per_second: 100,
            accept_burst: 10,
            ..LIMITS
        });
        let started = Instant::now();
        for _ in 0..40 {
            assert!(scrape(address, Duration::from_secs(2)).contains("200 OK"));
        }
        // Ten at once, thirty more at 100 a second: at least 0.3 s (unthrottled, ~40 ms).
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(280), "40 scrapes in {took:?}");
    }

    #[test]
    fn a_client_that_sends_slowly_delays_no_scrape() {
        let address = start(LIMITS);
        // Two clients that started a request and stall (the slow-client attack): a scrape
        // behind them is still answered at once, not after their timeouts.
        let mut stalled: Vec<StdStream> = (0..2)
            .map(|_| {
                let mut stream = StdStream::connect(address).unwrap();
                stream.write_all(b"G").unwrap();
                stream
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        for _ in 0..3 {
            assert!(scrape(address, Duration::from_secs(1)).contains("200 OK"));
        }
        for stream in &mut stalled {
            assert!(
                !closed_within(stream, Duration::from_millis(10)),
                "closed too early"
            );
        }
    }

    #[test]
    fn a_request_that_takes_too_long_is_cut_at_the_deadline() {
        let deadline = Duration::from_millis(300);
        let address = start(Limits {
            request_deadline: deadline,
            ..LIMITS
        });
        let mut slow = StdStream::connect(address).unwrap();
        let opened = Instant::now();
        // A byte every 100 ms keeps a per-read timeout happy forever; the deadline is whole.
        let mut cut = false;
        for _ in 0..50 {
            if slow.write_all(b"G").is_err() || closed_within(&mut slow, Duration::from_millis(100)) {
                cut = true;
                break;
            }
        }
        let lasted = opened.elapsed();
        assert!(cut, "the slow request was never cut");
        assert!(
            lasted >= deadline && lasted < Duration::from_secs(3),
            "cut after {lasted:?}, deadline {deadline:?}"
        );
    }

    #[test]
    fn past_the_cap_the_oldest_connection_makes_room() {
        let address = start(Limits {
            max_connections: 4,
            request_deadline: Duration::from_secs(60),
            ..LIMITS
        });
        // Ten stalled clients against a cap of four: the first six are closed to make room, the
        // last four are held, and a scrape still gets through.
        let mut stalled: Vec<StdStream> = Vec::new();
        for _ in 0..10 {
            let mut stream = StdStream::connect(address).unwrap();
            stream.write_all(b"GET").unwrap();
            stalled.push(stream);
            // Let the server accept it before the next (the order decides who is oldest).
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(scrape(address, Duration::from_secs(1)).contains("200 OK"));
        for (index, stream) in stalled.iter_mut().enumerate() {
            // The scrape took one slot, so seven were evicted in all.
            let expected = index < 7;
            assert_eq!(
                closed_within(stream, Duration::from_millis(if expected { 2_000 } else { 50 })),
                expected,
                "client {index}"
            );
        }
    }
}

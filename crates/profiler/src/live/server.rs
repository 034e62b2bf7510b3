//! A minimal HTTP/1.1 endpoint for the live metrics: `GET /metrics` only, one short-lived
//! connection at a time on a plain thread. Hand-written because Prometheus' scrape is the only
//! client and that is all it needs; an HTTP server crate would bring an async stack or a thread
//! pool into the process being measured.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use super::metrics::LiveMetrics;
use crate::error::{ProfilerError, Result};

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
    let wanted = parse_address(address)?;
    let listener = TcpListener::bind(wanted).map_err(|error| {
        ProfilerError::Serve(format!(
            "--serve-metrics {address}: cannot listen on {wanted}: {error}"
        ))
    })?;
    let address = listener.local_addr().unwrap_or(wanted);
    std::thread::Builder::new()
        .name("perfgate-metrics".to_owned())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                // A client that misbehaves costs it its connection, never the run.
                let _ = answer(stream, &live);
            }
        })
        .map_err(|error| {
            ProfilerError::Serve(format!("--serve-metrics: cannot start its thread: {error}"))
        })?;
    Ok(MetricsServer { address })
}

fn answer(mut stream: TcpStream, live: &LiveMetrics) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut request = Vec::with_capacity(1024);
    let mut buffer = [0_u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        request.extend_from_slice(&buffer[..read]);
    }
    let line = String::from_utf8_lossy(&request);
    let mut parts = line.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            live.render(),
        ),
        ("GET" | "HEAD", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "only /metrics is served here\n".to_owned(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET is served here\n".to_owned(),
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if method != "HEAD" {
        stream.write_all(body.as_bytes())?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
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
}

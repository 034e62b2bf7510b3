//! The live `/metrics` endpoint under hostile clients (issue 15, point 7), through the public
//! `serve`: a client that stalls mid-request, or hundreds of them, delays no scrape.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use perfgate_profiler::live::{LiveMetrics, serve};

/// A scrape that must be answered within `within`; returns the status line.
fn scrape(address: SocketAddr, within: Duration) -> String {
    let mut stream = TcpStream::connect_timeout(&address, within).unwrap();
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

#[test]
fn stalled_clients_delay_no_scrape() {
    let address = serve("127.0.0.1:0", Arc::new(LiveMetrics::new("test")))
        .unwrap()
        .address();
    // 100 clients that each sent one byte of a request and wait (a slow-client attack; one of
    // them used to hold the endpoint for its whole 2 s read timeout, one after the other). They
    // are accepted within the accept budget (50 at once, then 200 a second), so the scrapes
    // behind them wait about a quarter of a second, not 100 × 2 s.
    let stalled: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut stream = TcpStream::connect(address).unwrap();
            stream.write_all(b"G").unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    for _ in 0..5 {
        assert!(scrape(address, Duration::from_secs(3)).contains("200 OK"));
    }
    // Generous: the budget's quarter second and five scrapes on loopback.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(stalled);
}

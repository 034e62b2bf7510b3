//! Starts a throwaway server, prints its URL (first line) and this process's id (second line),
//! and waits for a line on stdin or its end (for fixture scripts and trying things by hand:
//! `cargo run -p perfgate-throwaway-postgres --example serve`).
fn main() {
    let server = perfgate_throwaway_postgres::Server::start().expect("a server");
    println!("{}\n{}", server.url(), std::process::id());
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

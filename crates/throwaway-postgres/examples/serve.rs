//! Starts a throwaway server, prints its URL and waits for a line on stdin (for trying things by
//! hand: `cargo run -p perfgate-throwaway-postgres --example serve`).
fn main() {
    let server = perfgate_throwaway_postgres::Server::start().expect("a server");
    println!("{}", server.url());
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

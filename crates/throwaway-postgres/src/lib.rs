//! A private PostgreSQL server for tests: `initdb` into a temporary folder, a free port on
//! 127.0.0.1, password authentication, `pg_stat_statements` loaded, stopped and removed when
//! dropped (also when the test panics).
//!
//! Tests ask for a server with [`Server::start`] (their own, which they may stop and start again)
//! or [`shared`] (the one `.ci/run` started, named by `PERFGATE_TEST_POSTGRES`, else their
//! own). When PostgreSQL is not installed they get [`Unavailable`] and should skip, saying so —
//! unless `PERFGATE_REQUIRE_POSTGRES=1` (set by `.ci/run` once it has installed the server), when
//! [`skip_or_fail`] turns the skip into a failure: a CI run never passes by skipping.
//!
//! The server trades durability for speed (`fsync=off`): it holds only test data and is deleted
//! at the end.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The environment variable naming a running server for tests to share.
pub const SHARED_SERVER_VAR: &str = "PERFGATE_TEST_POSTGRES";
/// The environment variable that makes a missing server a test failure instead of a skip.
pub const REQUIRE_VAR: &str = "PERFGATE_REQUIRE_POSTGRES";

/// Why no server could be had.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// No `initdb`/`pg_ctl` on `PATH` or under `/usr/lib/postgresql/*/bin`.
    #[error("PostgreSQL is not installed (no initdb/pg_ctl on PATH or under /usr/lib/postgresql)")]
    NotInstalled,
    /// A PostgreSQL program ran and failed.
    #[error("{step} failed: {detail}")]
    Failed {
        /// What was being done.
        step: &'static str,
        /// What the program said.
        detail: String,
    },
    /// Creating the data folder failed.
    #[error("could not prepare the data folder: {0}")]
    Io(#[from] std::io::Error),
}

/// Skips the calling test (prints why and returns `None`) or, under `PERFGATE_REQUIRE_POSTGRES=1`,
/// panics: the server was promised and is missing.
pub fn skip_or_fail<T>(test: &str, outcome: Result<T, Unavailable>) -> Option<T> {
    match outcome {
        Ok(value) => Some(value),
        Err(why) if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") => {
            panic!("{test}: PostgreSQL is required here ({REQUIRE_VAR}=1) but {why}")
        }
        Err(why) => {
            eprintln!("{test}: skipped: {why}");
            None
        }
    }
}

/// A server shared by the tests: the one named by `PERFGATE_TEST_POSTGRES`, else a private one.
#[derive(Debug)]
pub enum Shared {
    /// A server someone else runs (its URL).
    External(String),
    /// A private server started for this process.
    Own(Server),
}

impl Shared {
    /// The connection string.
    pub fn url(&self) -> &str {
        match self {
            Shared::External(url) => url,
            Shared::Own(server) => server.url(),
        }
    }
}

/// The server named by `PERFGATE_TEST_POSTGRES`, or a private one.
pub fn shared() -> Result<Shared, Unavailable> {
    match std::env::var(SHARED_SERVER_VAR) {
        Ok(url) if !url.is_empty() => Ok(Shared::External(url)),
        _ => Server::start().map(Shared::Own),
    }
}

/// A private server. Dropping it stops the server and removes its folder.
#[derive(Debug)]
pub struct Server {
    bin: PathBuf,
    folder: TempDir,
    port: u16,
    password: String,
    run_as: Option<&'static str>,
    url: String,
}

/// The database and role every server is made with.
pub const DATABASE: &str = "perfgate";

impl Server {
    /// Starts a new server on a free local port.
    pub fn start() -> Result<Server, Unavailable> {
        let bin = find_bin().ok_or(Unavailable::NotInstalled)?;
        // initdb refuses to run as root; the distribution's package makes a `postgres` user.
        let run_as = is_root().then_some("postgres");
        let folder = tempfile::Builder::new().prefix("perfgate-postgres-").tempdir()?;
        if let Some(user) = run_as {
            run(Command::new("chown").arg(user).arg(folder.path()), "chown")?;
        }
        let password = password();
        let pwfile = folder.path().join("pwfile");
        std::fs::write(&pwfile, &password)?;
        if let Some(user) = run_as {
            run(Command::new("chown").arg(user).arg(&pwfile), "chown")?;
        }
        let data = folder.path().join("data");
        run(
            command(&bin, "initdb", run_as)
                .arg("-D")
                .arg(&data)
                .args(["-U", DATABASE, "--auth=scram-sha-256", "--no-sync", "-E", "UTF8"])
                .arg(format!("--pwfile={}", pwfile.display())),
            "initdb",
        )?;
        let mut last = None;
        // A port found free can be taken before the server binds it: try a few.
        for _ in 0..5 {
            let port = free_port()?;
            match start_server(&bin, folder.path(), port, run_as) {
                Ok(()) => {
                    let server = Server {
                        url: format!("postgres://{DATABASE}:{password}@127.0.0.1:{port}/{DATABASE}"),
                        bin,
                        folder,
                        port,
                        password,
                        run_as,
                    };
                    server.watch_this_process()?;
                    server.create_database()?;
                    return Ok(server);
                }
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or(Unavailable::NotInstalled))
    }

    /// The connection string (it holds the password: tests only).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The password of the `perfgate` role.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`), as a crash or a lost host would:
    /// open connections break.
    pub fn stop(&self) -> Result<(), Unavailable> {
        run(
            command(&self.bin, "pg_ctl", self.run_as)
                .arg("-D")
                .arg(self.data())
                .args(["stop", "-m", "immediate", "-w"]),
            "pg_ctl stop",
        )
        .map(drop)
    }

    /// Starts the server again on the same port and data (after [`Server::stop`]).
    pub fn start_again(&self) -> Result<(), Unavailable> {
        start_server(&self.bin, self.folder.path(), self.port, self.run_as)
    }

    /// The server's log so far (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("server.log")).unwrap_or_default()
    }

    /// Starts a watchdog that stops the server and removes its folder once this process is
    /// gone. `Drop` does that too, but a server kept in a `static` (one per test binary) is never
    /// dropped, and a test process that aborts or is killed drops nothing: without the watchdog
    /// each left a PostgreSQL server and its data folder behind. The watchdog holds none of this
    /// process's output pipes, so `cargo test` does not wait for it.
    fn watch_this_process(&self) -> Result<(), Unavailable> {
        let quote = |path: &Path| format!("'{}'", path.display().to_string().replace('\'', "'\\''"));
        let pg_ctl = match self.run_as {
            Some(user) => format!("runuser -u {user} -- {}", quote(&self.bin.join("pg_ctl"))),
            None => quote(&self.bin.join("pg_ctl")),
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             if [ -d {data} ]; then {pg_ctl} -D {data} stop -m immediate -w; rm -rf {folder}; fi",
            pid = std::process::id(),
            data = quote(&self.data()),
            folder = quote(self.folder.path()),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|error| Unavailable::Failed {
                step: "starting the watchdog",
                detail: error.to_string(),
            })
    }

    fn data(&self) -> PathBuf {
        self.folder.path().join("data")
    }

    fn create_database(&self) -> Result<(), Unavailable> {
        // initdb made the `perfgate` role; the database of the same name is made here, through
        // the socket (no password needed for the psql-less `createdb`, which is in the same bin).
        run(
            command(&self.bin, "createdb", self.run_as)
                .args(["-h"])
                .arg(self.folder.path())
                .args(["-p", &self.port.to_string(), "-U", DATABASE, DATABASE])
                .env("PGPASSWORD", &self.password),
            "createdb",
        )?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = command(&self.bin, "pg_ctl", self.run_as)
            .arg("-D")
            .arg(self.data())
            .args(["stop", "-m", "immediate", "-w"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn start_server(bin: &Path, folder: &Path, port: u16, run_as: Option<&str>) -> Result<(), Unavailable> {
    let options = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={socket} \
         -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        socket = folder.display(),
    );
    run(
        command(bin, "pg_ctl", run_as)
            .arg("-D")
            .arg(folder.join("data"))
            .arg("-l")
            .arg(folder.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]),
        "pg_ctl start",
    )?;
    // `pg_ctl -w` waits for the socket; wait for TCP too.
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(Unavailable::Failed {
                step: "waiting for the port",
                detail: format!("nothing listens on 127.0.0.1:{port}"),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn command(bin: &Path, program: &str, run_as: Option<&str>) -> Command {
    match run_as {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.args(["-u", user, "--"]).arg(bin.join(program));
            command
        }
        None => Command::new(bin.join(program)),
    }
}

fn run(command: &mut Command, step: &'static str) -> Result<Output, Unavailable> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| Unavailable::Failed {
            step,
            detail: error.to_string(),
        })?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(Unavailable::Failed {
            step,
            detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

fn find_bin() -> Option<PathBuf> {
    let has = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|dir| has(dir))
        .collect();
    // The newest installed version first (directory names are major versions).
    versions.sort_by_key(|dir| {
        std::cmp::Reverse(
            dir.parent()
                .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
                .unwrap_or(0),
        )
    });
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|dir| has(dir))
        // A symlink on PATH (Debian's /usr/local/bin/postgres) resolves to the real bin folder,
        // whose programs find their libraries relative to themselves.
        .filter_map(|dir| {
            std::fs::canonicalize(dir.join("initdb"))
                .ok()?
                .parent()
                .map(Path::to_path_buf)
        });
    versions.into_iter().chain(on_path).next()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// A password of 24 letters and digits from the clock and the process id (a throwaway server on
/// loopback needs no cryptographic secret, only one that is not guessable by accident and that
/// tests can look for in outputs).
fn password() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut state = nanos ^ (u64::from(std::process::id()) << 32) ^ 0x9E37_79B9_7F4A_7C15;
    const LETTERS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..24)
        .map(|_| {
            // splitmix64
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            LETTERS[(z % LETTERS.len() as u64) as usize] as char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_starts_stops_and_starts_again() {
        let Some(server) = skip_or_fail("a_server_starts", Server::start()) else {
            return;
        };
        assert!(server.url().contains(server.password()));
        server.stop().expect("stop");
        assert!(std::net::TcpStream::connect(("127.0.0.1", server.port())).is_err());
        server.start_again().expect("start again");
        assert!(std::net::TcpStream::connect(("127.0.0.1", server.port())).is_ok());
        let folder = server.folder.path().to_path_buf();
        drop(server);
        assert!(!folder.exists(), "the data folder is removed");
    }

    /// A server whose process ends without dropping it (as a `static` never is) is stopped and
    /// its folder removed by the watchdog: the `serve` example started, then killed.
    #[test]
    fn a_server_outliving_its_process_is_stopped_and_removed() {
        if find_bin().is_none() {
            let _ = skip_or_fail::<()>("a_server_outliving", Err(Unavailable::NotInstalled));
            return;
        }
        let mut child = Command::new(env!("CARGO"))
            .args([
                "run",
                "-q",
                "-p",
                "perfgate-throwaway-postgres",
                "--example",
                "serve",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
        let url = lines.next().unwrap().unwrap();
        let pid = lines.next().unwrap().unwrap();
        let port: u16 = url
            .trim()
            .rsplit_once(':')
            .and_then(|(_, rest)| rest.split('/').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no port in {url:?}"));
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
        // `cargo run` is the parent of the example: kill the example itself, which drops nothing.
        assert!(
            Command::new("kill")
                .args(["-9", &pid])
                .status()
                .unwrap()
                .success()
        );
        let _ = child.wait();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "the server outlived its process by 20 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    #[test]
    fn passwords_differ_and_use_only_plain_characters() {
        let a = password();
        std::thread::sleep(Duration::from_millis(2));
        let b = password();
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}

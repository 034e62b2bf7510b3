//! A fresh, empty database for each test: on the server `PERFGATE_TEST_POSTGRES` names, else on
//! a private throwaway server; `None` (the test skips, saying so) when PostgreSQL is missing,
//! unless `PERFGATE_REQUIRE_POSTGRES=1`.

#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicU32, Ordering};

use perfgate_throwaway_postgres::{Shared, shared, skip_or_fail};
use postgres::{Client, NoTls};

/// The server (kept alive by the test) and the URL of a database made for the test alone.
pub struct Fresh {
    pub server: Shared,
    pub url: String,
}

pub fn fresh(test: &str) -> Option<Fresh> {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let server = skip_or_fail(test, shared())?;
    let name = format!(
        "t_{}_{}_{}",
        test.chars()
            .filter(char::is_ascii_alphanumeric)
            .take(30)
            .collect::<String>(),
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
    .to_lowercase();
    let mut admin = Client::connect(server.url(), NoTls).expect("connecting to the test server");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("creating the test database");
    let url = with_database(server.url(), &name);
    Some(Fresh { server, url })
}

/// `url` with its database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map_or(0, |at| at + 3);
    let authority_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |at| after_scheme + at);
    format!("{}/{name}{query}", &base[..authority_end])
}

/// The password in `url` (between the user's `:` and the `@`).
pub fn password(url: &str) -> String {
    let rest = url.split_once("://").expect("a URL").1;
    let userinfo = rest.rsplit_once('@').expect("a user").0;
    userinfo.split_once(':').expect("a password").1.to_owned()
}

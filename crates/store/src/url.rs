//! [`StoreUrl`]: the store's connection string, whose password never leaves this type except
//! to the driver. `Display` and `Debug` show it with the password masked, and [`StoreUrl::scrub`]
//! masks it in any text (a driver's error message) before that text is shown.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::StoreError;

/// The environment variable naming the store when no `--store` flag is given.
pub const STORE_VAR: &str = "PERFGATE_STORE";

/// What stands for a password wherever the URL is shown.
pub const MASK: &str = "***";

/// How long a connection attempt may take unless the URL says otherwise (`connect_timeout=`):
/// a server behind a firewall that drops packets is then an error, not a hang.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A `--store` value as a command line gives it: the URL, or why it is not one. Parsing never
/// fails, so that a command-line parser never echoes the text (it may hold a password) in its
/// own error; the reason comes out of [`StoreArg::resolve`] as a [`StoreError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreArg(Result<StoreUrl, &'static str>);

impl FromStr for StoreArg {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(StoreArg(text.parse::<StoreUrl>().map_err(|error| match error {
            StoreError::BadUrl { reason } => reason,
            _ => "is not a valid PostgreSQL connection URL",
        })))
    }
}

impl StoreArg {
    /// The warning for a `--store` value that carries a password on the command line (cargo's
    /// `Running` line for `cargo xtask ...`, the process list and shell history show it), or
    /// `None`. The caller prints it; the URL is not in it.
    pub fn command_line_warning(&self) -> Option<String> {
        let StoreArg(Ok(url)) = self else {
            return None;
        };
        (!url.passwords.is_empty() && std::env::var(STORE_VAR).ok().as_deref() != Some(&url.secret)).then(
            || {
                format!(
                    "warning: --store carries a password on the command line, where cargo's `Running` \
                 line, the process list and shell history show it; set {STORE_VAR} instead"
                )
            },
        )
    }

    /// The store named by `flag` (the `--store` value), else by `PERFGATE_STORE`, else none:
    /// the flag wins, and an empty variable counts as none.
    pub fn resolve(flag: Option<&StoreArg>) -> Result<Option<StoreUrl>, StoreError> {
        if let Some(StoreArg(given)) = flag {
            return given
                .clone()
                .map(Some)
                .map_err(|reason| StoreError::BadUrl { reason });
        }
        match std::env::var(STORE_VAR) {
            Ok(text) if !text.trim().is_empty() => text.parse().map(Some),
            _ => Ok(None),
        }
    }
}

/// A `postgres://` (or `postgresql://`) connection URL.
///
/// ```
/// use perfgate_store::StoreUrl;
///
/// let url: StoreUrl = "postgres://ci:s3cret-pw@db.example:5432/perf".parse()?;
/// assert_eq!(url.to_string(), "postgres://ci:***@db.example:5432/perf");
/// assert!(!format!("{url:?}").contains("s3cret-pw"));
/// # Ok::<(), perfgate_store::StoreError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct StoreUrl {
    /// The URL as given; only [`StoreUrl::config`] reads it.
    secret: String,
    /// The URL with every password masked.
    shown: String,
    /// The password as written in the URL and as the driver decodes it (percent-decoded), for
    /// [`StoreUrl::scrub`].
    passwords: Vec<String>,
}

impl StoreUrl {
    /// `text` with this URL's password masked wherever it occurs.
    pub fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for password in &self.passwords {
            text = text.replace(password.as_str(), MASK);
        }
        text
    }

    /// The driver's configuration (holds the password; never shown).
    pub(crate) fn config(&self) -> Result<postgres::Config, StoreError> {
        let mut config: postgres::Config = self.secret.parse().map_err(|_| StoreError::BadUrl {
            reason: "is not a valid PostgreSQL connection URL",
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("perfgate");
        }
        Ok(config)
    }
}

impl FromStr for StoreUrl {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(StoreError::BadUrl {
                reason: "is not a postgres:// URL",
            });
        };
        if scheme != "postgres" && scheme != "postgresql" {
            return Err(StoreError::BadUrl {
                reason: "is not a postgres:// URL",
            });
        }
        let (shown, mut passwords) = mask(scheme, rest);
        let url = StoreUrl {
            secret: text.to_owned(),
            shown,
            passwords: Vec::new(),
        };
        // The driver's own reading of the password (percent-decoded) is masked too.
        let config = url.config()?;
        if let Some(decoded) = config.get_password() {
            passwords.push(String::from_utf8_lossy(decoded).into_owned());
        }
        passwords.retain(|password| !password.is_empty());
        passwords.sort_by_key(|password| std::cmp::Reverse(password.len()));
        passwords.dedup();
        let mut url = StoreUrl { passwords, ..url };
        // Whatever the masking above missed (a password in an unusual place) is masked now.
        url.shown = url.scrub(&url.shown);
        Ok(url)
    }
}

/// The URL with the password of its user-info and of a `password=` parameter masked, and the
/// passwords found, as written.
fn mask(scheme: &str, rest: &str) -> (String, Vec<String>) {
    let mut passwords = Vec::new();
    // The authority ends at the first `/`, `?` or `#`; its user-info at its last `@`.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, password)) => {
                passwords.push(password.to_owned());
                format!("{user}:{MASK}@{host}")
            }
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, value)) if key.eq_ignore_ascii_case("password") => {
                        passwords.push(value.to_owned());
                        format!("{key}={MASK}")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    (format!("{scheme}://{authority}{tail}"), passwords)
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StoreUrl").field(&self.shown).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_on_the_command_line_is_warned_about_without_showing_it() {
        let arg: StoreArg = "postgres://ci:s3cret-pw@db:5432/perf".parse().unwrap();
        let warning = arg.command_line_warning().expect("a warning");
        assert!(
            warning.contains(STORE_VAR) && !warning.contains("s3cret-pw"),
            "{warning}"
        );
        let arg: StoreArg = "postgres://ci@db:5432/perf".parse().unwrap();
        assert_eq!(arg.command_line_warning(), None);
        let arg: StoreArg = "not a url".parse().unwrap();
        assert_eq!(arg.command_line_warning(), None);
    }

    fn check(given: &str, shown: &str, password: Option<&str>) {
        let url: StoreUrl = given.parse().unwrap();
        assert_eq!(url.to_string(), shown, "{given}");
        assert_eq!(format!("{url:?}"), format!("StoreUrl({shown:?})"));
        if let Some(password) = password {
            assert!(!url.to_string().contains(password), "{given}");
            assert!(!format!("{url:?}").contains(password), "{given}");
            assert_eq!(
                url.scrub(&format!("failed for {password}!")),
                format!("failed for {MASK}!")
            );
        }
    }

    #[test]
    fn the_password_is_masked_wherever_it_is_written() {
        check(
            "postgres://ci:hunter2hunter2@db:5432/perf",
            "postgres://ci:***@db:5432/perf",
            Some("hunter2hunter2"),
        );
        check(
            "postgresql://ci:p%40ss%2Fword@db/perf",
            "postgresql://ci:***@db/perf",
            Some("p@ss/word"),
        );
        check(
            "postgres://db/perf?user=ci&password=Zq9xYw8v&sslmode=disable",
            "postgres://db/perf?user=ci&password=***&sslmode=disable",
            Some("Zq9xYw8v"),
        );
        check("postgres://ci@db/perf", "postgres://ci@db/perf", None);
        check("postgres://db", "postgres://db", None);
    }

    #[test]
    fn a_url_that_is_not_postgres_is_refused_without_echoing_it() {
        for given in [
            "mysql://root:Kp4rXw9m@db/perf",
            "host=db password=Kp4rXw9m",
            "postgres://root:Kp4rXw9m@db:notaport/perf",
        ] {
            let error = given.parse::<StoreUrl>().unwrap_err().to_string();
            assert!(!error.contains("Kp4rXw9m"), "{error}");
            assert!(!error.contains('\n'), "{error}");
            assert!(error.starts_with("store: the URL "), "{error}");
        }
    }
}

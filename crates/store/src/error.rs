//! [`StoreError`]: what can go wrong with the store, each variant one line that names the store
//! by its masked URL. No variant holds the password: the driver's messages pass through
//! [`crate::StoreUrl::scrub`] before they are kept.

/// An error of the results store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL cannot be a PostgreSQL connection URL (it is not echoed: it may hold a password).
    #[error("store: the URL {reason} (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)")]
    BadUrl {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The server could not be reached, or refused the connection (authentication, no such
    /// database).
    #[error("store {url}: cannot connect: {detail}")]
    Connect {
        /// The masked URL.
        url: String,
        /// The driver's reason, password masked.
        detail: String,
    },
    /// A statement failed.
    #[error("store {url}: {action}: {detail}")]
    Query {
        /// The masked URL.
        url: String,
        /// What was being done (`recording a run`).
        action: &'static str,
        /// The server's or the driver's reason, password masked.
        detail: String,
    },
    /// The store was migrated by a newer perfgate.
    #[error(
        "store {url}: its schema is version {found}, newer than this perfgate's {known}; update perfgate"
    )]
    TooNew {
        /// The masked URL.
        url: String,
        /// The newest migration applied to the store.
        found: i32,
        /// The newest migration this version knows.
        known: i32,
    },
}

/// The store's result type.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The driver's error as one line: its message, the server's message for a server error, and
/// the underlying cause (`Connection refused`).
pub(crate) fn describe(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = cause_of(source);
    }
    text.replace('\n', " ")
}

fn cause_of<'a>(
    error: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a (dyn std::error::Error + 'static)> {
    error.and_then(std::error::Error::source)
}

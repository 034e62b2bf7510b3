//! Why a database operation failed, by the kinds the results count (`timeout`, `connection`,
//! `query`), with messages that name the endpoint and never the password.

/// A failed database operation.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The connection string could not be read. The string itself is not repeated: it may hold
    /// the password.
    #[error("the reference store is not a valid postgres:// connection string: {reason}")]
    InvalidUrl {
        /// What was wrong with it.
        reason: String,
    },
    /// The server could not be reached when the pool was made.
    #[error("{endpoint}: cannot connect: {reason}")]
    Unavailable {
        /// Where the server is, without the password.
        endpoint: String,
        /// What the client library said.
        reason: String,
    },
    /// An acquisition or a query took longer than its timeout.
    #[error("timed out {what}")]
    Timeout {
        /// What was being waited for.
        what: &'static str,
    },
    /// No connection could be made, or the one in use broke.
    #[error("connection: {detail}")]
    Connection {
        /// What the client library said.
        detail: String,
    },
    /// The server rejected the statement.
    #[error("query: {detail}")]
    Query {
        /// The server's message.
        detail: String,
    },
    /// A thread or runtime for the pool's own work could not be started.
    #[error("could not start the database helper: {0}")]
    Start(#[from] std::io::Error),
}

impl DatabaseError {
    /// The kind results count this error under: `timeout`, `connection` or `query`.
    pub fn kind(&self) -> &'static str {
        match self {
            DatabaseError::Timeout { .. } => "timeout",
            DatabaseError::Query { .. } | DatabaseError::InvalidUrl { .. } => "query",
            DatabaseError::Unavailable { .. }
            | DatabaseError::Connection { .. }
            | DatabaseError::Start(_) => "connection",
        }
    }

    /// The error kind a stage reports for a message whose lookup failed this way:
    /// `database_timeout`, `database_connection` or `database_query`.
    pub fn stage_kind(&self) -> &'static str {
        match self.kind() {
            "timeout" => "database_timeout",
            "query" => "database_query",
            _ => "database_connection",
        }
    }

    /// Whether the failure says the server could not be had (a connection or a timeout), which
    /// is what an outage is made of; a rejected statement is not.
    pub fn is_outage(&self) -> bool {
        self.kind() != "query"
    }

    /// From the client library's error: a server's error about the statement is a `query`
    /// error; anything else (refused, reset, closed, and the server's own ending of the session:
    /// `FATAL`/`PANIC`, SQLSTATE classes 08 and 57P, as a stopping server sends) a `connection` one.
    pub(crate) fn from_client(error: &tokio_postgres::Error) -> Self {
        let session_ended = |db: &tokio_postgres::error::DbError| {
            let code = db.code().code();
            matches!(db.severity(), "FATAL" | "PANIC") || code.starts_with("08") || code.starts_with("57P")
        };
        match error.as_db_error() {
            Some(db) if session_ended(db) => DatabaseError::connecting(error),
            Some(db) => DatabaseError::Query {
                detail: format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
            },
            None => DatabaseError::Connection {
                detail: describe(error),
            },
        }
    }
}

impl DatabaseError {
    /// From the client library's error while opening a connection: always a `connection` error,
    /// even when the server answered (`the database system is starting up`, a refused login).
    pub(crate) fn connecting(error: &tokio_postgres::Error) -> Self {
        DatabaseError::Connection {
            detail: match error.as_db_error() {
                Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
                None => describe(error),
            },
        }
    }
}

/// The client library's error with its causes, on one line.
pub(crate) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

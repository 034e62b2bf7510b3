//! How long a phase (or its warm-up) lasts: a message count or a time.

use std::time::Duration;

use serde_json::{Value, json};

/// How long a phase (or its warm-up) lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// A fixed number of messages.
    Messages(u64),
    /// A fixed wall-clock time.
    Duration(Duration),
}

impl Length {
    pub(crate) fn to_json(self) -> Value {
        match self {
            Length::Messages(count) => json!({ "messages": count }),
            Length::Duration(duration) => json!({ "seconds": duration.as_secs_f64() }),
        }
    }

    pub(crate) fn is_empty(self) -> bool {
        match self {
            Length::Messages(count) => count == 0,
            Length::Duration(duration) => duration.is_zero(),
        }
    }
}

//! The short texts every renderer writes the same way: a status, a limit, a target, a change
//! against the baseline, a movement, and a recommendation as plain text.

use crate::evaluate::{Movement, Status};
use crate::metric::format_value;
use crate::recommend::Part;
use crate::thresholds::Limit;

/// Text from the inputs made safe for a terminal: every control character (a line break, an
/// escape sequence that would recolour or rewrite the screen) becomes U+FFFD.
pub(crate) fn terminal(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

/// A status as shown to people.
pub(crate) fn status_label(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Warn => "warn",
        Status::Fail => "FAIL",
        Status::NotAvailable => "n/a",
    }
}

/// A limit as shown to people: `≥ 400,000 msg/s`.
pub(crate) fn limit_text(limit: Limit, unit: &str) -> String {
    match limit {
        Limit::Min(value) => format!("≥ {}", format_value(value, unit)),
        Limit::Max(value) => format!("≤ {}", format_value(value, unit)),
    }
}

/// The target, on the limit's side.
pub(crate) fn target_text(limit: Limit, target: Option<f64>, unit: &str) -> String {
    match (limit, target) {
        (_, None) => "—".to_owned(),
        (Limit::Min(_), Some(target)) => format!("≥ {}", format_value(target, unit)),
        (Limit::Max(_), Some(target)) => format!("≤ {}", format_value(target, unit)),
    }
}

/// A change against the baseline: `+12.3 %`.
pub(crate) fn change_text(change: Option<f64>) -> String {
    match change {
        Some(change) => format!("{change:+.1} %"),
        None => "new".to_owned(),
    }
}

pub(crate) fn movement_label(movement: Movement) -> &'static str {
    movement.name()
}

/// A recommendation's text as plain text on one line, as the console prints it and the JSON
/// verdict's `text` holds it: code spans in backticks, figures as the report writes them, line
/// breaks and other control characters (terminal escapes from untrusted names) as U+FFFD.
pub(crate) fn plain_text(parts: &[Part]) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Code(code) => {
                out.push('`');
                out.push_str(code);
                out.push('`');
            }
            Part::Figure(figure) => out.push_str(&figure.text()),
        }
    }
    out.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

//! Where a key of a thresholds file is, as errors name it (`line 3, key metrics."x".max`), and
//! its value read as a finite number: what the metrics and the `[recommendations]` table share.

use std::path::Path;

use toml::Spanned;

use crate::error::{ReportError, Result, line_column};

/// Where a key is, as errors name it: `line 3, key metrics."latency.p99_ms".max`.
pub(super) fn place(text: &str, offset: usize, key: &str) -> String {
    let (line, _) = line_column(text, offset);
    format!("line {line}, key {key}")
}

/// The value of `key` as a finite number (a TOML integer or float).
pub(super) fn number(path: &Path, text: &str, key: &str, value: &Spanned<toml::Value>) -> Result<f64> {
    let at = place(text, value.span().start, key);
    let number = match value.get_ref() {
        toml::Value::Integer(integer) => *integer as f64,
        toml::Value::Float(float) => *float,
        other => {
            return Err(ReportError::invalid(
                path,
                at,
                format!("expected a number, found {}", other.type_str()),
            ));
        }
    };
    if !number.is_finite() {
        return Err(ReportError::invalid(
            path,
            at,
            format!("expected a finite number, found {number}"),
        ));
    }
    Ok(number)
}

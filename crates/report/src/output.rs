//! Writes outputs so that nothing is lost: the report's files are staged as one
//! [`OutputSet`] and renamed into place together, so a failed run never leaves a half-written,
//! emptied or half-replaced report (see `perfgate-output`).

use std::path::Path;

pub use perfgate_output::OutputSet;

use crate::error::{ReportError, Result};

impl From<perfgate_output::OutputError> for ReportError {
    fn from(error: perfgate_output::OutputError) -> Self {
        ReportError::write(&error.path, error.source)
    }
}

/// Writes `bytes` to `path` atomically, creating parent directories: a set of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(perfgate_output::write_atomic(path, bytes)?)
}

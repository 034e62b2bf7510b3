//! Opening input files, which may be anything a path can name: only regular files are read (a
//! FIFO would block for ever, `/dev/zero` would be read until memory runs out), and whole-file
//! reads stop at a size cap with a clear message.

use std::io::Read;
use std::path::Path;

use crate::error::{ReportError, Result};

/// The largest input read whole: results, Locust and oha JSON, thresholds. perfgate's own results
/// are well under 10 MiB; a load-test JSON of a long run a few tens.
pub(crate) const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// Checks that `path` names a regular file (following symbolic links); a missing file is the
/// usual reading error.
pub(crate) fn regular_file(path: &Path) -> Result<()> {
    let metadata = std::fs::metadata(path).map_err(|error| ReportError::read(path, error))?;
    if metadata.is_file() {
        Ok(())
    } else {
        Err(ReportError::invalid(
            path,
            "the file",
            "is not a regular file (a folder, a FIFO or a device); give a file",
        ))
    }
}

/// Reads a regular file whole, refusing one over [`MAX_INPUT_BYTES`].
pub(crate) fn read_capped(path: &Path) -> Result<Vec<u8>> {
    regular_file(path)?;
    let file = std::fs::File::open(path).map_err(|error| ReportError::read(path, error))?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| ReportError::read(path, error))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(ReportError::invalid(
            path,
            "the file",
            format!(
                "is larger than {} MiB, more than any input perfgate reads",
                MAX_INPUT_BYTES / 1024 / 1024
            ),
        ));
    }
    Ok(bytes)
}

/// [`read_capped`], as UTF-8 text.
pub(crate) fn read_text_capped(path: &Path) -> Result<String> {
    String::from_utf8(read_capped(path)?).map_err(|error| {
        ReportError::read(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not UTF-8 text ({error})"),
            ),
        )
    })
}

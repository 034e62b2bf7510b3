//! Opening input files, which may be anything a path can name: only regular files are read (a
//! FIFO would block for ever, `/dev/zero` would be read until memory runs out), and whole-file
//! reads stop at a size cap with a clear message.

use std::io::Read;
use std::path::Path;

use crate::error::{ReportError, Result};

/// The largest input read whole: results, Locust and oha JSON, thresholds. perfgate's own results
/// are a few hundred KiB (time series stop at 1,024 points), a Locust JSON tens of KiB, so 8 MiB
/// is far above any real one. The cap is about memory, not disk: a JSON reader holds the whole
/// document as a `serde_json::Value`, about 70 bytes per input byte for a file of small nested
/// lists (the fuzzer measured 16 MiB → 1.2 GB), so 8 MiB bounds a hostile file near 600 MB.
pub(crate) const MAX_INPUT_BYTES: u64 = 8 * 1024 * 1024;

/// The longest line of a JSON Lines history: a record is about 2 KiB.
pub(crate) const MAX_LINE_BYTES: u64 = 1024 * 1024;

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

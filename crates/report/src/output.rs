//! Writes outputs so that nothing is lost: each file is written to a temporary file beside it and
//! renamed over the target, so a failed run never leaves a half-written or emptied report.

use std::io::Write;
use std::path::Path;

use crate::error::{ReportError, Result};

/// Writes `bytes` to `path` atomically, creating parent directories.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let error = |source| ReportError::write(path, source);
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(error)?;
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(error)?;
    file.write_all(bytes).map_err(error)?;
    file.as_file().sync_all().map_err(error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Reports are meant to be read by others; temporary files start private.
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(error)?;
    }
    file.persist(path).map_err(|persist| error(persist.error))?;
    Ok(())
}

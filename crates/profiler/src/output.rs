//! Writing output files so that a reader never sees half a file: write a temporary file in the
//! same directory, flush it to disk, then rename it over the target.

use std::io::Write;
use std::path::Path;

use crate::error::{ProfilerError, Result};
use crate::results::Results;

/// Writes `bytes` to `path` atomically, creating the parent directories.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let error = |source| ProfilerError::Write {
        path: path.to_owned(),
        source,
    };
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
        // Results are meant to be read by others; temporary files start private.
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(error)?;
    }
    file.persist(path).map_err(|persist| error(persist.error))?;
    Ok(())
}

/// Writing [`Results`] to disk: the results types live in `perfgate-results`, which knows
/// nothing of files beside them.
pub trait ResultsFiles {
    /// Pretty JSON with a trailing newline.
    fn to_json_pretty(&self) -> Result<String>;

    /// Writes `results.json` and the files it lists (flamegraph, pprof profile) into `dir`, each
    /// atomically; returns the path of `results.json`. A file the run did not produce is removed
    /// from `dir`, so a directory never mixes files of two runs.
    fn write_to_dir(&self, dir: &Path) -> Result<std::path::PathBuf>;
}

impl ResultsFiles for Results {
    fn to_json_pretty(&self) -> Result<String> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        Ok(text)
    }

    fn write_to_dir(&self, dir: &Path) -> Result<std::path::PathBuf> {
        for artifact in &self.artifacts {
            write_atomic(&dir.join(&artifact.file_name), &artifact.bytes)?;
        }
        for stale in ["flamegraph.svg", "profile.pb", "heap.pb.gz"] {
            if !self.artifacts.iter().any(|artifact| artifact.file_name == stale) {
                let path = dir.join(stale);
                match std::fs::remove_file(&path) {
                    Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                        return Err(crate::error::ProfilerError::Write { path, source: error });
                    }
                    _ => {}
                }
            }
        }
        let path = dir.join("results.json");
        write_atomic(&path, self.to_json_pretty()?.as_bytes())?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_creates_directories_and_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/out.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temporary files must not be left behind");
    }
}

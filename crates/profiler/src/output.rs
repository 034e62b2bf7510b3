//! Writing output files so that a reader never sees half a file and a run never leaves half a
//! set: the results directory's files are staged and renamed into place together
//! (`perfgate-output`).

use std::path::Path;

use perfgate_output::OutputSet;

use crate::error::{ProfilerError, Result};
use crate::results::Results;

impl From<perfgate_output::OutputError> for ProfilerError {
    fn from(error: perfgate_output::OutputError) -> Self {
        ProfilerError::Write {
            path: error.path,
            source: error.source,
        }
    }
}

/// Writes `bytes` to `path` atomically, creating the parent directories.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(perfgate_output::write_atomic(path, bytes)?)
}

/// Writing [`Results`] to disk: the results types live in `perfgate-results`, which knows
/// nothing of files beside them.
pub trait ResultsFiles {
    /// Pretty JSON with a trailing newline.
    fn to_json_pretty(&self) -> Result<String>;

    /// Writes `results.json` and the files it lists (flamegraph, pprof profile) into `dir` as
    /// one set; returns the path of `results.json`. A file the run did not produce is then
    /// removed from `dir`, so a directory never mixes files of two runs.
    fn write_to_dir(&self, dir: &Path) -> Result<std::path::PathBuf>;
}

impl ResultsFiles for Results {
    fn to_json_pretty(&self) -> Result<String> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        Ok(text)
    }

    fn write_to_dir(&self, dir: &Path) -> Result<std::path::PathBuf> {
        // The files results.json lists go in before it, and the set replaces nothing unless
        // every file of it could be written.
        let mut outputs = OutputSet::new();
        for artifact in &self.artifacts {
            outputs.stage(&dir.join(&artifact.file_name), &artifact.bytes)?;
        }
        let path = dir.join("results.json");
        outputs.stage(&path, self.to_json_pretty()?.as_bytes())?;
        outputs.commit()?;
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

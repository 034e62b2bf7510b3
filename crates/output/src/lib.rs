//! Writes output files as a set, so that nothing is half-written and nothing is lost.
//!
//! Every output is first written in full to a temporary file beside its target (same folder,
//! so the final rename is atomic), flushed to disk and made readable; only when every output of
//! the set is staged are they renamed into place, one after another. So:
//! - a failure while staging (a folder that cannot be created, a full disk) replaces nothing:
//!   the temporaries are removed and every previous output is as it was;
//! - a reader never sees a half-written file, and a kill leaves at most a mix of whole new and
//!   whole old files if it lands within the renames (microseconds), never while writing;
//! - a temporary left by a killed run is removed by the next set that writes into its folder.
//!   Temporaries are named `.perfgate-<pid>-<random>.tmp`; one is stale when its process is gone
//!   (Linux: no `/proc/<pid>`; elsewhere: older than an hour), so a run in progress next door
//!   keeps its own.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct OutputError {
    /// The output (or its folder) that failed.
    pub path: PathBuf,
    /// What the system said.
    #[source]
    pub source: std::io::Error,
}

/// A temporary file's name starts with this and the writing process's id.
const PREFIX: &str = ".perfgate-";
/// And ends with this.
const SUFFIX: &str = ".tmp";
/// Where a process's liveness cannot be checked, a temporary this old is stale.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// Outputs staged to be written together. Dropped without [`OutputSet::commit`], it removes its
/// temporaries and replaces nothing.
#[derive(Debug, Default)]
pub struct OutputSet {
    staged: Vec<(tempfile::TempPath, PathBuf)>,
    cleaned: BTreeSet<PathBuf>,
}

impl OutputSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many outputs are staged.
    pub fn len(&self) -> usize {
        self.staged.len()
    }

    /// Whether nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.staged.is_empty()
    }

    /// Writes `bytes` to a temporary file beside `path` (creating its folder), to be renamed
    /// over `path` by [`OutputSet::commit`]. Staging the same path twice keeps the later bytes.
    pub fn stage(&mut self, path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
        let error = |source| OutputError {
            path: path.to_owned(),
            source,
        };
        if path.is_dir() {
            return Err(error(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "is a folder, not a file",
            )));
        }
        let dir = folder_of(path);
        std::fs::create_dir_all(dir).map_err(error)?;
        if self.cleaned.insert(dir.to_owned()) {
            remove_stale_temporaries(dir);
        }
        let mut file = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .suffix(SUFFIX)
            .tempfile_in(dir)
            .map_err(error)?;
        file.write_all(bytes).map_err(error)?;
        file.as_file().sync_all().map_err(error)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Outputs are meant to be read by others; temporary files start private.
            file.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(error)?;
        }
        self.staged.retain(|(_, target)| target != path);
        self.staged.push((file.into_temp_path(), path.to_owned()));
        Ok(())
    }

    /// Renames every staged output into place, in the order staged; returns the paths written.
    /// Stage the files others link to (images) before the documents that link them.
    pub fn commit(self) -> Result<Vec<PathBuf>, OutputError> {
        let mut written = Vec::with_capacity(self.staged.len());
        for (temporary, target) in self.staged {
            temporary.persist(&target).map_err(|persist| OutputError {
                path: target.clone(),
                source: persist.error,
            })?;
            written.push(target);
        }
        Ok(written)
    }
}

/// Writes one output atomically: a set of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let mut set = OutputSet::new();
    set.stage(path, bytes)?;
    set.commit().map(drop)
}

/// Checks, before a long run, that outputs can be written in `dir`: creates it if needed and
/// creates and removes a file of its own in it.
pub fn check_folder_writable(dir: &Path) -> Result<(), OutputError> {
    let error = |source| OutputError {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(error)?;
    let probe = tempfile::Builder::new()
        .prefix(&format!("{PREFIX}{}-", std::process::id()))
        .suffix(SUFFIX)
        .tempfile_in(dir)
        .map_err(error)?;
    probe.close().map_err(error)
}

/// The folder an output `path` goes into (`.` for a bare file name).
pub fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Removes the temporaries in `dir` whose writer is gone. Best effort: a file that cannot be
/// read or removed stays, and costs nothing but its space.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(writer_pid) else {
            continue;
        };
        let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
        if is_file && !writer_alive(pid, &entry) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The process id in a temporary's name, `None` for any other file.
fn writer_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let (pid, random) = rest.split_once('-')?;
    (!random.is_empty()).then_some(())?;
    pid.parse().ok()
}

fn writer_alive(pid: u32, entry: &std::fs::DirEntry) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if Path::new("/proc/self").exists() {
        return Path::new("/proc").join(pid.to_string()).exists();
    }
    entry
        .metadata()
        .and_then(|metadata| metadata.modified())
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .is_none_or(|age| age < STALE_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn nothing_is_replaced_until_the_whole_set_is_staged() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
        std::fs::write(&a, "old a").unwrap();
        std::fs::write(&b, "old b").unwrap();
        let blocker = dir.path().join("not-a-folder");
        std::fs::write(&blocker, "").unwrap();
        let mut set = OutputSet::new();
        set.stage(&a, b"new a").unwrap();
        assert_eq!(
            std::fs::read_to_string(&a).unwrap(),
            "old a",
            "staged, not written"
        );
        // The third output cannot be written (its folder is a file): the set fails whole.
        let error = set.stage(&blocker.join("c.txt"), b"c").unwrap_err();
        assert!(error.to_string().contains("not-a-folder"), "{error}");
        drop(set);
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "old a");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "old b");
        assert_eq!(
            names(dir.path()),
            ["a.txt", "b.txt", "not-a-folder"].map(String::from).into()
        );

        let mut set = OutputSet::new();
        set.stage(&a, b"new a").unwrap();
        set.stage(&b, b"first b").unwrap();
        set.stage(&b, b"new b").unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set.commit().unwrap(), vec![a.clone(), b.clone()]);
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "new a");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "new b");
        assert_eq!(names(dir.path()).len(), 3, "no temporary left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&a).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }

    #[test]
    fn a_folder_is_never_replaced_by_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = OutputSet::new();
        let error = set.stage(dir.path(), b"x").unwrap_err();
        assert!(error.to_string().contains("is a folder"), "{error}");
    }

    #[test]
    fn the_temporaries_of_a_dead_writer_are_removed_and_a_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        // No process has this id (above Linux's largest pid_max); this process is alive.
        let dead = format!("{PREFIX}4194305-abc123{SUFFIX}");
        let alive = format!("{PREFIX}{}-def456{SUFFIX}", std::process::id());
        for name in [&dead, &alive, &".tmpABC123".to_owned(), &"notes.txt".to_owned()] {
            std::fs::write(dir.path().join(name), "left over").unwrap();
        }
        write_atomic(&dir.path().join("out.txt"), b"new").unwrap();
        let left = names(dir.path());
        if Path::new("/proc/self").exists() {
            assert!(!left.contains(&dead), "{left:?}");
        }
        // Ours, someone else's temporary and an ordinary file stay.
        for kept in [&alive, ".tmpABC123", "notes.txt", "out.txt"] {
            assert!(left.contains(kept), "{kept} removed: {left:?}");
        }
    }

    #[test]
    fn a_folder_that_cannot_be_written_is_found_before_anything_runs() {
        let dir = tempfile::tempdir().unwrap();
        check_folder_writable(&dir.path().join("new/folder")).unwrap();
        assert!(dir.path().join("new/folder").is_dir());
        assert!(
            names(&dir.path().join("new/folder")).is_empty(),
            "the probe file stays"
        );
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let error = check_folder_writable(&file.join("below")).unwrap_err();
        assert!(error.to_string().contains("file/below"), "{error}");
    }

    #[test]
    fn only_our_temporary_names_are_recognised() {
        assert_eq!(writer_pid(".perfgate-123-abc.tmp"), Some(123));
        assert_eq!(writer_pid(".perfgate-123-.tmp"), None);
        assert_eq!(writer_pid(".perfgate-x-abc.tmp"), None);
        assert_eq!(writer_pid("perfgate-123-abc.tmp"), None);
        assert_eq!(writer_pid(".perfgate-123-abc.txt"), None);
    }
}

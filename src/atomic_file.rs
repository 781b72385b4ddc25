//! Replacing a file so that a reader, or a crash, sees the old contents or the new ones and
//! never a mix: the new contents go to a temporary file in the same folder (`.NAME.tmp-PID`),
//! which is synced, renamed over the file, and the folder synced so the rename itself lasts.
//!
//! [`write`] does it for bytes in memory; [`Staged::create`] opens the temporary file for
//! callers that stream the contents or check them before [`commit`](Staged::commit) renames
//! it. A staged file that is dropped uncommitted is removed.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Replaces `path` with `bytes`.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut staged = Staged::create(path)?;
    staged.file().write_all(bytes)?;
    staged.commit()
}

/// The temporary file that [`Staged::create`] writes for `path`: `.NAME.tmp-PID` beside it.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// The new contents of a file, written to a temporary file beside it; nothing replaces the
/// file until [`commit`](Staged::commit). Dropped uncommitted, the temporary file is removed.
#[derive(Debug)]
pub struct Staged {
    file: File,
    tmp: PathBuf,
    target: PathBuf,
    done: bool,
}

impl Staged {
    /// Creates the temporary file of `path` (see [`temp_path`]).
    pub fn create(path: &Path) -> io::Result<Staged> {
        let tmp = temp_path(path);
        let file = File::create(&tmp)?;
        Ok(Staged {
            file,
            tmp,
            target: path.to_path_buf(),
            done: false,
        })
    }

    /// The temporary file, open for writing.
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// The temporary file's path.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Syncs the temporary file, renames it over its target and syncs the folder.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.sync_all()?;
        std::fs::rename(&self.tmp, &self.target)?;
        self.done = true;
        sync_parent(&self.target);
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Syncs the folder of `path`, which makes a rename into it durable. Best effort: some file
/// systems do not sync folders.
pub fn sync_parent(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old").unwrap();
        write(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn an_uncommitted_stage_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old").unwrap();
        let mut staged = Staged::create(&path).unwrap();
        staged.file().write_all(b"new").unwrap();
        assert!(staged.path().exists());
        let tmp = staged.path().to_path_buf();
        drop(staged);
        assert!(!tmp.exists());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    }
}

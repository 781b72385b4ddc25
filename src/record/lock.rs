//! One writer per output folder: `OUT/.isg-lock`.
//!
//! [`OutputLock::acquire`] takes an exclusive OS file lock (`flock`) on `OUT/.isg-lock` and
//! writes the holder's pid and start time into it; the lock lasts as long as the returned
//! value. A second run on the same folder gets [`LockError::Held`] naming the holder at once,
//! or waits when asked to. The kernel releases the lock when its holder dies, even by SIGKILL,
//! so a lock left by a killed run is simply taken over: the file then still names the dead
//! holder ([`OutputLock::taken_over`]), since a run that ends normally empties it. The file is
//! never deleted (deleting a locked file lets two runs lock two different files).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The lock file's name inside the output folder.
pub const LOCK_FILE: &str = ".isg-lock";

/// Who holds (or held) an output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The holder's process id.
    pub pid: u32,
    /// When it took the lock, seconds since the Unix epoch.
    pub started: u64,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {}, started {}", self.pid, utc_time(self.started))
    }
}

/// Why an output folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another run holds the folder.
    #[error(
        "{} is in use by another isg run ({}); wait for it to finish, stop it, or pass --wait",
        dir.display(),
        holder.as_ref().map_or_else(|| "holder unknown".to_string(), Holder::to_string)
    )]
    Held {
        /// The output folder.
        dir: PathBuf,
        /// The holder, when its info file could be read.
        holder: Option<Holder>,
    },
    /// The lock file could not be created or locked.
    #[error(
        "locking {}: {source}; check that the output folder is writable",
        path.display()
    )]
    Io {
        /// The lock file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
}

/// Whether [`OutputLock::acquire`] waits for another holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Fail at once with [`LockError::Held`].
    No,
    /// Block until the holder is done.
    Yes,
}

/// An exclusive hold on an output folder, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct OutputLock {
    file: File,
    path: PathBuf,
    taken_over: Option<Holder>,
}

impl OutputLock {
    /// Locks `out_dir` (which must exist) for this process.
    pub fn acquire(out_dir: &Path, wait: Wait) -> Result<OutputLock, LockError> {
        let path = out_dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) if wait == Wait::Yes => file.lock().map_err(io)?,
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    dir: out_dir.to_path_buf(),
                    holder: read_holder(&mut file),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        // A holder that ended normally emptied the file: anything left names a dead one.
        let taken_over = read_holder(&mut file);
        let me = Holder {
            pid: std::process::id(),
            started: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)).map(|_| ()))
            .and_then(|()| writeln!(file, "pid {}\nstarted {}", me.pid, me.started))
            .and_then(|()| file.flush())
            .map_err(io)?;
        Ok(OutputLock {
            file,
            path,
            taken_over,
        })
    }

    /// Who holds `out_dir` now, if anyone (without taking it).
    pub fn holder(out_dir: &Path) -> Option<Holder> {
        let mut file = File::open(out_dir.join(LOCK_FILE)).ok()?;
        match file.try_lock_shared() {
            Ok(()) => None,
            Err(_) => read_holder(&mut file),
        }
    }

    /// The holder of a lock that was left by a run that died, when this one took it over.
    pub fn taken_over(&self) -> Option<&Holder> {
        self.taken_over.as_ref()
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Empty the info file while still holding the lock: a normal end leaves nothing behind.
        let _ = self.file.set_len(0);
    }
}

/// The holder named in a lock file, when it parses.
fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    Some(Holder {
        pid: u32::try_from(field("pid ")?).ok()?,
        started: field("started ")?,
    })
}

/// `secs` since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_times() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_time(1_795_950_123), "2026-11-29 11:02:03 UTC");
    }

    #[test]
    fn a_second_lock_in_the_same_process_is_refused_and_released_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let first = OutputLock::acquire(tmp.path(), Wait::No).unwrap();
        assert!(first.taken_over().is_none());
        let err = OutputLock::acquire(tmp.path(), Wait::No).unwrap_err();
        let LockError::Held { holder, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(holder.as_ref().unwrap().pid, std::process::id());
        assert!(err.to_string().contains("--wait"), "{err}");
        assert_eq!(
            OutputLock::holder(tmp.path()).unwrap().pid,
            std::process::id()
        );
        drop(first);
        assert!(OutputLock::holder(tmp.path()).is_none());
        let again = OutputLock::acquire(tmp.path(), Wait::No).unwrap();
        assert!(
            again.taken_over().is_none(),
            "a normal end leaves no holder"
        );
    }

    #[test]
    fn a_stale_info_file_is_taken_over() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join(LOCK_FILE),
            "pid 999999\nstarted 1795950123\n",
        )
        .unwrap();
        let lock = OutputLock::acquire(tmp.path(), Wait::No).unwrap();
        assert_eq!(
            lock.taken_over(),
            Some(&Holder {
                pid: 999_999,
                started: 1_795_950_123
            })
        );
    }
}

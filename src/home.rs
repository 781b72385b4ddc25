//! Where isg keeps what it downloads and builds: the cache directory ([`cache_dir`]) and the
//! folder in it that holds ONNX Runtime ([`runtime_dir`]). [`crate::provision`] fills the
//! cache; [`crate::llm`] looks for ONNX Runtime there; both take the places from here.
//!
//! The cache directory is `$ISG_HOME`, else the platform cache directory (`~/.cache/isg` on
//! Linux).

use std::path::{Path, PathBuf};

/// The cache directory (not created here).
pub fn cache_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("ISG_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("isg")
}

/// `<cache>/onnxruntime`: where the fetched library goes.
pub fn runtime_dir(cache: &Path) -> PathBuf {
    cache.join("onnxruntime")
}

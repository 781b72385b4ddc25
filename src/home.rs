//! Where isg keeps what it downloads and builds: `$ISG_HOME`, else the platform cache directory
//! (`~/.cache/isg` on Linux).

use std::path::PathBuf;

/// The cache directory (not created here).
pub fn cache_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("ISG_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h);
    }
    dirs::cache_dir()
        .unwrap_or_else(|| std::env::temp_dir())
        .join("isg")
}

/// Folder of the default model once `isg setup` has converted it.
pub fn default_model_dir() -> PathBuf {
    cache_dir().join("models").join(DEFAULT_MODEL_NAME)
}

/// Name of the default model's folder under `<cache>/models`.
pub const DEFAULT_MODEL_NAME: &str = "smollm2-135m-instruct";

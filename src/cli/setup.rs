//! `isg setup`: fetch ONNX Runtime and the default model into the cache directory.

use std::process::ExitCode;

use super::Global;
use isg::llm::runtime;

/// Flags of `isg setup`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs `isg setup`. Idempotent: what is already there is kept.
pub fn run(global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    let cache = isg::home::cache_dir();
    let info = runtime::ensure(global.ort_lib.as_deref(), true)?;
    eprintln!(
        "ONNX Runtime {} at {} (found by {})",
        info.version,
        info.library.display(),
        info.found_by
    );
    let model = isg::setup::ensure_default_model()?;
    eprintln!(
        "default model at {} (cache {})",
        model.display(),
        cache.display()
    );
    Ok(ExitCode::SUCCESS)
}

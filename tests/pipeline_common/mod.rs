//! Shared helpers of the pipeline tests: copies of real source files to work on, the tokio crate
//! from the cargo registry, and a stand-in engine for tests of the run's plumbing.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use isg::pipeline::echo_backend::EchoBackend;

/// This repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies real source files of this repository into `dir` (keeping their relative paths) and
/// returns `dir`.
pub fn copy_real_files(dir: &Path, files: &[&str]) -> PathBuf {
    for f in files {
        let to = dir.join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo().join(f), &to).unwrap();
    }
    dir.to_path_buf()
}

/// A handful of real files of different sizes and languages.
pub const REAL_FILES: [&str; 5] = [
    "src/pipeline/shard.rs",
    "src/pipeline/clean.rs",
    "src/pipeline/sink/markdown.rs",
    "src/bench.rs",
    "build.rs",
];

const TOKIO: &str = "tokio-1.54.1";

/// The tokio crate in the local cargo registry. Missing: `None`, except under `CI=true`, where
/// the test fails.
pub fn tokio() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    let found = std::fs::read_dir(home.join("registry/src"))
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join(TOKIO))
        .find(|p| p.join("Cargo.toml").is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{TOKIO} is not in the cargo registry; run `cargo fetch` in a crate that depends on it"
        );
        eprintln!("skipped: {TOKIO} is not in the cargo registry");
    }
    found
}

/// The stand-in engine for plumbing tests: text is one token per character, the chat template
/// is ChatML, and every answer is a fixed sentence naming how many prompt tokens it read. It is
/// not a summarizer and no test treats its answers as summaries; it lets the cache, resume,
/// reduction and sink logic run without a model.
pub fn stand_in() -> EchoBackend {
    EchoBackend::new()
        .with_id("stand-in")
        .with_context(1 << 20)
        .with_parallel(4)
        .with_answer(|_, n| format!("Read {n} prompt tokens.\nsecond line"))
}

//! Shared helpers of the pipeline tests: copies of real source files to work on, and the
//! stand-in engine for tests of the run's plumbing.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use isg::run::EchoBackend;

/// This repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the file a test tree names `path` is in this repository: the trees keep the paths
/// the tests were written with (their directories and shards depend on them), and take each
/// file's text from where it lives now.
pub fn source_of(path: &str) -> &str {
    match path {
        "src/pipeline/cache.rs" => "src/run/cache.rs",
        "src/pipeline/clean.rs" => "src/run/clean.rs",
        "src/pipeline/shard.rs" => "src/record/shard.rs",
        "src/pipeline/sink/markdown.rs" => "src/output/markdown.rs",
        other => other,
    }
}

/// Copies real source files of this repository into `dir` (at the relative paths given, see
/// [`source_of`]) and returns `dir`.
pub fn copy_real_files(dir: &Path, files: &[&str]) -> PathBuf {
    for f in files {
        let to = dir.join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo().join(source_of(f)), &to).unwrap();
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

//! Every Rust file of the tokio crate survives encode → decode unchanged with the tokenizer
//! built from SmolLM2's GGUF file.

use crate::prereq;
use crate::tokenizer_data;

use std::path::{Path, PathBuf};
use std::time::Instant;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn tokio_sources_round_trip() {
    let Some((_dir, tok)) = tokenizer_data::smollm2_tokenizer() else {
        return;
    };
    let Some(tokio) = prereq::tokio_source() else {
        return;
    };
    let mut files = Vec::new();
    rust_files(&tokio, &mut files);
    files.sort();
    assert!(
        files.len() > 300,
        "{} .rs files in {}",
        files.len(),
        tokio.display()
    );

    let src = tokio.join("src");
    let (mut total, mut in_src, mut bytes) = (0usize, 0usize, 0usize);
    let mut encode_time = std::time::Duration::ZERO;
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let start = Instant::now();
        let ids = tok.encode(&text, false).unwrap();
        encode_time += start.elapsed();
        let back = tok.decode(&ids, false).unwrap();
        if back != text {
            failures.push(path.display().to_string());
        }
        total += ids.len();
        bytes += text.len();
        if path.starts_with(&src) {
            in_src += ids.len();
        }
    }
    let secs = encode_time.as_secs_f64();
    println!(
        "tokio {}: {} .rs files, {bytes} bytes, {total} tokens ({in_src} in src/), \
         encoded in {secs:.2} s = {:.0} tokens/s",
        prereq::TOKIO_VERSION,
        files.len(),
        total as f64 / secs
    );
    assert!(failures.is_empty(), "round trip changed {failures:?}");
    // About 1.45 million tokens for all of tokio with this vocabulary.
    assert!((1_300_000..1_600_000).contains(&total), "{total} tokens");
}

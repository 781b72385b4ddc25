//! Test data for the tokenizer tests: SmolLM2's tokenizer (from its GGUF, found with
//! [`crate::prereq`]), the llama.cpp fixtures and a small SentencePiece vocabulary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The GGUF's tokenizer files written into a fresh folder, loaded.
pub fn smollm2_tokenizer() -> Option<(tempfile::TempDir, isg::llm::TextTokenizer)> {
    let gguf_path = crate::prereq::smollm2_gguf()?;
    let gguf = isg::gguf::Gguf::open(&gguf_path).expect("the GGUF opens");
    let dir = tempfile::tempdir().expect("temp dir");
    isg::convert::tokenizer_files::write_tokenizer_files(&gguf, dir.path())
        .expect("tokenizer files");
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

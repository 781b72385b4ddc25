//! A SentencePiece-style (`llama`) GGUF vocabulary: the written tokenizer makes the same choices
//! as llama.cpp's SentencePiece tokenizer and gives the text back unchanged.

use crate::tokenizer_data;

use std::collections::HashMap;

use isg::convert::tokenizer_files::write_tokenizer_files_from_metadata;
use isg::llm::TextTokenizer;

/// llama.cpp's SentencePiece algorithm: a `▁` before the text, spaces as `▁`, then repeatedly
/// join the adjacent pair whose joined piece has the highest score (leftmost on ties); pieces
/// left outside the vocabulary become byte tokens.
fn llamacpp_spm(tokens: &[String], scores: &[f32], text: &str) -> Vec<u32> {
    let index: HashMap<&str, u32> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i as u32))
        .collect();
    let escaped = format!(" {text}").replace(' ', "▁");
    let mut symbols: Vec<String> = escaped.chars().map(String::from).collect();
    loop {
        let mut best: Option<(usize, f32)> = None;
        for i in 0..symbols.len().saturating_sub(1) {
            let joined = format!("{}{}", symbols[i], symbols[i + 1]);
            if let Some(&id) = index.get(joined.as_str()) {
                let score = scores[id as usize];
                if best.is_none_or(|(_, s)| score > s) {
                    best = Some((i, score));
                }
            }
        }
        let Some((i, _)) = best else { break };
        let right = symbols.remove(i + 1);
        symbols[i].push_str(&right);
    }
    let mut ids = Vec::new();
    for s in symbols {
        match index.get(s.as_str()) {
            Some(&id) => ids.push(id),
            None => ids.extend(s.bytes().map(|b| index[format!("<0x{b:02X}>").as_str()])),
        }
    }
    ids
}

#[test]
fn sentencepiece_vocabulary_matches_llamacpp_and_round_trips() {
    let meta = tokenizer_data::spm_metadata();
    let dir = tempfile::tempdir().unwrap();
    let summary = write_tokenizer_files_from_metadata(&meta, dir.path()).unwrap();
    assert_eq!(summary.model, "llama");
    assert_eq!(summary.pre_tokenizer, None);
    assert!(
        summary.add_bos_token,
        "SentencePiece vocabularies prepend BOS by default"
    );
    assert_eq!(summary.added_tokens, 3);
    assert!(summary.merges > 20);
    let tok = TextTokenizer::load(dir.path()).unwrap();
    assert!(tok.add_bos());
    assert_eq!(tok.bos_id(), Some(1));
    assert_eq!(tok.eos_ids(), &[2]);
    assert!(tok.uses_fallback_chat_template());

    let tokens: Vec<String> = meta["tokenizer.ggml.tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let scores: Vec<f32> = meta["tokenizer.ggml.scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();

    let hello = tok.encode("hello world", true).unwrap();
    let pieces: Vec<String> = hello.iter().map(|&i| tok.id_to_token(i).unwrap()).collect();
    assert_eq!(pieces, ["<s>", "▁hello", "▁world"]);

    for text in [
        "hello world",
        "hello  world",
        "   this is lower",
        "hellohello",
        "world hello\nthis\tis",
        "héllo wörld 🦀",
        "x",
        " ",
    ] {
        let ids = tok.encode(text, false).unwrap();
        assert_eq!(ids, llamacpp_spm(&tokens, &scores, text), "{text:?}");
        assert_eq!(tok.decode(&ids, false).unwrap(), text, "{text:?}");
        let with_bos = tok.encode(text, true).unwrap();
        assert_eq!(with_bos[0], 1);
        assert_eq!(tok.decode(&with_bos, true).unwrap(), text, "{text:?}");
    }
    assert_eq!(tok.encode("", false).unwrap(), Vec::<u32>::new());

    // Streaming gives the same text, the leading space of the first piece removed as decode does.
    let ids = tok.encode("héllo wörld 🦀", false).unwrap();
    let mut dec = tok.decoder(true);
    let mut out = String::new();
    for &id in &ids {
        out.push_str(&dec.push(id).unwrap().unwrap_or_default());
    }
    out.push_str(&dec.finish().unwrap());
    assert_eq!(out, "héllo wörld 🦀");
}

#[test]
fn unsupported_and_broken_vocabularies_are_typed_errors() {
    use isg::convert::tokenizer_files::{TokenizerError, build_tokenizer_files};
    use isg::gguf::Value;

    let mut meta = tokenizer_data::spm_metadata();
    meta.insert("tokenizer.ggml.model".into(), Value::String("t5".into()));
    assert!(matches!(
        build_tokenizer_files(&meta),
        Err(TokenizerError::UnsupportedModel(m)) if m == "t5"
    ));

    let mut meta = tokenizer_data::spm_metadata();
    meta.remove("tokenizer.ggml.scores");
    assert!(matches!(
        build_tokenizer_files(&meta),
        Err(TokenizerError::MissingKey("tokenizer.ggml.scores"))
    ));

    let mut meta = tokenizer_data::spm_metadata();
    meta.insert(
        "tokenizer.ggml.token_type".into(),
        Value::Array(vec![Value::I32(1)]),
    );
    assert!(matches!(
        build_tokenizer_files(&meta),
        Err(TokenizerError::Invalid {
            key: "tokenizer.ggml.token_type",
            ..
        })
    ));

    let mut meta = tokenizer_data::spm_metadata();
    meta.insert("tokenizer.ggml.tokens".into(), Value::String("x".into()));
    assert!(build_tokenizer_files(&meta).is_err());

    // A gpt2 vocabulary whose merges name pieces that are not in it.
    let mut meta = tokenizer_data::spm_metadata();
    meta.insert("tokenizer.ggml.model".into(), Value::String("gpt2".into()));
    meta.insert(
        "tokenizer.ggml.merges".into(),
        Value::Array(vec![Value::String("q z".into())]),
    );
    assert!(matches!(
        build_tokenizer_files(&meta),
        Err(TokenizerError::Rejected(_))
    ));

    // An out-of-range special id is dropped with a warning, not a failure.
    let mut meta = tokenizer_data::spm_metadata();
    meta.insert("tokenizer.ggml.eos_token_id".into(), Value::U32(99_999));
    let files = build_tokenizer_files(&meta).unwrap();
    assert_eq!(files.summary.eos_token_id, None);
    assert_eq!(files.summary.warnings.len(), 1);
}

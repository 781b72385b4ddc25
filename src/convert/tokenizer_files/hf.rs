//! The Hugging Face files: `tokenizer.json` (the `tokenizers` library's format) and
//! `tokenizer_config.json` (special tokens, flags and the chat template for `transformers` and
//! ONNX Runtime GenAI).

use serde_json::{Map, Value, json};

use super::pretokenizer::PreTokenizer;
use super::vocab::{GgufVocab, TokenType};

/// The two kinds of vocabulary a GGUF file can carry that isg converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    /// `gpt2`: byte-level BPE with a named pre-tokenizer.
    ByteLevel,
    /// `llama`: SentencePiece-style BPE on text with spaces as `▁`, byte fallback.
    SentencePiece,
}

/// Everything `tokenizer.json` needs besides the vocabulary.
pub(super) struct Layout<'a> {
    pub family: Family,
    /// Only for [`Family::ByteLevel`].
    pub pre: Option<&'a PreTokenizer>,
    pub merges: &'a [(String, String)],
    pub add_bos: bool,
    pub add_eos: bool,
    pub add_space_prefix: bool,
}

/// Counts reported back to the caller.
pub(super) struct Built {
    pub json: Value,
    pub added_tokens: usize,
    pub duplicate_pieces: usize,
}

/// Builds `tokenizer.json`.
pub(super) fn tokenizer_json(vocab: &GgufVocab, layout: &Layout<'_>) -> Built {
    let mut map = Map::with_capacity(vocab.tokens.len());
    let mut duplicate_pieces = 0;
    let mut added = Vec::new();
    for (id, piece) in vocab.tokens.iter().enumerate() {
        if map.contains_key(piece) {
            duplicate_pieces += 1;
            continue;
        }
        map.insert(piece.clone(), json!(id));
        let ty = vocab.types[id];
        if matches!(
            ty,
            TokenType::Control | TokenType::Unknown | TokenType::UserDefined
        ) && !piece.is_empty()
        {
            added.push(json!({
                "id": id,
                "content": piece,
                "single_word": false,
                "lstrip": false,
                "rstrip": false,
                "normalized": false,
                "special": ty.is_special(),
            }));
        }
    }
    let merges: Vec<Value> = layout.merges.iter().map(|(l, r)| json!([l, r])).collect();

    let (normalizer, pre_tokenizer, decoder, model_extra) = match layout.family {
        Family::ByteLevel => {
            let pre = layout.pre.map(|p| p.json.clone()).unwrap_or(Value::Null);
            let decoder = json!({
                "type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true
            });
            let ignore = layout.pre.is_some_and(|p| p.ignore_merges);
            (
                Value::Null,
                pre,
                decoder,
                (Value::Null, false, false, ignore),
            )
        }
        Family::SentencePiece => {
            let mut norm = Vec::new();
            let mut dec = vec![
                json!({"type": "Replace", "pattern": {"String": "▁"}, "content": " "}),
                json!({"type": "ByteFallback"}),
                json!({"type": "Fuse"}),
            ];
            if layout.add_space_prefix {
                norm.push(json!({"type": "Prepend", "prepend": "▁"}));
                dec.push(json!({"type": "Strip", "content": " ", "start": 1, "stop": 0}));
            }
            norm.push(json!({"type": "Replace", "pattern": {"String": " "}, "content": "▁"}));
            let unk = vocab
                .unk
                .map(|id| json!(vocab.token(id)))
                .unwrap_or(Value::Null);
            let has_bytes = vocab.types.contains(&TokenType::Byte);
            (
                json!({"type": "Sequence", "normalizers": norm}),
                Value::Null,
                json!({"type": "Sequence", "decoders": dec}),
                (unk, true, has_bytes, false),
            )
        }
    };
    let (unk_token, fuse_unk, byte_fallback, ignore_merges) = model_extra;

    let post_processor = post_processor(vocab, layout);
    let json = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": post_processor,
        "decoder": decoder,
        "model": {
            "type": "BPE",
            "dropout": null,
            "unk_token": unk_token,
            "continuing_subword_prefix": null,
            "end_of_word_suffix": null,
            "fuse_unk": fuse_unk,
            "byte_fallback": byte_fallback,
            "ignore_merges": ignore_merges,
            "vocab": map,
            "merges": merges,
        }
    });
    Built {
        json,
        added_tokens: added.len(),
        duplicate_pieces,
    }
}

/// BOS/EOS insertion when the model asks for it, else what the model family usually has.
fn post_processor(vocab: &GgufVocab, layout: &Layout<'_>) -> Value {
    let bos = vocab.bos.filter(|_| layout.add_bos);
    let eos = vocab.eos.filter(|_| layout.add_eos);
    if bos.is_none() && eos.is_none() {
        return match layout.family {
            Family::ByteLevel => json!({
                "type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true
            }),
            Family::SentencePiece => Value::Null,
        };
    }
    let special = |id: u32, type_id: u32| json!({"SpecialToken": {"id": vocab.token(id), "type_id": type_id}});
    let seq = |name: &str, type_id: u32| json!({"Sequence": {"id": name, "type_id": type_id}});
    let mut single = Vec::new();
    let mut pair = Vec::new();
    let mut tokens = Map::new();
    for (part, type_id) in [("A", 0), ("B", 1)] {
        let out = if part == "A" { &mut single } else { &mut pair };
        if let Some(b) = bos {
            out.push(special(b, type_id));
        }
        out.push(seq(part, type_id));
        if let Some(e) = eos {
            out.push(special(e, type_id));
        }
    }
    let pair: Vec<Value> = single.iter().cloned().chain(pair).collect();
    for id in bos.into_iter().chain(eos) {
        let t = vocab.token(id);
        tokens.insert(t.to_owned(), json!({"id": t, "ids": [id], "tokens": [t]}));
    }
    json!({
        "type": "TemplateProcessing",
        "single": single,
        "pair": pair,
        "special_tokens": tokens,
    })
}

/// Builds `tokenizer_config.json`.
pub(super) fn tokenizer_config_json(
    vocab: &GgufVocab,
    layout: &Layout<'_>,
    tokenizer_class: &str,
) -> Value {
    let token = |id: Option<u32>| id.map(|i| json!(vocab.token(i))).unwrap_or(Value::Null);
    let mut decoder = Map::new();
    for (id, piece) in vocab.tokens.iter().enumerate() {
        let ty = vocab.types[id];
        if matches!(
            ty,
            TokenType::Control | TokenType::Unknown | TokenType::UserDefined
        ) && !piece.is_empty()
        {
            decoder.insert(
                id.to_string(),
                json!({
                    "content": piece,
                    "lstrip": false,
                    "normalized": false,
                    "rstrip": false,
                    "single_word": false,
                    "special": ty.is_special(),
                }),
            );
        }
    }
    let mut cfg = json!({
        "add_bos_token": layout.add_bos,
        "add_eos_token": layout.add_eos,
        "added_tokens_decoder": decoder,
        "bos_token": token(vocab.bos),
        "eos_token": token(vocab.eos),
        "pad_token": token(vocab.pad),
        "unk_token": token(vocab.unk),
        "clean_up_tokenization_spaces": false,
        "model_max_length": vocab.context_length.unwrap_or(2048),
        "tokenizer_class": tokenizer_class,
    });
    if let (Some(t), Some(obj)) = (&vocab.chat_template, cfg.as_object_mut()) {
        obj.insert("chat_template".into(), json!(t));
    }
    if layout.family == Family::SentencePiece
        && let Some(obj) = cfg.as_object_mut()
    {
        obj.insert("legacy".into(), json!(true));
    }
    cfg
}

//! The tokenizer built from SmolLM2's GGUF file (catalog model `smollm2-135m`) agrees with
//! llama.cpp and with the model's own vocabulary.

use crate::prereq;
use crate::tokenizer_data;

use isg::llm::{ChatError, ChatMessage};

const QUESTION: &str = "Summarize in one line what this Rust function does:\n\nfn add(a: i32, b: i32) -> i32 { a + b }";

fn fixture_ids() -> Vec<u32> {
    let path = tokenizer_data::llamacpp_fixtures().join("prompt_ids.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("prompt_ids.json is a list of ids")
}

fn fixture_prompt() -> String {
    let path = tokenizer_data::llamacpp_fixtures().join("prompt.txt");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn prompt_tokenizes_to_llamacpp_ids() {
    let Some((_dir, tok)) = tokenizer_data::smollm2_tokenizer() else {
        return;
    };
    let ids = tok.encode(&fixture_prompt(), true).unwrap();
    assert_eq!(ids, fixture_ids());
    assert_eq!(ids.len(), 68);
}

#[test]
fn chat_template_renders_the_fixture_prompt() {
    let Some((_dir, tok)) = tokenizer_data::smollm2_tokenizer() else {
        return;
    };
    assert!(!tok.uses_fallback_chat_template());
    let messages = [ChatMessage::user(QUESTION)];
    let text = tok.apply_chat_template(&messages, true).unwrap();
    assert_eq!(text, fixture_prompt());
    assert_eq!(tok.encode_chat(&messages).unwrap(), fixture_ids());
}

#[test]
fn special_tokens_match_the_gguf_vocabulary() {
    let Some(gguf_path) = prereq::smollm2_gguf() else {
        return;
    };
    let gguf = isg::gguf::Gguf::open(&gguf_path).unwrap();
    let tokens = gguf
        .get("tokenizer.ggml.tokens")
        .and_then(|v| v.as_array())
        .expect("vocabulary");
    let dir = tempfile::tempdir().unwrap();
    let summary = isg::convert::tokenizer_files::write_tokenizer_files(&gguf, dir.path()).unwrap();
    let tok = isg::llm::TextTokenizer::load(dir.path()).unwrap();

    for (text, id) in [("<|endoftext|>", 0), ("<|im_start|>", 1), ("<|im_end|>", 2)] {
        assert_eq!(tokens[id as usize].as_str(), Some(text));
        assert_eq!(tok.token_to_id(text), Some(id), "{text}");
        assert_eq!(tok.encode(text, true).unwrap(), vec![id], "{text}");
        assert_eq!(tok.decode(&[id], false).unwrap(), text);
        assert_eq!(tok.decode(&[id], true).unwrap(), "");
    }
    // Every vocabulary entry keeps its GGUF id.
    assert_eq!(tok.vocab_size(), tokens.len());
    for (id, t) in tokens.iter().enumerate() {
        assert_eq!(tok.token_to_id(t.as_str().unwrap()), Some(id as u32));
    }

    // SmolLM2: no BOS prepended, generation stops at <|im_end|>.
    assert!(!tok.add_bos());
    assert_eq!(tok.bos_id(), Some(1));
    assert_eq!(tok.eos_ids(), &[2]);
    assert_eq!(summary.model, "gpt2");
    assert_eq!(summary.pre_tokenizer.as_deref(), Some("smollm"));
    assert_eq!(summary.bos_token_id, Some(1));
    assert_eq!(summary.eos_token_id, Some(2));
    assert_eq!(summary.eog_token_ids, vec![2, 0]);
    assert!(!summary.add_bos_token);
    assert!(summary.has_chat_template);
    assert_eq!(summary.vocab_size, 49152);
    assert_eq!(summary.merges, 48900);
    assert_eq!(summary.added_tokens, 17);
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);

    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("tokenizer_config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(config["bos_token"], "<|im_start|>");
    assert_eq!(config["eos_token"], "<|im_end|>");
    assert_eq!(config["pad_token"], "<|im_end|>");
    assert_eq!(config["unk_token"], "<|endoftext|>");
    assert_eq!(config["add_bos_token"], false);
    assert_eq!(config["add_eos_token"], false);
    assert_eq!(config["clean_up_tokenization_spaces"], false);
    assert_eq!(config["model_max_length"], 8192);
    assert!(
        config["chat_template"]
            .as_str()
            .unwrap()
            .contains("You are a helpful AI assistant named SmolLM, trained by Hugging Face")
    );
}

#[test]
fn digits_are_split_one_by_one() {
    let Some((_dir, tok)) = tokenizer_data::smollm2_tokenizer() else {
        return;
    };
    let ids = tok.encode("x = 12345;", false).unwrap();
    let pieces: Vec<String> = ids.iter().map(|&i| tok.id_to_token(i).unwrap()).collect();
    assert_eq!(pieces, ["x", "Ġ=", "Ġ", "1", "2", "3", "4", "5", ";"]);
}

#[test]
fn shared_prefix_ids_plus_suffix_ids_equal_the_whole_prompt() {
    let Some((_dir, tok)) = tokenizer_data::smollm2_tokenizer() else {
        return;
    };
    let few_shot = [
        ChatMessage::system("You write one-line summaries of source code."),
        ChatMessage::user("fn one() -> u8 { 1 }"),
        ChatMessage::assistant("Returns the number one."),
    ];
    let prefix = tok.chat_prefix(&few_shot).unwrap();
    for chunk in [
        "fn add(a: i32, b: i32) -> i32 { a + b }",
        "  leading spaces and\ttabs\n\n",
        "<|im_end|> written in the code",
        "",
    ] {
        let rest = [ChatMessage::user(chunk)];
        let suffix = tok.encode_chat_suffix(&prefix, &rest).unwrap();
        let mut all = few_shot.to_vec();
        all.extend_from_slice(&rest);
        let whole = tok.encode_chat(&all).unwrap();
        assert_eq!(
            [prefix.ids.as_slice(), &suffix].concat(),
            whole,
            "{chunk:?}"
        );
        assert!(
            suffix.starts_with(&[1]),
            "the suffix starts at <|im_start|>"
        );
    }
    // Without a system message the template inserts its default one in both renders.
    let parts = tok
        .encode_chat_parts(&[ChatMessage::user("hi")], &[ChatMessage::user(QUESTION)])
        .unwrap();
    let whole = tok
        .encode_chat(&[ChatMessage::user("hi"), ChatMessage::user(QUESTION)])
        .unwrap();
    assert_eq!([parts.prefix, parts.suffix].concat(), whole);
}

#[test]
fn a_prefix_the_template_renders_differently_is_refused() {
    let Some((_dir, tok)) = tokenizer_data::smollm2_tokenizer() else {
        return;
    };
    // Empty prefix: the default system prompt appears only once there is a first message, so
    // the cut falls at the start; that is still exact.
    let prefix = tok.chat_prefix(&[]).unwrap();
    assert_eq!(prefix.text, "");
    let suffix = tok
        .encode_chat_suffix(&prefix, &[ChatMessage::user(QUESTION)])
        .unwrap();
    assert_eq!(suffix, fixture_ids());

    // A prefix text that is not the start of the whole render.
    let mut bad = tok.chat_prefix(&[ChatMessage::user("a")]).unwrap();
    bad.text.push('x');
    assert!(matches!(
        tok.encode_chat_suffix(&bad, &[ChatMessage::user("b")]),
        Err(ChatError::PrefixMismatch)
    ));
}

#[test]
fn streaming_decoder_holds_back_partial_characters() {
    let Some((_dir, tok)) = tokenizer_data::smollm2_tokenizer() else {
        return;
    };
    let text = "héllo wörld → 日本語 🦀 done\n<|im_end|>";
    let ids = tok.encode(text, false).unwrap();
    for skip_special in [false, true] {
        let mut dec = tok.decoder(skip_special);
        let mut out = String::new();
        for &id in &ids {
            if let Some(piece) = dec.push(id).unwrap() {
                assert!(!piece.contains('\u{FFFD}'), "{piece:?}");
                out.push_str(&piece);
            }
        }
        out.push_str(&dec.finish().unwrap());
        assert_eq!(out, tok.decode(&ids, skip_special).unwrap());
    }
    // The crab is four bytes split over several byte-level tokens.
    let crab = tok.encode("🦀", false).unwrap();
    assert!(crab.len() > 1);
    let mut dec = tok.decoder(true);
    let held: Vec<_> = crab.iter().map(|&id| dec.push(id).unwrap()).collect();
    assert!(held[..crab.len() - 1].iter().all(Option::is_none));
    assert_eq!(held.last().unwrap().as_deref(), Some("🦀"));
}

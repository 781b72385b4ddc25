//! `tokenizer.ggml.pre` → a Hugging Face pre-tokenizer.
//!
//! llama.cpp names the pre-tokenizer of a GPT-2-style (byte-level BPE) vocabulary and keeps a
//! list of regular expressions per name (`src/llama-vocab.cpp`), applied one after the other,
//! each splitting the pieces left by the previous one and keeping the matches as pieces of their
//! own. That is exactly a Hugging Face `Sequence` of `Split` pre-tokenizers with the `Isolated`
//! behaviour, followed by a `ByteLevel` step that maps bytes to the GPT-2 alphabet without
//! splitting again. Where the model's published `tokenizer.json` uses a shorter equivalent form
//! (SmolLM2's `Digits` + `ByteLevel`), that form is written, so other readers of the file (ONNX
//! Runtime GenAI) see what they know.

use serde_json::{Value, json};

/// Llama 3's pattern (numbers in runs of up to three digits).
const LLAMA3: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Qwen2's pattern (digits one by one).
const QWEN2: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// GPT-4o / Llama 4.
const GPT4O: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Mistral's Tekken.
const TEKKEN: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// The CJK ranges DeepSeek's tokenizers isolate.
const CJK: &str = "[一-龥ࠀ-一가-퟿]+";

/// How a vocabulary's text is cut before BPE, and the flags that come with the name.
#[derive(Debug, Clone)]
pub(super) struct PreTokenizer {
    /// The name this was resolved to (the family, e.g. "llama3" for "llama-bpe").
    pub family: &'static str,
    /// The Hugging Face `pre_tokenizer` JSON.
    pub json: Value,
    /// Whole words found in the vocabulary skip the merges (Llama 3, Tekken).
    pub ignore_merges: bool,
    /// llama.cpp's default for `add_bos_token` when the file does not say.
    pub add_bos: bool,
    /// False when the name was unknown and the default was used.
    pub known: bool,
}

/// Resolves `tokenizer.ggml.pre` (absent → llama.cpp's "default").
pub(super) fn resolve(pre: Option<&str>) -> PreTokenizer {
    let name = pre.unwrap_or("default");
    let (family, json, ignore_merges, add_bos) = match name {
        "default" => ("default", default_splits(), false, false),
        "llama3" | "llama-v3" | "llama-bpe" | "falcon3" | "falcon-h1" | "pixtral" | "midm-2.0"
        | "lfm2" => ("llama3", regex_then_bytes(&[LLAMA3]), true, true),
        "dbrx" | "smaug-bpe" => ("llama3", regex_then_bytes(&[LLAMA3]), false, false),
        "qwen2" | "deepseek-r1-qwen" | "kormo" | "megrez" | "stablelm2" | "hunyuan" => {
            ("qwen2", regex_then_bytes(&[QWEN2]), false, false)
        }
        "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" | "exaone" | "minerva-7b" => {
            (
                "smollm",
                json!({
                    "type": "Sequence",
                    "pretokenizers": [
                        {"type": "Digits", "individual_digits": true},
                        byte_level(true),
                    ]
                }),
                false,
                false,
            )
        }
        "gpt-2" | "phi-2" | "jina-es" | "jina-de" | "gigachat" | "jina-v2-es" | "jina-v2-de"
        | "a.x-4.0" | "mellum" | "jina-v1-en" | "jina-v2-code" | "roberta-bpe" | "mpt" | "olmo"
        | "jais" | "trillion" | "exaone4" | "granite-docling" => {
            ("gpt-2", byte_level(true), false, false)
        }
        // Written with escapes where the characters themselves would not survive Unicode
        // normalization of this source file (U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126, U+212A).
        "deepseek-llm" => (
            "deepseek-llm",
            regex_then_bytes(&[
                "[\r\n]",
                "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\\x{1F7D}ᾀ-ᾴᾶ-ᾼ\\x{1FBE}ῂ-ῄῆ-ῌῐ-\\x{1FD3}ῖ-\\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\\x{2126}ℨ\\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
                "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
                "\\s+$",
                CJK,
                "\\p{N}+",
            ]),
            false,
            false,
        ),
        "deepseek-coder" => (
            "deepseek-coder",
            regex_then_bytes(&["[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK, "\\p{N}"]),
            false,
            false,
        ),
        "deepseek-v3" | "hunyuan-dense" => (
            "deepseek-v3",
            regex_then_bytes(&[
                "\\p{N}{1,3}",
                "[一-龥぀-ゟ゠-ヿ]+",
                "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
            ]),
            false,
            false,
        ),
        "falcon" => (
            "falcon",
            regex_then_bytes(&[
                "[\\p{P}\\$\\+<=>\\^~\\|`]+",
                "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
                "[0-9][0-9][0-9]",
            ]),
            false,
            false,
        ),
        "poro-chat" | "bloom" | "gpt3-finnish" => (
            "bloom",
            regex_then_bytes(&[" ?[^(\\s|.,!?…。，、।۔،)]+"]),
            false,
            false,
        ),
        "viking" => (
            "viking",
            regex_then_bytes(&[" ?[^(\\s|.,!?…。，、।۔،)]+", "\\p{N}"]),
            false,
            false,
        ),
        "glm4" | "chatglm-bpe" => ("chatglm-bpe", regex_then_bytes(&[LLAMA3]), false, false),
        "tekken" => ("tekken", regex_then_bytes(&[TEKKEN]), true, true),
        "gpt-4o" | "llama4" => ("gpt-4o", regex_then_bytes(&[GPT4O]), false, false),
        "seed-coder" => (
            "seed-coder",
            regex_then_bytes(&[
                r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+",
            ]),
            false,
            false,
        ),
        _ => {
            return PreTokenizer {
                family: "default",
                json: default_splits(),
                ignore_merges: false,
                add_bos: false,
                known: false,
            };
        }
    };
    PreTokenizer {
        family,
        json,
        ignore_merges,
        add_bos,
        known: true,
    }
}

/// llama.cpp's fallback list for unnamed or unknown pre-tokenizers.
fn default_splits() -> Value {
    regex_then_bytes(&[
        "[\\p{P}\\$\\+<=>\\^~\\|]+",
        "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
        "\\p{N}+",
        "[0-9][0-9][0-9]",
    ])
}

/// `Split` (isolated matches) for each pattern in turn, then the byte-to-alphabet mapping.
fn regex_then_bytes(patterns: &[&str]) -> Value {
    let mut steps: Vec<Value> = patterns
        .iter()
        .map(|p| {
            json!({
                "type": "Split",
                "pattern": {"Regex": p},
                "behavior": "Isolated",
                "invert": false,
            })
        })
        .collect();
    steps.push(byte_level(false));
    json!({"type": "Sequence", "pretokenizers": steps})
}

/// The `ByteLevel` pre-tokenizer, with or without GPT-2's own split pattern.
fn byte_level(use_regex: bool) -> Value {
    json!({
        "type": "ByteLevel",
        "add_prefix_space": false,
        "trim_offsets": true,
        "use_regex": use_regex,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        let names = [
            "default",
            "llama-bpe",
            "dbrx",
            "qwen2",
            "smollm",
            "gpt-2",
            "deepseek-llm",
            "deepseek-coder",
            "deepseek-v3",
            "falcon",
            "bloom",
            "viking",
            "chatglm-bpe",
            "tekken",
            "gpt-4o",
            "seed-coder",
        ];
        for name in names {
            let pre = resolve(Some(name));
            assert!(pre.known, "{name}");
            let parsed: Result<tokenizers::pre_tokenizers::PreTokenizerWrapper, _> =
                serde_json::from_value(pre.json.clone());
            assert!(parsed.is_ok(), "{name}: {parsed:?}");
        }
    }

    #[test]
    fn unknown_names_fall_back_to_default() {
        let pre = resolve(Some("no-such-tokenizer"));
        assert!(!pre.known);
        assert_eq!(pre.family, "default");
        assert_eq!(resolve(None).family, "default");
        assert!(resolve(None).known);
    }
}

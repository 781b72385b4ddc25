//! A GGUF file's tokenizer, written as Hugging Face `tokenizer.json` + `tokenizer_config.json`.
//!
//! [`write_tokenizer_files`] reads the `tokenizer.ggml.*` metadata and `tokenizer.chat_template`
//! and writes the two files into a model folder, returning a [`TokenizerSummary`] (special ids,
//! end-of-generation ids, flags, warnings) for the rest of the conversion. Two vocabulary kinds
//! are converted:
//!
//! - `gpt2`: byte-level BPE with the merges from the file and the pre-tokenizer named by
//!   `tokenizer.ggml.pre` (the names llama.cpp knows, mapped to the split patterns llama.cpp uses
//!   for them; an unknown name falls back to llama.cpp's default list, with a warning).
//! - `llama`: SentencePiece-style BPE as Hugging Face's Llama `tokenizer.json` has it: spaces
//!   become `▁`, a `▁` is prepended to each run of text (`tokenizer.ggml.add_space_prefix`,
//!   default true), merges are ranked by the scores in the file, unknown characters fall back to
//!   the `<0xNN>` byte tokens.
//!
//! Control and unknown tokens become special added tokens, user-defined tokens plain added
//! tokens; both are matched verbatim in text. The written `tokenizer.json` is parsed back with
//! the `tokenizers` library before this returns, so a file that was written is a file that loads.

mod hf;
mod pretokenizer;
mod spm;
mod vocab;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::gguf::{Gguf, Value};

use hf::{Family, Layout};
use vocab::GgufVocab;

/// Why the tokenizer files could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    /// A required metadata key is absent.
    #[error("the GGUF file has no `{0}` metadata; it carries no usable tokenizer")]
    MissingKey(&'static str),
    /// A metadata value has the wrong type or an inconsistent size.
    #[error("GGUF metadata `{key}` is malformed: {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// `tokenizer.ggml.model` names a vocabulary kind isg does not convert.
    #[error(
        "tokenizer model {0:?} is not supported (supported: \"gpt2\" byte-level BPE, \"llama\" SentencePiece BPE)"
    )]
    UnsupportedModel(String),
    /// The built `tokenizer.json` does not load in the `tokenizers` library.
    #[error("the tokenizer built from the GGUF metadata does not load: {0}")]
    Rejected(String),
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// What was written, for the caller's config files and messages.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenizerSummary {
    /// `"gpt2"` or `"llama"`, from `tokenizer.ggml.model`.
    pub model: String,
    /// The pre-tokenizer family used for a `gpt2` vocabulary (`"smollm"`, `"llama3"`,
    /// `"qwen2"`, ...), `None` for SentencePiece.
    pub pre_tokenizer: Option<String>,
    /// Number of vocabulary entries (ids `0..vocab_size`).
    pub vocab_size: usize,
    /// Number of merges written.
    pub merges: usize,
    /// Number of added (control, unknown, user-defined) tokens.
    pub added_tokens: usize,
    /// Beginning-of-sequence id, if the file names one.
    pub bos_token_id: Option<u32>,
    /// End-of-sequence id, if the file names one.
    pub eos_token_id: Option<u32>,
    /// Padding id, if the file names one.
    pub pad_token_id: Option<u32>,
    /// Every id that should end generation: the EOS id first, then the control tokens llama.cpp
    /// treats as end-of-generation (`<|im_end|>`, `<|endoftext|>`, `<|eot_id|>`, ...).
    pub eog_token_ids: Vec<u32>,
    /// Whether encoders prepend BOS.
    pub add_bos_token: bool,
    /// Whether encoders append EOS.
    pub add_eos_token: bool,
    /// Whether a chat template was found and written.
    pub has_chat_template: bool,
    /// Non-fatal oddities of the metadata (unknown pre-tokenizer, duplicate pieces, ...).
    pub warnings: Vec<String>,
}

/// Names of the two files written into the model folder.
pub const TOKENIZER_FILES: [&str; 2] = ["tokenizer.json", "tokenizer_config.json"];

/// Writes `tokenizer.json` and `tokenizer_config.json` for `gguf` into `out_dir` (created if
/// needed).
pub fn write_tokenizer_files(
    gguf: &Gguf,
    out_dir: &Path,
) -> Result<TokenizerSummary, TokenizerError> {
    write_tokenizer_files_from_metadata(&gguf.metadata, out_dir)
}

/// [`write_tokenizer_files`] for a bare metadata map (as [`Gguf::metadata`] holds it).
pub fn write_tokenizer_files_from_metadata(
    metadata: &BTreeMap<String, Value>,
    out_dir: &Path,
) -> Result<TokenizerSummary, TokenizerError> {
    let files = build_tokenizer_files(metadata)?;
    std::fs::create_dir_all(out_dir).map_err(|source| TokenizerError::Io {
        path: out_dir.to_owned(),
        source,
    })?;
    for (name, text) in TOKENIZER_FILES
        .iter()
        .zip([&files.tokenizer_json, &files.tokenizer_config_json])
    {
        let path = out_dir.join(name);
        std::fs::write(&path, text).map_err(|source| TokenizerError::Io { path, source })?;
    }
    Ok(files.summary)
}

/// The two files' contents, before they are written.
#[derive(Debug, Clone)]
pub struct TokenizerFiles {
    /// `tokenizer.json`.
    pub tokenizer_json: String,
    /// `tokenizer_config.json`.
    pub tokenizer_config_json: String,
    /// What they contain.
    pub summary: TokenizerSummary,
}

/// Builds (and checks) the two files' contents from GGUF metadata without writing anything.
pub fn build_tokenizer_files(
    metadata: &BTreeMap<String, Value>,
) -> Result<TokenizerFiles, TokenizerError> {
    let mut vocab = GgufVocab::from_metadata(metadata)?;
    let mut warnings = std::mem::take(&mut vocab.warnings);

    let (family, pre, merges, default_add_bos, class) = match vocab.model.as_str() {
        "gpt2" => {
            if vocab.merges.is_empty() {
                return Err(TokenizerError::MissingKey("tokenizer.ggml.merges"));
            }
            let pre = pretokenizer::resolve(vocab.pre.as_deref());
            if !pre.known {
                warnings.push(format!(
                    "unknown pre-tokenizer {:?}; using llama.cpp's default split patterns",
                    vocab.pre.as_deref().unwrap_or_default()
                ));
            }
            let class = match pre.family {
                "qwen2" => "Qwen2Tokenizer",
                "smollm" | "gpt-2" => "GPT2Tokenizer",
                _ => "PreTrainedTokenizerFast",
            };
            let merges = std::mem::take(&mut vocab.merges);
            let add_bos = pre.add_bos;
            (Family::ByteLevel, Some(pre), merges, add_bos, class)
        }
        "llama" => {
            let scores = vocab
                .scores
                .as_deref()
                .ok_or(TokenizerError::MissingKey("tokenizer.ggml.scores"))?;
            let merges = spm::merges_from_scores(&vocab, scores);
            (Family::SentencePiece, None, merges, true, "LlamaTokenizer")
        }
        other => return Err(TokenizerError::UnsupportedModel(other.to_owned())),
    };
    let layout = Layout {
        family,
        pre: pre.as_ref(),
        merges: &merges,
        add_bos: vocab.add_bos.unwrap_or(default_add_bos) && vocab.bos.is_some(),
        add_eos: vocab.add_eos.unwrap_or(false) && vocab.eos.is_some(),
        add_space_prefix: vocab
            .add_space_prefix
            .unwrap_or(family == Family::SentencePiece),
    };

    let built = hf::tokenizer_json(&vocab, &layout);
    if built.duplicate_pieces > 0 {
        warnings.push(format!(
            "{} vocabulary entries repeat an earlier piece; only the first id of each is reachable by encoding",
            built.duplicate_pieces
        ));
    }
    let tokenizer_json =
        serde_json::to_string(&built.json).map_err(|e| TokenizerError::Rejected(e.to_string()))?;
    tokenizers::Tokenizer::from_str(&tokenizer_json)
        .map_err(|e| TokenizerError::Rejected(e.to_string()))?;
    let config = hf::tokenizer_config_json(&vocab, &layout, class);
    let tokenizer_config_json = serde_json::to_string_pretty(&config)
        .map_err(|e| TokenizerError::Rejected(e.to_string()))?;

    let summary = TokenizerSummary {
        model: vocab.model.clone(),
        pre_tokenizer: pre.as_ref().map(|p| p.family.to_owned()),
        vocab_size: vocab.tokens.len(),
        merges: merges.len(),
        added_tokens: built.added_tokens,
        bos_token_id: vocab.bos,
        eos_token_id: vocab.eos,
        pad_token_id: vocab.pad,
        eog_token_ids: eog_ids(&vocab),
        add_bos_token: layout.add_bos,
        add_eos_token: layout.add_eos,
        has_chat_template: vocab.chat_template.is_some(),
        warnings,
    };
    Ok(TokenizerFiles {
        tokenizer_json,
        tokenizer_config_json,
        summary,
    })
}

/// Pieces llama.cpp treats as end-of-generation when they are in the vocabulary.
const EOG_PIECES: [&str; 10] = [
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|eom_id|>",
    "<EOT>",
    "<|end_of_text|>",
    "<end_of_utterance>",
    "<｜end▁of▁sentence｜>",
];

fn eog_ids(vocab: &GgufVocab) -> Vec<u32> {
    let mut ids: Vec<u32> = vocab.eos.into_iter().collect();
    for (id, piece) in vocab.tokens.iter().enumerate() {
        let id = id as u32;
        if EOG_PIECES.contains(&piece.as_str())
            && vocab.types[id as usize].is_special()
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    ids
}

//! Text ↔ token ids for a model folder.
//!
//! [`TextTokenizer::load`] opens a folder's `tokenizer.json` (the Hugging Face `tokenizers`
//! format, as `isg convert` writes it and as hub exports for ONNX Runtime and ONNX Runtime
//! GenAI ship it) and the side files that name the special tokens and the chat template. It
//! encodes text ([`TextTokenizer::encode`]), decodes ids ([`TextTokenizer::decode`], or
//! incrementally with a [`TextDecoder`]), says which ids end generation
//! ([`TextTokenizer::eos_ids`]) and renders chat prompts (see [`crate::llm::chat`]).
//!
//! Special tokens written in the text (`<|im_start|>`) are always recognised and encoded as
//! their ids, as Hugging Face tokenizers and llama.cpp's chat mode do.

mod config;
mod stream;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use stream::TextDecoder;

use super::template::ChatTemplate;
use super::text_error::TextTokenizerError;
use config::FolderConfig;

/// A loaded tokenizer. Cloning is cheap (the tables are shared).
#[derive(Clone)]
pub struct TextTokenizer {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    tokenizer: tokenizers::Tokenizer,
    bos: Option<u32>,
    bos_token: Option<String>,
    eos_token: Option<String>,
    eos: Vec<u32>,
    pad: Option<u32>,
    add_bos: bool,
    add_eos: bool,
    model_max_length: Option<usize>,
    /// Added tokens as (content, lstrip): where a prompt may be cut without changing its ids.
    added: Vec<(String, bool)>,
    chat: ChatTemplate,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer")
            .field("dir", &self.inner.dir)
            .field("vocab_size", &self.vocab_size())
            .field("bos", &self.inner.bos)
            .field("eos", &self.inner.eos)
            .field("add_bos", &self.inner.add_bos)
            .finish_non_exhaustive()
    }
}

impl TextTokenizer {
    /// Loads the tokenizer of the model folder `dir`.
    ///
    /// Special ids come from `tokenizer_config.json` (token strings) first, then `config.json`,
    /// `generation_config.json` and `genai_config.json` (ids). End-of-sequence ids are the union
    /// of all of them. BOS is prepended by [`encode`](Self::encode) when `add_bos_token` says so;
    /// without that flag, when the tokenizer's own post-processor adds it.
    pub fn load(dir: &Path) -> Result<TextTokenizer, TextTokenizerError> {
        let path = dir.join("tokenizer.json");
        if !path.is_file() {
            return Err(TextTokenizerError::Missing(path));
        }
        let tokenizer =
            tokenizers::Tokenizer::from_file(&path).map_err(|e| TextTokenizerError::Load {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        let cfg = FolderConfig::read(dir)?;
        let id_of = |t: &Option<String>| t.as_deref().and_then(|t| tokenizer.token_to_id(t));

        let bos = id_of(&cfg.bos_token).or(cfg.bos_ids.first().copied());
        let mut eos: Vec<u32> = id_of(&cfg.eos_token).into_iter().collect();
        for id in &cfg.eos_ids {
            if !eos.contains(id) {
                eos.push(*id);
            }
        }
        let pad = id_of(&cfg.pad_token).or(cfg.pad_ids.first().copied());
        let add_bos = match cfg.add_bos_token {
            Some(flag) => flag,
            None => post_processor_adds(&tokenizer, bos, true),
        };
        let add_eos = match cfg.add_eos_token {
            Some(flag) => flag,
            None => post_processor_adds(&tokenizer, eos.first().copied(), false),
        };
        let bos_token = cfg
            .bos_token
            .clone()
            .or_else(|| bos.and_then(|id| tokenizer.id_to_token(id)));
        let eos_token = cfg
            .eos_token
            .clone()
            .or_else(|| eos.first().and_then(|&id| tokenizer.id_to_token(id)));
        let added = tokenizer
            .get_added_tokens_decoder()
            .into_values()
            .map(|t| (t.content, t.lstrip))
            .collect();
        let chat = ChatTemplate::new(
            cfg.chat_template.clone(),
            bos_token.clone().unwrap_or_default(),
            eos_token.clone().unwrap_or_default(),
        );
        Ok(TextTokenizer {
            inner: Arc::new(Inner {
                dir: dir.to_owned(),
                tokenizer,
                bos,
                bos_token,
                eos_token,
                eos,
                pad,
                add_bos,
                add_eos,
                model_max_length: cfg.model_max_length,
                added,
                chat,
            }),
        })
    }

    /// Token ids of `text`. Special tokens written in the text become their ids; with
    /// `add_special`, BOS is prepended when the model wants it (and the text does not already
    /// start with it) and EOS appended when the model wants it.
    pub fn encode(&self, text: &str, add_special: bool) -> Result<Vec<u32>, TextTokenizerError> {
        let enc = self
            .inner
            .tokenizer
            .encode_fast(text, false)
            .map_err(|e| TextTokenizerError::Encode(e.to_string()))?;
        let mut ids = enc.get_ids().to_vec();
        if add_special {
            self.add_bos_to(&mut ids);
            if self.inner.add_eos
                && let Some(&eos) = self.inner.eos.first()
            {
                ids.push(eos);
            }
        }
        Ok(ids)
    }

    /// Prepends BOS when the model wants it and `ids` does not start with it already.
    pub(crate) fn add_bos_to(&self, ids: &mut Vec<u32>) {
        if self.inner.add_bos
            && let Some(bos) = self.inner.bos
            && ids.first() != Some(&bos)
        {
            ids.insert(0, bos);
        }
    }

    /// The text of `ids`; `skip_special` leaves out special tokens (BOS, `<|im_end|>`, ...).
    pub fn decode(&self, ids: &[u32], skip_special: bool) -> Result<String, TextTokenizerError> {
        self.inner
            .tokenizer
            .decode(ids, skip_special)
            .map_err(|e| TextTokenizerError::Decode(e.to_string()))
    }

    /// An incremental decoder for streamed output.
    pub fn decoder(&self, skip_special: bool) -> TextDecoder {
        TextDecoder::new(self.clone(), skip_special)
    }

    /// Every id that ends generation (EOS from all config files, first the tokenizer's own).
    pub fn eos_ids(&self) -> &[u32] {
        &self.inner.eos
    }

    /// Whether `id` ends generation.
    pub fn is_eos(&self, id: u32) -> bool {
        self.inner.eos.contains(&id)
    }

    /// The beginning-of-sequence id, if the model has one.
    pub fn bos_id(&self) -> Option<u32> {
        self.inner.bos
    }

    /// Whether [`encode`](Self::encode) with `add_special` prepends BOS.
    pub fn add_bos(&self) -> bool {
        self.inner.add_bos && self.inner.bos.is_some()
    }

    /// The padding id, if the model names one.
    pub fn pad_id(&self) -> Option<u32> {
        self.inner.pad
    }

    /// The BOS token's text (`bos_token` in chat templates).
    pub fn bos_token(&self) -> Option<&str> {
        self.inner.bos_token.as_deref()
    }

    /// The EOS token's text (`eos_token` in chat templates).
    pub fn eos_token(&self) -> Option<&str> {
        self.inner.eos_token.as_deref()
    }

    /// The id of a token string (vocabulary or added token).
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.tokenizer.token_to_id(token)
    }

    /// The string of an id, as stored in the vocabulary (byte-level pieces stay encoded).
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.tokenizer.id_to_token(id)
    }

    /// Number of ids, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.tokenizer.get_vocab_size(true)
    }

    /// `model_max_length` (or GenAI's `context_length`), if a config file gives it.
    pub fn model_max_length(&self) -> Option<usize> {
        self.inner.model_max_length
    }

    /// The folder this was loaded from.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The chat template in use (the model's, or the ChatML fallback).
    pub(crate) fn chat(&self) -> &ChatTemplate {
        &self.inner.chat
    }

    /// Whether the text `rest` starts with an added token that does not swallow whitespace to
    /// its left: cutting a prompt there leaves the ids on both sides unchanged.
    pub(crate) fn starts_at_token_boundary(&self, rest: &str) -> bool {
        let mut best: Option<&(String, bool)> = None;
        for t in &self.inner.added {
            if !t.0.is_empty()
                && rest.starts_with(&t.0)
                && best.is_none_or(|b| t.0.len() > b.0.len())
            {
                best = Some(t);
            }
        }
        best.is_some_and(|t| !t.1)
    }
}

/// Whether the tokenizer's post-processor puts `id` first (`front`) or last when asked to add
/// special tokens.
fn post_processor_adds(tokenizer: &tokenizers::Tokenizer, id: Option<u32>, front: bool) -> bool {
    let (Some(id), Ok(with)) = (id, tokenizer.encode_fast("a", true)) else {
        return false;
    };
    let ids = with.get_ids();
    if front {
        ids.first() == Some(&id)
    } else {
        ids.last() == Some(&id)
    }
}

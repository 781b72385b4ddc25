//! The tokenizer metadata of a GGUF file (`tokenizer.ggml.*`), read into plain types.

use std::collections::BTreeMap;

use crate::gguf::Value;

use super::TokenizerError;

/// The kind of a vocabulary entry, as `tokenizer.ggml.token_type` numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenType {
    /// 1: an ordinary piece of text.
    Normal,
    /// 2: the unknown token.
    Unknown,
    /// 3: a control token (`<s>`, `<|im_start|>`, ...).
    Control,
    /// 4: a user-defined token, matched verbatim in text.
    UserDefined,
    /// 5: a reserved, unused slot.
    Unused,
    /// 6: a raw byte (`<0x0A>`), used for byte fallback.
    Byte,
    /// 0 or any other number.
    Undefined,
}

impl TokenType {
    fn from_code(code: i64) -> TokenType {
        match code {
            1 => TokenType::Normal,
            2 => TokenType::Unknown,
            3 => TokenType::Control,
            4 => TokenType::UserDefined,
            5 => TokenType::Unused,
            6 => TokenType::Byte,
            _ => TokenType::Undefined,
        }
    }

    /// Whether the token is added to the Hugging Face tokenizer as a special (skippable) token.
    pub(super) fn is_special(self) -> bool {
        matches!(self, TokenType::Control | TokenType::Unknown)
    }
}

/// Everything the tokenizer files are built from.
#[derive(Debug, Clone)]
pub(super) struct GgufVocab {
    /// `tokenizer.ggml.model`: "gpt2" or "llama".
    pub model: String,
    /// `tokenizer.ggml.pre`, if present.
    pub pre: Option<String>,
    /// The pieces, indexed by id.
    pub tokens: Vec<String>,
    /// The kind of each piece (all [`TokenType::Normal`] when the file has no types).
    pub types: Vec<TokenType>,
    /// SentencePiece scores, if present.
    pub scores: Option<Vec<f32>>,
    /// BPE merges, in rank order.
    pub merges: Vec<(String, String)>,
    /// Special token ids (already checked to be in range).
    pub bos: Option<u32>,
    /// End-of-sequence id.
    pub eos: Option<u32>,
    /// Unknown-token id.
    pub unk: Option<u32>,
    /// Padding id.
    pub pad: Option<u32>,
    /// `tokenizer.ggml.add_bos_token`.
    pub add_bos: Option<bool>,
    /// `tokenizer.ggml.add_eos_token`.
    pub add_eos: Option<bool>,
    /// `tokenizer.ggml.add_space_prefix`.
    pub add_space_prefix: Option<bool>,
    /// `tokenizer.chat_template`.
    pub chat_template: Option<String>,
    /// `<arch>.context_length`.
    pub context_length: Option<u64>,
    /// Things worth telling the user that did not stop the conversion.
    pub warnings: Vec<String>,
}

impl GgufVocab {
    /// Reads the tokenizer keys of a GGUF metadata map.
    pub(super) fn from_metadata(
        meta: &BTreeMap<String, Value>,
    ) -> Result<GgufVocab, TokenizerError> {
        let model = string(meta, "tokenizer.ggml.model")?
            .ok_or(TokenizerError::MissingKey("tokenizer.ggml.model"))?
            .to_owned();
        let tokens = string_array(meta, "tokenizer.ggml.tokens")?
            .ok_or(TokenizerError::MissingKey("tokenizer.ggml.tokens"))?;
        if tokens.is_empty() {
            return Err(TokenizerError::Invalid {
                key: "tokenizer.ggml.tokens",
                reason: "the vocabulary is empty".into(),
            });
        }
        if u32::try_from(tokens.len()).is_err() {
            return Err(TokenizerError::Invalid {
                key: "tokenizer.ggml.tokens",
                reason: format!("{} tokens do not fit 32-bit ids", tokens.len()),
            });
        }
        let types = match array(meta, "tokenizer.ggml.token_type")? {
            None => vec![TokenType::Normal; tokens.len()],
            Some(values) => {
                if values.len() != tokens.len() {
                    return Err(TokenizerError::Invalid {
                        key: "tokenizer.ggml.token_type",
                        reason: format!("{} types for {} tokens", values.len(), tokens.len()),
                    });
                }
                values
                    .iter()
                    .map(|v| {
                        v.as_i64()
                            .map(TokenType::from_code)
                            .ok_or(TokenizerError::Invalid {
                                key: "tokenizer.ggml.token_type",
                                reason: format!("{v:?} is not an integer"),
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        let scores = match array(meta, "tokenizer.ggml.scores")? {
            None => None,
            Some(values) => {
                if values.len() != tokens.len() {
                    return Err(TokenizerError::Invalid {
                        key: "tokenizer.ggml.scores",
                        reason: format!("{} scores for {} tokens", values.len(), tokens.len()),
                    });
                }
                Some(
                    values
                        .iter()
                        .map(|v| {
                            v.as_f64().map(|f| f as f32).ok_or(TokenizerError::Invalid {
                                key: "tokenizer.ggml.scores",
                                reason: format!("{v:?} is not a number"),
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                )
            }
        };
        let merges = string_array(meta, "tokenizer.ggml.merges")?
            .unwrap_or_default()
            .into_iter()
            .map(|m| split_merge(&m))
            .collect::<Result<Vec<_>, _>>()?;

        let mut warnings = Vec::new();
        let n = tokens.len();
        let mut id = |key: &'static str| -> Result<Option<u32>, TokenizerError> {
            let Some(v) = meta.get(key) else {
                return Ok(None);
            };
            let raw = v.as_i64().ok_or(TokenizerError::Invalid {
                key,
                reason: format!("{v:?} is not an integer"),
            })?;
            // llama.cpp writes -1 (as u32::MAX) for "none".
            match u32::try_from(raw) {
                Ok(id) if (id as usize) < n => Ok(Some(id)),
                _ => {
                    if raw != -1 && raw != i64::from(u32::MAX) {
                        warnings.push(format!(
                            "{key} = {raw} is outside the vocabulary of {n} tokens; ignored"
                        ));
                    }
                    Ok(None)
                }
            }
        };
        let bos = id("tokenizer.ggml.bos_token_id")?;
        let eos = id("tokenizer.ggml.eos_token_id")?;
        let unk = id("tokenizer.ggml.unknown_token_id")?;
        let pad = id("tokenizer.ggml.padding_token_id")?;

        let arch = string(meta, "general.architecture")?.map(str::to_owned);
        let context_length = arch
            .and_then(|a| meta.get(&format!("{a}.context_length")))
            .and_then(Value::as_u64);

        Ok(GgufVocab {
            model,
            pre: string(meta, "tokenizer.ggml.pre")?.map(str::to_owned),
            tokens,
            types,
            scores,
            merges,
            bos,
            eos,
            unk,
            pad,
            add_bos: boolean(meta, "tokenizer.ggml.add_bos_token")?,
            add_eos: boolean(meta, "tokenizer.ggml.add_eos_token")?,
            add_space_prefix: boolean(meta, "tokenizer.ggml.add_space_prefix")?,
            chat_template: string(meta, "tokenizer.chat_template")?.map(str::to_owned),
            context_length,
            warnings,
        })
    }

    /// The piece of a known id.
    pub(super) fn token(&self, id: u32) -> &str {
        &self.tokens[id as usize]
    }
}

/// A merge is written `left right`; the left part is never empty (llama.cpp searches the
/// separating space from the second byte on).
fn split_merge(m: &str) -> Result<(String, String), TokenizerError> {
    let pos = m
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == ' ')
        .map(|(i, _)| i)
        .ok_or_else(|| TokenizerError::Invalid {
            key: "tokenizer.ggml.merges",
            reason: format!("merge {m:?} has no separating space"),
        })?;
    Ok((m[..pos].to_owned(), m[pos + 1..].to_owned()))
}

fn string<'a>(
    meta: &'a BTreeMap<String, Value>,
    key: &'static str,
) -> Result<Option<&'a str>, TokenizerError> {
    match meta.get(key) {
        None => Ok(None),
        Some(v) => v.as_str().map(Some).ok_or(TokenizerError::Invalid {
            key,
            reason: "not a string".into(),
        }),
    }
}

fn boolean(
    meta: &BTreeMap<String, Value>,
    key: &'static str,
) -> Result<Option<bool>, TokenizerError> {
    match meta.get(key) {
        None => Ok(None),
        Some(v) => v.as_bool().map(Some).ok_or(TokenizerError::Invalid {
            key,
            reason: format!("{v:?} is not a boolean"),
        }),
    }
}

fn array<'a>(
    meta: &'a BTreeMap<String, Value>,
    key: &'static str,
) -> Result<Option<&'a [Value]>, TokenizerError> {
    match meta.get(key) {
        None => Ok(None),
        Some(v) => v.as_array().map(Some).ok_or(TokenizerError::Invalid {
            key,
            reason: "not an array".into(),
        }),
    }
}

fn string_array(
    meta: &BTreeMap<String, Value>,
    key: &'static str,
) -> Result<Option<Vec<String>>, TokenizerError> {
    let Some(values) = array(meta, key)? else {
        return Ok(None);
    };
    values
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or(TokenizerError::Invalid {
                    key,
                    reason: "an element is not a string".into(),
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_split_at_the_first_space_after_the_first_byte() {
        assert_eq!(split_merge("Ġ t").unwrap(), ("Ġ".into(), "t".into()));
        assert_eq!(split_merge("  a").unwrap(), (" ".into(), "a".into()));
        assert!(split_merge("abc").is_err());
    }
}

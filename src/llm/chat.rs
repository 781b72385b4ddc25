//! Chat prompts: messages rendered with the model's Jinja chat template, then tokenized.
//!
//! The principal entry points are methods of [`TextTokenizer`]:
//! [`apply_chat_template`](TextTokenizer::apply_chat_template) renders [`ChatMessage`]s to
//! text, [`encode_chat`](TextTokenizer::encode_chat) renders and tokenizes a prompt that asks for
//! the assistant's reply, and [`chat_prefix`](TextTokenizer::chat_prefix) +
//! [`encode_chat_suffix`](TextTokenizer::encode_chat_suffix) tokenize a fixed opening
//! (system prompt, few-shot examples) once and then only what follows it.
//!
//! The templates themselves are rendered by [`crate::llm::template`].

use super::template::ChatMessage;
use super::text_error::ChatError;
use super::tokenizer::TextTokenizer;

/// The rendered text and ids of a fixed conversation opening, made by
/// [`TextTokenizer::chat_prefix`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatPrefix {
    /// The messages it was rendered from.
    pub messages: Vec<ChatMessage>,
    /// The rendered text.
    pub text: String,
    /// Its ids (with BOS when the model wants one).
    pub ids: Vec<u32>,
}

/// A prompt tokenized as a shared prefix and a part of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatParts {
    /// Ids of the shared prefix.
    pub prefix: Vec<u32>,
    /// Ids of the rest; `prefix ++ suffix` is the whole prompt's encoding.
    pub suffix: Vec<u32>,
}

impl TextTokenizer {
    /// Renders `messages` with the model's chat template (ChatML when it has none).
    pub fn apply_chat_template(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String, ChatError> {
        self.chat().render(messages, add_generation_prompt)
    }

    /// Whether the folder had no chat template and ChatML is used.
    pub fn uses_fallback_chat_template(&self) -> bool {
        self.chat().is_fallback()
    }

    /// Ids of the prompt asking for the assistant's reply to `messages`. Special tokens in the
    /// rendered text are parsed; BOS is prepended when the model wants it and the template did
    /// not already write it (never twice).
    pub fn encode_chat(&self, messages: &[ChatMessage]) -> Result<Vec<u32>, ChatError> {
        let text = self.apply_chat_template(messages, true)?;
        self.encode_prompt_text(&text)
    }

    /// Ids of a rendered prompt: special tokens parsed, BOS at most once.
    pub fn encode_prompt_text(&self, text: &str) -> Result<Vec<u32>, ChatError> {
        let mut ids = self.encode(text, false)?;
        self.add_bos_to(&mut ids);
        Ok(ids)
    }

    /// Renders and tokenizes a fixed opening (system prompt, few-shot turns) once, for
    /// [`encode_chat_suffix`](Self::encode_chat_suffix).
    pub fn chat_prefix(&self, messages: &[ChatMessage]) -> Result<ChatPrefix, ChatError> {
        let text = self.apply_chat_template(messages, false)?;
        let ids = self.encode_prompt_text(&text)?;
        Ok(ChatPrefix {
            messages: messages.to_vec(),
            text,
            ids,
        })
    }

    /// Ids of what follows `prefix` in the prompt for `prefix.messages ++ rest` (with the
    /// generation prompt): `prefix.ids ++ result == encode_chat(prefix.messages ++ rest)`.
    ///
    /// That equality holds when (a) the template renders the prefix messages to the same text
    /// whether or not more follow, and (b) the text after the prefix starts with a special token
    /// that does not strip whitespace to its left (ChatML's `<|im_start|>`, Llama 3's
    /// `<|start_header_id|>`, Llama 2's `<s>`): special tokens cut text before any
    /// normalization, pre-tokenization or merge, so nothing on one side changes the ids on the
    /// other. Both are checked; when either fails the error says so and the caller should
    /// encode the whole prompt with [`encode_chat`](Self::encode_chat).
    pub fn encode_chat_suffix(
        &self,
        prefix: &ChatPrefix,
        rest: &[ChatMessage],
    ) -> Result<Vec<u32>, ChatError> {
        let mut all = prefix.messages.clone();
        all.extend_from_slice(rest);
        let full = self.apply_chat_template(&all, true)?;
        let tail = full
            .strip_prefix(prefix.text.as_str())
            .ok_or(ChatError::PrefixMismatch)?;
        if prefix.text.is_empty() {
            // Nothing to cut: the whole prompt minus the BOS the prefix already holds.
            let ids = self.encode_prompt_text(&full)?;
            return Ok(ids
                .strip_prefix(prefix.ids.as_slice())
                .map(<[u32]>::to_vec)
                .unwrap_or(ids));
        }
        if tail.is_empty() {
            return Ok(Vec::new());
        }
        if !self.starts_at_token_boundary(tail) {
            return Err(ChatError::PrefixBoundary);
        }
        Ok(self.encode(tail, false)?)
    }

    /// [`chat_prefix`](Self::chat_prefix) and [`encode_chat_suffix`](Self::encode_chat_suffix)
    /// in one call.
    pub fn encode_chat_parts(
        &self,
        prefix: &[ChatMessage],
        rest: &[ChatMessage],
    ) -> Result<ChatParts, ChatError> {
        let p = self.chat_prefix(prefix)?;
        let suffix = self.encode_chat_suffix(&p, rest)?;
        Ok(ChatParts {
            prefix: p.ids,
            suffix,
        })
    }
}

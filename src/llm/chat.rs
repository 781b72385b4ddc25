//! Chat prompts: messages rendered with the model's Jinja chat template, then tokenized.
//!
//! The principal entry points are methods of [`TextTokenizer`]:
//! [`apply_chat_template`](TextTokenizer::apply_chat_template) renders [`ChatMessage`]s to
//! text, [`encode_chat`](TextTokenizer::encode_chat) renders and tokenizes a prompt that asks for
//! the assistant's reply, and [`chat_prefix`](TextTokenizer::chat_prefix) +
//! [`encode_chat_suffix`](TextTokenizer::encode_chat_suffix) tokenize a fixed opening
//! (system prompt, few-shot examples) once and then only what follows it.
//!
//! Templates run in `minijinja` set up like `transformers` runs them in Jinja2: blocks trimmed,
//! `raise_exception`, `tojson`, loop controls and Python string methods (`.strip()`,
//! `.startswith()`, ...). A folder without a template gets plain ChatML.

use serde::{Deserialize, Serialize};

use crate::llm::tokenizer::{TextTokenizer, TextTokenizerError};

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// "system", "user" or "assistant".
    pub role: String,
    /// The text.
    pub content: String,
}

impl ChatMessage {
    /// A message with any role.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> ChatMessage {
        ChatMessage {
            role: role.into(),
            content: content.into(),
        }
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> ChatMessage {
        ChatMessage::new("system", content)
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> ChatMessage {
        ChatMessage::new("user", content)
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> ChatMessage {
        ChatMessage::new("assistant", content)
    }
}

/// Why a chat prompt could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The template does not compile.
    #[error("the model's chat template is not valid Jinja: {0}")]
    Syntax(String),
    /// The template failed while rendering (including its own `raise_exception`).
    #[error("the model's chat template failed: {0}")]
    Render(String),
    /// The prefix rendered alone is not the start of the prompt rendered whole.
    #[error(
        "the chat template renders the shared messages differently when more follow; tokenize the whole prompt instead"
    )]
    PrefixMismatch,
    /// The text after the prefix does not start with a special token.
    #[error(
        "the prompt after the shared messages does not start with a special token, so its ids could depend on the prefix; tokenize the whole prompt instead"
    )]
    PrefixBoundary,
    /// Tokenizing the rendered prompt failed.
    #[error(transparent)]
    Tokenizer(#[from] TextTokenizerError),
}

/// ChatML, for folders without a chat template.
pub const CHATML_TEMPLATE: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/// A compiled chat template with the special-token strings it may refer to.
pub(crate) struct ChatTemplate {
    env: Result<minijinja::Environment<'static>, String>,
    bos_token: String,
    eos_token: String,
    is_fallback: bool,
}

const NAME: &str = "chat";

impl ChatTemplate {
    /// Compiles `source` (ChatML when `None`). A syntax error is kept and reported on use.
    pub(crate) fn new(
        source: Option<String>,
        bos_token: String,
        eos_token: String,
    ) -> ChatTemplate {
        let is_fallback = source.is_none();
        let source = source.unwrap_or_else(|| CHATML_TEMPLATE.to_owned());
        let mut env = minijinja::Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", raise_exception);
        env.add_filter("tojson", tojson);
        let env = env
            .add_template_owned(NAME, source)
            .map(|()| env)
            .map_err(|e| e.to_string());
        ChatTemplate {
            env,
            bos_token,
            eos_token,
            is_fallback,
        }
    }

    /// Renders `messages`; `add_generation_prompt` appends the opening of the assistant's turn.
    pub(crate) fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String, ChatError> {
        let env = self
            .env
            .as_ref()
            .map_err(|e| ChatError::Syntax(e.clone()))?;
        let template = env
            .get_template(NAME)
            .map_err(|e| ChatError::Syntax(e.to_string()))?;
        template
            .render(minijinja::context! {
                messages => messages,
                add_generation_prompt => add_generation_prompt,
                bos_token => &self.bos_token,
                eos_token => &self.eos_token,
            })
            .map_err(|e| ChatError::Render(render_error(&e)))
    }
}

fn raise_exception(message: String) -> Result<minijinja::Value, minijinja::Error> {
    Err(minijinja::Error::new(
        minijinja::ErrorKind::InvalidOperation,
        message,
    ))
}

/// `tojson` as `transformers` defines it: Python's `json.dumps` (`", "` and `": "` separators,
/// non-ASCII kept, no HTML escaping), indented when `indent` is given.
fn tojson(
    value: minijinja::Value,
    kwargs: minijinja::value::Kwargs,
) -> Result<minijinja::Value, minijinja::Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let _: Option<bool> = kwargs.get("ensure_ascii")?;
    let _: Option<bool> = kwargs.get("sort_keys")?;
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    let result = match indent {
        Some(n) => {
            let pad = vec![b' '; n];
            let fmt = serde_json::ser::PrettyFormatter::with_indent(&pad);
            serde::Serialize::serialize(
                &value,
                &mut serde_json::Serializer::with_formatter(&mut out, fmt),
            )
        }
        None => serde::Serialize::serialize(
            &value,
            &mut serde_json::Serializer::with_formatter(&mut out, PythonFormatter),
        ),
    };
    result.map_err(|e| {
        minijinja::Error::new(minijinja::ErrorKind::BadSerialization, e.to_string())
    })?;
    let text = String::from_utf8(out).map_err(|e| {
        minijinja::Error::new(minijinja::ErrorKind::BadSerialization, e.to_string())
    })?;
    Ok(minijinja::Value::from_safe_string(text))
}

/// serde_json output with Python's default separators.
struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

/// The error with its causes, which carry `raise_exception`'s message.
fn render_error(e: &minijinja::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

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
        self.chat().is_fallback
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

//! Chat templates: [`ChatMessage`]s rendered with the model's Jinja template ([`ChatTemplate`]),
//! or with plain ChatML ([`CHATML_TEMPLATE`]) for a folder without one.
//!
//! Templates run in `minijinja` set up like `transformers` runs them in Jinja2: blocks trimmed,
//! `raise_exception`, `tojson`, loop controls and Python string methods (`.strip()`,
//! `.startswith()`, ...).

use serde::{Deserialize, Serialize};

use super::text_error::ChatError;

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

    /// Whether no template was given and ChatML is used.
    pub(crate) fn is_fallback(&self) -> bool {
        self.is_fallback
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

//! The prompt wording, in one place.
//!
//! A prompt is the model's chat template applied to a fixed system message and a user message
//! that starts with a fixed instruction and ends with the chunk: its file path, language, item
//! names and the chunk in the chosen view. Everything before the chunk is identical for every
//! chunk, so [`PromptTemplate`] splits the rendered template there: `head` is tokenized once and
//! shared (the engine computes its KV cache once), and each chunk adds its own part and `tail`
//! (the end of the user turn and the start of the assistant's answer).
//!
//! Change [`PROMPT_VERSION`] whenever the wording or layout changes: it is part of every cache
//! key, so old summaries are not reused for a new prompt.

use serde::{Deserialize, Serialize};

use crate::source::Chunk;

/// The version of the prompt wording and layout; part of every cache key.
pub const PROMPT_VERSION: &str = "2";

/// The system message. Asking for "the first line of a source file's documentation" instead
/// of "a one-line summary of what the code does" moved the default model from echoing code or
/// narrating ("The code is designed to ...") to short descriptive phrases: on the tokio
/// development set chrF 10.0 → 20.4 and MiniLM cosine 0.18 → 0.36 (interface view, raw answers).
pub const SYSTEM: &str = "You write the first line of a source file's documentation: one short \
English phrase that says what the file is for. Never write code.";

/// The fixed start of the user message, before the chunk.
pub const INSTRUCTION: &str = "What is this file for? Answer with one short phrase, like the \
first line of its documentation.";

/// Stands for the chunk while the template is rendered; never appears in real prompts.
const SLOT: &str = "\u{1}ISG-CHUNK-SLOT\u{1}";

/// A chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

impl ChatMessage {
    /// A message from `role`.
    pub fn new(role: &str, content: impl Into<String>) -> ChatMessage {
        ChatMessage {
            role: role.to_string(),
            content: content.into(),
        }
    }
}

/// The messages of the prompt, with a placeholder where the chunk goes.
pub fn template_messages() -> Vec<ChatMessage> {
    vec![
        ChatMessage::new("system", SYSTEM),
        ChatMessage::new("user", format!("{INSTRUCTION}\n\n{SLOT}")),
    ]
}

/// The rendered chat template, split where the chunk goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptTemplate {
    /// Everything before the chunk: identical for every chunk.
    pub head: String,
    /// Everything after the chunk: the end of the user turn, the assistant's turn opening.
    pub tail: String,
}

/// The rendered template does not contain the chunk's placeholder exactly once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the chat template dropped or repeated the user message; cannot place the chunk in it")]
pub struct TemplateError;

impl PromptTemplate {
    /// Splits the rendering of [`template_messages`] (with the generation prompt) at the chunk.
    pub fn from_rendered(rendered: &str) -> Result<PromptTemplate, TemplateError> {
        let mut parts = rendered.split(SLOT);
        match (parts.next(), parts.next(), parts.next()) {
            (Some(head), Some(tail), None) => Ok(PromptTemplate {
                head: head.to_string(),
                tail: tail.to_string(),
            }),
            _ => Err(TemplateError),
        }
    }

    /// The per-chunk part of a prompt: the chunk's context and `view_text`, then the tail.
    pub fn suffix(&self, chunk: &Chunk, view_text: &str) -> String {
        format!("{}{}", chunk_part(chunk, view_text), self.tail)
    }
}

/// The chunk as the model reads it: path, language, items, then the view in a fenced block.
pub fn chunk_part(chunk: &Chunk, view_text: &str) -> String {
    let mut s = format!(
        "File: {}\nLanguage: {}\n",
        chunk.path,
        chunk.language.name()
    );
    if let Some(parent) = &chunk.parent {
        s.push_str(&format!("Inside: {parent}\n"));
    }
    if !chunk.symbols.is_empty() {
        s.push_str(&format!("Items: {}\n", chunk.symbols.join(", ")));
    }
    s.push_str(&format!(
        "Lines {}-{}:\n```{}\n{}\n```",
        chunk.start_line,
        chunk.end_line,
        chunk.language.name(),
        view_text.trim_end_matches('\n')
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Language, SourceFile, chunk_file};

    #[test]
    fn splits_at_the_slot() {
        let rendered = format!("<s>sys</s><u>{INSTRUCTION}\n\n{SLOT}</u><a>");
        let t = PromptTemplate::from_rendered(&rendered).unwrap();
        assert!(t.head.ends_with("\n\n"));
        assert_eq!(t.tail, "</u><a>");
        assert_eq!(PromptTemplate::from_rendered("no slot"), Err(TemplateError));
        assert_eq!(
            PromptTemplate::from_rendered(&format!("{SLOT}{SLOT}")),
            Err(TemplateError)
        );
    }

    #[test]
    fn chunk_part_names_path_items_and_lines() {
        let file = SourceFile::from_text(
            "src/time/sleep.rs",
            Language::Rust,
            "/// Waits.\npub fn sleep(d: Duration) -> Sleep {\n    todo!()\n}\n",
        );
        let chunk = &chunk_file(&file, 300)[0];
        let part = chunk_part(chunk, &chunk.text);
        assert!(
            part.starts_with("File: src/time/sleep.rs\nLanguage: rust\n"),
            "{part}"
        );
        assert!(part.contains("sleep"), "{part}");
        assert!(part.contains("Lines 1-4:\n```rust\n/// Waits."), "{part}");
        assert!(part.ends_with("}\n```"), "{part}");
    }
}

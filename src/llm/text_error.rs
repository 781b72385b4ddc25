//! Why text could not become token ids or a chat prompt: the errors of the tokenizer
//! ([`TextTokenizerError`]) and of the chat template ([`ChatError`], which wraps the first when
//! a rendered prompt cannot be tokenized). Both the template and the tokenizer use them, so they
//! live below both.

use std::path::PathBuf;

/// Why a tokenizer could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum TextTokenizerError {
    /// The folder has no `tokenizer.json`.
    #[error(
        "{0}: not found; a model folder needs a tokenizer.json (convert a GGUF model with `isg convert`, or export the model with its tokenizer)"
    )]
    Missing(PathBuf),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A side file is not valid JSON.
    #[error("{path} is not valid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The `tokenizers` library rejects `tokenizer.json`.
    #[error("{path} does not load as a Hugging Face tokenizer: {reason}")]
    Load {
        /// The file.
        path: PathBuf,
        /// The library's message.
        reason: String,
    },
    /// Encoding failed.
    #[error("cannot tokenize the text: {0}")]
    Encode(String),
    /// Decoding failed.
    #[error("cannot turn token ids back into text: {0}")]
    Decode(String),
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

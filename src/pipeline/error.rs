//! Errors that stop a run. A single chunk that fails is not an error: it becomes a record with
//! its `error` field set, and the run goes on.

use std::path::PathBuf;

use crate::source::SourceError;

/// Why a summarize run (or a merge) could not go on.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The source tree could not be walked.
    #[error(transparent)]
    Walk(#[from] SourceError),
    /// A file of the output folder could not be read or written.
    #[error(
        "{action} {path}: {source}; check that the folder is writable and the disk is not full"
    )]
    Io {
        /// What was being done ("writing", "reading", ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// Another run holds the output folder, or its lock file cannot be written.
    #[error(transparent)]
    Lock(#[from] super::lock::LockError),
    /// The model could not render or tokenize the fixed part of the prompt.
    #[error("preparing the prompt: {0}")]
    Prompt(String),
    /// The settings make no sense (for example a prompt budget smaller than the fixed prompt).
    #[error("{0}")]
    Settings(String),
    /// `--shard` does not parse.
    #[error(transparent)]
    Shard(#[from] super::shard::ShardError),
    /// Shard outputs could not be merged.
    #[error(transparent)]
    Merge(#[from] super::merge::MergeError),
}

impl PipelineError {
    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PipelineError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

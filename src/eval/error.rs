//! Errors of the evaluation steps that callers may want to tell apart.

use std::path::PathBuf;

/// Why an evaluation step failed.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The source tree could not be walked.
    #[error(transparent)]
    Walk(#[from] crate::source::SourceError),
    /// The summarize run failed.
    #[error(transparent)]
    Pipeline(#[from] crate::record::PipelineError),
    /// A file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done ("read", "write", "create").
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// A line of a JSONL file is not the expected record.
    #[error(
        "{path}:{line}: {message}; each line must be a JSON object with \"path\" and \"{field}\""
    )]
    Record {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The field the record must have besides `path`.
        field: &'static str,
        /// What the parser said.
        message: String,
    },
    /// No file of the tree has a module doc to score against.
    #[error(
        "no file under {0} has a module doc (Rust //!, a Python docstring, a Go package comment, a leading JS/TS/C comment) of at least {1} words; nothing to score"
    )]
    NoCases(PathBuf, usize),
}

impl EvalError {
    /// An I/O error with what was being done and to which path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EvalError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

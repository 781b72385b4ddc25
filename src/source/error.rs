//! Errors that stop a walk before it starts. Problems with single files are not errors: they
//! become [`Skip`](super::Skip)s with a reason.

use std::path::PathBuf;

/// Why a walk could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The root path does not exist or cannot be read.
    #[error(
        "cannot read the source root {path}: {source}; check that the path exists and is readable"
    )]
    Root {
        /// The root as given.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// An `--include` or `--exclude` glob does not parse.
    #[error("invalid glob {glob:?}: {message}; globs use `*`, `**`, `?`, `[..]` and `{{a,b}}`")]
    Glob {
        /// The glob as given.
        glob: String,
        /// What the glob parser said.
        message: String,
    },
}

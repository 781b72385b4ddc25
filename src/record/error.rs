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
    Merge(#[from] MergeError),
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

/// Why shard outputs cannot be joined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// No input folders.
    #[error("nothing to merge: name at least one output folder of `isg summarize`")]
    NoInputs,
    /// Two inputs were made by different models.
    #[error(
        "{a} was made by model {a_model:?} but {b} by {b_model:?}; merge only outputs of the same model"
    )]
    DifferentModels {
        /// First folder.
        a: String,
        /// Its model.
        a_model: String,
        /// Other folder.
        b: String,
        /// Its model.
        b_model: String,
    },
    /// Two inputs used different prompt versions.
    #[error(
        "{a} used prompt version {a_version} but {b} used {b_version}; rerun the older shard with this isg"
    )]
    DifferentPrompts {
        /// First folder.
        a: String,
        /// Its version.
        a_version: String,
        /// Other folder.
        b: String,
        /// Its version.
        b_version: String,
    },
    /// Inputs come from different partitions (`--shard K/N` with different `N`).
    #[error(
        "{a} is shard {a_shard} but {b} is shard {b_shard}; shards of one tree share the same N"
    )]
    DifferentPartitions {
        /// First folder.
        a: String,
        /// Its shard.
        a_shard: String,
        /// Other folder.
        b: String,
        /// Its shard.
        b_shard: String,
    },
    /// The same shard appears in two inputs.
    #[error("{a} and {b} both hold shard {shard}; name each shard's folder once")]
    SameShard {
        /// The shard.
        shard: String,
        /// First folder.
        a: String,
        /// Other folder.
        b: String,
    },
    /// The inputs do not cover their partition: some shards were not given.
    #[error(
        "{missing} missing (the inputs hold {given}): the merge would cover part of the tree; \
         run the missing shards and name every shard's folder, or pass --allow-missing to merge what is there"
    )]
    MissingShards {
        /// The missing shards with their verb: `shard 2/4 is`, `shards 2/4 and 4/4 are`.
        missing: String,
        /// The shards that were given: `1/4 and 3/4`.
        given: String,
    },
    /// A chunk appears in two inputs.
    #[error("{path}:{line} appears in both {a} and {b}; the inputs overlap")]
    Overlap {
        /// The chunk's file.
        path: String,
        /// Its first line.
        line: usize,
        /// First folder.
        a: String,
        /// Other folder.
        b: String,
    },
}

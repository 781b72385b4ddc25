//! Roll-up: file, directory and root lines written from the chunk lines below them.
//!
//! The principal entry point is [`roll_up`]: it takes the chunk records of a run (and, when
//! only directories are asked for, the file records too), a [`crate::run::Backend`] and
//! [`RollupSettings`], and returns the new `file`, `dir` and `root` [`crate::record::SummaryRecord`]s with
//! [`crate::record::RollupStats`]. It works bottom-up: every file with several chunks is asked about at once
//! (a one-chunk file's line is its chunk's line, no request), then the directories by height
//! (the longest way down to a file: every directory of files alone first, whatever its depth),
//! each height submitted to the engine as one batch, the root last. A
//! prompt ([`prompt`]) shows a file's item names and chunk lines, or a directory's children's
//! lines, without line numbers; its cache key is the hash of that text with the model, the
//! roll-up prompt version and the token cap, kept in the run's [`crate::run::Cache`]. So editing one
//! function recomputes its chunk, then its file and its ancestors only, and only where a
//! line below actually changed. Answers go through the same cleaning and checks as chunk lines,
//! and a directory's answer that only repeats one of several children's lines is rejected
//! ([`echoes_one_child`]); a rejected answer or failed request gets a line built from the
//! children ([`fallback`]).
//!
//! Shard runs roll up files only ([`Levels::Files`]: a file's chunks are always in one shard, a
//! directory's files may not be); `isg merge` rolls up directories and the root
//! ([`Levels::Dirs`]) once every shard's file lines are together, with the same prompts, so
//! the merged lines are those of an unsharded run.

mod echo;
mod fallback;
mod names;
mod prompt;
mod roll_up;

pub use echo::{ChildSays, ECHOES_ONE_CHILD, echoes_one_child};
pub use fallback::{FallbackChild, dir_fallback, file_fallback};
pub use names::{Listed, NAMES_ONLY, name_list};
pub use prompt::{ROLLUP_PROMPT_VERSION, SYSTEM};
pub use roll_up::{
    DEFAULT_ROLLUP_PROMPT_TOKENS, Levels, ROLLUP_VIEW, Rollup, RollupSettings, order_records,
    roll_up, root_name,
};

//! What the stages of a summarize run share, and nothing else: the [`SummaryRecord`] each line
//! of `summaries.jsonl` holds (a chunk's, a file's, a directory's or the root's), the
//! [`RunReport`] of `run.json`, the [`Tree`] the records make, the [`Shard`] a run covers, the
//! errors that stop a run or a merge ([`PipelineError`], [`MergeError`]) and the output
//! folder's one-writer lock ([`OutputLock`]).
//!
//! It imports none of the stages: [`crate::run`] makes chunk records, [`crate::rollup`] makes
//! the lines above them, [`crate::output`] writes and reads them, and all three speak these
//! types.

mod error;
mod lock;
mod report;
mod shard;
mod summary;
mod topic;
mod tree;

pub use error::{MergeError, PipelineError};
pub use lock::{Holder, LOCK_FILE, LockError, OutputLock, Wait};
pub use report::{RollupStats, RunReport, Times, Totals, peak_rss_bytes};
pub use shard::{Shard, ShardError, shard_of};
pub use summary::{COPIED_FROM_CHILD, Kind, Reduction, SummaryRecord, sort_source_order};
pub use topic::{file_topic, legacy_opening};
pub use tree::{Node, ROOT_PATH, Tree, line_of};

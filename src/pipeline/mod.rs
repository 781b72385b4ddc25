//! The summarize pipeline: chunks in, one-line summaries out.
//!
//! The principal entry point is [`summarize()`]: it takes [`SummarizeSettings`] (what to walk,
//! where to write, the view, the budgets, the shard) and a [`Backend`] (a loaded model: chat
//! template, tokenizer, engine), and returns a [`RunReport`]. Data flows one way: the tree is
//! walked and cut into chunks ([`crate::source`]); each chunk is looked up in the [`Cache`] by a
//! content-addressed key; the rest become prompts ([`prompt`], fitted to the token budget by the
//! reduction ladder in [`reduce`]) that workers submit to the engine; answers are cleaned to one
//! line ([`clean`]), judged against their chunk ([`judge`]: grounded, not boilerplate), retried
//! once in another view when rejected, and written as a line ([`compose`]), or as a line built
//! from the chunk itself when both answers were rejected; generation stops as soon as the kept
//! part is written ([`stop`]). Every [`SummaryRecord`] goes to the [`SummarySink`]s:
//! `summaries.jsonl`, `SUMMARY.md`, `index.html` and `run.json` (see [`sink`]). After the
//! chunks, [`rollup`] writes a line per file, directory and the root from the lines below them.
//! [`merge()`] joins the outputs of `--shard` runs (and rolls up their directories).
//!
//! Nothing is lost: each computed summary is appended to the cache and to `summaries.jsonl` and
//! flushed as it finishes, so a killed run resumes where it stopped, and a chunk that fails is
//! recorded with its error while the run goes on.

pub mod backend;
pub mod cache;
pub mod clean;
pub mod compose;
#[doc(hidden)]
pub mod echo_backend;
pub mod error;
pub mod failpoint;
pub mod judge;
pub mod lock;
pub mod merge;
mod model_backend;
pub mod progress;
pub mod prompt;
pub mod record;
pub mod reduce;
pub mod report;
pub mod rollup;
pub mod settings;
pub mod shard;
pub mod sink;
pub mod stop;
pub mod summarize;
pub mod support;

pub use backend::{Answer, Backend, BackendError, Query, Ticket};
pub use cache::{Cache, CacheEntry, KeySettings, cache_key};
pub use clean::clean;
pub use error::PipelineError;
pub use judge::{Reject, accept};
pub use lock::{OutputLock, Wait};
pub use merge::{MergeError, merge, missing_shards};
pub use prompt::PROMPT_VERSION;
pub use record::{COPIED_FROM_CHILD, Kind, Reduction, SummaryRecord};
pub use report::{RunReport, Times, Totals};
pub use settings::{ProgressMode, SummarizeSettings};
pub use shard::Shard;
pub use sink::SummarySink;
pub use summarize::{summarize, summarize_into};

//! The summarize pipeline: a source tree in, one-line summaries out.
//!
//! The principal entry point is [`summarize()`]: it takes [`crate::run::SummarizeSettings`]
//! (what to walk, where to write, the view, the budgets, the shard) and a
//! [`crate::run::Backend`] (a loaded model: chat template, tokenizer, engine), and returns a
//! [`crate::record::RunReport`]. It joins the stages, each a module of its own that knows only
//! the ones below it: the tree is walked and cut into chunks ([`crate::source`]); the chunk
//! stage ([`crate::run`]) looks every chunk up in the cache by a content-addressed key, turns
//! the rest into prompts fitted to the token budget, submits them to the engine, cleans and
//! judges the answers (retried once in another view when rejected, built from the chunk when
//! both were) and writes a [`crate::record::SummaryRecord`] per chunk; the roll-up
//! ([`crate::rollup`]) writes a line per file, directory and the root from the lines below
//! them; and the outputs ([`crate::output`]: `summaries.jsonl`, `SUMMARY.md`, `index.html`,
//! `run.json`) get every record. [`merge()`] joins the outputs of `--shard` runs (and rolls up
//! their directories).
//!
//! Nothing is lost: each computed summary is appended to the cache and to `summaries.jsonl` and
//! flushed as it finishes, so a killed run resumes where it stopped, and a chunk that fails is
//! recorded with its error while the run goes on.

mod merge;
mod standard_sinks;
mod summarize;

pub use merge::{check_inputs, merge, merge_loaded, merge_rolled_up, merge_shards, missing_shards};
pub use standard_sinks::standard_sinks;
pub use summarize::{summarize, summarize_into};

//! Measuring summary quality on code that documents itself.
//!
//! The principal entry point is [`evaluate()`]: it takes a [`Backend`](crate::run::Backend)
//! and the same [`SummarizeSettings`](crate::run::SummarizeSettings) as `isg summarize`,
//! finds the files of the tree that open with a module doc ([`collect_cases`]: Rust `//!`,
//! a Python docstring, a Go package comment, a leading JS/TS/C comment), writes them without
//! it to a work folder, summarizes that tree with the product's pipeline, and returns an
//! [`EvalReport`]: each file's first-chunk summary scored against the doc's first sentence, the
//! file-name baseline ([`file_name_summary`]) scored beside it, and the means.
//!
//! The metrics reproduce the common Python tools exactly: [`chrf()`] is sacreBLEU's sentence
//! chrF with its defaults, [`rouge_l()`] is `rouge-score`'s ROUGE-L F1 with its Porter stemmer
//! ([`crate::porter`]). [`read_pairs`] and [`score_all`] score a predictions file written by any tool.

pub mod baseline;
pub mod cases;
mod error;
pub mod evaluate;
pub mod rouge;
pub mod score;
pub mod shares;

pub use crate::chrf::chrf;
pub use baseline::{file_name_summary, file_topic};
pub use cases::{EvalCase, collect_cases, write_inputs};
pub use error::EvalError;
pub use evaluate::{EvalReport, FileResult, PREDICTIONS_FILE, evaluate, evaluate_against};
pub use rouge::rouge_l;
pub use score::{CaseScore, Means, means, read_pairs, score_all, score_case};
pub use shares::{Shares, shares, shares_per_file};

//! The record written for every chunk, one JSON object per line of `summaries.jsonl`.

use serde::{Deserialize, Serialize};

use crate::source::Chunk;

/// How much a prompt had to be shortened to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// The requested view fit.
    #[default]
    None,
    /// A smaller view of the ladder was sent (the record's `view` says which).
    View,
    /// Even the smallest view did not fit: it was cut, with an `…elided N lines…` marker.
    Elided,
}

/// What a record summarizes: a chunk, or a file, directory or the root rolled up from it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A chunk of a file (records written before roll-ups existed read as chunks).
    #[default]
    Chunk,
    /// A whole file, rolled up from its chunks.
    File,
    /// A directory, rolled up from its files and subdirectories.
    Dir,
    /// The walked root, rolled up from its top level.
    Root,
}

impl Kind {
    /// The stable name used in records (`chunk`, `file`, `dir`, `root`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Chunk => "chunk",
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Root => "root",
        }
    }
}

/// One chunk's (or file's, directory's, the root's) summary and how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRecord {
    /// What the record summarizes; `chunk` when absent.
    #[serde(default)]
    pub kind: Kind,
    /// The file, relative to the walked root, `/` separators.
    pub path: String,
    /// First line, 1-based.
    pub start_line: usize,
    /// Last line, 1-based, inclusive.
    pub end_line: usize,
    /// The file's language (`rust`, `python`, ...).
    pub language: String,
    /// Names of the items defined in the chunk.
    pub symbols: Vec<String>,
    /// The one-line summary: the model's accepted answer, a line built from the chunk itself
    /// when `fallback` is true, or the authors' own line when `origin` says where it was read.
    pub summary: String,
    /// SHA-256 of the chunk text, lowercase hex.
    pub hash: String,
    /// The model's identity.
    pub model: String,
    /// Prompt tokens sent.
    pub prompt_tokens: usize,
    /// Tokens generated.
    pub generated_tokens: usize,
    /// Milliseconds from submission to completion (queue, prefill and decode).
    pub ms: f64,
    /// The view the model read (`code`, `interface`, `names`, ...).
    pub view: String,
    /// Whether and how the prompt was shortened to fit.
    pub reduction: Reduction,
    /// Lines cut from the view when `reduction` is `elided`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elided_lines: Option<usize>,
    /// True when the summary came from the cache rather than from this run.
    #[serde(default)]
    pub cached: bool,
    /// Why the model's answers were not kept, one reason per rejected attempt in order
    /// (`invented`, `boilerplate, path`): see [`Reject`](crate::run::Reject).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
    /// Requests made to the model for this chunk (a rejected answer is asked again once).
    #[serde(default)]
    pub attempts: usize,
    /// Whether every code name in the summary occurs in the chunk or its path.
    #[serde(default)]
    pub grounded: bool,
    /// Whether the summary was built from the chunk itself because no answer was kept (or the
    /// chunk failed).
    #[serde(default)]
    pub fallback: bool,
    /// The error of a chunk that could not be summarized (after one retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the line is about, from the path (`time` for `src/time/mod.rs`, the project's name
    /// for the root): shown beside the line, never inside it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub topic: String,
    /// Where a line that the model did not write comes from: `manifest`, `readme` or
    /// `module_doc` (the authors' own words, read from `origin_file`), or `child` (a directory
    /// or file with one child has that child's line). Absent for the model's lines and for
    /// fallbacks (see `fallback`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The file an authored line was read from, relative to the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_file: Option<String>,
}

/// The `origin` of a line copied from the only child of a directory.
pub const COPIED_FROM_CHILD: &str = "child";

impl SummaryRecord {
    /// A record for `chunk` with everything but the location left empty.
    pub fn for_chunk(chunk: &Chunk, model: &str) -> SummaryRecord {
        SummaryRecord {
            kind: Kind::Chunk,
            path: chunk.path.clone(),
            start_line: chunk.start_line,
            end_line: chunk.end_line,
            language: chunk.language.name().to_string(),
            symbols: chunk.symbols.clone(),
            summary: String::new(),
            hash: chunk.hash.clone(),
            model: model.to_string(),
            prompt_tokens: 0,
            generated_tokens: 0,
            ms: 0.0,
            view: String::new(),
            reduction: Reduction::None,
            elided_lines: None,
            cached: false,
            rejected: None,
            attempts: 0,
            grounded: false,
            fallback: false,
            error: None,
            topic: super::topic::file_topic(&chunk.path),
            origin: None,
            origin_file: None,
        }
    }

    /// The line as a reader sees it: the summary without the "The <topic> module:" opening
    /// that records of earlier versions carry.
    pub fn shown_line(&self) -> &str {
        super::topic::legacy_opening(&self.summary).map_or(self.summary.as_str(), |(_, rest)| rest)
    }

    /// Whether the chunk failed.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// The key records are ordered by: path, then first line (source order).
    pub fn order_key(&self) -> (&str, usize, usize) {
        (&self.path, self.start_line, self.end_line)
    }
}

/// Sorts records in source order: by path, then line.
pub fn sort_source_order(records: &mut [SummaryRecord]) {
    records.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
}

//! Source trees in, chunks out: walking, language detection, skipping, chunking at syntax
//! boundaries, item names and the views a model reads.
//!
//! [`walk()`] takes [`WalkSettings`] (a root, include/exclude globs, a size limit) and returns a
//! [`Walk`]: the [`SourceFile`]s to summarize, sorted by path, and every file that was not used
//! as a [`Skip`] with a [`SkipReason`] (binary, invalid UTF-8, too large, generated, symlink
//! loop, unreadable). [`chunk_file`] cuts a `SourceFile` into [`Chunk`]s of at most `max_lines`
//! lines at item boundaries found with tree-sitter (Rust, Python, Go, JavaScript, TypeScript,
//! TSX, C, C++; other text by lines); each chunk carries its path, 1-based line span, language,
//! the names of the items it defines, its text and a SHA-256 of the text. [`view()`] renders a
//! chunk as a model should read it, along the [`View`] ladder from the code (with doc comments
//! kept or cut to a first sentence, see [`Comments`]) to the interface (signatures and doc first
//! sentences, bodies elided) to item names only. [`module_doc`] finds a file's own module doc
//! and returns the file without it, for scoring summaries against it.
//!
//! The rules live with each step: which files are walked and skipped in [`walk`](mod@walk),
//! where chunks end in [`chunk`], what the interface view keeps in [`interface`], and what counts
//! as a module doc per language in [`doc`].
//!
//! Nothing here knows about models: it is plain data and functions, and it never panics on
//! malformed code.

pub mod authored;
pub mod chunk;
mod comments;
pub mod doc;
mod error;
pub mod interface;
mod items;
pub mod language;
mod lines;
mod outline;
pub mod test_code;
pub mod walk;

pub use authored::{Authored, AuthoredDocs, DIRECTORY_FILES, DocSource, authored_docs};
pub use chunk::{Chunk, CommentSpan, DEFAULT_MAX_LINES, chunk_file};
pub use comments::{comment_body, first_sentence, sentence_end};
pub use doc::{ModuleDoc, module_doc};
pub use error::SourceError;
pub use interface::{Comments, UnknownView, View, view};
pub use language::Language;
pub use test_code::{TEST_OPENING, as_test_line, is_test_code, is_test_dir, is_test_path};
pub use walk::{
    BINARY_SCAN_BYTES, ChangeKind, DEFAULT_MAX_FILE_BYTES, FileChange, GENERATED_SCAN_LINES,
    ISG_IGNORE_FILE, Skip, SkipReason, SourceFile, Walk, WalkSettings, changes_since,
    generated_marker, walk, walk_between,
};

use rayon::prelude::*;

/// Chunks every file of a walk in parallel; the result is in file order, then line order.
pub fn chunk_files(files: &[SourceFile], max_lines: usize) -> Vec<Chunk> {
    files
        .par_iter()
        .map(|f| chunk_file(f, max_lines))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect()
}

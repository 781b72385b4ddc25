//! `index.html`'s search box ranks lines as `isg search` does. The page is a `file://` page,
//! which cannot `fetch()` files beside it, so what it needs travels in two scripts it loads
//! with `<script src>`, each assigning one global:
//!
//! - `search-index.js` ([`SEARCH_INDEX_FILE`], [`render_index`]): every line the
//!   [`SearchIndex`](super::SearchIndex) ranks, in its order, with its BM25 terms, the page
//!   entry that shows it and, when the folder's vector cache holds them all, its vector
//!   (float32, base64). Written at the end of every run by [`SearchIndexSink`] (words only, or
//!   with the vectors already cached) and again by [`write_page_files`] once the run's vectors
//!   are computed.
//! - `search-model.js` ([`SEARCH_MODEL_FILE`], [`super::page_model`]): the sentence encoder's
//!   weights (int8, one scale per row), its vocabulary and the character classes of its
//!   tokenizer, written by [`write_page_files`] only when absent or made from another model.
//!
//! The page's own script ([`PAGE_SCRIPT`], the files in `src/output/assets/`) tokenizes the
//! query, runs the encoder, scores every line with the same formula and `f32` steps as
//! [`SearchIndex::search`](super::SearchIndex::search), and lists the best. The page and the
//! index carry the same [`records_key`], so an index left by another run is never used.
//! Every file is written to a temporary name and renamed, so a folder never holds half of one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::SearchError;
use super::index::{DIR_PRIOR, Doc, FILE_NAME_WEIGHT, LEXICAL_WEIGHT, LINE_WORD_WEIGHT, indexed};
use super::lexical::{B, K1, STOP};
pub use super::page_model::{SEARCH_MODEL_FILE, base64};
use super::vectors::VectorCache;
pub use super::vectors::encoder_id;
pub use crate::output::{ENCODER_JS, PAGE_SCRIPT, RANK_JS, records_key};
use crate::output::{SummarySink, write_atomic};
use crate::provision::EMBEDDING_MODEL;
use crate::record::{Kind, OutputLock, RunReport, SummaryRecord, Tree, Wait};

/// The index script's name in the output folder.
pub const SEARCH_INDEX_FILE: &str = "search-index.js";

/// The version of what [`render_index`] writes; the page refuses another.
pub const INDEX_FORMAT: u32 = 1;

/// One line as the page's ranking reads it.
#[derive(Serialize)]
struct PageDoc<'a> {
    /// `chunk`, `file` or `dir`.
    k: &'static str,
    /// Path.
    p: &'a str,
    /// `START-END`, absent for directories.
    #[serde(skip_serializing_if = "Option::is_none")]
    l: Option<String>,
    /// The line.
    s: &'a str,
    /// The page entry that shows the line.
    n: usize,
    /// BM25 term frequencies (sorted by term).
    t: BTreeMap<String, f32>,
    /// BM25 length.
    len: f32,
}

/// The weights and constants of the ranking, from the Rust side, so the page never drifts.
#[derive(Serialize)]
struct Ranking {
    lexical: f32,
    dir_prior: f32,
    file_name: f32,
    line_word: f32,
    k1: f32,
    b: f32,
    stop: &'static [&'static str],
}

#[derive(Serialize)]
struct IndexFile<'a> {
    format: u32,
    key: String,
    /// The encoder of the vectors; absent with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    encoder: Option<String>,
    dims: usize,
    ranking: Ranking,
    docs: Vec<PageDoc<'a>>,
    /// Every doc's vector, `dims` float32 each, little-endian, base64; absent when some line
    /// has none yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    vectors: Option<String>,
}

/// The searchable docs of `records` as [`SearchIndex::new`](super::SearchIndex::new) keeps
/// them, in order, each with the index of the page entry that shows it.
pub fn page_docs(records: &[SummaryRecord]) -> Vec<(Doc, usize)> {
    let tree = Tree::build(records);
    let parents = tree.parents();
    let mut entry_of = vec![usize::MAX; records.len()];
    for (i, node) in tree.nodes.iter().enumerate() {
        if let Some(r) = node.record {
            // A one-chunk file is one entry on the page: its chunk shows as the file.
            let shown = match parents[i] {
                Some(p)
                    if tree.nodes[p].kind == Kind::File && tree.nodes[p].children.len() == 1 =>
                {
                    p
                }
                _ => i,
            };
            entry_of[r] = shown;
        }
    }
    let docs: Vec<(Doc, usize)> = records
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Doc::from_record(r).map(|d| (d, entry_of[i])))
        .collect();
    let plain: Vec<Doc> = docs.iter().map(|(d, _)| d.clone()).collect();
    let keep = indexed(&plain);
    docs.into_iter()
        .zip(keep)
        .filter_map(|(d, k)| k.then_some(d))
        .collect()
}

/// `search-index.js` for `records`; `vector_of` gives a doc's vector (every doc's or none are
/// used). Returns the text and whether the vectors are in it.
pub fn render_index(
    records: &[SummaryRecord],
    vector_of: &dyn Fn(&Doc) -> Option<Vec<f32>>,
) -> (String, bool) {
    let docs = page_docs(records);
    let dims = EMBEDDING_MODEL.dims;
    let mut blob: Option<Vec<u8>> = Some(Vec::with_capacity(docs.len() * dims * 4));
    for (d, _) in &docs {
        match (vector_of(d), blob.as_mut()) {
            (Some(v), Some(b)) if v.len() == dims => {
                b.extend(v.iter().flat_map(|x| x.to_le_bytes()));
            }
            _ => blob = None,
        }
    }
    if docs.is_empty() {
        blob = None;
    }
    let page_docs = docs
        .iter()
        .map(|(d, n)| {
            let mut t: BTreeMap<String, f32> = BTreeMap::new();
            let mut len = 0.0f32;
            for (term, w) in d.lexical_terms() {
                *t.entry(term).or_default() += w;
                len += w;
            }
            PageDoc {
                k: d.kind.name(),
                p: &d.path,
                l: d.lines.map(|(a, b)| format!("{a}-{b}")),
                s: &d.summary,
                n: *n,
                t,
                len,
            }
        })
        .collect();
    let file = IndexFile {
        format: INDEX_FORMAT,
        key: records_key(records),
        encoder: blob.as_ref().map(|_| encoder_id()),
        dims,
        ranking: Ranking {
            lexical: LEXICAL_WEIGHT,
            dir_prior: DIR_PRIOR,
            file_name: FILE_NAME_WEIGHT,
            line_word: LINE_WORD_WEIGHT,
            k1: K1,
            b: B,
            stop: STOP,
        },
        docs: page_docs,
        vectors: blob.map(|b| base64(&b)),
    };
    let with_vectors = file.vectors.is_some();
    // Strings and numbers always serialize.
    let json = serde_json::to_string(&file).unwrap_or_else(|_| "null".into());
    let text = format!(
        "// The search index of index.html, written by isg {}; do not edit.\n\
         globalThis.ISG_SEARCH_INDEX = {json};\n",
        env!("CARGO_PKG_VERSION")
    );
    (text, with_vectors)
}

/// What [`write_index`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexWritten {
    /// Lines in the index.
    pub docs: usize,
    /// Whether their vectors are in it.
    pub vectors: bool,
    /// Bytes of the file.
    pub bytes: usize,
}

/// Writes `out_dir/search-index.js` for `records`, with the vectors when `cache` holds every
/// line's.
pub fn write_index(
    out_dir: &Path,
    records: &[SummaryRecord],
    cache: &VectorCache,
) -> Result<IndexWritten, SearchError> {
    let of = |d: &Doc| {
        cache
            .get(&super::vectors::vector_key(&d.embed_text()))
            .map(<[f32]>::to_vec)
    };
    let (text, vectors) = render_index(records, &of);
    write_atomic(&out_dir.join(SEARCH_INDEX_FILE), text.as_bytes())?;
    Ok(IndexWritten {
        docs: page_docs(records).len(),
        vectors,
        bytes: text.len(),
    })
}

/// What [`write_page_files`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageFiles {
    /// The index, unless a run held the folder.
    pub index: Option<IndexWritten>,
    /// Bytes of `search-model.js` when it was written now (`None`: it was up to date, no model
    /// was given, or a run held the folder).
    pub model_written: Option<usize>,
    /// The encoder script, when it is there and up to date.
    pub model: Option<PathBuf>,
}

/// After a run and its vectors: writes `search-index.js` with every line's vector from the
/// folder's cache, and `search-model.js` from the embedding model's folder `model_dir` when the
/// file is absent or was made from another model. Does nothing while another run holds the
/// folder (that run writes its own).
pub fn write_page_files(
    out_dir: &Path,
    model_dir: Option<&Path>,
) -> Result<PageFiles, SearchError> {
    let Ok(_lock) = OutputLock::acquire(out_dir, Wait::No) else {
        return Ok(PageFiles {
            index: None,
            model_written: None,
            model: None,
        });
    };
    let state = super::FolderState::read(out_dir)?;
    let cache = VectorCache::load(out_dir, EMBEDDING_MODEL.dims);
    let index = write_index(out_dir, &state.records, &cache)?;
    let (model_written, model) = match model_dir {
        Some(dir) => {
            let written = super::page_model::write_model(out_dir, dir)?;
            (written, Some(out_dir.join(SEARCH_MODEL_FILE)))
        }
        None => (None, None),
    };
    Ok(PageFiles {
        index: Some(index),
        model_written,
        model,
    })
}

/// Writes `search-index.js` at the end of a run (words only, or with the vectors the cache
/// already holds). A failure is a warning on stderr: it never fails the run.
pub struct SearchIndexSink {
    out_dir: PathBuf,
}

impl SearchIndexSink {
    /// A sink writing `out_dir/search-index.js`.
    pub fn new(out_dir: &Path) -> SearchIndexSink {
        SearchIndexSink {
            out_dir: out_dir.to_path_buf(),
        }
    }
}

impl SummarySink for SearchIndexSink {
    fn finish(
        &mut self,
        records: &[SummaryRecord],
        _report: &RunReport,
    ) -> Result<(), crate::record::PipelineError> {
        let cache = VectorCache::load(&self.out_dir, EMBEDDING_MODEL.dims);
        if let Err(e) = write_index(&self.out_dir, records, &cache) {
            eprintln!(
                "isg: warning: index.html's search index not written ({e}); the page searches by substring"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(&[0xfb, 0xff, 0xfe]), "+//+");
    }

    #[test]
    fn the_page_script_cannot_end_its_script_element() {
        assert!(!PAGE_SCRIPT.to_ascii_lowercase().contains("</script"));
        assert!(!PAGE_SCRIPT.contains("http://") && !PAGE_SCRIPT.contains("https://"));
    }
}

//! An output folder as a search engine: [`Searcher`] reads the folder's records and run report
//! ([`FolderState`]), finds each line's vector in the [`VectorCache`] or computes it with the
//! [`Embedder`], and answers queries with the [`SearchIndex`].
//!
//! Searching never writes into the folder but for the vector cache, and only under the folder's
//! lock ([`OutputLock`]): when a run holds the lock, new vectors stay in memory. While a run
//! is writing, [`Searcher::refresh`] keeps the state read last and reloads once the run is done.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::SearchError;
use super::index::{Doc, Hit, SearchIndex};
use super::vectors::{Key, VectorCache, vector_key};
use crate::llm::Embedder;
use crate::output::{RUN_FILE, SUMMARIES_FILE, read_records, read_report};
use crate::record::{OutputLock, Wait};
use crate::record::{RunReport, SummaryRecord};

/// What an output folder holds, as read at one moment.
#[derive(Debug, Clone)]
pub struct FolderState {
    /// Every record of `summaries.jsonl`.
    pub records: Vec<SummaryRecord>,
    /// `run.json`.
    pub report: RunReport,
    stamp: Option<(SystemTime, u64)>,
}

fn stamp(out_dir: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(out_dir.join(SUMMARIES_FILE)).ok()?;
    Some((m.modified().ok()?, m.len()))
}

impl FolderState {
    /// Reads `out_dir`'s `run.json` and `summaries.jsonl`.
    pub fn read(out_dir: &Path) -> Result<FolderState, SearchError> {
        if !out_dir.is_dir() {
            return Err(SearchError::NoFolder {
                dir: out_dir.to_path_buf(),
            });
        }
        let run = out_dir.join(RUN_FILE);
        let summaries = out_dir.join(SUMMARIES_FILE);
        for f in [&run, &summaries] {
            if !f.is_file() {
                return Err(SearchError::NotAnOutput {
                    dir: out_dir.to_path_buf(),
                    missing: f
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                });
            }
        }
        let before = stamp(out_dir);
        let report = read_report(&run)?;
        let records = read_records(&summaries)?;
        Ok(FolderState {
            records,
            report,
            stamp: before,
        })
    }
}

impl FolderState {
    /// Whether `out_dir`'s `summaries.jsonl` changed since this state was read.
    pub fn changed(&self, out_dir: &Path) -> bool {
        stamp(out_dir) != self.stamp
    }
}

/// What [`embed_records`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmbedCounts {
    /// Lines whose vector was in the cache.
    pub cached: usize,
    /// Distinct lines embedded now.
    pub computed: usize,
    /// Whether the new vectors were written to the cache (false: a run held the folder, or it
    /// could not be locked).
    pub written: bool,
}

/// The docs of `records` and one vector each, from `cache` or computed with `embedder`; new
/// vectors are appended to the cache file when the folder's lock can be taken at once.
pub fn embed_records(
    out_dir: &Path,
    records: &[SummaryRecord],
    cache: &mut VectorCache,
    embedder: &mut Embedder,
) -> Result<Embedded, SearchError> {
    let docs: Vec<Doc> = records.iter().filter_map(Doc::from_record).collect();
    let texts: Vec<String> = docs.iter().map(Doc::embed_text).collect();
    let keys: Vec<Key> = texts.iter().map(|t| vector_key(t)).collect();
    let mut missing: Vec<usize> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        if cache.get(k).is_none() && !missing.iter().any(|&j| keys[j] == *k) {
            missing.push(i);
        }
    }
    let mut counts = EmbedCounts {
        cached: keys.iter().filter(|k| cache.get(k).is_some()).count(),
        computed: missing.len(),
        written: false,
    };
    if !missing.is_empty() {
        let batch: Vec<&str> = missing.iter().map(|&i| texts[i].as_str()).collect();
        let vectors = embedder.embed(&batch)?;
        let new: Vec<(Key, Vec<f32>)> = missing.iter().map(|&i| keys[i]).zip(vectors).collect();
        let lock = OutputLock::acquire(out_dir, Wait::No).ok();
        let write = lock.is_some();
        cache
            .append(new, write)
            .map_err(|e| SearchError::io(&VectorCache::path_in(out_dir), e))?;
        if write {
            cache
                .compact(&keys)
                .map_err(|e| SearchError::io(&VectorCache::path_in(out_dir), e))?;
        }
        counts.written = write;
    }
    let vectors = keys
        .iter()
        .map(|k| cache.get(k).map(<[f32]>::to_vec).unwrap_or_default())
        .collect();
    Ok(Embedded {
        docs,
        vectors,
        counts,
    })
}

/// The searchable docs of a folder's records, one vector each.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// The docs, in record order.
    pub docs: Vec<Doc>,
    /// `vectors[i]` is the vector of `docs[i]`.
    pub vectors: Vec<Vec<f32>>,
    /// How the vectors were found.
    pub counts: EmbedCounts,
}

/// An output folder, its vectors and the encoder, ready for queries.
pub struct Searcher {
    out_dir: PathBuf,
    embedder: Embedder,
    cache: VectorCache,
    state: FolderState,
    index: SearchIndex,
    counts: EmbedCounts,
}

impl Searcher {
    /// Reads `out_dir` and builds its index, embedding the lines not in its vector cache.
    pub fn open(out_dir: &Path, mut embedder: Embedder) -> Result<Searcher, SearchError> {
        let state = FolderState::read(out_dir)?;
        let mut cache = VectorCache::load(out_dir, embedder.dims());
        let Embedded {
            docs,
            vectors,
            counts,
        } = embed_records(out_dir, &state.records, &mut cache, &mut embedder)?;
        let index = SearchIndex::new(docs, vectors, embedder.dims());
        Ok(Searcher {
            out_dir: out_dir.to_path_buf(),
            embedder,
            cache,
            state,
            index,
            counts,
        })
    }

    /// The folder as last read.
    pub fn state(&self) -> &FolderState {
        &self.state
    }

    /// The folder.
    pub fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    /// How the vectors of the last (re)load were found.
    pub fn counts(&self) -> EmbedCounts {
        self.counts
    }

    /// Reads the folder again when `summaries.jsonl` changed and no run holds the folder (a run
    /// in progress leaves the state read last in place). Returns whether it reloaded.
    pub fn refresh(&mut self) -> Result<bool, SearchError> {
        if stamp(&self.out_dir) == self.state.stamp || OutputLock::holder(&self.out_dir).is_some() {
            return Ok(false);
        }
        let state = FolderState::read(&self.out_dir)?;
        if OutputLock::holder(&self.out_dir).is_some() || stamp(&self.out_dir) != state.stamp {
            // A run started while the folder was read: keep what was there before.
            return Ok(false);
        }
        let Embedded {
            docs,
            vectors,
            counts,
        } = embed_records(
            &self.out_dir,
            &state.records,
            &mut self.cache,
            &mut self.embedder,
        )?;
        self.index = SearchIndex::new(docs, vectors, self.embedder.dims());
        self.state = state;
        self.counts = counts;
        Ok(true)
    }

    /// The `k` best lines for `query`.
    pub fn search(&mut self, query: &str, k: usize) -> Result<Vec<Hit>, SearchError> {
        if query.trim().is_empty() {
            return Err(SearchError::EmptyQuery);
        }
        let v = self.embedder.embed(&[query])?.remove(0);
        Ok(self.index.search(query, &v, k))
    }
}

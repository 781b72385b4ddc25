//! The content-addressed cache of computed summaries: `OUT/.isg-cache/cache.jsonl`.
//!
//! A key is the SHA-256 of everything a summary depends on: the chunk's text, path, language,
//! item names and parent item (all of which the prompt shows), the model's identity,
//! [`PROMPT_VERSION`](super::prompt::PROMPT_VERSION), the generation settings and the view
//! settings. Line numbers are not part of the key, so a chunk that only moved is not
//! summarized again.
//!
//! The file is append-only: one JSON entry per line, each written with a single `write` and
//! flushed as soon as its chunk finishes, so a process killed at any point leaves at most one
//! torn last line. [`Cache::open`] drops such a line (and truncates it away so that the next
//! entry starts on a fresh line), ignores any other unreadable line, and keeps the last entry
//! of a key written twice.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::PipelineError;
use super::record::Reduction;
use crate::source::{Chunk, View};

/// The cache folder's name inside the output folder.
pub const CACHE_DIR: &str = ".isg-cache";
/// The cache file's name inside [`CACHE_DIR`].
pub const CACHE_FILE: &str = "cache.jsonl";

/// Everything besides the chunk that a summary depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeySettings {
    /// The model's identity.
    pub model: String,
    /// The prompt wording's version.
    pub prompt_version: String,
    /// The view asked for.
    pub view: View,
    /// The prompt budget in tokens (decides the reduction).
    pub max_prompt_tokens: usize,
    /// The cap on generated tokens.
    pub max_new_tokens: usize,
    /// The decoding rule (`greedy`).
    pub sampling: String,
}

/// What the key hashes, in a fixed field order.
#[derive(Serialize)]
struct KeyInput<'a> {
    text: &'a str,
    path: &'a str,
    language: &'a str,
    symbols: &'a [String],
    parent: Option<&'a str>,
    settings: &'a KeySettings,
}

/// The cache key of `chunk` under `settings`, lowercase hex.
pub fn cache_key(chunk: &Chunk, settings: &KeySettings) -> String {
    let input = KeyInput {
        text: &chunk.text,
        path: &chunk.path,
        language: chunk.language.name(),
        symbols: &chunk.symbols,
        parent: chunk.parent.as_deref(),
        settings,
    };
    // Serializing plain strings and numbers cannot fail.
    let bytes = serde_json::to_vec(&input).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// A computed summary as the cache keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// The cache key.
    pub key: String,
    /// The cleaned summary (empty when rejected).
    pub summary: String,
    /// The model's raw answer.
    pub raw: String,
    /// Why the answer was rejected, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
    /// Prompt tokens sent.
    pub prompt_tokens: usize,
    /// Tokens generated.
    pub generated_tokens: usize,
    /// Milliseconds the request took.
    pub ms: f64,
    /// The view sent.
    pub view: String,
    /// How the prompt was shortened.
    pub reduction: Reduction,
    /// Lines elided, when it was cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elided_lines: Option<usize>,
}

/// What [`Cache::open`] found in the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheLoad {
    /// Entries read.
    pub entries: usize,
    /// Bytes of a torn last line that were cut away.
    pub torn_bytes: usize,
    /// Complete lines that did not parse and were ignored.
    pub bad_lines: usize,
    /// Keys that appeared more than once (the last one is kept).
    pub duplicates: usize,
}

/// The open cache: entries in memory, the file open for appending.
pub struct Cache {
    path: PathBuf,
    entries: HashMap<String, CacheEntry>,
    file: File,
    load: CacheLoad,
}

impl Cache {
    /// Opens (or creates) the cache of the output folder `out_dir`.
    pub fn open(out_dir: &Path) -> Result<Cache, PipelineError> {
        let dir = out_dir.join(CACHE_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| PipelineError::io("creating", &dir, e))?;
        Cache::open_file(&dir.join(CACHE_FILE))
    }

    /// Opens (or creates) the cache file at `path`, repairing a torn last line.
    pub fn open_file(path: &Path) -> Result<Cache, PipelineError> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| PipelineError::io("opening", path, e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| PipelineError::io("reading", path, e))?;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut load = CacheLoad {
            torn_bytes: bytes.len() - complete,
            ..CacheLoad::default()
        };
        if load.torn_bytes > 0 {
            file.set_len(complete as u64)
                .map_err(|e| PipelineError::io("repairing", path, e))?;
        }
        let mut entries = HashMap::new();
        for line in bytes[..complete].split(|&b| b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<CacheEntry>(line) {
                Ok(entry) => {
                    load.entries += 1;
                    if entries.insert(entry.key.clone(), entry).is_some() {
                        load.duplicates += 1;
                    }
                }
                Err(_) => load.bad_lines += 1,
            }
        }
        Ok(Cache {
            path: path.to_path_buf(),
            entries,
            file,
            load,
        })
    }

    /// The entry of `key`, if one was computed.
    pub fn get(&self, key: &str) -> Option<&CacheEntry> {
        self.entries.get(key)
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What opening the file found.
    pub fn load(&self) -> CacheLoad {
        self.load
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entry` and flushes it to the file before returning.
    pub fn append(&mut self, entry: CacheEntry) -> Result<(), PipelineError> {
        let mut line = serde_json::to_vec(&entry)
            .map_err(|e| PipelineError::io("encoding", &self.path, e.into()))?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.flush())
            .map_err(|e| PipelineError::io("appending to", &self.path, e))?;
        self.entries.insert(entry.key.clone(), entry);
        Ok(())
    }
}

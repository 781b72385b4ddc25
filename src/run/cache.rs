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
//! torn last line. Each line carries the format version ([`CACHE_FORMAT`]), the model and
//! prompt version it was computed with, and a checksum of the line itself (`sum`, the first 16
//! hex digits of the SHA-256 of the line without it). [`Cache::open`] drops a torn last line
//! (and truncates it away so that the next entry starts on a fresh line), skips and counts a
//! line that does not parse or fails its checksum, a line of another format version, and (when
//! opened with [`Cache::open_scoped`]) a line of another model or prompt version; it keeps the
//! last entry of a key written twice. [`CacheLoad`] holds those counts; the run writes them to
//! `run.json`.
//!
//! The cache stays bounded: at the end of each run [`Cache::compact_if_needed`] rewrites the
//! file with only the entries the run used once the dead lines (entries of chunks no longer in
//! the tree, of another model or prompt version, duplicates, bad lines) are more than half of
//! it; `isg cache gc` does the same at once, keeping the keys the last run recorded in
//! `live.keys` ([`write_live_keys`]). A rewrite goes to a temporary file that is synced and
//! then renamed over the cache, so a kill at any point leaves either the old file or the new
//! one, both complete.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::failpoint;
use crate::atomic_file;
use crate::record::PipelineError;
use crate::record::Reduction;
use crate::source::{Chunk, View};

/// The cache folder's name inside the output folder.
pub const CACHE_DIR: &str = ".isg-cache";
/// The cache file's name inside [`CACHE_DIR`].
pub const CACHE_FILE: &str = "cache.jsonl";
/// The file inside [`CACHE_DIR`] that lists the keys the last completed run used.
pub const LIVE_FILE: &str = "live.keys";
/// The format version written in every line (`v`). Lines without one were written before
/// lines carried a version and a checksum; they are read as they are.
pub const CACHE_FORMAT: u32 = 2;

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

/// The model and prompt version a cache's entries belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The model's identity.
    pub model: String,
    /// The prompt version.
    pub prompt_version: String,
}

/// One line as written: the entry with its format version and scope.
#[derive(Serialize)]
struct LineOut<'a> {
    v: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_version: Option<&'a str>,
    #[serde(flatten)]
    entry: &'a CacheEntry,
}

/// One line as read (the checksum is checked on the text before parsing).
#[derive(Deserialize)]
struct LineIn {
    #[serde(default)]
    v: u32,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    prompt_version: Option<String>,
    #[serde(flatten)]
    entry: CacheEntry,
}

/// The checksum field's opening; the line ends with it, 16 hex digits and `"}`.
const SUM_OPEN: &[u8] = b",\"sum\":\"";
/// Bytes of the checksum field at the end of a line, `,"sum":"` to the closing brace.
const SUM_TAIL: usize = SUM_OPEN.len() + 16 + 2;

/// The checksum of a line's text without its checksum field.
fn line_sum(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..8])
}

/// `entry` as one line of the current format, ending in a newline.
fn encode_line(entry: &CacheEntry, scope: Option<&Scope>) -> Result<Vec<u8>, serde_json::Error> {
    let mut body = serde_json::to_vec(&LineOut {
        v: CACHE_FORMAT,
        model: scope.map(|s| s.model.as_str()),
        prompt_version: scope.map(|s| s.prompt_version.as_str()),
        entry,
    })?;
    let sum = line_sum(&body);
    body.pop(); // the closing brace
    body.extend_from_slice(SUM_OPEN);
    body.extend_from_slice(sum.as_bytes());
    body.extend_from_slice(b"\"}\n");
    Ok(body)
}

/// What a line turned out to be.
enum Parsed {
    Entry(Box<LineIn>),
    Bad,
    OtherVersion,
}

/// Parses one complete line (without its newline), checking the checksum when it has one.
fn parse_line(line: &[u8]) -> Parsed {
    // A line that names another format version is skipped, whatever else it holds.
    if let Ok(v) = serde_json::from_slice::<VersionOnly>(line)
        && v.v.is_some_and(|v| v != CACHE_FORMAT)
    {
        return Parsed::OtherVersion;
    }
    let has_sum = line.len() > SUM_TAIL
        && line[line.len() - SUM_TAIL..].starts_with(SUM_OPEN)
        && line.ends_with(b"\"}");
    if has_sum {
        let at = line.len() - SUM_TAIL;
        let mut body = line[..at].to_vec();
        body.push(b'}');
        if line_sum(&body).as_bytes() != &line[at + SUM_OPEN.len()..line.len() - 2] {
            return Parsed::Bad;
        }
    }
    match serde_json::from_slice::<LineIn>(line) {
        // A current line must carry its checksum; a line without a version predates both.
        Ok(l) if l.v == CACHE_FORMAT && !has_sum => Parsed::Bad,
        Ok(l) => Parsed::Entry(Box::new(l)),
        Err(_) => Parsed::Bad,
    }
}

/// Just the version of a line.
#[derive(Deserialize)]
struct VersionOnly {
    #[serde(default)]
    v: Option<u32>,
}

/// What [`Cache::open`] found in the file, and what compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheLoad {
    /// Entries read.
    pub entries: usize,
    /// Bytes of a torn last line that were cut away.
    pub torn_bytes: usize,
    /// Complete lines that did not parse or failed their checksum, skipped.
    pub bad_lines: usize,
    /// Keys that appeared more than once (the last one is kept).
    pub duplicates: usize,
    /// Lines written by another format version of isg, skipped.
    pub other_version: usize,
    /// Lines of another model or prompt version, skipped.
    pub other_model: usize,
    /// The last compaction of this run, if the cache was compacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compacted: Option<Compaction>,
}

/// What a compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Compaction {
    /// Lines before.
    pub lines_before: usize,
    /// Lines after (the live entries).
    pub lines_after: usize,
    /// File size before.
    pub bytes_before: u64,
    /// File size after.
    pub bytes_after: u64,
}

/// The open cache: entries in memory, the file open for appending.
pub struct Cache {
    path: PathBuf,
    /// Each key's entry and the line it was read from or written as.
    entries: HashMap<String, (CacheEntry, Vec<u8>)>,
    file: File,
    load: CacheLoad,
    scope: Option<Scope>,
    /// Complete lines in the file.
    lines: usize,
}

impl Cache {
    /// Opens (or creates) the cache of the output folder `out_dir`, whatever model wrote it.
    pub fn open(out_dir: &Path) -> Result<Cache, PipelineError> {
        let dir = cache_dir(out_dir)?;
        Cache::open_file(&dir.join(CACHE_FILE), None)
    }

    /// Opens (or creates) the cache of `out_dir` for one model and prompt version: lines of
    /// others are skipped and counted, and new lines are stamped with `scope`.
    pub fn open_scoped(out_dir: &Path, scope: Scope) -> Result<Cache, PipelineError> {
        let dir = cache_dir(out_dir)?;
        Cache::open_file(&dir.join(CACHE_FILE), Some(scope))
    }

    /// Opens (or creates) the cache file at `path`, repairing a torn last line.
    pub fn open_file(path: &Path, scope: Option<Scope>) -> Result<Cache, PipelineError> {
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
        let mut lines = 0;
        for line in bytes[..complete].split(|&b| b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            lines += 1;
            let parsed = match parse_line(line) {
                Parsed::Entry(l) => l,
                Parsed::Bad => {
                    load.bad_lines += 1;
                    continue;
                }
                Parsed::OtherVersion => {
                    load.other_version += 1;
                    continue;
                }
            };
            if let Some(s) = &scope {
                let other = |field: &Option<String>, want: &str| {
                    field.as_deref().is_some_and(|f| f != want)
                };
                if other(&parsed.model, &s.model)
                    || other(&parsed.prompt_version, &s.prompt_version)
                {
                    load.other_model += 1;
                    continue;
                }
            }
            load.entries += 1;
            let mut raw = line.to_vec();
            raw.push(b'\n');
            let key = parsed.entry.key.clone();
            if entries.insert(key, (parsed.entry, raw)).is_some() {
                load.duplicates += 1;
            }
        }
        Ok(Cache {
            path: path.to_path_buf(),
            entries,
            file,
            load,
            scope,
            lines,
        })
    }

    /// The entry of `key`, if one was computed.
    pub fn get(&self, key: &str) -> Option<&CacheEntry> {
        self.entries.get(key).map(|(e, _)| e)
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Complete lines in the file, dead ones included.
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// What opening the file found (and what compaction did since).
    pub fn load(&self) -> CacheLoad {
        self.load
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entry` and flushes it to the file before returning.
    pub fn append(&mut self, entry: CacheEntry) -> Result<(), PipelineError> {
        let line = encode_line(&entry, self.scope.as_ref())
            .map_err(|e| PipelineError::io("encoding", &self.path, e.into()))?;
        if failpoint::armed("cache-append-torn") {
            // Half a line reaches the file, then the process dies as if killed.
            let _ = self.file.write_all(&line[..line.len() / 2]);
            failpoint::hit("cache-append-torn");
        }
        self.file
            .write_all(&line)
            .and_then(|()| self.file.flush())
            .map_err(|e| PipelineError::io("appending to", &self.path, e))?;
        self.lines += 1;
        self.entries.insert(entry.key.clone(), (entry, line));
        Ok(())
    }

    /// Lines that [`compact`](Cache::compact) with `live` would drop.
    pub fn dead_lines(&self, live: &HashSet<&str>) -> usize {
        let kept = self
            .entries
            .keys()
            .filter(|k| live.contains(k.as_str()))
            .count();
        self.lines - kept
    }

    /// Compacts when more than half of the file's lines would be dropped; returns what was
    /// done, if anything.
    pub fn compact_if_needed(
        &mut self,
        live: &HashSet<&str>,
    ) -> Result<Option<Compaction>, PipelineError> {
        if self.dead_lines(live) * 2 > self.lines {
            self.compact(live).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Rewrites the file with only the entries whose key is in `live`, atomically: a temporary
    /// file is written and synced, then renamed over the cache and the folder synced.
    pub fn compact(&mut self, live: &HashSet<&str>) -> Result<Compaction, PipelineError> {
        let bytes_before = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        let lines_before = self.lines;
        self.entries.retain(|k, _| live.contains(k.as_str()));
        let mut keys: Vec<&String> = self.entries.keys().collect();
        keys.sort();
        let mut body = Vec::new();
        for k in keys {
            body.extend_from_slice(&self.entries[k].1);
        }
        self.file = replace_file(&self.path, &body, "compact")?;
        self.lines = self.entries.len();
        let done = Compaction {
            lines_before,
            lines_after: self.lines,
            bytes_before,
            bytes_after: body.len() as u64,
        };
        self.load.compacted = Some(done);
        Ok(done)
    }

    /// Writes every entry in memory to a fresh file at the cache's path (after its folder was
    /// deleted under the run, for example), recreating the folder.
    pub fn rewrite(&mut self) -> Result<(), PipelineError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| PipelineError::io("creating", dir, e))?;
        }
        let live: Vec<String> = self.entries.keys().cloned().collect();
        let live: HashSet<&str> = live.iter().map(String::as_str).collect();
        self.compact(&live).map(|_| ())
    }
}

/// Creates the cache folder of `out_dir`.
fn cache_dir(out_dir: &Path) -> Result<PathBuf, PipelineError> {
    let dir = out_dir.join(CACHE_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| PipelineError::io("creating", &dir, e))?;
    Ok(dir)
}

/// Replaces `path` with `body` atomically and returns the new file open for appending;
/// `point` names its crash points for tests.
fn replace_file(path: &Path, body: &[u8], point: &str) -> Result<File, PipelineError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new("."));
    // Leftovers of a compaction that was killed (the caller holds the folder's lock).
    if let Ok(read) = std::fs::read_dir(dir) {
        for e in read.flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with(&format!(".{name}.tmp-"))
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let tmp = atomic_file::temp_path(path);
    let mut staged =
        atomic_file::Staged::create(path).map_err(|e| PipelineError::io("writing", &tmp, e))?;
    staged
        .file()
        .write_all(body)
        .and_then(|()| staged.file().sync_all())
        .map_err(|e| PipelineError::io("writing", &tmp, e))?;
    failpoint::hit(&format!("{point}-written"));
    // The rename itself is durable once the folder is synced, which the commit does.
    staged
        .commit()
        .map_err(|e| PipelineError::io("replacing", path, e))?;
    failpoint::hit(&format!("{point}-renamed"));
    OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .map_err(|e| PipelineError::io("opening", path, e))
}

/// Records the keys a completed run used (`OUT/.isg-cache/live.keys`), atomically; `isg cache
/// gc` keeps exactly these.
pub fn write_live_keys<'a>(
    out_dir: &Path,
    keys: impl IntoIterator<Item = &'a str>,
) -> Result<(), PipelineError> {
    let dir = cache_dir(out_dir)?;
    let mut keys: Vec<&str> = keys.into_iter().collect();
    keys.sort_unstable();
    keys.dedup();
    let mut body = keys.join("\n");
    body.push('\n');
    replace_file(&dir.join(LIVE_FILE), body.as_bytes(), "live").map(|_| ())
}

/// The keys the last completed run in `out_dir` used, or `None` when no run recorded them.
pub fn read_live_keys(out_dir: &Path) -> Result<Option<Vec<String>>, PipelineError> {
    let path = out_dir.join(CACHE_DIR).join(LIVE_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(
            text.lines()
                .filter(|l| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(str::to_string)
                .collect(),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(PipelineError::io("reading", &path, e)),
    }
}

/// `isg cache gc`: locks `out_dir` and compacts its cache down to the keys the last completed
/// run used. `None` when no run recorded them (nothing is dropped then).
pub fn collect_garbage(
    out_dir: &Path,
    wait: crate::record::Wait,
) -> Result<Option<Compaction>, PipelineError> {
    if !out_dir.is_dir() {
        return Err(PipelineError::Settings(format!(
            "{} is not an output folder (it does not exist)",
            out_dir.display()
        )));
    }
    let _lock = crate::record::OutputLock::acquire(out_dir, wait)?;
    let Some(live) = read_live_keys(out_dir)? else {
        return Ok(None);
    };
    let live: HashSet<&str> = live.iter().map(String::as_str).collect();
    let mut cache = Cache::open(out_dir)?;
    cache.compact(&live).map(Some)
}

//! Walking a source tree: ignore files, include/exclude globs, language detection, and skips
//! with a recorded reason.
//!
//! Which files are walked:
//! - `.gitignore` (also outside git repositories), `.ignore`, `.isgignore`, git's global and
//!   `info/exclude` rules; hidden files and directories are left out unless
//!   [`WalkSettings::hidden`] is set.
//! - `--exclude` globs drop files and prune whole directories; when `--include` globs are given,
//!   only files matching one of them are kept. Globs match the path relative to the root with `/`
//!   separators; `*` stops at `/`, `**` crosses it, and a glob without `/` matches at any depth
//!   (`*.rs` is `**/*.rs`).
//! - Files of a language with a grammar (see [`Language`]) are read; files whose extension is in
//!   [`WalkSettings::text_extensions`] are read as [`Language::Text`]. Other files are not
//!   source code: they are counted per extension in [`Walk::unsupported`], not listed one by
//!   one. A single file given as the root is always read (as `Text` when its language is
//!   unknown).
//!
//! A file that is read but cannot be used is a [`Skip`] with a [`SkipReason`]: over the size
//! limit, binary (a NUL byte in the first 8 KiB), invalid UTF-8, generated (a comment with an
//! `@generated` word, or Go's `// Code generated ... DO NOT EDIT.` line, in the first 40 lines),
//! unreadable, a broken symlink or a symlink loop, gone between the listing and the read, or an
//! error of the walker itself. A file that changes type after it was listed (to a directory, a
//! FIFO, a device) is skipped as a special file, never read; one that grew past the limit is
//! read no further than one byte past it.

use std::collections::{BTreeMap, HashSet};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Language, SourceError};

/// How many leading bytes are searched for a NUL byte to call a file binary.
pub const BINARY_SCAN_BYTES: usize = 8 * 1024;
/// How many leading lines are searched for a generated-file marker.
pub const GENERATED_SCAN_LINES: usize = 40;
/// The default size limit of a file: 1 MiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1024 * 1024;
/// The name of isg's own ignore file, read like `.gitignore` in every directory.
pub const ISG_IGNORE_FILE: &str = ".isgignore";

/// What to walk and which files to keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkSettings {
    /// A directory, or a single file.
    pub root: PathBuf,
    /// Globs a file must match (one of them) to be kept; empty keeps every file.
    pub include: Vec<String>,
    /// Globs that drop files and prune directories.
    pub exclude: Vec<String>,
    /// Files larger than this are skipped with [`SkipReason::TooLarge`].
    pub max_file_bytes: u64,
    /// Extensions (without the dot) read as [`Language::Text`] and cut into line chunks.
    pub text_extensions: Vec<String>,
    /// Walk hidden files and directories too.
    pub hidden: bool,
}

impl WalkSettings {
    /// The defaults for a root: no globs, 1 MiB limit, only languages with a grammar, no hidden
    /// files.
    pub fn new(root: impl Into<PathBuf>) -> WalkSettings {
        WalkSettings {
            root: root.into(),
            include: Vec::new(),
            exclude: Vec::new(),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            text_extensions: Vec::new(),
            hidden: false,
        }
    }
}

/// A source file that was read and will be chunked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// The path relative to the root, with `/` separators (the file name when the root is a file).
    pub path: String,
    /// The path on disk.
    pub abs_path: PathBuf,
    /// The language, from the extension.
    pub language: Language,
    /// The whole file.
    pub text: String,
}

impl SourceFile {
    /// A file that is not on disk (for tests and tools that build text in memory).
    pub fn from_text(path: &str, language: Language, text: impl Into<String>) -> SourceFile {
        SourceFile {
            path: path.to_string(),
            abs_path: PathBuf::from(path),
            language,
            text: text.into(),
        }
    }
}

/// Why a file was not used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    /// A NUL byte in the first [`BINARY_SCAN_BYTES`] bytes.
    Binary,
    /// Not valid UTF-8.
    InvalidUtf8 {
        /// The byte offset of the first invalid sequence.
        offset: usize,
    },
    /// Larger than [`WalkSettings::max_file_bytes`].
    TooLarge {
        /// The file's size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// A generated-file marker near the top.
    Generated {
        /// The line that carries the marker.
        marker: String,
    },
    /// A symlink that leads back to one of its ancestors.
    SymlinkLoop {
        /// The ancestor it leads to.
        target: String,
    },
    /// A symlink whose target does not exist.
    BrokenSymlink,
    /// The file or directory cannot be read (permissions, I/O error).
    Unreadable {
        /// What the file system said.
        error: String,
    },
    /// A single file named as the root whose language is not supported and that is not text.
    UnsupportedLanguage,
    /// A FIFO, socket or device file, never read (or a file that turned into a directory after
    /// it was listed).
    SpecialFile {
        /// `fifo`, `socket`, `block device`, `character device` or `directory`.
        kind: String,
    },
    /// Listed by the walk, then gone before it was read (deleted or moved meanwhile).
    Vanished,
    /// Any other error reported by the walker (for example a malformed ignore file).
    WalkError {
        /// What the walker said.
        error: String,
    },
}

impl SkipReason {
    /// A short stable name of the reason (`binary`, `invalid_utf8`, ...), as serialized.
    pub fn name(&self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::InvalidUtf8 { .. } => "invalid_utf8",
            SkipReason::TooLarge { .. } => "too_large",
            SkipReason::Generated { .. } => "generated",
            SkipReason::SymlinkLoop { .. } => "symlink_loop",
            SkipReason::BrokenSymlink => "broken_symlink",
            SkipReason::Unreadable { .. } => "unreadable",
            SkipReason::UnsupportedLanguage => "unsupported_language",
            SkipReason::SpecialFile { .. } => "special_file",
            SkipReason::Vanished => "vanished",
            SkipReason::WalkError { .. } => "walk_error",
        }
    }

    /// A sentence for people.
    pub fn message(&self) -> String {
        match self {
            SkipReason::Binary => "binary file (NUL byte near the start)".to_string(),
            SkipReason::InvalidUtf8 { offset } => {
                format!("not valid UTF-8 (first invalid byte at offset {offset})")
            }
            SkipReason::TooLarge { bytes, limit } => {
                format!("{bytes} bytes, over the limit of {limit} bytes")
            }
            SkipReason::Generated { marker } => format!("generated file ({marker})"),
            SkipReason::SymlinkLoop { target } => format!("symlink loop back to {target}"),
            SkipReason::BrokenSymlink => "broken symlink".to_string(),
            SkipReason::Unreadable { error } => format!("unreadable: {error}"),
            SkipReason::UnsupportedLanguage => "unsupported language".to_string(),
            SkipReason::SpecialFile { kind } => format!("not a regular file ({kind})"),
            SkipReason::Vanished => {
                "gone before it was read (deleted or moved during the walk)".to_string()
            }
            SkipReason::WalkError { error } => format!("walk error: {error}"),
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// A file (or directory) that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    /// The path relative to the root, with `/` separators.
    pub path: String,
    /// Why.
    #[serde(flatten)]
    pub reason: SkipReason,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// The result of a walk: files to chunk, skips, and a count of other files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Walk {
    /// The root as given.
    pub root: PathBuf,
    /// Files to chunk, sorted by path.
    pub files: Vec<SourceFile>,
    /// Files that were not used, sorted by path.
    pub skipped: Vec<Skip>,
    /// Files without a supported language, counted by extension (`""` for none).
    pub unsupported: BTreeMap<String, usize>,
}

/// A file the walker found that will be read.
struct Candidate {
    rel: String,
    abs: PathBuf,
    language: Language,
}

/// Walks `settings.root` and reads every source file (in parallel), in sorted path order.
pub fn walk(settings: &WalkSettings) -> Result<Walk, SourceError> {
    walk_between(settings, || {})
}

/// [`walk()`], calling `between` once the tree is listed and before any file is read: the
/// moment where a file can vanish or change under the walk. The fault tests stop the process
/// there to do exactly that.
pub fn walk_between(settings: &WalkSettings, between: impl FnOnce()) -> Result<Walk, SourceError> {
    let listing = list(settings)?;
    between();
    let mut out = Walk {
        root: settings.root.clone(),
        files: Vec::new(),
        skipped: listing.skipped,
        unsupported: listing.unsupported,
    };
    let max = settings.max_file_bytes;
    let read: Vec<Result<SourceFile, Skip>> = listing
        .candidates
        .into_par_iter()
        .map(|c| read_candidate(c, max))
        .collect();
    for r in read {
        match r {
            Ok(file) => out.files.push(file),
            Err(skip) => out.skipped.push(skip),
        }
    }
    out.files.sort_by(|a, b| a.path.cmp(&b.path));
    out.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// How a file differs now from what a walk read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Its text is not what was read.
    Edited,
    /// It is gone (or can no longer be read).
    Deleted,
    /// It was not there.
    Added,
}

/// A file that changed after it was walked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    /// The path relative to the root, with `/` separators.
    pub path: String,
    /// What happened to it.
    pub change: ChangeKind,
}

impl std::fmt::Display for FileChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.change {
            ChangeKind::Edited => "edited",
            ChangeKind::Deleted => "deleted",
            ChangeKind::Added => "added",
        };
        write!(f, "{} ({what})", self.path)
    }
}

/// The files that changed since `walked` was read with `settings`: the tree is listed again
/// and every file that was read is compared byte for byte (one file in memory at a time per
/// thread). Files that were skipped count only when they are gone.
pub fn changes_since(walked: &Walk, settings: &WalkSettings) -> Vec<FileChange> {
    let listing = match list(settings) {
        Ok(l) => l,
        // The root itself is gone: every file is.
        Err(_) => {
            return walked
                .files
                .iter()
                .map(|f| FileChange {
                    path: f.path.clone(),
                    change: ChangeKind::Deleted,
                })
                .collect();
        }
    };
    let now: HashSet<&str> = listing.candidates.iter().map(|c| c.rel.as_str()).collect();
    let known: HashSet<&str> = walked
        .files
        .iter()
        .map(|f| f.path.as_str())
        .chain(walked.skipped.iter().map(|s| s.path.as_str()))
        .collect();
    let mut changes: Vec<FileChange> = walked
        .files
        .par_iter()
        .filter_map(|f| {
            let change = if !now.contains(f.path.as_str()) {
                Some(ChangeKind::Deleted)
            } else {
                match std::fs::read(&f.abs_path) {
                    Ok(bytes) if bytes == f.text.as_bytes() => None,
                    Ok(_) => Some(ChangeKind::Edited),
                    Err(_) => Some(ChangeKind::Deleted),
                }
            };
            change.map(|change| FileChange {
                path: f.path.clone(),
                change,
            })
        })
        .collect();
    changes.extend(
        listing
            .candidates
            .iter()
            .filter(|c| !known.contains(c.rel.as_str()))
            .map(|c| FileChange {
                path: c.rel.clone(),
                change: ChangeKind::Added,
            }),
    );
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    changes
}

/// What listing a tree found, before any file is read.
struct Listing {
    candidates: Vec<Candidate>,
    skipped: Vec<Skip>,
    unsupported: BTreeMap<String, usize>,
}

/// Lists the files of `settings.root` to read. Only regular files (after following symlinks)
/// are listed: FIFOs, sockets and device files are passed over, so reading never blocks.
fn list(settings: &WalkSettings) -> Result<Listing, SourceError> {
    let root = settings.root.clone();
    let meta = std::fs::metadata(&root).map_err(|source| SourceError::Root {
        path: root.clone(),
        source,
    })?;
    let include = glob_set(&settings.include)?;
    let exclude = Arc::new(glob_set(&settings.exclude)?);
    let text_exts: Vec<String> = settings
        .text_extensions
        .iter()
        .map(|e| e.trim_start_matches('.').to_ascii_lowercase())
        .collect();

    let mut out = Listing {
        candidates: Vec::new(),
        skipped: Vec::new(),
        unsupported: BTreeMap::new(),
    };
    if meta.is_file() {
        let rel = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| root.to_string_lossy().into_owned());
        let language = Language::from_path(&root).unwrap_or(Language::Text);
        out.candidates.push(Candidate {
            rel,
            abs: root.clone(),
            language,
        });
    } else {
        let mut builder = ignore::WalkBuilder::new(&root);
        builder
            .hidden(!settings.hidden)
            .follow_links(true)
            .require_git(false)
            .add_custom_ignore_filename(ISG_IGNORE_FILE);
        let filter_root = root.clone();
        let filter_exclude = Arc::clone(&exclude);
        builder.filter_entry(move |entry| match &*filter_exclude {
            Some(set) => match rel_path(&filter_root, entry.path()) {
                Some(rel) if !rel.is_empty() => !set.is_match(&rel),
                _ => true,
            },
            None => true,
        });
        for entry in builder.build() {
            match entry {
                Ok(entry) => {
                    let Some(kind) = entry.file_type() else {
                        continue;
                    };
                    if kind.is_dir() {
                        continue;
                    }
                    let Some(rel) = rel_path(&root, entry.path()) else {
                        continue;
                    };
                    if !kind.is_file() {
                        // A FIFO, socket or device: reading it could block or never end.
                        if include.as_ref().is_none_or(|set| set.is_match(&rel)) {
                            out.skipped.push(Skip {
                                path: rel,
                                reason: SkipReason::SpecialFile {
                                    kind: special_kind(&kind).to_string(),
                                },
                            });
                        }
                        continue;
                    }
                    if include.as_ref().is_some_and(|set| !set.is_match(&rel)) {
                        continue;
                    }
                    let ext = entry
                        .path()
                        .extension()
                        .map(|e| e.to_string_lossy().to_ascii_lowercase())
                        .unwrap_or_default();
                    let language = Language::from_extension(&ext)
                        .or_else(|| text_exts.contains(&ext).then_some(Language::Text));
                    match language {
                        Some(language) => out.candidates.push(Candidate {
                            rel,
                            abs: entry.into_path(),
                            language,
                        }),
                        None => *out.unsupported.entry(ext).or_default() += 1,
                    }
                }
                Err(err) => out.skipped.push(skip_of_walk_error(&root, err)),
            }
        }
    }

    Ok(out)
}

/// Reads one file, or says why it is skipped.
fn read_candidate(c: Candidate, max_bytes: u64) -> Result<SourceFile, Skip> {
    let skip = |reason| Skip {
        path: c.rel.clone(),
        reason,
    };
    // Opened without blocking and checked after opening: a file that turned into a FIFO or
    // device since it was listed is skipped, never read.
    let mut file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&c.abs)
    {
        Ok(f) => f,
        Err(e) => return Err(skip(io_reason(&c.abs, &e))),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return Err(skip(io_reason(&c.abs, &e))),
    };
    if !meta.is_file() {
        return Err(skip(SkipReason::SpecialFile {
            kind: special_kind(&meta.file_type()).to_string(),
        }));
    }
    if meta.len() > max_bytes {
        return Err(skip(SkipReason::TooLarge {
            bytes: meta.len(),
            limit: max_bytes,
        }));
    }
    // Read at most one byte past the limit: a file that grew since is not read whole.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    if let Err(e) = (&mut file).take(max_bytes + 1).read_to_end(&mut bytes) {
        return Err(skip(io_reason(&c.abs, &e)));
    }
    if bytes.len() as u64 > max_bytes {
        return Err(skip(SkipReason::TooLarge {
            bytes: bytes.len() as u64,
            limit: max_bytes,
        }));
    }
    if bytes[..bytes.len().min(BINARY_SCAN_BYTES)].contains(&0) {
        return Err(skip(SkipReason::Binary));
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Err(skip(SkipReason::InvalidUtf8 {
                offset: e.utf8_error().valid_up_to(),
            }));
        }
    };
    if let Some(marker) = generated_marker(&text) {
        return Err(skip(SkipReason::Generated { marker }));
    }
    let language = if c.language == Language::Text && !is_textual(&text) {
        return Err(skip(SkipReason::UnsupportedLanguage));
    } else {
        c.language
    };
    Ok(SourceFile {
        path: c.rel,
        abs_path: c.abs,
        language,
        text,
    })
}

/// The name of a file type that is not a regular file.
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "directory"
    } else if kind.is_fifo() {
        "fifo"
    } else if kind.is_socket() {
        "socket"
    } else if kind.is_block_device() {
        "block device"
    } else if kind.is_char_device() {
        "character device"
    } else {
        "special file"
    }
}

/// Whether text read as [`Language::Text`] looks like text (few control characters).
fn is_textual(text: &str) -> bool {
    let control = text
        .chars()
        .take(BINARY_SCAN_BYTES)
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0c'))
        .count();
    control == 0
}

/// The line with a generated-file marker among the first [`GENERATED_SCAN_LINES`] lines: a
/// comment with the word `@generated`, or Go's `// Code generated ... DO NOT EDIT.`.
pub fn generated_marker(text: &str) -> Option<String> {
    for line in text.lines().take(GENERATED_SCAN_LINES) {
        let t = line.trim();
        if t.starts_with("// Code generated ") && t.ends_with(" DO NOT EDIT.") {
            return Some(t.to_string());
        }
        let body = ["///", "//!", "//", "#", "/*", "*", "--", "<!--"]
            .iter()
            .find_map(|p| t.strip_prefix(p));
        let Some(body) = body else { continue };
        let word = |w: &str| w.trim_end_matches(['.', ',', ':', ';', ')']) == "@generated";
        if body.split_whitespace().any(word) {
            return Some(t.chars().take(120).collect());
        }
    }
    None
}

/// Builds a glob set; globs without `/` match at any depth.
fn glob_set(globs: &[String]) -> Result<Option<GlobSet>, SourceError> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        let pattern = g.trim_start_matches("./");
        let pattern = if pattern.contains('/') {
            pattern.trim_start_matches('/').to_string()
        } else {
            format!("**/{pattern}")
        };
        let glob = GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| SourceError::Glob {
                glob: g.clone(),
                message: e.kind().to_string(),
            })?;
        builder.add(glob);
    }
    builder.build().map(Some).map_err(|e| SourceError::Glob {
        glob: globs.join(" "),
        message: e.kind().to_string(),
    })
}

/// `path` relative to `root` with `/` separators.
fn rel_path(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// The skip reason of an I/O error on `path`, a file the walk listed.
fn io_reason(path: &Path, e: &std::io::Error) -> SkipReason {
    let is_symlink = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if e.kind() == ErrorKind::NotFound && is_symlink {
        SkipReason::BrokenSymlink
    } else if e.kind() == ErrorKind::NotFound {
        SkipReason::Vanished
    } else if e.raw_os_error() == Some(libc::ELOOP) {
        SkipReason::SymlinkLoop {
            target: path.to_string_lossy().into_owned(),
        }
    } else {
        SkipReason::Unreadable {
            error: e.to_string(),
        }
    }
}

/// Turns an error of the `ignore` walker into a skip.
fn skip_of_walk_error(root: &Path, err: ignore::Error) -> Skip {
    let (path, reason) = classify_walk_error(err);
    let path = path
        .as_deref()
        .and_then(|p| rel_path(root, p))
        .unwrap_or_default();
    Skip { path, reason }
}

fn classify_walk_error(err: ignore::Error) -> (Option<PathBuf>, SkipReason) {
    match err {
        ignore::Error::WithPath { path, err } => {
            let (inner, reason) = classify_walk_error(*err);
            let reason = match reason {
                // A symlink to itself, or a chain of them that never ends.
                SkipReason::Unreadable { .. } if is_symlink_loop(&path) => {
                    SkipReason::SymlinkLoop {
                        target: path.to_string_lossy().into_owned(),
                    }
                }
                SkipReason::Unreadable { .. } if is_broken(&path) => SkipReason::BrokenSymlink,
                r => r,
            };
            (inner.or(Some(path)), reason)
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            classify_walk_error(*err)
        }
        ignore::Error::Loop { ancestor, child } => (
            Some(child),
            SkipReason::SymlinkLoop {
                target: ancestor.to_string_lossy().into_owned(),
            },
        ),
        ignore::Error::Io(e) => (
            None,
            SkipReason::Unreadable {
                error: e.to_string(),
            },
        ),
        ignore::Error::Partial(errs) => {
            let mut iter = errs.into_iter();
            match iter.next() {
                Some(first) => classify_walk_error(first),
                None => (
                    None,
                    SkipReason::WalkError {
                        error: "unknown error".to_string(),
                    },
                ),
            }
        }
        other => (
            None,
            SkipReason::WalkError {
                error: other.to_string(),
            },
        ),
    }
}

fn is_symlink_loop(path: &Path) -> bool {
    std::fs::metadata(path).is_err_and(|e| e.raw_os_error() == Some(libc::ELOOP))
}

fn is_broken(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        && std::fs::metadata(path).is_err()
}

//! Cutting a file into chunks of at most `max_lines` lines at syntax boundaries.
//!
//! The rules, in order:
//! 1. A file of at most `max_lines` lines is one chunk; an empty file has none.
//! 2. Otherwise its top-level items are packed greedily: consecutive items go into one chunk as
//!    long as it stays within the limit. Leading comments, doc comments and attributes stay with
//!    the item they precede; blank lines between items go with the item above; items that share
//!    a line are never separated.
//! 3. An item longer than the limit is cut at its inner boundaries (impl, trait and class
//!    members, nested modules, enum variants, a function's statements), packed the same way,
//!    recursively.
//! 4. What has no inner boundaries left, and files without a grammar, are cut into runs of
//!    lines, ending at a blank line in the second half of the window when there is one.
//!
//! Chunks cover the file: every line belongs to exactly one chunk, in order.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::interface::{comment_spans, render_interface};
use super::outline::{Item, Kind, Outline, overlapping};
use super::{Language, SourceFile};

/// The default chunk limit in lines.
pub const DEFAULT_MAX_LINES: usize = 300;

/// A run of whole lines of one file, with what it defines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// The file's path relative to the root, with `/` separators.
    pub path: String,
    /// First line, 1-based.
    pub start_line: usize,
    /// Last line, 1-based, inclusive.
    pub end_line: usize,
    /// The file's language.
    pub language: Language,
    /// Names of the items that start in this chunk, in source order (see the naming scheme in
    /// [`chunk_file`]).
    pub symbols: Vec<String>,
    /// The innermost named item this chunk starts inside, when the chunk is a piece of a longer
    /// item (`impl Runtime` for a middle piece of a long impl block).
    pub parent: Option<String>,
    /// The chunk's lines, line endings included.
    pub text: String,
    /// SHA-256 of `text`, lowercase hex.
    pub hash: String,
    /// The interface view: signatures, first sentences of doc comments, bodies elided.
    pub interface: String,
    /// The comments in `text`, for the code views that shorten them.
    pub comments: Vec<CommentSpan>,
}

impl Chunk {
    /// The number of lines.
    pub fn line_count(&self) -> usize {
        self.end_line + 1 - self.start_line
    }
}

/// A comment inside a chunk's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentSpan {
    /// Byte offset in [`Chunk::text`] where the comment starts.
    pub start: usize,
    /// Byte offset in [`Chunk::text`] just after the comment.
    pub end: usize,
    /// Whether it documents an item (`///`, `//!`, `/** */`, a docstring, or in Go, C and C++
    /// a comment right above an item).
    pub doc: bool,
    /// For doc comments, the comment reduced to its first sentence on one line, in its own
    /// style (`/// Spawns a task.`); empty otherwise.
    pub brief: String,
}

/// Cuts a file into chunks of at most `max_lines` lines (at least 1).
///
/// Item names (`Chunk::symbols`) read `<keyword> <name>` with the language's own keyword (`fn`,
/// `struct`, `enum`, `union`, `trait`, `type`, `const`, `static`, `mod`, `macro name!` in Rust;
/// `def`, `class` in Python; `func`, `type`, `const`, `var` in Go; `function`, `class`,
/// `method`, `interface`, `type`, `enum`, `namespace`, `const`/`let`/`var` in JavaScript and
/// TypeScript; `function`, `struct`, `union`, `enum`, `typedef`, `#define`, `class`,
/// `namespace` in C and C++). Members are qualified by their owner, with `::` in Rust and C++
/// and `.` elsewhere: `fn JoinHandle::poll`, `def Runtime.close`, `func Handle.Close`. A Rust
/// impl block is `impl Type` or `impl Trait for Type` with generic arguments dropped
/// (`impl<T> Future for JoinHandle<T>` is `impl Future for JoinHandle`); items inside braced
/// macro calls such as `cfg_rt! { ... }` are named as if the call were not there. Never panics: malformed code is chunked at whatever boundaries the
/// parser recovers, or by lines.
pub fn chunk_file(file: &SourceFile, max_lines: usize) -> Vec<Chunk> {
    let max_lines = max_lines.max(1);
    let outline = Outline::build(file.language, &file.text, max_lines);
    let n = outline.lines.count();
    if n == 0 {
        return Vec::new();
    }
    let mut ranges = Vec::new();
    if n <= max_lines {
        ranges.push((0, n - 1));
    } else {
        let cutter = Cutter {
            outline: &outline,
            max: max_lines,
        };
        cutter.split(&outline.items, 0, n - 1, &mut ranges);
    }
    ranges
        .into_iter()
        .map(|(s, e)| make_chunk(file, &outline, s, e))
        .collect()
}

fn make_chunk(file: &SourceFile, outline: &Outline, s: usize, e: usize) -> Chunk {
    let (a, b) = outline.lines.byte_range(s, e);
    let text = file.text.get(a..b).unwrap_or("").to_string();
    let hash = hex::encode(Sha256::digest(text.as_bytes()));
    let mut symbols = Vec::new();
    collect_symbols(&outline.items, s, e, &mut symbols);
    let mut parent = None;
    find_parent(&outline.items, s, &mut parent);
    Chunk {
        path: file.path.clone(),
        start_line: s + 1,
        end_line: e + 1,
        language: file.language,
        symbols,
        parent,
        interface: render_interface(outline, s, e),
        comments: comment_spans(outline, a, b),
        text,
        hash,
    }
}

fn collect_symbols(items: &[Item], s: usize, e: usize, out: &mut Vec<String>) {
    for it in overlapping(items, s, e) {
        if it.start_line >= s {
            out.extend(it.symbols.iter().cloned());
        }
        if it.has_members {
            collect_symbols(&it.children, s, e, out);
        }
    }
}

fn find_parent(items: &[Item], s: usize, out: &mut Option<String>) {
    for it in overlapping(items, s, s) {
        if it.start_line < s && it.end_line >= s {
            if let Some(sym) = it.symbols.first() {
                *out = Some(sym.clone());
            }
            find_parent(&it.children, s, out);
            return;
        }
    }
}

/// A run of lines that must stay together, and the item to cut it at when it is too long.
struct Unit<'o> {
    start: usize,
    end: usize,
    main: Option<&'o Item>,
}

struct Cutter<'o, 'a> {
    outline: &'o Outline<'a>,
    max: usize,
}

impl<'o> Cutter<'o, '_> {
    /// Cuts lines `s..=e` at the boundaries of `items` (which lie inside them).
    fn split(&self, items: &'o [Item], s: usize, e: usize, out: &mut Vec<(usize, usize)>) {
        let mut units = self.units(items, s, e);
        if units.len() < 2
            && units
                .first()
                .is_none_or(|u| u.main.is_none_or(|m| m.children.is_empty()))
        {
            // Nothing to cut at here: descend into the one item, or cut by lines.
            match units.first().and_then(|u| u.main) {
                Some(m) if !m.children.is_empty() => self.split(&m.children, s, e, out),
                _ => self.by_lines(s, e, out),
            }
            return;
        }
        // Cover s..=e: the first unit starts at s, each ends where the next begins.
        units[0].start = s;
        for i in 0..units.len() - 1 {
            units[i].end = units[i + 1].start - 1;
        }
        if let Some(last) = units.last_mut() {
            last.end = e;
        }
        let mut cur: Option<(usize, usize)> = None;
        for u in units {
            let len = u.end - u.start + 1;
            if len > self.max {
                if let Some(c) = cur.take() {
                    out.push(c);
                }
                match u.main {
                    Some(m) if !m.children.is_empty() => {
                        self.split(&m.children, u.start, u.end, out)
                    }
                    _ => self.by_lines(u.start, u.end, out),
                }
                continue;
            }
            cur = match cur {
                Some((cs, ce)) if ce - cs + 1 + len <= self.max => Some((cs, u.end)),
                Some(c) => {
                    out.push(c);
                    Some((u.start, u.end))
                }
                None => Some((u.start, u.end)),
            };
        }
        if let Some(c) = cur {
            out.push(c);
        }
    }

    /// Groups items into units: leading comments and attributes join the next item, items that
    /// share a line join. Unit starts are strictly increasing and within `s..=e`.
    fn units(&self, items: &'o [Item], s: usize, e: usize) -> Vec<Unit<'o>> {
        let mut units: Vec<Unit<'o>> = Vec::new();
        let mut pending: Option<usize> = None; // start of leading comments/attributes
        for it in items {
            let (is, ie) = (it.start_line.clamp(s, e), it.end_line.clamp(s, e));
            let leading = matches!(it.kind, Kind::Comment | Kind::DocComment | Kind::Attribute);
            // Inner doc comments (`//!`) document the enclosing item: they stand alone.
            let inner_doc = it.kind == Kind::DocComment
                && self.outline.text[it.start_byte..it.end_byte]
                    .trim_start()
                    .starts_with("//!");
            if leading && !inner_doc {
                pending.get_or_insert(is);
                continue;
            }
            let start = pending.take().unwrap_or(is);
            let main = (!leading).then_some(it);
            match units.last_mut() {
                Some(last) if start <= last.end => {
                    last.end = last.end.max(ie);
                    if let Some(m) = main
                        && last.main.is_none_or(|lm| {
                            lm.end_line - lm.start_line < m.end_line - m.start_line
                        })
                    {
                        last.main = Some(m);
                    }
                }
                _ => units.push(Unit {
                    start,
                    end: ie,
                    main,
                }),
            }
        }
        if let Some(p) = pending {
            // Trailing comments: their own unit, or part of the last one if they overlap.
            match units.last_mut() {
                Some(last) if p <= last.end => last.end = last.end.max(e),
                _ => units.push(Unit {
                    start: p,
                    end: e,
                    main: None,
                }),
            }
        }
        units
    }

    /// Cuts lines `s..=e` into runs of at most `max` lines, ending at a blank line in the
    /// second half of a window when there is one.
    fn by_lines(&self, s: usize, e: usize, out: &mut Vec<(usize, usize)>) {
        by_lines(self.outline, self.max, s, e, out);
    }
}

fn by_lines(outline: &Outline, max: usize, s: usize, e: usize, out: &mut Vec<(usize, usize)>) {
    let mut pos = s;
    while pos <= e {
        if e - pos < max {
            out.push((pos, e));
            return;
        }
        let window_end = pos + max - 1;
        let lo = pos + max / 2;
        let blank = (lo..=window_end)
            .rev()
            .find(|&l| outline.lines.line(outline.text, l).trim().is_empty());
        let end = blank.unwrap_or(window_end);
        out.push((pos, end));
        pos = end + 1;
    }
}

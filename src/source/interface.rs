//! Views of a chunk for a model to read, from the full text down to item names, and the
//! reduction ladder that goes down them when a prompt is too long.
//!
//! The interface view keeps, in source order and indentation: the first sentence of each doc
//! comment (in its own comment style), signatures of functions with bodies elided (`{ ... }`, or
//! `: ...` in Python, where a docstring's first sentence follows the signature), headers of
//! impl/trait/mod/class/namespace blocks with their members inside, structs, enums and
//! interfaces with one line per field or variant (at most 24), short constants, statics and
//! type aliases whole (long ones cut at `=`), and `#[derive(..)]` attributes. It drops imports
//! (`use`, `import`, `#include`), plain comments and other attributes. A chunk that starts inside
//! a long item shows that item's header first, so a piece of an impl block still reads
//! `impl Runtime { ... }`.

use std::fmt::Write as _;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::comments::one_line_doc;
use super::outline::{Item, Kind, Outline, overlapping};
use super::{Chunk, CommentSpan, Language};

/// At most this many fields or variants of a record are shown.
const MAX_FIELDS: usize = 24;
/// Lines of the interface view longer than this are cut.
const MAX_LINE_CHARS: usize = 200;

/// How comments appear in the code view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Comments {
    /// As written.
    Keep,
    /// Doc comments cut to their first sentence on one line; other comments kept.
    DocFirstLine,
    /// Doc comments cut to their first sentence; other comments removed.
    DocFirstLineOnly,
}

/// What a model reads of a chunk. The order of [`View::LADDER`] goes from the most to the
/// least text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    /// The chunk text, comments handled as given.
    Code(Comments),
    /// Signatures, doc first sentences, bodies elided.
    Interface,
    /// Only the names of the items (one per line).
    Names,
}

impl View {
    /// Every view, from the most to the least text.
    pub const LADDER: [View; 5] = [
        View::Code(Comments::Keep),
        View::Code(Comments::DocFirstLine),
        View::Code(Comments::DocFirstLineOnly),
        View::Interface,
        View::Names,
    ];

    /// A stable name, for records and flags: `code`, `code-doc-first-line`,
    /// `code-doc-first-line-only`, `interface`, `names`.
    pub fn name(self) -> &'static str {
        match self {
            View::Code(Comments::Keep) => "code",
            View::Code(Comments::DocFirstLine) => "code-doc-first-line",
            View::Code(Comments::DocFirstLineOnly) => "code-doc-first-line-only",
            View::Interface => "interface",
            View::Names => "names",
        }
    }

    /// The next smaller step of the reduction ladder for a prompt that does not fit: any code
    /// view → interface → names → nothing.
    pub fn reduced(self) -> Option<View> {
        match self {
            View::Code(_) => Some(View::Interface),
            View::Interface => Some(View::Names),
            View::Names => None,
        }
    }

    /// This view and the smaller ones after it, in the order to try them.
    pub fn ladder_from(self) -> Vec<View> {
        let mut out = vec![self];
        let mut v = self;
        while let Some(next) = v.reduced() {
            out.push(next);
            v = next;
        }
        out
    }
}

impl std::fmt::Display for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A view name that is not one of [`View::name`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown view {0:?}; use code, code-doc-first-line, code-doc-first-line-only, interface or names"
)]
pub struct UnknownView(pub String);

impl FromStr for View {
    type Err = UnknownView;
    fn from_str(s: &str) -> Result<View, UnknownView> {
        View::LADDER
            .into_iter()
            .find(|v| v.name() == s)
            .ok_or_else(|| UnknownView(s.to_string()))
    }
}

impl Serialize for View {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for View {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<View, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The text of `chunk` in `view`.
pub fn view(chunk: &Chunk, view: View) -> String {
    match view {
        View::Code(Comments::Keep) => chunk.text.clone(),
        View::Code(mode) => code_with_comments(chunk, mode == Comments::DocFirstLineOnly),
        View::Interface => chunk.interface.clone(),
        View::Names => names(chunk),
    }
}

/// The names view: `in <parent>` when the chunk is a piece of a longer item, then one item
/// name per line; the first non-blank line of the chunk when it defines nothing.
fn names(chunk: &Chunk) -> String {
    let mut out = String::new();
    if let Some(p) = &chunk.parent {
        let _ = writeln!(out, "in {p}");
    }
    for s in &chunk.symbols {
        let _ = writeln!(out, "{s}");
    }
    if out.is_empty() {
        let first = chunk
            .text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let _ = writeln!(out, "{}", cut(first.trim(), MAX_LINE_CHARS));
    }
    out
}

/// The chunk text with doc comments cut to one line, and other comments removed if asked.
fn code_with_comments(chunk: &Chunk, drop_plain: bool) -> String {
    const GONE: char = '\u{0}';
    let text = &chunk.text;
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for c in &chunk.comments {
        if c.start < pos || c.end > text.len() {
            continue;
        }
        let replacement = if c.doc {
            c.brief.as_str()
        } else if drop_plain {
            ""
        } else {
            continue;
        };
        out.push_str(&text[pos..c.start]);
        out.push(GONE);
        out.push_str(replacement);
        pos = c.end;
    }
    out.push_str(&text[pos..]);
    if !out.contains(GONE) {
        return out;
    }
    let mut result = String::with_capacity(out.len());
    for line in out.split_inclusive('\n') {
        if line.contains(GONE) {
            let cleaned = line.replace(GONE, "");
            if cleaned.trim().is_empty() {
                continue;
            }
            result.push_str(cleaned.trim_end());
            if line.ends_with('\n') {
                result.push('\n');
            }
        } else {
            result.push_str(line);
        }
    }
    result
}

/// The comments inside bytes `a..b` of the file, relative to `a`.
pub(crate) fn comment_spans(outline: &Outline, a: usize, b: usize) -> Vec<CommentSpan> {
    let first = outline.comments.partition_point(|c| c.end_byte <= a);
    outline.comments[first..]
        .iter()
        .take_while(|c| c.start_byte < b)
        .filter(|c| c.start_byte >= a && c.end_byte <= b)
        .map(|c| CommentSpan {
            start: c.start_byte - a,
            end: c.end_byte - a,
            doc: c.doc,
            brief: if c.doc {
                one_line_doc(&outline.text[c.start_byte..c.end_byte])
            } else {
                String::new()
            },
        })
        .collect()
}

/// The interface view of lines `s..=e` (0-based) of the outlined file.
pub(crate) fn render_interface(outline: &Outline, s: usize, e: usize) -> String {
    let mut r = Renderer {
        outline,
        s,
        e,
        out: String::new(),
    };
    if outline.items.is_empty() && outline.language == Language::Text {
        // No grammar: the first line of each paragraph.
        let mut prev_blank = true;
        for l in s..=e {
            let line = outline.lines.line(outline.text, l);
            if !line.trim().is_empty() && prev_blank {
                r.line(line, "");
            }
            prev_blank = line.trim().is_empty();
        }
        return r.out;
    }
    r.items(&outline.items);
    r.out
}

struct Renderer<'o, 'a> {
    outline: &'o Outline<'a>,
    s: usize,
    e: usize,
    out: String,
}

impl Renderer<'_, '_> {
    fn indent(&self, it: &Item) -> String {
        let line = self.outline.lines.line(self.outline.text, it.start_line);
        line[..line.len() - line.trim_start().len()].to_string()
    }

    fn line(&mut self, indent: &str, text: &str) {
        self.out.push_str(indent);
        self.out.push_str(&cut(text, MAX_LINE_CHARS));
        self.out.push('\n');
    }

    /// `text[a..b]` without comments, on one line.
    fn clean(&self, a: usize, b: usize) -> String {
        let o = self.outline;
        let mut s = String::new();
        let mut pos = a;
        let first = o.comments.partition_point(|c| c.end_byte <= a);
        for c in o.comments[first..].iter().take_while(|c| c.start_byte < b) {
            if c.start_byte >= pos {
                s.push_str(o.text.get(pos..c.start_byte).unwrap_or(""));
                s.push(' ');
                pos = c.end_byte.min(b);
            }
        }
        if pos < b {
            s.push_str(o.text.get(pos..b).unwrap_or(""));
        }
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn items(&mut self, items: &[Item]) {
        let shown = overlapping(items, self.s, self.e);
        // A test module beside other code is one line: the file is for the code, and a list
        // of test names would draw the line towards the tests.
        let tests: Vec<bool> = (0..shown.len())
            .map(|i| self.is_test_module(shown, i))
            .collect();
        let beside_code = shown.iter().zip(&tests).any(|(it, &test)| {
            !test
                && !matches!(
                    it.kind,
                    Kind::Comment | Kind::DocComment | Kind::Attribute | Kind::Import
                )
        });
        for (it, &test) in shown.iter().zip(&tests) {
            if test && beside_code && it.start_line >= self.s {
                let body = it.body_byte.unwrap_or(it.end_byte).max(it.start_byte);
                let head = self.clean(it.start_byte, body);
                let ind = self.indent(it);
                self.line(&ind, &format!("{head} {{ ... }}"));
            } else {
                self.item(it);
            }
        }
    }

    /// Whether `items[i]` is a test module: a `mod` named `tests` or `test` (or ending in
    /// `_tests`), or one with `#[cfg(test)]` before it.
    fn is_test_module(&self, items: &[Item], i: usize) -> bool {
        let it = &items[i];
        let Some(name) = it
            .symbols
            .first()
            .and_then(|s| s.strip_prefix("mod "))
            .filter(|_| it.kind == Kind::Container)
        else {
            return false;
        };
        let named = name == "tests" || name == "test" || name.ends_with("_tests");
        let cfg_test = items[..i]
            .iter()
            .rev()
            .take_while(|a| matches!(a.kind, Kind::Attribute | Kind::Comment | Kind::DocComment))
            .filter(|a| a.kind == Kind::Attribute)
            .any(|a| {
                let t: String = self.outline.text[a.start_byte..a.end_byte]
                    .split_whitespace()
                    .collect();
                t.contains("cfg(test)") || t.contains("cfg(all(test")
            });
        named || cfg_test
    }

    fn item(&mut self, it: &Item) {
        let whole = it.start_line >= self.s;
        let ind = self.indent(it);
        let python = self.outline.language == Language::Python;
        match it.kind {
            Kind::Comment | Kind::Import => {}
            Kind::DocComment if whole => {
                let t = one_line_doc(&self.outline.text[it.start_byte..it.end_byte]);
                if !t.trim().is_empty() {
                    self.line(&ind, &t);
                }
            }
            Kind::DocComment => {}
            Kind::Attribute if whole => {
                let t = self.clean(it.start_byte, it.end_byte);
                if t.contains("derive") || python {
                    self.line(&ind, &t);
                }
            }
            Kind::Attribute => {}
            Kind::Container if it.has_members && !it.children.is_empty() => {
                let body = it.body_byte.unwrap_or(it.start_byte).max(it.start_byte);
                let head_end = it.children[0].start_byte.max(body);
                let mut head = self.clean(it.start_byte, head_end);
                if head.is_empty() {
                    head = self.clean(it.start_byte, body);
                }
                self.line(&ind, &head);
                self.items(&it.children);
                let last_child_end = it.children.iter().map(|c| c.end_line).max().unwrap_or(0);
                if it.end_line > last_child_end && it.end_line <= self.e {
                    let last = self
                        .outline
                        .lines
                        .line(self.outline.text, it.end_line)
                        .trim();
                    self.line(&ind, last);
                }
            }
            Kind::Function => {
                let sig_end = it.body_byte.unwrap_or(it.end_byte).max(it.start_byte);
                let sig = self.clean(it.start_byte, sig_end);
                if python {
                    match &it.doc {
                        Some(d) if whole && !d.is_empty() => {
                            self.line(&ind, &sig);
                            let inner = format!("{ind}    ");
                            self.line(&inner, &format!("\"\"\"{d}\"\"\""));
                        }
                        _ => self.line(&ind, &format!("{sig} ...")),
                    }
                } else if it.body_byte.is_some() {
                    self.line(&ind, &format!("{sig} {{ ... }}"));
                } else {
                    self.line(&ind, &sig);
                }
            }
            Kind::Record if whole && it.has_members && it.start_line < it.end_line => {
                let body = it.body_byte.unwrap_or(it.start_byte).max(it.start_byte);
                let head = self.clean(it.start_byte, body);
                let open = self.clean(body, (body + 1).min(it.end_byte));
                self.line(&ind, &format!("{head} {open}"));
                let inner = format!("{ind}    ");
                let fields: Vec<&Item> = it
                    .children
                    .iter()
                    .filter(|c| !matches!(c.kind, Kind::Comment | Kind::DocComment))
                    .collect();
                for f in fields.iter().take(MAX_FIELDS) {
                    let mut t = self.clean(f.start_byte, f.end_byte);
                    let after = self.outline.text[f.end_byte..].trim_start();
                    if let Some(sep) = after.chars().next().filter(|c| matches!(c, ',' | ';'))
                        && !t.ends_with(sep)
                    {
                        t.push(sep);
                    }
                    self.line(&inner, &t);
                }
                if fields.len() > MAX_FIELDS {
                    self.line(&inner, &format!("... ({} more)", fields.len() - MAX_FIELDS));
                }
                let last = self
                    .outline
                    .lines
                    .line(self.outline.text, it.end_line)
                    .trim();
                self.line(&ind, last);
            }
            Kind::Record | Kind::Value | Kind::Container if whole => {
                let t = self.clean(it.start_byte, it.end_byte);
                if t.chars().count() <= 160 {
                    self.line(&ind, &t);
                } else if let Some(eq) = t.find(" = ") {
                    self.line(&ind, &format!("{} = ...;", &t[..eq]));
                } else {
                    let first = shown_line(self.outline, it.start_line);
                    self.line(&ind, &format!("{first} ..."));
                }
            }
            Kind::Macro if whole => {
                let name = it
                    .symbols
                    .first()
                    .map_or("", |s| s.trim_start_matches("macro "));
                let name = name.trim_end_matches('!');
                self.line(&ind, &format!("macro_rules! {name} {{ ... }}"));
            }
            Kind::Other if whole => {
                let first = shown_line(self.outline, it.start_line);
                if !first.is_empty() {
                    let more = if it.end_line > it.start_line {
                        " ..."
                    } else {
                        ""
                    };
                    self.line(&ind, &format!("{first}{more}"));
                }
            }
            _ => {
                // A chunk that starts inside a long item: its first line, then its pieces.
                let first = shown_line(self.outline, it.start_line);
                self.line(&ind, first);
                self.items(&it.children);
            }
        }
    }
}

/// `s` cut to `max` characters, with `...` when cut. Reads at most `max + 1` characters of `s`,
/// so a megabyte-long minified line costs no more than a short one.
fn cut(s: &str, max: usize) -> String {
    let t = head(s, max);
    if t.len() == s.len() {
        return s.to_string();
    }
    format!("{t} ...")
}

/// The first `n` characters of `s` (all of it when shorter), found without reading further.
fn head(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// Line `line` of the outline's text, trimmed and kept to one character past what
/// [`Renderer::line`] shows, so it is never copied whole before being cut.
fn shown_line<'t>(outline: &Outline<'t>, line: usize) -> &'t str {
    head(
        outline.lines.line(outline.text, line).trim(),
        MAX_LINE_CHARS + 1,
    )
}

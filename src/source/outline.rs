//! The outline of a file: its items (with their line spans, kinds, names and members) and its
//! comments, built once from the tree-sitter tree and shared by chunking, item names and the
//! views.
//!
//! The outline is an owned tree, so macro bodies can be parsed separately: a Rust macro call with
//! a braced body at item level (`cfg_rt! { ... }`, common in tokio) is parsed again as a list of
//! items, so its items are chunked and named like any other.

use tree_sitter::{Node, Parser, Tree};

use super::Language;
pub(crate) use super::items::Kind;
use super::items::{Class, classify, is_comment_node, is_doc_syntax, named_children};
use super::lines::LineIndex;

/// Deeper nesting than this is not outlined (its lines are still chunked, by lines).
const MAX_DEPTH: usize = 48;

/// One item of the outline.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub kind: Kind,
    /// First and last line of the node (0-based), without leading comments and attributes.
    pub start_line: usize,
    pub end_line: usize,
    pub start_byte: usize,
    pub end_byte: usize,
    /// Where the body starts: the signature is the text before it.
    pub body_byte: Option<usize>,
    /// Names of the items it defines (`fn spawn`, `fn JoinHandle::poll`).
    pub symbols: Vec<String>,
    /// First sentence of a docstring inside the body (Python functions).
    pub doc: Option<String>,
    /// Members (containers, records) or inner pieces (items longer than the chunk limit).
    pub children: Vec<Item>,
    /// Whether `children` are members of a container or record (as opposed to inner pieces).
    pub has_members: bool,
}

/// A comment (consecutive line comments of one style merged) and whether it is documentation.
#[derive(Debug, Clone)]
pub(crate) struct Comment {
    pub start_byte: usize,
    pub end_byte: usize,
    pub doc: bool,
}

/// The outline of one file.
pub(crate) struct Outline<'a> {
    pub text: &'a str,
    pub language: Language,
    pub lines: LineIndex,
    /// Top-level items, in source order.
    pub items: Vec<Item>,
    /// Every comment of the file, in source order, not overlapping.
    pub comments: Vec<Comment>,
}

/// Where a (sub-)tree's positions start in the file.
#[derive(Clone, Copy)]
struct Base {
    byte: usize,
    line: usize,
}

impl<'a> Outline<'a> {
    /// Parses `text` and builds its outline. Items longer than `max_lines` get inner pieces.
    /// Text without a grammar, or that fails to parse, has no items.
    pub(crate) fn build(language: Language, text: &'a str, max_lines: usize) -> Outline<'a> {
        let lines = LineIndex::new(text);
        let mut outline = Outline {
            text,
            language,
            lines,
            items: Vec::new(),
            comments: Vec::new(),
        };
        let Some(grammar) = language.grammar() else {
            return outline;
        };
        let mut parser = Parser::new();
        if parser.set_language(&grammar).is_err() {
            return outline;
        }
        let Some(tree) = parser.parse(text, None) else {
            return outline;
        };
        let root = tree.root_node();
        let base = Base { byte: 0, line: 0 };
        let mut builder = Builder {
            text,
            language,
            lines: &outline.lines,
            max_lines,
            parser,
            docstrings: Vec::new(),
        };
        let kids = named_children(root);
        let items = builder.level(&kids, None, base, 0);
        let mut comments = collect_comments(&tree, text, language);
        comments.append(&mut builder.docstrings);
        comments.sort_by_key(|c| c.start_byte);
        comments.dedup_by(|b, a| b.start_byte < a.end_byte);
        let mut comments = merge_comments(comments, text, &outline.lines);
        // Go, C and C++ doc comments are plain comments above an item: the outline knows them.
        let mut doc_starts = Vec::new();
        doc_comment_starts(&items, &mut doc_starts);
        doc_starts.sort_unstable();
        for c in &mut comments {
            if !c.doc && doc_starts.binary_search(&c.start_byte).is_ok() {
                c.doc = true;
            }
        }
        outline.items = items;
        outline.comments = comments;
        outline
    }
}

struct Builder<'a, 'l> {
    text: &'a str,
    language: Language,
    lines: &'l LineIndex,
    max_lines: usize,
    parser: Parser,
    docstrings: Vec<Comment>,
}

impl Builder<'_, '_> {
    /// Items of sibling nodes, comments merged and doc comments marked.
    fn level(
        &mut self,
        nodes: &[Node],
        owner: Option<&str>,
        base: Base,
        depth: usize,
    ) -> Vec<Item> {
        let mut items: Vec<Item> = Vec::with_capacity(nodes.len());
        for node in nodes {
            let item = self.item(*node, owner, base, depth);
            // Merge consecutive line comments of one style into one item.
            if let (Some(prev), true) = (items.last_mut(), is_comment_kind(item.kind))
                && is_comment_kind(prev.kind)
                && prev.end_line + 1 >= item.start_line
                && prev.end_line < item.start_line
                && comment_style(&self.text[prev.start_byte..prev.end_byte])
                    == comment_style(&self.text[item.start_byte..item.end_byte])
                && is_line_comment(&self.text[item.start_byte..item.end_byte])
            {
                prev.end_line = item.end_line;
                prev.end_byte = item.end_byte;
                continue;
            }
            items.push(item);
        }
        // Go, C and C++ document an item with the plain comment right above it.
        if matches!(self.language, Language::Go | Language::C | Language::Cpp) {
            for i in 0..items.len().saturating_sub(1) {
                if items[i].kind == Kind::Comment
                    && !is_comment_kind(items[i + 1].kind)
                    && items[i + 1].kind != Kind::Other
                    && items[i].end_line + 1 == items[i + 1].start_line
                {
                    items[i].kind = Kind::DocComment;
                }
            }
        }
        items
    }

    fn item(&mut self, node: Node, owner: Option<&str>, base: Base, depth: usize) -> Item {
        let start_byte = base.byte + node.start_byte();
        let end_byte = trim_newline(self.text, start_byte, base.byte + node.end_byte());
        let start_line = base.line + node.start_position().row;
        let end_row = {
            let end = node.end_position();
            if end.column == 0 && end.row > node.start_position().row {
                end.row - 1
            } else {
                end.row
            }
        };
        let end_line = (base.line + end_row).max(start_line);
        let class: Class = classify(self.language, node, self.text, base.byte, owner);
        let mut item = Item {
            kind: class.kind,
            start_line,
            end_line,
            start_byte,
            end_byte,
            body_byte: class.body_byte,
            symbols: class.symbols,
            doc: None,
            children: Vec::new(),
            has_members: false,
        };
        if class.kind == Kind::DocComment && self.language == Language::Python {
            self.docstrings.push(Comment {
                start_byte,
                end_byte,
                doc: true,
            });
        }
        if let Some(doc_node) = class.docstring {
            let a = base.byte + doc_node.start_byte();
            let b = base.byte + doc_node.end_byte();
            item.doc = Some(super::comments::first_sentence(&self.text[a..b]));
            self.docstrings.push(Comment {
                start_byte: a,
                end_byte: b,
                doc: true,
            });
        }
        if depth >= MAX_DEPTH {
            return item;
        }
        let member_owner = class.owner.as_deref().or(owner);
        if let Some((a, b)) = class.reparse {
            item.children = self.reparse(a, b, member_owner, depth);
            item.has_members = true;
        } else if let Some(members) = class.members {
            item.children = self.level(&members, member_owner, base, depth + 1);
            item.has_members = true;
        } else if end_line - start_line + 1 > self.max_lines {
            let pieces = inner_pieces(node);
            item.children = self.level(&pieces, None, base, depth + 1);
        }
        item
    }

    /// Parses `text[a..b]` (a macro body) as a list of items of the file's language.
    fn reparse(&mut self, a: usize, b: usize, owner: Option<&str>, depth: usize) -> Vec<Item> {
        let Some(sub) = self.text.get(a..b) else {
            return Vec::new();
        };
        let Some(tree): Option<Tree> = self.parser.parse(sub, None) else {
            return Vec::new();
        };
        let base = Base {
            byte: a,
            line: self.lines.line_of(a),
        };
        let kids = named_children(tree.root_node());
        self.level(&kids, owner, base, depth + 1)
    }
}

/// The items of `items` (siblings, in source order) that overlap lines `s..=e`, found by binary
/// search: siblings do not overlap, so their start and end lines never decrease. Chunking and
/// the interface view look at each chunk's own items only, so a file of a million one-line
/// items costs no more per chunk than a small one.
pub(crate) fn overlapping(items: &[Item], s: usize, e: usize) -> &[Item] {
    let first = items.partition_point(|it| it.end_line < s);
    let last = first + items[first..].partition_point(|it| it.start_line <= e);
    &items[first..last]
}

fn doc_comment_starts(items: &[Item], out: &mut Vec<usize>) {
    for it in items {
        if it.kind == Kind::DocComment {
            out.push(it.start_byte);
        }
        doc_comment_starts(&it.children, out);
    }
}

/// Inner pieces of a long node: the children of the first descendant whose named children lie
/// on at least two separate lines (a function's statements, say).
fn inner_pieces(node: Node) -> Vec<Node> {
    let mut cur = node;
    for _ in 0..16 {
        let kids = named_children(cur);
        if kids.is_empty() {
            return Vec::new();
        }
        let mut groups = 0;
        let mut last_end: Option<usize> = None;
        for k in &kids {
            let s = k.start_position().row;
            if last_end.is_none_or(|e| s > e) {
                groups += 1;
            }
            let e = k.end_position().row;
            last_end = Some(last_end.map_or(e, |l| l.max(e)));
        }
        if groups >= 2 {
            return kids;
        }
        let widest = kids
            .iter()
            .max_by_key(|k| k.end_position().row - k.start_position().row)
            .copied();
        match widest {
            Some(w) if w.end_position().row > w.start_position().row => cur = w,
            _ => return Vec::new(),
        }
    }
    Vec::new()
}

fn is_comment_kind(kind: Kind) -> bool {
    matches!(kind, Kind::Comment | Kind::DocComment)
}

/// The opening marker of a comment (`///`, `//!`, `//`, `/**`, `/*`, `#`), to merge only
/// comments of one style.
pub(crate) fn comment_style(text: &str) -> &'static str {
    let t = text.trim_start();
    for m in ["///", "//!", "//", "/**", "/*!", "/*", "#"] {
        if t.starts_with(m) {
            return m;
        }
    }
    ""
}

fn is_line_comment(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with("//") || t.starts_with('#')
}

/// Every comment node of the tree.
fn collect_comments(tree: &Tree, text: &str, language: Language) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut cursor = tree.walk();
    let mut visited_children = false;
    loop {
        let node = cursor.node();
        if !visited_children {
            if is_comment_node(node.kind()) {
                let a = node.start_byte();
                let b = trim_newline(text, a, node.end_byte());
                let t = text.get(a..b).unwrap_or("");
                let doc = language != Language::Python && is_doc_syntax(t);
                out.push(Comment {
                    start_byte: a,
                    end_byte: b,
                    doc,
                });
            } else if node.child_count() > 0 && cursor.goto_first_child() {
                continue;
            }
        }
        if cursor.goto_next_sibling() {
            visited_children = false;
        } else if cursor.goto_parent() {
            visited_children = true;
        } else {
            break;
        }
    }
    out
}

/// Merges consecutive line comments of one style on adjacent lines; a plain comment block
/// directly above a line that starts an item stays plain here (the item outline marks Go, C and
/// C++ doc comments).
fn merge_comments(comments: Vec<Comment>, text: &str, lines: &LineIndex) -> Vec<Comment> {
    let mut out: Vec<Comment> = Vec::with_capacity(comments.len());
    for c in comments {
        if let Some(prev) = out.last_mut() {
            let pt = &text[prev.start_byte..prev.end_byte];
            let ct = &text[c.start_byte..c.end_byte];
            let between = &text[prev.end_byte..c.start_byte];
            if is_line_comment(pt)
                && is_line_comment(ct)
                && comment_style(pt) == comment_style(ct)
                && between.trim().is_empty()
                && lines.line_of(c.start_byte) == lines.line_of(prev.end_byte.saturating_sub(1)) + 1
                && starts_line(text, c.start_byte)
                && starts_line(text, prev.start_byte)
            {
                prev.end_byte = c.end_byte;
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// `end` moved back over line endings (line comments end after their newline in some
/// grammars), never before `start`.
fn trim_newline(text: &str, start: usize, mut end: usize) -> usize {
    let bytes = text.as_bytes();
    end = end.min(bytes.len());
    while end > start && matches!(bytes[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    end.max(start)
}

/// Whether only whitespace precedes `byte` on its line.
pub(crate) fn starts_line(text: &str, byte: usize) -> bool {
    let before = &text[..byte];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    before[line_start..].trim().is_empty()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Every sibling list of `items` has non-decreasing start and end lines, so [`overlapping`]
    /// finds exactly what a scan of every item finds, for every range of lines.
    fn check(items: &[Item], lines: usize, file: &str) {
        for w in items.windows(2) {
            assert!(
                w[0].start_line <= w[1].start_line && w[0].end_line <= w[1].end_line,
                "{file}: siblings out of order: {}-{} then {}-{}",
                w[0].start_line,
                w[0].end_line,
                w[1].start_line,
                w[1].end_line
            );
        }
        for s in (0..lines).step_by(7) {
            for len in [1, 13, 60] {
                let e = s + len - 1;
                let scanned: Vec<(usize, usize)> = items
                    .iter()
                    .filter(|it| it.end_line >= s && it.start_line <= e)
                    .map(|it| (it.start_line, it.end_line))
                    .collect();
                let found: Vec<(usize, usize)> = overlapping(items, s, e)
                    .iter()
                    .map(|it| (it.start_line, it.end_line))
                    .collect();
                assert_eq!(found, scanned, "{file}: lines {s}..={e}");
            }
        }
        for it in items {
            check(&it.children, lines, file);
        }
    }

    #[test]
    fn overlapping_items_match_a_full_scan_in_every_language() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<std::path::PathBuf> =
            std::fs::read_dir(root.join("tests/fixtures/source"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
        files.extend(
            [
                "src/source/walk.rs",
                "src/pipeline/summarize.rs",
                "src/llm/engine.rs",
            ]
            .iter()
            .map(|f| root.join(f)),
        );
        let mut checked = 0;
        for path in files {
            let Some(language) = Language::from_path(&path) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).unwrap();
            // A small limit gives long items inner pieces, which are checked too.
            let outline = Outline::build(language, &text, 20);
            assert!(!outline.items.is_empty(), "{}", path.display());
            check(
                &outline.items,
                outline.lines.count(),
                &path.display().to_string(),
            );
            checked += 1;
        }
        assert!(checked >= 8, "{checked} files checked");
    }
}

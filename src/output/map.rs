//! `isg map`: the rolled-up tree cut to a token budget, for pasting into an agent's context.
//!
//! [`render_map`] takes an output folder's records and run report, what is known of each
//! file's importance ([`Importance`], from [`importance`] over the source tree when it is still
//! there), a budget and a token counter (the model's tokenizer), and returns the map: the root
//! line first, then directory, file and chunk lines in that order, each level by importance
//! (lines of code, public items, how many other files name the file), as many as fit. A line is
//! only shown below its shown parent, and the map ends by saying what it left out. The text
//! is indented Markdown or JSON; its whole text is counted, so it never exceeds the budget.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use crate::record::RunReport;
use crate::record::Tree;
use crate::record::{Kind, SummaryRecord};

/// The default budget in tokens.
pub const DEFAULT_MAP_TOKENS: usize = 2_000;

/// Item names shown per chunk.
const MAP_ITEMS: usize = 4;

/// Weight of one public item in a node's importance, in lines of code.
const ITEM_WEIGHT: f64 = 30.0;
/// Weight of one other file naming the file, in lines of code.
const REF_WEIGHT: f64 = 100.0;

/// How the map is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MapFormat {
    /// An indented Markdown list.
    #[default]
    Markdown,
    /// One JSON object.
    Json,
}

/// What makes a file important besides its size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Importance {
    /// Public items it defines (all named items when the source is not at hand).
    pub public_items: usize,
    /// Other files whose text names the file's stem or one of its items.
    pub named_by: usize,
}

/// Lines of the map, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Directory lines (and the root's).
    pub dirs: usize,
    /// File lines.
    pub files: usize,
    /// Chunk lines.
    pub chunks: usize,
}

/// A map and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    /// The text.
    pub text: String,
    /// Its size, counted by the given counter.
    pub tokens: usize,
    /// Lines shown.
    pub shown: Counts,
    /// Lines left out.
    pub left_out: Counts,
}

/// One line of the JSON map.
#[derive(Serialize)]
struct JsonNode<'a> {
    kind: &'static str,
    path: &'a str,
    depth: usize,
    #[serde(skip_serializing_if = "String::is_empty")]
    span: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    items: Vec<&'a str>,
    line: &'a str,
}

/// The map of `records` within `budget` tokens as `count` measures them.
pub fn render_map(
    records: &[SummaryRecord],
    report: &RunReport,
    importance: &HashMap<String, Importance>,
    budget: usize,
    format: MapFormat,
    count: &dyn Fn(&str) -> usize,
) -> Map {
    let tree = Tree::build(records);
    let parents = tree.parents();
    let score = scores(&tree, records, importance);
    // Root first, then directories, files, chunks; each by importance, larger first.
    let rank = |n: usize| match tree.nodes[n].kind {
        Kind::Root => 0,
        Kind::Dir => 1,
        Kind::File => 2,
        Kind::Chunk => 3,
    };
    let mut order: Vec<usize> = (0..tree.nodes.len())
        .filter(|&n| !redundant_chunk(&tree, &parents, n))
        .collect();
    order.sort_by(|&a, &b| {
        rank(a)
            .cmp(&rank(b))
            .then(score[b].total_cmp(&score[a]))
            .then(a.cmp(&b))
    });
    let lines: Vec<String> = (0..tree.nodes.len())
        .map(|n| entry(&tree, records, report, n, format))
        .collect();
    let mut chosen = vec![false; tree.nodes.len()];
    let mut picked: Vec<usize> = Vec::new();
    let frame = assemble(
        &tree,
        records,
        report,
        &chosen,
        &lines,
        format,
        Counts {
            dirs: 9_999,
            files: 9_999,
            chunks: 9_999,
        },
    );
    let mut used = count(&frame);
    for &n in &order {
        if let Some(p) = parents[n]
            && !chosen[p]
        {
            continue;
        }
        let cost = count(&lines[n]) + 1;
        if used + cost <= budget {
            used += cost;
            chosen[n] = true;
            picked.push(n);
        }
    }
    // Separate counts can differ from the whole text's: drop the last lines until it fits.
    loop {
        let left = left_out(&tree, &parents, &chosen);
        let text = assemble(&tree, records, report, &chosen, &lines, format, left);
        let tokens = count(&text);
        if tokens <= budget || picked.is_empty() {
            return Map {
                text,
                tokens,
                shown: shown(&tree, &chosen),
                left_out: left,
            };
        }
        if let Some(n) = picked.pop() {
            chosen[n] = false;
        }
    }
}

/// A one-chunk file's chunk: its line is the file's.
fn redundant_chunk(tree: &Tree, parents: &[Option<usize>], n: usize) -> bool {
    tree.nodes[n].kind == Kind::Chunk
        && parents[n].is_some_and(|p| tree.nodes[p].children.len() == 1)
}

/// Importance of every node: lines, plus weighted public items and references (a directory
/// sums its files').
fn scores(
    tree: &Tree,
    records: &[SummaryRecord],
    importance: &HashMap<String, Importance>,
) -> Vec<f64> {
    let mut score = vec![0.0; tree.nodes.len()];
    for n in (0..tree.nodes.len()).rev() {
        let node = &tree.nodes[n];
        score[n] = match node.kind {
            Kind::Chunk => {
                let items = node.record.map_or(0, |i| records[i].symbols.len());
                node.lines as f64 + ITEM_WEIGHT * items as f64
            }
            Kind::File => {
                let imp = importance.get(&node.path).copied().unwrap_or_default();
                node.lines as f64
                    + ITEM_WEIGHT * imp.public_items as f64
                    + REF_WEIGHT * imp.named_by as f64
            }
            Kind::Dir | Kind::Root => node.children.iter().map(|&c| score[c]).sum(),
        };
    }
    score
}

/// One node's text in the map (without indentation).
fn entry(
    tree: &Tree,
    records: &[SummaryRecord],
    report: &RunReport,
    n: usize,
    format: MapFormat,
) -> String {
    let node = &tree.nodes[n];
    let rec = node
        .record
        .or_else(|| {
            (node.kind == Kind::File && node.children.len() == 1)
                .then(|| tree.nodes[node.children[0]].record)
                .flatten()
        })
        .map(|i| &records[i]);
    let line = rec.map_or("", |r| r.shown_line());
    let span = match (node.kind, rec) {
        (Kind::File | Kind::Chunk, Some(r)) => format!("L{}–L{}", r.start_line, r.end_line),
        _ => String::new(),
    };
    let items: Vec<&str> = match (node.kind, rec) {
        (Kind::Chunk, Some(r)) => r
            .symbols
            .iter()
            .take(MAP_ITEMS)
            .map(String::as_str)
            .collect(),
        _ => Vec::new(),
    };
    let name = if node.kind == Kind::Root {
        root_label(report)
    } else {
        node.name.clone()
    };
    match format {
        MapFormat::Json => serde_json::to_string(&JsonNode {
            kind: node.kind.name(),
            path: &node.path,
            depth: node.depth,
            span,
            items,
            line,
        })
        .unwrap_or_default(),
        MapFormat::Markdown => {
            let indent = "  ".repeat(node.depth);
            let mut s = match node.kind {
                Kind::Chunk => format!("{indent}- {span}"),
                Kind::File => format!("{indent}- {name} ({span})"),
                _ => format!("{indent}- {name}"),
            };
            if !items.is_empty() {
                s.push(' ');
                s.push_str(&items.join(", "));
            }
            if !line.is_empty() {
                s.push_str(": ");
                s.push_str(line);
            }
            s
        }
    }
}

/// The root's name.
fn root_label(report: &RunReport) -> String {
    let name = report
        .rollup
        .as_ref()
        .map(|r| r.root_name.clone())
        .unwrap_or_default();
    if !name.is_empty() {
        name
    } else if report.root.is_empty() {
        ".".into()
    } else {
        report.root.clone()
    }
}

/// Lines not chosen, by kind (a one-chunk file's chunk is not counted).
fn left_out(tree: &Tree, parents: &[Option<usize>], chosen: &[bool]) -> Counts {
    let mut c = Counts::default();
    for (n, node) in tree.nodes.iter().enumerate() {
        if chosen[n] || redundant_chunk(tree, parents, n) {
            continue;
        }
        bump(&mut c, node.kind);
    }
    c
}

/// Lines chosen, by kind.
fn shown(tree: &Tree, chosen: &[bool]) -> Counts {
    let mut c = Counts::default();
    for (n, &on) in chosen.iter().enumerate() {
        if on {
            bump(&mut c, tree.nodes[n].kind);
        }
    }
    c
}

fn bump(c: &mut Counts, kind: Kind) {
    match kind {
        Kind::Root | Kind::Dir => c.dirs += 1,
        Kind::File => c.files += 1,
        Kind::Chunk => c.chunks += 1,
    }
}

/// The whole map: a header, the chosen lines in tree order, what was left out.
fn assemble(
    tree: &Tree,
    records: &[SummaryRecord],
    report: &RunReport,
    chosen: &[bool],
    lines: &[String],
    format: MapFormat,
    left: Counts,
) -> String {
    let _ = records;
    let files = tree.nodes[0].files;
    let body: Vec<&str> = tree
        .preorder()
        .into_iter()
        .filter(|&n| chosen[n])
        .map(|n| lines[n].as_str())
        .collect();
    let nothing_left = left == Counts::default();
    match format {
        MapFormat::Markdown => {
            let mut s = format!(
                "# Map of {} ({files} files, lines by {})\n",
                root_label(report),
                report.model
            );
            for l in body {
                s.push_str(l);
                s.push('\n');
            }
            if nothing_left {
                s.push_str("Nothing left out.\n");
            } else {
                s.push_str(&format!(
                    "Left out: {} directory, {} file and {} chunk lines (raise --tokens to see them).\n",
                    left.dirs, left.files, left.chunks
                ));
            }
            s
        }
        MapFormat::Json => {
            let mut s = format!(
                "{{\"root\":{},\"files\":{files},\"model\":{},\"nodes\":[\n",
                serde_json::to_string(&root_label(report)).unwrap_or_default(),
                serde_json::to_string(&report.model).unwrap_or_default()
            );
            s.push_str(&body.join(",\n"));
            s.push_str(&format!(
                "\n],\"left_out\":{}}}\n",
                serde_json::to_string(&left).unwrap_or_default()
            ));
            s
        }
    }
}

/// Each file's [`Importance`], read from the source tree at `root` when its files are there
/// (public items: items declared on a line that starts with `pub`, `export` or, outside Rust,
/// any item; references: other files whose identifiers include the file's stem or an item's
/// name of 4 or more characters). Files that cannot be read count their named items only.
pub fn importance(root: &Path, records: &[SummaryRecord]) -> HashMap<String, Importance> {
    let mut items: HashMap<&str, Vec<String>> = HashMap::new();
    for r in records.iter().filter(|r| r.kind == Kind::Chunk) {
        items
            .entry(&r.path)
            .or_default()
            .extend(r.symbols.iter().filter_map(|s| item_name(s)));
    }
    let texts: HashMap<&str, Option<String>> = items
        .keys()
        .map(|&p| (p, std::fs::read_to_string(root.join(p)).ok()))
        .collect();
    let words: HashMap<&str, HashSet<&str>> = texts
        .iter()
        .filter_map(|(&p, t)| t.as_deref().map(|t| (p, identifiers(t))))
        .collect();
    let mut out = HashMap::new();
    for (&path, names) in &items {
        let public_items = match texts.get(path).and_then(Option::as_deref) {
            Some(text) if path.ends_with(".rs") => {
                let declared: HashSet<&str> = text
                    .lines()
                    .map(str::trim_start)
                    .filter(|l| l.starts_with("pub ") || l.starts_with("pub("))
                    .flat_map(identifiers)
                    .collect();
                names
                    .iter()
                    .filter(|n| declared.contains(n.as_str()))
                    .count()
            }
            Some(text) if path.ends_with(".js") || path.ends_with(".ts") => {
                let declared: HashSet<&str> = text
                    .lines()
                    .map(str::trim_start)
                    .filter(|l| l.starts_with("export "))
                    .flat_map(identifiers)
                    .collect();
                names
                    .iter()
                    .filter(|n| declared.contains(n.as_str()))
                    .count()
            }
            _ => names.len(),
        };
        let stem = Path::new(path)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !matches!(s.as_str(), "mod" | "lib" | "main" | "index" | "__init__"));
        let wanted: Vec<&str> = stem
            .iter()
            .map(String::as_str)
            .chain(names.iter().map(String::as_str).filter(|n| n.len() >= 4))
            .collect();
        let named_by = words
            .iter()
            .filter(|(other, w)| **other != path && wanted.iter().any(|n| w.contains(n)))
            .count();
        out.insert(
            path.to_string(),
            Importance {
                public_items,
                named_by,
            },
        );
    }
    out
}

/// The defined name of an item label (`fn Throttle::poll_next` → `poll_next`, `struct Throttle`
/// → `Throttle`); `None` for impl blocks, which define no name of their own.
fn item_name(symbol: &str) -> Option<String> {
    if symbol.starts_with("impl") {
        return None;
    }
    let last = symbol.split_whitespace().last()?;
    let name = last
        .rsplit("::")
        .next()?
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
    (!name.is_empty()).then(|| name.to_string())
}

/// The identifiers of a text.
fn identifiers(text: &str) -> HashSet<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_names_drop_kinds_paths_and_impls() {
        assert_eq!(
            item_name("fn Throttle::poll_next").as_deref(),
            Some("poll_next")
        );
        assert_eq!(item_name("struct Throttle").as_deref(), Some("Throttle"));
        assert_eq!(item_name("impl Stream for Throttle"), None);
    }
}

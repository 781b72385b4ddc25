//! `SUMMARY.md`: the summaries for people, as an indented tree: the root's line, then each
//! directory (`**sync/**`) with its line, its files with their lines, each file's chunks
//! (``L10–L80 `items`: summary``) in source order, then its subdirectories. A one-chunk
//! file is one entry (its line is its chunk's). Lines that are fallbacks or failures say so.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::sink::{SummarySink, write_atomic};
use crate::record::PipelineError;
use crate::record::RunReport;
use crate::record::Tree;
use crate::record::{Kind, SummaryRecord};

/// The file's name in the output folder.
pub const SUMMARY_MD_FILE: &str = "SUMMARY.md";

/// Item names shown per entry before "and N more".
const MAX_ITEMS: usize = 6;

/// Writes `SUMMARY.md`.
pub struct MarkdownSink {
    path: PathBuf,
}

impl MarkdownSink {
    /// A sink writing `out_dir/SUMMARY.md`.
    pub fn new(out_dir: &Path) -> MarkdownSink {
        MarkdownSink {
            path: out_dir.join(SUMMARY_MD_FILE),
        }
    }
}

impl SummarySink for MarkdownSink {
    fn finish(
        &mut self,
        records: &[SummaryRecord],
        report: &RunReport,
    ) -> Result<(), PipelineError> {
        write_atomic(&self.path, render_markdown(records, report).as_bytes())
    }
}

/// The Markdown text for `records` (any kinds, any order).
pub fn render_markdown(records: &[SummaryRecord], report: &RunReport) -> String {
    let tree = Tree::build(records);
    let mut out = String::new();
    let root = if report.root.is_empty() {
        "."
    } else {
        &report.root
    };
    let _ = writeln!(out, "# Summary of `{root}`\n");
    let chunks = records.iter().filter(|r| r.kind == Kind::Chunk).count();
    let _ = writeln!(
        out,
        "{chunks} chunks in {} files, summarized by `{}` (prompt version {}).\n",
        tree.nodes[0].files, report.model, report.prompt_version
    );
    if let Some(line) = tree.nodes[0].record.map(|i| line_text(&records[i])) {
        let _ = writeln!(out, "{line}\n");
    }
    let parents = tree.parents();
    for n in tree.preorder().into_iter().skip(1) {
        let node = &tree.nodes[n];
        let parent = parents[n].unwrap_or(0);
        // A one-chunk file's chunk is the file's own entry.
        if node.kind == Kind::Chunk && tree.nodes[parent].children.len() == 1 {
            continue;
        }
        let indent = "  ".repeat(node.depth.saturating_sub(1));
        let record = node.record.map(|i| &records[i]);
        let entry = match node.kind {
            Kind::Dir | Kind::Root => format!("**{}**", node.name),
            Kind::File => {
                let only = (node.children.len() == 1)
                    .then(|| node.children[0])
                    .and_then(|c| tree.nodes[c].record)
                    .map(|i| &records[i]);
                let mut s = format!("**{}**", node.name);
                if let Some(c) = only {
                    let _ = write!(s, " L{}–L{}{}", c.start_line, c.end_line, items(&c.symbols));
                }
                s
            }
            Kind::Chunk => {
                let mut s = node.name.clone();
                s.push_str(&record.map(|r| items(&r.symbols)).unwrap_or_default());
                s
            }
        };
        // The line of a one-chunk file without a file record is its chunk's.
        let record = record.or_else(|| {
            (node.kind == Kind::File && node.children.len() == 1)
                .then(|| tree.nodes[node.children[0]].record)
                .flatten()
                .map(|i| &records[i])
        });
        let line = record.map(line_text).unwrap_or_default();
        if line.is_empty() {
            let _ = writeln!(out, "{indent}- {entry}");
        } else {
            let _ = writeln!(out, "{indent}- {entry}: {line}");
        }
    }
    out
}

/// `` `a`, `b` and 3 more`` after a space, or nothing.
fn items(symbols: &[String]) -> String {
    if symbols.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = symbols
        .iter()
        .take(MAX_ITEMS)
        .map(|n| format!("`{}`", n.replace('`', "'")))
        .collect();
    let mut s = format!(" {}", shown.join(", "));
    if symbols.len() > MAX_ITEMS {
        let _ = write!(s, " and {} more", symbols.len() - MAX_ITEMS);
    }
    s
}

/// A record's line, marked when it was built from the code because the model's answers were
/// rejected or the request failed (the reasons stay in summaries.jsonl, never in the map).
fn line_text(r: &SummaryRecord) -> String {
    if r.summary.is_empty() {
        return "*(no line)*".to_string();
    }
    if r.fallback || r.error.is_some() {
        format!("{} *(fallback)*", r.shown_line())
    } else {
        r.shown_line().to_string()
    }
}

//! `SUMMARY.md`: the summaries for people, grouped by directory (`## dir/`), then file
//! (`### file`), one bullet per chunk in source order: ``- L10–L80 `items`: summary``.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{SummarySink, write_atomic};
use crate::pipeline::error::PipelineError;
use crate::pipeline::record::SummaryRecord;
use crate::pipeline::report::RunReport;

/// The file's name in the output folder.
pub const SUMMARY_MD_FILE: &str = "SUMMARY.md";

/// Item names shown per chunk before "and N more".
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

/// The Markdown text for `records` (in source order).
pub fn render_markdown(records: &[SummaryRecord], report: &RunReport) -> String {
    let mut by_dir: BTreeMap<&str, Vec<&SummaryRecord>> = BTreeMap::new();
    for r in records {
        let dir = r.path.rsplit_once('/').map_or("", |(d, _)| d);
        by_dir.entry(dir).or_default().push(r);
    }
    let mut out = String::new();
    let root = if report.root.is_empty() {
        "."
    } else {
        &report.root
    };
    let _ = writeln!(out, "# Summary of `{root}`\n");
    let _ = writeln!(
        out,
        "{} chunks in {} files, summarized by `{}` (prompt version {}).",
        records.len(),
        report.totals.files,
        report.model,
        report.prompt_version
    );
    for (dir, recs) in by_dir {
        let _ = write!(out, "\n## {}/\n", if dir.is_empty() { "." } else { dir });
        let mut current = "";
        for r in recs {
            if r.path != current {
                current = &r.path;
                let name = r.path.rsplit_once('/').map_or(r.path.as_str(), |(_, f)| f);
                let _ = write!(out, "\n### {name}\n\n");
            }
            let _ = writeln!(out, "{}", bullet(r));
        }
    }
    out
}

/// One chunk's line.
fn bullet(r: &SummaryRecord) -> String {
    let mut s = format!("- L{}–L{}", r.start_line, r.end_line);
    if !r.symbols.is_empty() {
        let shown: Vec<String> = r
            .symbols
            .iter()
            .take(MAX_ITEMS)
            .map(|n| format!("`{}`", n.replace('`', "'")))
            .collect();
        s.push(' ');
        s.push_str(&shown.join(", "));
        if r.symbols.len() > MAX_ITEMS {
            let _ = write!(s, " and {} more", r.symbols.len() - MAX_ITEMS);
        }
    }
    s.push_str(": ");
    // A failed or rejected chunk still has a line built from its code; the reasons stay in
    // summaries.jsonl, never in the reader's map.
    s.push_str(&r.summary);
    s
}

//! Where summaries go. Every output format is a [`SummarySink`]: the run calls
//! [`begin`](SummarySink::begin) with the records already known (from the cache) in source
//! order, [`record`](SummarySink::record) as each chunk finishes, in completion order, and
//! [`finish`](SummarySink::finish) once with every record in source order and the run report.
//! Adding a format is one file with one `impl`.

mod html;
mod jsonl;
mod markdown;
mod run_json;

use std::io::Write;
use std::path::Path;

pub use html::{HtmlSink, INDEX_HTML_FILE, render_html};
pub use jsonl::{JsonlSink, SUMMARIES_FILE, read_records};
pub use markdown::{MarkdownSink, SUMMARY_MD_FILE, render_markdown};
pub use run_json::{RUN_FILE, RunSink, read_report};

use super::error::PipelineError;
use super::record::SummaryRecord;
use super::report::RunReport;

/// An output format.
pub trait SummarySink {
    /// Called once before any chunk is computed, with the records known already, in source order.
    fn begin(&mut self, known: &[SummaryRecord]) -> Result<(), PipelineError> {
        let _ = known;
        Ok(())
    }
    /// Called as each chunk finishes, in completion order.
    fn record(&mut self, record: &SummaryRecord) -> Result<(), PipelineError> {
        let _ = record;
        Ok(())
    }
    /// Called once at the end with every record in source order.
    fn finish(
        &mut self,
        records: &[SummaryRecord],
        report: &RunReport,
    ) -> Result<(), PipelineError>;
}

/// The sinks of a normal run: `summaries.jsonl`, `SUMMARY.md`, `search-index.js` (the page's
/// search index, never failing the run), `index.html` and `run.json` in `out_dir`.
pub fn standard_sinks(out_dir: &Path) -> Vec<Box<dyn SummarySink>> {
    vec![
        Box::new(JsonlSink::new(out_dir)),
        Box::new(MarkdownSink::new(out_dir)),
        Box::new(crate::search::page::SearchIndexSink::new(out_dir)),
        Box::new(HtmlSink::new(out_dir)),
        Box::new(RunSink::new(out_dir)),
    ]
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PipelineError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        PipelineError::io("writing", path, e)
    })
}

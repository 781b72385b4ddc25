//! The outputs of a normal run, in the order they are fed.

use std::path::Path;

use crate::output::{HtmlSink, JsonlSink, MarkdownSink, RunSink, SummarySink};
use crate::search::page::SearchIndexSink;

/// The sinks of a normal run: `summaries.jsonl`, `SUMMARY.md`, `search-index.js` (the page's
/// search index, never failing the run), `index.html` and `run.json` in `out_dir`.
pub fn standard_sinks(out_dir: &Path) -> Vec<Box<dyn SummarySink>> {
    vec![
        Box::new(JsonlSink::new(out_dir)),
        Box::new(MarkdownSink::new(out_dir)),
        Box::new(SearchIndexSink::new(out_dir)),
        Box::new(HtmlSink::new(out_dir)),
        Box::new(RunSink::new(out_dir)),
    ]
}

//! The outputs of a normal run, in the order they are fed.

use std::path::Path;

use super::html::HtmlSink;
use super::jsonl::JsonlSink;
use super::markdown::MarkdownSink;
use super::run_json::RunSink;
use super::sink::SummarySink;

/// The sinks of a normal run: `summaries.jsonl`, `SUMMARY.md`, `index.html` and `run.json` in
/// `out_dir`.
pub fn standard_sinks(out_dir: &Path) -> Vec<Box<dyn SummarySink>> {
    vec![
        Box::new(JsonlSink::new(out_dir)),
        Box::new(MarkdownSink::new(out_dir)),
        Box::new(HtmlSink::new(out_dir)),
        Box::new(RunSink::new(out_dir)),
    ]
}

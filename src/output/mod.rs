//! Where records go: the [`SummarySink`]s a run feeds (`summaries.jsonl`: [`JsonlSink`],
//! `SUMMARY.md`: [`MarkdownSink`], `index.html`: [`HtmlSink`], `run.json`: [`RunSink`]; the
//! set of a normal run is `crate::pipeline::standard_sinks`), the search code `index.html`
//! carries ([`PAGE_SCRIPT`]), the readers of those files
//! ([`read_records`], [`read_report`]), and the map (`isg map`: [`render_map`]), the rolled-up
//! tree cut to a token budget.
//!
//! A sink gets the records known before the run ([`SummarySink::begin`]), each record as it is
//! made ([`SummarySink::record`]) and, at the end, every record in source order with the
//! [`crate::record::RunReport`] ([`SummarySink::finish`]). Outputs know records and the report
//! only, never how the lines were made; adding a format is one file.

mod html;
mod jsonl;
mod map;
mod markdown;
mod page_script;
mod run_json;
mod sink;

pub use html::{HtmlSink, INDEX_HTML_FILE, render_html};
pub use jsonl::{JsonlSink, SUMMARIES_FILE, read_records};
pub use map::{Counts, DEFAULT_MAP_TOKENS, Importance, Map, MapFormat, importance, render_map};
pub use markdown::{MarkdownSink, SUMMARY_MD_FILE, render_markdown};
pub use page_script::{ENCODER_JS, PAGE_SCRIPT, RANK_JS, records_key};
pub use run_json::{RUN_FILE, RunSink, read_report};
pub use sink::{SummarySink, write_atomic};

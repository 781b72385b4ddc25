//! `summaries.jsonl`: one JSON record per chunk.
//!
//! During a run the file first holds the records already known from the cache (source order),
//! then each computed record is appended and flushed as it finishes (completion order), so a run
//! killed at any point leaves one record per finished chunk and none twice. At the end the file
//! is rewritten atomically in source order with exactly the chunks of the tree as it is now.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::sink::{SummarySink, write_atomic};
use crate::record::PipelineError;
use crate::record::RunReport;
use crate::record::SummaryRecord;

/// The file's name in the output folder.
pub const SUMMARIES_FILE: &str = "summaries.jsonl";

/// Writes `summaries.jsonl`.
pub struct JsonlSink {
    path: PathBuf,
    file: Option<File>,
}

impl JsonlSink {
    /// A sink writing `out_dir/summaries.jsonl`.
    pub fn new(out_dir: &Path) -> JsonlSink {
        JsonlSink {
            path: out_dir.join(SUMMARIES_FILE),
            file: None,
        }
    }
}

/// `records` as JSON lines.
fn encode(records: &[SummaryRecord]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        // A record of strings and numbers always serializes.
        if serde_json::to_writer(&mut out, r).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

impl SummarySink for JsonlSink {
    fn begin(&mut self, known: &[SummaryRecord]) -> Result<(), PipelineError> {
        write_atomic(&self.path, &encode(known))?;
        let file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| PipelineError::io("opening", &self.path, e))?;
        self.file = Some(file);
        Ok(())
    }

    fn record(&mut self, record: &SummaryRecord) -> Result<(), PipelineError> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let line = encode(std::slice::from_ref(record));
        file.write_all(&line)
            .and_then(|()| file.flush())
            .map_err(|e| PipelineError::io("appending to", &self.path, e))
    }

    fn finish(
        &mut self,
        records: &[SummaryRecord],
        _report: &RunReport,
    ) -> Result<(), PipelineError> {
        self.file = None;
        write_atomic(&self.path, &encode(records))
    }
}

/// Reads a `summaries.jsonl`; a torn last line (from a killed run) is ignored, any other line
/// that does not parse is an error naming the line.
pub fn read_records(path: &Path) -> Result<Vec<SummaryRecord>, PipelineError> {
    let text = std::fs::read_to_string(path).map_err(|e| PipelineError::io("reading", path, e))?;
    let complete = text.rfind('\n').map_or(0, |i| i + 1);
    let mut out = Vec::new();
    for (i, line) in text[..complete].lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(line).map_err(|e| {
            PipelineError::io(
                "parsing",
                path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("line {}: {e}", i + 1),
                ),
            )
        })?;
        out.push(record);
    }
    Ok(out)
}

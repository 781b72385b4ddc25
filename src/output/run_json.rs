//! `run.json`: the run report (model, settings, totals, time per stage, skips).

use std::path::{Path, PathBuf};

use super::sink::{SummarySink, write_atomic};
use crate::record::PipelineError;
use crate::record::RunReport;
use crate::record::SummaryRecord;

/// The file's name in the output folder.
pub const RUN_FILE: &str = "run.json";

/// Writes `run.json`.
pub struct RunSink {
    path: PathBuf,
}

impl RunSink {
    /// A sink writing `out_dir/run.json`.
    pub fn new(out_dir: &Path) -> RunSink {
        RunSink {
            path: out_dir.join(RUN_FILE),
        }
    }
}

impl SummarySink for RunSink {
    fn finish(
        &mut self,
        _records: &[SummaryRecord],
        report: &RunReport,
    ) -> Result<(), PipelineError> {
        let mut bytes = serde_json::to_vec_pretty(report)
            .map_err(|e| PipelineError::io("encoding", &self.path, e.into()))?;
        bytes.push(b'\n');
        write_atomic(&self.path, &bytes)
    }
}

/// Reads a `run.json`.
pub fn read_report(path: &Path) -> Result<RunReport, PipelineError> {
    let text = std::fs::read_to_string(path).map_err(|e| PipelineError::io("reading", path, e))?;
    serde_json::from_str(&text).map_err(|e| PipelineError::io("parsing", path, e.into()))
}

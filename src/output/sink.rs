//! Where summaries go. Every output format is a [`SummarySink`]: the run calls
//! [`begin`](SummarySink::begin) with the records already known (from the cache) in source
//! order, [`record`](SummarySink::record) as each chunk finishes, in completion order, and
//! [`finish`](SummarySink::finish) once with every record in source order and the run report.
//! Adding a format is one file with one `impl`.

use std::path::Path;

use crate::record::PipelineError;
use crate::record::RunReport;
use crate::record::SummaryRecord;

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

/// Writes `bytes` to `path` atomically (see [`crate::atomic_file`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PipelineError> {
    crate::atomic_file::write(path, bytes).map_err(|e| PipelineError::io("writing", path, e))
}

//! The error of a model that must not be loaded: every [`Verdict`] found, with what could be
//! read of the model ([`ModelReport`]) before the problems were found.

use std::fmt;

use thiserror::Error;

use super::report::ModelReport;
use super::verdict::Verdict;

/// A model that must not be handed to ONNX Runtime: every [`Verdict`] found, plus the report
/// when the graph itself could be read.
#[derive(Debug, Clone, Error)]
pub struct InspectError {
    /// Every problem found, in the order the checks ran (never empty).
    pub verdicts: Vec<Verdict>,
    /// What could be learned about the model before the problems were found.
    pub report: Option<Box<ModelReport>>,
}

impl InspectError {
    /// An error with a single verdict and no report.
    pub fn single(verdict: Verdict) -> Self {
        InspectError {
            verdicts: vec![verdict],
            report: None,
        }
    }
}

impl fmt::Display for InspectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.verdicts.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl From<Verdict> for InspectError {
    fn from(v: Verdict) -> Self {
        InspectError::single(v)
    }
}

//! Timing a small graph with one float input `[1, rows, width]` (one sequence of `rows` tokens)
//! through the loaded ONNX Runtime:
//! what the weight-width calibration of [`crate::convert::calibrate`] runs its projections on.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

use crate::convert::calibrate::ProjectionRunner;

/// Why a graph could not be loaded or run for timing.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", .path.display())]
pub struct TimingError {
    /// The graph file.
    pub path: PathBuf,
    /// What ONNX Runtime said.
    pub message: String,
}

/// A graph loaded for timing, with its input's name and width.
pub struct GraphTimer {
    session: Session,
    path: PathBuf,
    input: String,
    width: usize,
}

impl GraphTimer {
    /// Loads `model` on `threads` intra-op threads (0: ONNX Runtime's default) with every graph
    /// optimization, as the engine's sessions are; `input` is its float input `[1, rows, width]`.
    pub fn open(
        model: &Path,
        input: &str,
        width: usize,
        threads: usize,
    ) -> Result<GraphTimer, TimingError> {
        let err = |m: String| TimingError {
            path: model.to_path_buf(),
            message: m,
        };
        let rt =
            super::runtime::loaded().ok_or_else(|| err("ONNX Runtime is not loaded".into()))?;
        let mut builder = Session::builder(&rt.environment).map_err(|e| err(e.to_string()))?;
        builder = builder
            .with_log_level(ort::logging::LogLevel::Fatal)
            .map_err(|e| err(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| err(e.to_string()))?;
        if threads > 0 {
            builder = builder
                .with_intra_threads(threads)
                .map_err(|e| err(e.to_string()))?;
        }
        let session = builder
            .commit_from_file(model)
            .map_err(|e| err(e.to_string()))?;
        Ok(GraphTimer {
            session,
            path: model.to_path_buf(),
            input: input.to_string(),
            width,
        })
    }

    /// Seconds of one run on `rows` rows of fixed pseudo-random activations (the input is made
    /// before the clock starts).
    pub fn run_seconds(&mut self, rows: usize) -> Result<f64, TimingError> {
        let err = |m: String| TimingError {
            path: self.path.clone(),
            message: m,
        };
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let values: Vec<f32> = (0..rows * self.width)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect();
        let x =
            Tensor::from_array(([1, rows, self.width], values)).map_err(|e| err(e.to_string()))?;
        let inputs = ort::inputs![self.input.as_str() => x];
        let start = Instant::now();
        let out = self.session.run(inputs).map_err(|e| err(e.to_string()))?;
        let secs = start.elapsed().as_secs_f64();
        drop(out);
        Ok(secs)
    }
}

impl ProjectionRunner for GraphTimer {
    fn seconds(&mut self, rows: usize) -> Result<f64, String> {
        self.run_seconds(rows).map_err(|e| e.to_string())
    }
}

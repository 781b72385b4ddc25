//! Sentence vectors: a BERT encoder folder (`model.onnx` written by
//! [`crate::convert::bert`], `tokenizer.json`) run through the loaded ONNX Runtime.
//!
//! [`Embedder::open`] takes the folder; [`Embedder::embed`] takes lines and returns one
//! L2-normalized vector per line (the dot product of two is their cosine). Lines are tokenized
//! with the model's own tokenizer, cut to `max_tokens`, and run in batches of similar length.

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

/// Why the encoder could not be opened or run.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// ONNX Runtime is not loaded, the graph did not load, or a run failed.
    #[error("{}: {message}; fix: run `isg setup` (sets the embedding model up again)", .path.display())]
    Model {
        /// The model file.
        path: PathBuf,
        /// What ONNX Runtime or the tokenizer said.
        message: String,
    },
}

/// A loaded sentence encoder.
pub struct Embedder {
    session: Session,
    tokenizer: tokenizers::Tokenizer,
    path: PathBuf,
    dims: usize,
}

/// Rows per run.
const BATCH: usize = 32;

impl Embedder {
    /// Loads `dir/model.onnx` and `dir/tokenizer.json` (lines cut to `max_tokens` tokens) into
    /// the loaded ONNX Runtime, on `threads` threads (0: ONNX Runtime's default).
    pub fn open(dir: &Path, max_tokens: usize, threads: usize) -> Result<Embedder, EmbedError> {
        let path = dir.join("model.onnx");
        let err = |m: String| EmbedError::Model {
            path: path.clone(),
            message: m,
        };
        let rt =
            super::runtime::loaded().ok_or_else(|| err("ONNX Runtime is not loaded".into()))?;
        let tok_path = dir.join("tokenizer.json");
        let mut tokenizer = tokenizers::Tokenizer::from_file(&tok_path)
            .map_err(|e| err(format!("loading {}: {e}", tok_path.display())))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .map_err(|e| err(e.to_string()))?;
        let mut builder = Session::builder(&rt.environment).map_err(|e| err(e.to_string()))?;
        builder = builder
            .with_log_level(ort::logging::LogLevel::Fatal)
            .map_err(|e| err(e.to_string()))?;
        builder = builder
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| err(e.to_string()))?;
        if threads > 0 {
            builder = builder
                .with_intra_threads(threads)
                .map_err(|e| err(e.to_string()))?;
        }
        let session = builder
            .commit_from_file(&path)
            .map_err(|e| err(e.to_string()))?;
        let mut e = Embedder {
            session,
            tokenizer,
            path: path.clone(),
            dims: 0,
        };
        e.dims = e.embed(&["dims"])?.first().map_or(0, Vec::len);
        Ok(e)
    }

    /// Width of the vectors.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The token ids the encoder reads for `line`: special tokens added, cut to the limit.
    pub fn token_ids(&self, line: &str) -> Result<Vec<u32>, EmbedError> {
        self.tokenizer
            .encode(line, true)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| EmbedError::Model {
                path: self.path.clone(),
                message: format!("tokenizing: {e}"),
            })
    }

    /// One unit-length vector per line, in order.
    pub fn embed(&mut self, lines: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let path = self.path.clone();
        let err = |m: String| EmbedError::Model {
            path: path.clone(),
            message: m,
        };
        let encodings = self
            .tokenizer
            .encode_batch(lines.to_vec(), true)
            .map_err(|e| err(format!("tokenizing: {e}")))?;
        let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        // Similar lengths share a batch, so little padding is computed.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let mut out = vec![Vec::new(); ids.len()];
        for batch in order.chunks(BATCH) {
            let width = batch
                .iter()
                .map(|&i| ids[i].len())
                .max()
                .unwrap_or(0)
                .max(1);
            let mut input = vec![0i64; batch.len() * width];
            let mut mask = vec![0i64; batch.len() * width];
            for (row, &i) in batch.iter().enumerate() {
                for (col, &t) in ids[i].iter().enumerate() {
                    input[row * width + col] = t as i64;
                    mask[row * width + col] = 1;
                }
            }
            let shape = [batch.len(), width];
            let inputs = ort::inputs![
                "input_ids" => Tensor::from_array((shape, input)).map_err(|e| err(e.to_string()))?,
                "attention_mask" => Tensor::from_array((shape, mask)).map_err(|e| err(e.to_string()))?,
            ];
            let outputs = self.session.run(inputs).map_err(|e| err(e.to_string()))?;
            let (dims, values) = outputs[0]
                .try_extract_tensor::<f32>()
                .map_err(|e| err(e.to_string()))?;
            let d = dims.get(1).copied().unwrap_or(0) as usize;
            if d == 0 || values.len() != d * batch.len() {
                return Err(err(format!("the encoder gave an output of shape {dims:?}")));
            }
            for (row, &i) in batch.iter().enumerate() {
                out[i] = values[row * d..(row + 1) * d].to_vec();
            }
        }
        Ok(out)
    }
}

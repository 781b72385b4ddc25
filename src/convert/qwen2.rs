//! The `qwen2` family: Qwen2.5, Qwen2.5-Coder, DeepSeek-R1-Distill-Qwen.
//!
//! The llama layout plus biases on the query, key and value projections; llama.cpp stores
//! qwen2's Q/K rows unpermuted (it rotates them with the half-split "NeoX" layout), so they
//! are used as stored.

use super::ConvertError;
use super::spec::{Family, ModelSpec, read_common};
use crate::gguf::Gguf;

/// Reads a qwen2-family model's hyperparameters.
pub fn spec(gguf: &Gguf) -> Result<ModelSpec, ConvertError> {
    let mut spec = read_common(gguf, Family::Qwen2)?;
    spec.qk_permuted = false;
    spec.qkv_bias = true;
    Ok(spec)
}

//! The `llama` family: SmolLM2, Llama 2 and 3.x, TinyLlama.
//!
//! RMSNorm, rotary attention with grouped key/value heads, a SiLU-gated MLP, no biases. The
//! llama.cpp converter permutes the rows of `attn_q` and `attn_k` so that its adjacent-pair
//! rotation reproduces the original half-split rotation; the graph undoes that permutation
//! and uses ONNX Runtime's half-split rotary embedding.

use super::ConvertError;
use super::spec::{Family, ModelSpec, read_common};
use crate::gguf::Gguf;

/// Reads a llama-family model's hyperparameters.
pub fn spec(gguf: &Gguf) -> Result<ModelSpec, ConvertError> {
    let mut spec = read_common(gguf, Family::Llama)?;
    spec.qk_permuted = true;
    Ok(spec)
}

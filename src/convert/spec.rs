//! The hyperparameters of a decoder-only transformer, read from GGUF metadata.

use std::path::Path;

use super::ConvertError;
use crate::gguf::{Gguf, Value};

/// A model family the converter knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `llama`: SmolLM2, Llama 2/3.x, TinyLlama.
    Llama,
    /// `qwen2`: Qwen2.5, Qwen2.5-Coder, DeepSeek-R1-Distill-Qwen.
    Qwen2,
}

impl Family {
    /// Architectures accepted, as GGUF names them.
    pub const SUPPORTED: &'static [&'static str] = &["llama", "qwen2"];

    /// The family of a GGUF `general.architecture`.
    pub fn from_arch(arch: &str) -> Option<Family> {
        match arch {
            "llama" => Some(Family::Llama),
            "qwen2" => Some(Family::Qwen2),
            _ => None,
        }
    }

    /// The GGUF architecture name, also the `model.type` of `genai_config.json`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Llama => "llama",
            Family::Qwen2 => "qwen2",
        }
    }
}

/// How positions are scaled before the rotary embedding.
#[derive(Debug, Clone, PartialEq)]
pub enum RopeScaling {
    /// Plain RoPE.
    None,
    /// Positions divided by a factor.
    Linear(f32),
    /// A divisor per frequency (Llama 3.1's `rope_freqs.weight`).
    FreqFactors(Vec<f32>),
}

/// Everything the graph builder needs to know about a model besides its tensors.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    /// Family.
    pub family: Family,
    /// Hidden size.
    pub hidden: usize,
    /// Decoder layers.
    pub n_layers: usize,
    /// Query heads.
    pub n_heads: usize,
    /// Key/value heads.
    pub n_kv_heads: usize,
    /// Dimension of one head.
    pub head_dim: usize,
    /// MLP inner size.
    pub intermediate: usize,
    /// Vocabulary size.
    pub vocab: usize,
    /// Context length the model was trained for.
    pub context_length: usize,
    /// RoPE base.
    pub rope_theta: f32,
    /// RoPE scaling.
    pub rope_scaling: RopeScaling,
    /// RMSNorm epsilon.
    pub rms_eps: f32,
    /// Whether the output head reuses the token embedding.
    pub tied_embeddings: bool,
    /// Whether Q/K/V have biases (qwen2).
    pub qkv_bias: bool,
    /// Whether the GGUF stores Q/K rows permuted for adjacent-pair rotation (llama.cpp's
    /// `llama` converter does this); the converter restores half-split order.
    pub qk_permuted: bool,
    /// Beginning-of-sequence id.
    pub bos_token_id: Option<u64>,
    /// End-of-sequence id.
    pub eos_token_id: Option<u64>,
    /// Padding id.
    pub pad_token_id: Option<u64>,
}

/// Reads typed metadata under `{arch}.` with the file named in errors.
pub struct Meta<'a> {
    /// The file.
    pub gguf: &'a Gguf,
    /// Architecture prefix.
    pub arch: &'a str,
}

impl Meta<'_> {
    fn path(&self) -> &Path {
        self.gguf.path()
    }

    fn value(&self, key: &str) -> Option<&Value> {
        self.gguf.get(&format!("{}.{key}", self.arch))
    }

    /// A required count under `{arch}.{key}`.
    pub fn usize(&self, key: &str) -> Result<usize, ConvertError> {
        self.opt_usize(key)?
            .ok_or_else(|| ConvertError::MissingMetadata {
                path: self.path().to_path_buf(),
                key: format!("{}.{key}", self.arch),
            })
    }

    /// An optional count under `{arch}.{key}`, capped to keep allocations sane.
    pub fn opt_usize(&self, key: &str) -> Result<Option<usize>, ConvertError> {
        let Some(v) = self.value(key) else {
            return Ok(None);
        };
        match v.as_u64() {
            Some(n) if n > 0 && n <= 1 << 24 => Ok(Some(n as usize)),
            _ => Err(ConvertError::BadMetadata {
                path: self.path().to_path_buf(),
                key: format!("{}.{key}", self.arch),
                reason: format!("expected a positive count, found {v:?}"),
            }),
        }
    }

    /// An optional float under `{arch}.{key}`.
    pub fn opt_f32(&self, key: &str) -> Option<f32> {
        self.value(key).and_then(Value::as_f64).map(|v| v as f32)
    }

    /// An optional string under `{arch}.{key}`.
    pub fn opt_str(&self, key: &str) -> Option<&str> {
        self.value(key).and_then(Value::as_str)
    }
}

/// Reads the hyperparameters shared by the llama and qwen2 families.
pub fn read_common(gguf: &Gguf, family: Family) -> Result<ModelSpec, ConvertError> {
    let m = Meta {
        gguf,
        arch: family.name(),
    };
    let path = gguf.path().to_path_buf();
    let hidden = m.usize("embedding_length")?;
    let n_heads = m.usize("attention.head_count")?;
    let n_kv_heads = m.opt_usize("attention.head_count_kv")?.unwrap_or(n_heads);
    let head_dim = match m.opt_usize("attention.key_length")? {
        Some(d) => d,
        None => hidden / n_heads,
    };
    if n_heads % n_kv_heads != 0 || head_dim % 2 != 0 {
        return Err(ConvertError::BadMetadata {
            path,
            key: format!("{}.attention.head_count_kv", family.name()),
            reason: format!("{n_heads} heads, {n_kv_heads} key/value heads, head size {head_dim}"),
        });
    }
    if let Some(rot) = m.opt_usize("rope.dimension_count")?
        && rot != head_dim
    {
        return Err(ConvertError::Unsupported {
            path,
            what: format!("partial rotary embedding ({rot} of {head_dim} dimensions)"),
        });
    }
    let rope_scaling = match m.opt_str("rope.scaling.type") {
        None | Some("none") => RopeScaling::None,
        Some("linear") => RopeScaling::Linear(m.opt_f32("rope.scaling.factor").unwrap_or(1.0)),
        Some(other) => {
            return Err(ConvertError::Unsupported {
                path,
                what: format!("rope scaling {other:?} (supported: none, linear, Llama 3 factors)"),
            });
        }
    };
    let rope_scaling = match gguf.tensor("rope_freqs.weight") {
        Some(t) => RopeScaling::FreqFactors(gguf.dequantize(t)?),
        None => rope_scaling,
    };
    let embd = gguf
        .tensor("token_embd.weight")
        .ok_or_else(|| ConvertError::MissingTensor {
            path: gguf.path().to_path_buf(),
            name: "token_embd.weight".into(),
        })?;
    let vocab = match m.opt_usize("vocab_size")? {
        Some(v) => v,
        None => embd.dims.get(1).copied().unwrap_or(0) as usize,
    };
    let tok = |k: &str| {
        gguf.get(&format!("tokenizer.ggml.{k}"))
            .and_then(Value::as_u64)
    };
    Ok(ModelSpec {
        family,
        hidden,
        n_layers: m.usize("block_count")?,
        n_heads,
        n_kv_heads,
        head_dim,
        intermediate: m.usize("feed_forward_length")?,
        vocab,
        context_length: m.opt_usize("context_length")?.unwrap_or(4096),
        rope_theta: m.opt_f32("rope.freq_base").unwrap_or(10_000.0),
        rope_scaling,
        rms_eps: m
            .opt_f32("attention.layer_norm_rms_epsilon")
            .unwrap_or(1e-6),
        tied_embeddings: gguf.tensor("output.weight").is_none(),
        qkv_bias: gguf.tensor("blk.0.attn_q.bias").is_some(),
        qk_permuted: false,
        bos_token_id: tok("bos_token_id"),
        eos_token_id: tok("eos_token_id"),
        pad_token_id: tok("padding_token_id"),
    })
}

//! The decoder graph shared by the llama and qwen2 families, in the layout ONNX Runtime GenAI's
//! model builder emits for CPU.
//!
//! ```text
//! input_ids ─GatherBlockQuantized(head blocks)─▶ x   (a plain Gather when weights are floats)
//! per layer:  SkipSimplifiedLayerNorm ─▶ QKV (MatMulNBits, + bias) ─▶ GroupQueryAttention
//!             (rotary inside, KV in past/present) ─▶ O ─▶ SkipSimplifiedLayerNorm ─▶
//!             gate, up ─▶ SiLU(gate) * up ─▶ down
//! final:      (last position only, by default) ─▶ SimplifiedLayerNorm ─▶ lm_head ─▶ logits
//! ```
//! `seqlens_k` (valid tokens per row minus one, from `attention_mask`) and
//! `total_sequence_length` are computed once and shared by every layer.
//!
//! When the head is stored as `MatMulNBits` blocks, the token embedding is read from blocks too
//! (`GatherBlockQuantized`); with a tied head (Qwen2.5, SmolLM2) it reads the very same `uint8`
//! initializer as the head's `MatMulNBits`, so the vocabulary table is written once (for Qwen2.5's
//! 151,936 tokens that saves the 545 MB of an `f32` table in the folder and in memory). Only the
//! block scales (and Q4_1 corrections) are written a second time, in the shape the gather takes.

use std::collections::HashMap;
use std::io;

use half::f16;

use super::spec::{ModelSpec, RopeScaling};
use super::weights::{BLOCK, Linear, NBits, WeightFormat};
use super::{ConvertError, KvCacheType, LogitsMode};
use crate::gguf::{GgmlType, Gguf};
use crate::onnx::build::{Attr, Dim, GraphBuilder, le_bytes};
use crate::onnx::proto::tensor_proto::DataType;

const MS: &str = "com.microsoft";

/// Settings of one graph build.
#[derive(Debug, Clone, Copy)]
pub struct GraphOptions {
    /// Storage of the projection matrices.
    pub format: WeightFormat,
    /// Write float matrices as `f16` (cast back to `f32` when the session loads).
    pub float16: bool,
    /// Logits for the last position only, or for every position.
    pub logits: LogitsMode,
    /// KV cache element type.
    pub kv: KvCacheType,
}

/// Builds the graph of `spec` with weights from `gguf` into `g`.
pub struct DecoderGraph<'a> {
    gguf: &'a Gguf,
    spec: &'a ModelSpec,
    opts: GraphOptions,
    g: &'a mut GraphBuilder,
    /// Block sums already computed per input name (for Q4_1 corrections).
    blocksums: HashMap<String, String>,
    /// Inputs already quantized row by row for `MatMulIntegerToFloat`: (8-bit values, row scales).
    row_quantized: HashMap<String, (String, String)>,
    /// Whether the zero point of row-quantized inputs has been written.
    row_zero_written: bool,
    /// `MatMulNBits` block initializers already written, by name prefix.
    qweights: HashMap<String, String>,
}

impl<'a> DecoderGraph<'a> {
    /// A builder for one model.
    pub fn new(
        gguf: &'a Gguf,
        spec: &'a ModelSpec,
        opts: GraphOptions,
        g: &'a mut GraphBuilder,
    ) -> DecoderGraph<'a> {
        DecoderGraph {
            gguf,
            spec,
            opts,
            g,
            blocksums: HashMap::new(),
            row_quantized: HashMap::new(),
            row_zero_written: false,
            qweights: HashMap::new(),
        }
    }

    fn io_err(&self, e: io::Error) -> ConvertError {
        ConvertError::Io {
            path: self.gguf.path().with_extension("onnx_data"),
            source: e,
        }
    }

    fn kv_type(&self) -> DataType {
        match self.opts.kv {
            KvCacheType::F32 => DataType::Float,
            KvCacheType::F16 => DataType::Float16,
        }
    }

    /// Builds the whole graph.
    pub fn build(mut self) -> Result<(), ConvertError> {
        let s = self.spec;
        let kv = self.kv_type();
        let (b, sq, tot) = (
            Dim::sym("batch_size"),
            Dim::sym("sequence_length"),
            Dim::sym("total_sequence_length"),
        );
        self.g
            .input("input_ids", DataType::Int64, &[b.clone(), sq.clone()]);
        self.g
            .input("attention_mask", DataType::Int64, &[b.clone(), tot.clone()]);
        let kv_dims = |len: Dim| {
            [
                Dim::sym("batch_size"),
                Dim::Fixed(s.n_kv_heads as i64),
                len,
                Dim::Fixed(s.head_dim as i64),
            ]
        };
        for i in 0..s.n_layers {
            for kind in ["key", "value"] {
                let past = kv_dims(Dim::sym("past_sequence_length"));
                self.g
                    .input(&format!("past_key_values.{i}.{kind}"), kv, &past);
            }
        }
        let logits_len = match self.opts.logits {
            LogitsMode::Last => Dim::Fixed(1),
            LogitsMode::All => sq.clone(),
        };
        self.g.output(
            "logits",
            DataType::Float,
            &[b.clone(), logits_len, Dim::Fixed(s.vocab as i64)],
        );
        for i in 0..s.n_layers {
            for kind in ["key", "value"] {
                self.g
                    .output(&format!("present.{i}.{kind}"), kv, &kv_dims(tot.clone()));
            }
        }

        let (seqlens_k, total_len) = self.shared_lengths()?;
        let (cos, sin) = self.rotary_caches()?;
        let head = self.lm_head()?;
        let x = self.embed(&head)?;

        let mut residual = String::new();
        let mut pending = x; // the value to add to the residual stream next
        for i in 0..s.n_layers {
            let norm = self.norm_weight(&format!("blk.{i}.attn_norm.weight"))?;
            let (n, r) = self.skip_norm(&pending, &residual, &norm);
            residual = r;
            let attn = self.attention(i, &n, &seqlens_k, &total_len, &cos, &sin)?;
            let norm = self.norm_weight(&format!("blk.{i}.ffn_norm.weight"))?;
            let (n, r) = self.skip_norm(&attn, &residual, &norm);
            residual = r;
            pending = self.mlp(i, &n)?;
        }

        let norm = self.norm_weight("output_norm.weight")?;
        let normed = match self.opts.logits {
            LogitsMode::All => self.skip_norm(&pending, &residual, &norm).0,
            LogitsMode::Last => {
                let sum = self.g.op("Add", &[&pending, &residual], &[]);
                let starts = self.const_i64(&[-1])?;
                let ends = self.const_i64(&[i64::MAX])?;
                let axes = self.const_i64(&[1])?;
                let last = self.g.op("Slice", &[&sum, &starts, &ends, &axes], &[]);
                self.skip_norm(&last, "", &norm).0
            }
        };
        let logits = self.linear(&normed, &head, None, "lm_head")?;
        self.g
            .node_named("Identity", "", &[&logits], &["logits"], &[]);
        Ok(())
    }

    /// Only layer `i`'s MLP (gate, up, SiLU, down, encoded and multiplied as in [`Self::build`])
    /// on the input `x`; returns its output. The weight-width calibration
    /// ([`super::calibrate`]) times this.
    pub fn build_mlp(mut self, i: usize, x: &str) -> Result<String, ConvertError> {
        self.mlp(i, x)
    }

    fn const_i64(&mut self, v: &[i64]) -> Result<String, ConvertError> {
        self.g.const_i64(v).map_err(|e| self.io_err(e))
    }

    fn cast(&mut self, x: &str, to: DataType) -> String {
        self.g.op("Cast", &[x], &[("to", Attr::Int(to as i64))])
    }

    /// `seqlens_k = sum(attention_mask, 1) - 1` and `total_sequence_length`, both int32.
    fn shared_lengths(&mut self) -> Result<(String, String), ConvertError> {
        let axes = self.const_i64(&[1])?;
        let sum = self.g.op(
            "ReduceSum",
            &["attention_mask", &axes],
            &[("keepdims", Attr::Int(0))],
        );
        let one = self
            .g
            .init_i64("one_i64", &[], &[1])
            .map_err(|e| self.io_err(e))?;
        let minus = self.g.op("Sub", &[&sum, &one], &[]);
        let seqlens = self.cast(&minus, DataType::Int32);
        let shape = self.g.op("Shape", &["attention_mask"], &[]);
        let idx = self
            .g
            .init_i64("index_1", &[], &[1])
            .map_err(|e| self.io_err(e))?;
        let total = self
            .g
            .op("Gather", &[&shape, &idx], &[("axis", Attr::Int(0))]);
        let total = self.cast(&total, DataType::Int32);
        Ok((seqlens, total))
    }

    /// `cos_cache` and `sin_cache`, `[context_length, head_dim / 2]`.
    fn rotary_caches(&mut self) -> Result<(String, String), ConvertError> {
        let s = self.spec;
        let half = s.head_dim / 2;
        let mut inv: Vec<f64> = (0..half)
            .map(|i| (s.rope_theta as f64).powf(-((2 * i) as f64) / s.head_dim as f64))
            .collect();
        match &s.rope_scaling {
            RopeScaling::None => {}
            RopeScaling::Linear(f) => inv.iter_mut().for_each(|v| *v /= *f as f64),
            RopeScaling::FreqFactors(ff) => {
                for (v, f) in inv.iter_mut().zip(ff) {
                    *v /= *f as f64;
                }
            }
        }
        let n = s.context_length;
        let mut cos = Vec::with_capacity(n * half);
        let mut sin = Vec::with_capacity(n * half);
        for p in 0..n {
            for &f in &inv {
                let a = p as f64 * f;
                cos.push(a.cos() as f32);
                sin.push(a.sin() as f32);
            }
        }
        let dims = [n as i64, half as i64];
        let res = match self.opts.kv {
            KvCacheType::F32 => self
                .g
                .init_f32("cos_cache", &dims, &cos)
                .and_then(|c| Ok((c, self.g.init_f32("sin_cache", &dims, &sin)?))),
            KvCacheType::F16 => self
                .g
                .initializer("cos_cache", DataType::Float16, &dims, &f16_bytes(&cos))
                .and_then(|c| {
                    let s = self.g.initializer(
                        "sin_cache",
                        DataType::Float16,
                        &dims,
                        &f16_bytes(&sin),
                    )?;
                    Ok((c, s))
                }),
        };
        res.map_err(|e| self.io_err(e))
    }

    fn tensor(&self, name: &str) -> Result<&'a crate::gguf::TensorInfo, ConvertError> {
        self.gguf
            .tensor(name)
            .ok_or_else(|| ConvertError::MissingTensor {
                path: self.gguf.path().to_path_buf(),
                name: name.to_string(),
            })
    }

    fn values(&self, name: &str, len: usize) -> Result<Vec<f32>, ConvertError> {
        let t = self.tensor(name)?;
        let v = self.gguf.dequantize(t)?;
        if v.len() != len {
            return Err(ConvertError::BadTensor {
                path: self.gguf.path().to_path_buf(),
                name: name.to_string(),
                reason: format!("{} values, expected {len}", v.len()),
            });
        }
        Ok(v)
    }

    fn norm_weight(&mut self, name: &str) -> Result<String, ConvertError> {
        let v = self.values(name, self.spec.hidden)?;
        self.g
            .init_f32(name, &[v.len() as i64], &v)
            .map_err(|e| self.io_err(e))
    }

    /// The embedded tokens, `[batch, sequence, hidden]` floats: gathered from the head's blocks
    /// when the head is tied and stored as blocks, from blocks of its own when the head is untied
    /// or stored as 8-bit rows, else from a float table (`f16` when float matrices are).
    fn embed(&mut self, head: &Linear) -> Result<String, ConvertError> {
        let (v, h) = (self.spec.vocab, self.spec.hidden);
        if self.spec.tied_embeddings
            && let Linear::NBits(q) = head
        {
            return self.gather_blocks(q, "lm_head");
        }
        // 8-bit rows are a matrix layout for `MatMulIntegerToFloat`; a table to gather from is kept as
        // 8-bit blocks instead (a quarter of the float table's bytes).
        let format = match self.head_format("token_embd.weight")? {
            WeightFormat::Int8Rows => WeightFormat::Int8,
            f => f,
        };
        if format != WeightFormat::Float
            && let Linear::NBits(q) = self.matrix("token_embd.weight", h, v, format)?
        {
            return self.gather_blocks(&q, "model.embed_tokens");
        }
        let values = self.values("token_embd.weight", v * h)?;
        let dims = [v as i64, h as i64];
        let r = if self.opts.float16 {
            self.g.initializer(
                "model.embed_tokens.weight",
                DataType::Float16,
                &dims,
                &f16_bytes(&values),
            )
        } else {
            self.g.init_f32("model.embed_tokens.weight", &dims, &values)
        };
        let table = r.map_err(|e| self.io_err(e))?;
        let x = self.g.op("Gather", &[&table, "input_ids"], &[]);
        Ok(if self.opts.float16 {
            self.cast(&x, DataType::Float)
        } else {
            x
        })
    }

    /// `GatherBlockQuantized` of `input_ids` over the `[V, K/32, blob]` blocks of `q` (written
    /// once under `name`, shared with a `MatMulNBits` of the same name): `[b, s, K/32, 32]`, plus
    /// the gathered Q4_1 correction of each block, reshaped to `[b, s, K]`.
    fn gather_blocks(&mut self, q: &NBits, name: &str) -> Result<String, ConvertError> {
        let nb = (q.k / BLOCK) as i64;
        let n = q.n as i64;
        let data = self.qweight(q, name)?;
        let scales = self
            .g
            .init_f32(&format!("{name}.gather_scales"), &[n, nb, 1], &q.scales)
            .map_err(|e| self.io_err(e))?;
        // With one block per innermost row, the gather takes one zero point per byte.
        let zeros = match &q.zero_points {
            Some(z) => self
                .g
                .initializer(
                    &format!("{name}.gather_zeros"),
                    DataType::Uint8,
                    &[n, nb, 1],
                    z,
                )
                .map_err(|e| self.io_err(e))?,
            None => String::new(),
        };
        let mut x = self
            .g
            .node(
                "GatherBlockQuantized",
                MS,
                &[&data, "input_ids", &scales, &zeros],
                1,
                &[
                    ("gather_axis", Attr::Int(0)),
                    ("quantize_axis", Attr::Int(2)),
                    ("block_size", Attr::Int(BLOCK as i64)),
                    ("bits", Attr::Int(q.bits as i64)),
                ],
            )
            .remove(0);
        if let Some(c) = &q.correction {
            let table = self
                .g
                .init_f32(&format!("{name}.gather_correction"), &[n, nb, 1], c)
                .map_err(|e| self.io_err(e))?;
            let corr = self.g.op("Gather", &[&table, "input_ids"], &[]);
            x = self.g.op("Add", &[&x, &corr], &[]);
        }
        let shape = self.const_i64(&[0, 0, q.k as i64])?;
        Ok(self.g.op("Reshape", &[&x, &shape], &[]))
    }

    /// The `[N, K/32, blob]` block initializer of `q` under `name`, written on first use.
    fn qweight(&mut self, q: &NBits, name: &str) -> Result<String, ConvertError> {
        if let Some(b) = self.qweights.get(name) {
            return Ok(b.clone());
        }
        let nb = (q.k / BLOCK) as i64;
        let blob = (BLOCK * q.bits as usize / 8) as i64;
        let b = self
            .g
            .initializer(
                &format!("{name}.qweight"),
                DataType::Uint8,
                &[q.n as i64, nb, blob],
                &q.packed,
            )
            .map_err(|e| self.io_err(e))?;
        self.qweights.insert(name.to_string(), b.clone());
        Ok(b)
    }

    /// `SimplifiedLayerNormalization` when `skip` is empty, else
    /// `SkipSimplifiedLayerNormalization`; returns (normalized, new residual).
    fn skip_norm(&mut self, x: &str, skip: &str, weight: &str) -> (String, String) {
        let eps = Attr::Float(self.spec.rms_eps);
        if skip.is_empty() {
            let out = self.g.op(
                "SimplifiedLayerNormalization",
                &[x, weight],
                &[
                    ("axis", Attr::Int(-1)),
                    ("epsilon", eps),
                    ("stash_type", Attr::Int(1)),
                ],
            );
            (out, x.to_string())
        } else {
            let out = self.g.fresh("norm");
            let sum = self.g.fresh("residual");
            self.g.node_named(
                "SkipSimplifiedLayerNormalization",
                MS,
                &[x, skip, weight],
                &[&out, "", "", &sum],
                &[("epsilon", eps)],
            );
            (out, sum)
        }
    }

    /// Encodes the GGUF matrix `name` (`dims = [k, n]`).
    fn matrix(
        &self,
        name: &str,
        k: usize,
        n: usize,
        format: WeightFormat,
    ) -> Result<Linear, ConvertError> {
        let t = self.tensor(name)?;
        if t.dims != [k as u64, n as u64] {
            return Err(ConvertError::BadTensor {
                path: self.gguf.path().to_path_buf(),
                name: name.to_string(),
                reason: format!("dimensions {:?}, expected [{k}, {n}]", t.dims),
            });
        }
        let bytes = self.gguf.tensor_bytes(t)?;
        Linear::encode(t.ggml_type, bytes, k, n, format, || {
            self.gguf.dequantize(t).ok()
        })
        .ok_or_else(|| ConvertError::BadTensor {
            path: self.gguf.path().to_path_buf(),
            name: name.to_string(),
            reason: format!("type {} cannot be converted", t.ggml_type.name()),
        })
    }

    fn attention(
        &mut self,
        i: usize,
        x: &str,
        seqlens_k: &str,
        total_len: &str,
        cos: &str,
        sin: &str,
    ) -> Result<String, ConvertError> {
        let s = self.spec;
        let (h, hd) = (s.hidden, s.head_dim);
        let (qn, kvn) = (s.n_heads * hd, s.n_kv_heads * hd);
        let f = self.opts.format;
        let mut q = self.matrix(&format!("blk.{i}.attn_q.weight"), h, qn, f)?;
        let mut k = self.matrix(&format!("blk.{i}.attn_k.weight"), h, kvn, f)?;
        let v = self.matrix(&format!("blk.{i}.attn_v.weight"), h, kvn, f)?;
        if s.qk_permuted {
            q.permute_rows(&unpermute(s.n_heads, hd));
            k.permute_rows(&unpermute(s.n_kv_heads, hd));
        }
        let qkv = Linear::concat(vec![q, k, v]).ok_or_else(|| ConvertError::BadTensor {
            path: self.gguf.path().to_path_buf(),
            name: format!("blk.{i}.attn_q.weight"),
            reason: "Q, K and V are stored in different formats".into(),
        })?;
        let bias = if s.qkv_bias {
            let mut bq = self.values(&format!("blk.{i}.attn_q.bias"), qn)?;
            let mut bk = self.values(&format!("blk.{i}.attn_k.bias"), kvn)?;
            let bv = self.values(&format!("blk.{i}.attn_v.bias"), kvn)?;
            if s.qk_permuted {
                bq = permute(&bq, &unpermute(s.n_heads, hd));
                bk = permute(&bk, &unpermute(s.n_kv_heads, hd));
            }
            bq.extend(bk);
            bq.extend(bv);
            Some(bq)
        } else {
            None
        };
        let mut packed = self.linear(
            x,
            &qkv,
            bias.as_deref(),
            &format!("layers.{i}.attn.qkv_proj"),
        )?;
        if self.opts.kv == KvCacheType::F16 {
            packed = self.cast(&packed, DataType::Float16);
        }
        let out = self.g.fresh("attn");
        let (pk, pv) = (
            format!("past_key_values.{i}.key"),
            format!("past_key_values.{i}.value"),
        );
        let (ok, ov) = (format!("present.{i}.key"), format!("present.{i}.value"));
        self.g.node_named(
            "GroupQueryAttention",
            MS,
            &[&packed, "", "", &pk, &pv, seqlens_k, total_len, cos, sin],
            &[&out, &ok, &ov],
            &[
                ("num_heads", Attr::Int(s.n_heads as i64)),
                ("kv_num_heads", Attr::Int(s.n_kv_heads as i64)),
                ("do_rotary", Attr::Int(1)),
                ("rotary_interleaved", Attr::Int(0)),
                ("local_window_size", Attr::Int(-1)),
            ],
        );
        let out = if self.opts.kv == KvCacheType::F16 {
            self.cast(&out, DataType::Float)
        } else {
            out
        };
        let o = self.matrix(&format!("blk.{i}.attn_output.weight"), qn, h, f)?;
        self.linear(&out, &o, None, &format!("layers.{i}.attn.o_proj"))
    }

    fn mlp(&mut self, i: usize, x: &str) -> Result<String, ConvertError> {
        let (h, m, f) = (self.spec.hidden, self.spec.intermediate, self.opts.format);
        let gate = self.matrix(&format!("blk.{i}.ffn_gate.weight"), h, m, f)?;
        let up = self.matrix(&format!("blk.{i}.ffn_up.weight"), h, m, f)?;
        let down = self.matrix(&format!("blk.{i}.ffn_down.weight"), m, h, f)?;
        let gate = self.linear(x, &gate, None, &format!("layers.{i}.mlp.gate_proj"))?;
        let up = self.linear(x, &up, None, &format!("layers.{i}.mlp.up_proj"))?;
        let sig = self.g.op("Sigmoid", &[&gate], &[]);
        let act = self.g.op("Mul", &[&gate, &sig], &[]);
        let prod = self.g.op("Mul", &[&act, &up], &[]);
        self.linear(&prod, &down, None, &format!("layers.{i}.mlp.down_proj"))
    }

    /// The output head: `output.weight`, or the token embedding when tied.
    fn lm_head(&mut self) -> Result<Linear, ConvertError> {
        let (h, v) = (self.spec.hidden, self.spec.vocab);
        let name = if self.spec.tied_embeddings {
            "token_embd.weight"
        } else {
            "output.weight"
        };
        let format = self.head_format(name)?;
        self.matrix(name, h, v, format)
    }

    /// Storage of a vocabulary matrix (head or embedding). A Q8_0 or higher precision matrix
    /// stays 8-bit when projections are 4-bit (the head is a large share of the error and only
    /// one matrix); a Q8_0 one is carried over exactly as 8-bit blocks when projections are
    /// floats (a quarter of the memory traffic per decoded token).
    fn head_format(&self, name: &str) -> Result<WeightFormat, ConvertError> {
        let ty = self.tensor(name)?.ggml_type;
        Ok(match (self.opts.format, ty) {
            (WeightFormat::Int4, GgmlType::Q4_0 | GgmlType::Q4_1) => WeightFormat::Int4,
            (WeightFormat::Int4, _) => WeightFormat::Int8,
            (WeightFormat::Float, GgmlType::Q8_0) => WeightFormat::Int8,
            (f, _) => f,
        })
    }

    /// `x @ W^T (+ bias)` for an encoded matrix; `name` prefixes the initializers.
    fn linear(
        &mut self,
        x: &str,
        w: &Linear,
        bias: Option<&[f32]>,
        name: &str,
    ) -> Result<String, ConvertError> {
        let io = |e| ConvertError::Io {
            path: self.gguf.path().with_extension("onnx_data"),
            source: e,
        };
        let (k, n) = (w.k() as i64, w.n() as i64);
        let mut out = match w {
            Linear::NBits(q) => {
                let nb = k / BLOCK as i64;
                let b = self.qweight(q, name)?;
                let sc = self
                    .g
                    .init_f32(&format!("{name}.scales"), &[n * nb], &q.scales)
                    .map_err(io)?;
                let zp = match q.packed_zero_points() {
                    Some(z) => {
                        let len = z.len() as i64;
                        self.g
                            .initializer(&format!("{name}.qzeros"), DataType::Uint8, &[len], &z)
                            .map_err(io)?
                    }
                    None => String::new(),
                };
                let y = self.g.node(
                    "MatMulNBits",
                    MS,
                    &[x, &b, &sc, &zp],
                    1,
                    &[
                        ("K", Attr::Int(k)),
                        ("N", Attr::Int(n)),
                        ("bits", Attr::Int(q.bits as i64)),
                        ("block_size", Attr::Int(BLOCK as i64)),
                        ("accuracy_level", Attr::Int(4)),
                    ],
                );
                let mut y = y.into_iter().next().expect("one output");
                if let Some(c) = &q.correction {
                    y = self.correction(x, q, c, &y, name)?;
                }
                y
            }
            Linear::Rows(r) => {
                let t = transpose_i8(&r.values, n as usize, k as usize);
                let b = self
                    .g
                    .initializer(&format!("{name}.qweight"), DataType::Int8, &[k, n], &t)
                    .map_err(io)?;
                let sc = self
                    .g
                    .init_f32(&format!("{name}.scales"), &[n], &r.scales)
                    .map_err(io)?;
                let (xq, xs) = self.quantize_rows(x, k)?;
                let zero = self.row_zero_point()?;
                // One kernel multiplies, scales by column (inside the GEMM) and by row.
                let y = self.g.node(
                    "MatMulIntegerToFloat",
                    MS,
                    &[&xq, &b, &xs, &sc, &zero],
                    1,
                    &[],
                );
                y.into_iter().next().expect("one output")
            }
            Linear::Float { values, .. } => {
                let t = transpose(values, n as usize, k as usize);
                let init = format!("{name}.weight");
                if self.opts.float16 {
                    let w16 = self
                        .g
                        .initializer(&init, DataType::Float16, &[k, n], &f16_bytes(&t))
                        .map_err(io)?;
                    let w32 = self.cast(&w16, DataType::Float);
                    self.g.op("MatMul", &[x, &w32], &[])
                } else {
                    let w = self.g.init_f32(&init, &[k, n], &t).map_err(io)?;
                    self.g.op("MatMul", &[x, &w], &[])
                }
            }
        };
        if let Some(bias) = bias {
            let b = self
                .g
                .init_f32(&format!("{name}.bias"), &[n], bias)
                .map_err(io)?;
            out = self.g.op("Add", &[&out, &b], &[]);
        }
        Ok(out)
    }

    /// `x` (rows of `width` values) quantized to 8 bits with one symmetric scale per row (its largest magnitude / 127),
    /// stored as `uint8` around the zero point 128: returns (values, scales `[.., 1]`). Each row
    /// is quantized on its own, so a sequence's result never depends on the others in its batch.
    /// `QuantizeLinear` with one block per row rounds, shifts and saturates in one pass.
    fn quantize_rows(&mut self, x: &str, width: i64) -> Result<(String, String), ConvertError> {
        if let Some(q) = self.row_quantized.get(x) {
            return Ok(q.clone());
        }
        let io = |e| ConvertError::Io {
            path: self.gguf.path().with_extension("onnx_data"),
            source: e,
        };
        let axes = self.const_i64(&[-1])?;
        let tiny = {
            let n = self.g.fresh("tiny");
            self.g.init_f32(&n, &[], &[1e-30]).map_err(io)?
        };
        let c127 = {
            let n = self.g.fresh("c127");
            self.g.init_f32(&n, &[], &[127.0]).map_err(io)?
        };
        let abs = self.g.op("Abs", &[x], &[]);
        let max = self
            .g
            .op("ReduceMax", &[&abs, &axes], &[("keepdims", Attr::Int(1))]);
        let max = self.g.op("Max", &[&max, &tiny], &[]);
        let scale = self.g.op("Div", &[&max, &c127], &[]);
        // Blocked quantization wants a zero point shaped like the scales.
        let zero = self.row_zero_point()?;
        let shape = self.g.op("Shape", &[&scale], &[]);
        let zeros = self.g.op("Expand", &[&zero, &shape], &[]);
        let q = self.g.op(
            "QuantizeLinear",
            &[x, &scale, &zeros],
            &[("axis", Attr::Int(-1)), ("block_size", Attr::Int(width))],
        );
        self.row_quantized
            .insert(x.to_string(), (q.clone(), scale.clone()));
        Ok((q, scale))
    }

    /// The `uint8` scalar 128: the zero point of [`Self::quantize_rows`].
    fn row_zero_point(&mut self) -> Result<String, ConvertError> {
        let name = "row_quant.zero_point";
        if !self.row_zero_written {
            let r = self.g.initializer(name, DataType::Uint8, &[], &[128]);
            r.map_err(|e| self.io_err(e))?;
            self.row_zero_written = true;
        }
        Ok(name.to_string())
    }

    /// `y + blocksum(x) @ C^T`: the per-block remainder of Q4_1 minimums.
    fn correction(
        &mut self,
        x: &str,
        q: &NBits,
        c: &[f32],
        y: &str,
        name: &str,
    ) -> Result<String, ConvertError> {
        let nb = q.k / BLOCK;
        let sums = match self.blocksums.get(x) {
            Some(s) => s.clone(),
            None => {
                let shape = self.const_i64(&[0, 0, nb as i64, BLOCK as i64])?;
                let blocks = self.g.op("Reshape", &[x, &shape], &[]);
                let axes = self.const_i64(&[-1])?;
                let s = self.g.op(
                    "ReduceSum",
                    &[&blocks, &axes],
                    &[("keepdims", Attr::Int(0))],
                );
                self.blocksums.insert(x.to_string(), s.clone());
                s
            }
        };
        let ct = transpose(c, q.n, nb);
        let cw = self
            .g
            .init_f32(
                &format!("{name}.qcorrection"),
                &[nb as i64, q.n as i64],
                &ct,
            )
            .map_err(|e| self.io_err(e))?;
        let corr = self.g.op("MatMul", &[&sums, &cw], &[]);
        Ok(self.g.op("Add", &[y, &corr], &[]))
    }
}

/// Row order that undoes llama.cpp's Q/K permutation: half-split row `a * hd/2 + j` of each
/// head is stored at row `2j + a`.
pub fn unpermute(n_heads: usize, head_dim: usize) -> Vec<usize> {
    let half = head_dim / 2;
    let mut perm = Vec::with_capacity(n_heads * head_dim);
    for h in 0..n_heads {
        for a in 0..2 {
            for j in 0..half {
                perm.push(h * head_dim + 2 * j + a);
            }
        }
    }
    perm
}

fn permute(v: &[f32], perm: &[usize]) -> Vec<f32> {
    perm.iter().map(|&p| v[p]).collect()
}

/// `[rows, cols]` to `[cols, rows]`.
/// `[rows, cols]` 8-bit values to `[cols, rows]`, as bytes.
fn transpose_i8(v: &[i8], rows: usize, cols: usize) -> Vec<u8> {
    let mut out = vec![0u8; v.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = v[r * cols + c] as u8;
        }
    }
    out
}

fn transpose(v: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0f32; v.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = v[r * cols + c];
        }
    }
    out
}

fn f16_bytes(v: &[f32]) -> Vec<u8> {
    le_bytes(v, |x| f16::from_f32(x).to_le_bytes())
}

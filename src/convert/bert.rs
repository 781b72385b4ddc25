//! A BERT sentence encoder (safetensors + `config.json`, as sentence-transformers ship
//! all-MiniLM-L6-v2) to an ONNX graph that returns one L2-normalized sentence vector per row.
//!
//! [`convert_bert`] reads the weights from `model.safetensors` ([`SafeTensors`], f32 only), the
//! sizes from `config.json` ([`BertConfig`]), and writes `model.onnx` + `model.onnx_data` into a
//! folder. The graph takes `input_ids` and `attention_mask` (`int64`, `[batch, sequence]`) and
//! gives `sentence_embedding` (`float`, `[batch, hidden]`): word + position + token-type 0
//! embeddings, layer norm, then per layer masked multi-head self-attention and an erf-GELU
//! feed-forward block, each followed by a residual layer norm, then the mean over the unmasked
//! positions, divided by its L2 norm. Linear weights are stored transposed (`[in, out]`) in f32.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use prost::Message;

use crate::onnx::build::{Attr, Dim, GraphBuilder};
use crate::onnx::proto::tensor_proto::DataType;

/// The version of what [`convert_bert`] writes; set-up folders record it, and one written by
/// another version is converted again.
pub const BERT_CONVERSION_VERSION: u32 = 1;

/// Why a BERT folder could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum BertError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The safetensors file or the config is malformed.
    #[error("{}: {message}; fix: set the embedding model up again (`isg setup`)", .path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> BertError + '_ {
    move |source| BertError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn format_err(path: &Path, message: impl Into<String>) -> BertError {
    BertError::Format {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The sizes of a BERT encoder, from its `config.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct BertConfig {
    /// Width of every hidden state.
    pub hidden: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Attention heads per layer.
    pub heads: usize,
    /// Width of the feed-forward block.
    pub intermediate: usize,
    /// Epsilon of every layer norm.
    pub eps: f32,
    /// Positions the position embedding covers.
    pub max_positions: usize,
}

impl BertConfig {
    /// Reads `config.json`; only BERT encoders with GELU activations are accepted.
    pub fn read(path: &Path) -> Result<BertConfig, BertError> {
        let text = fs::read_to_string(path).map_err(io_err(path))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format_err(path, e.to_string()))?;
        let num = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_u64)
                .map(|n| n as usize)
                .ok_or_else(|| format_err(path, format!("`{k}` is missing or not a number")))
        };
        if let Some(t) = v.get("model_type").and_then(|t| t.as_str())
            && t != "bert"
        {
            return Err(format_err(path, format!("model_type {t:?} is not bert")));
        }
        if let Some(act) = v.get("hidden_act").and_then(|t| t.as_str())
            && act != "gelu"
        {
            return Err(format_err(path, format!("hidden_act {act:?} is not gelu")));
        }
        let cfg = BertConfig {
            hidden: num("hidden_size")?,
            layers: num("num_hidden_layers")?,
            heads: num("num_attention_heads")?,
            intermediate: num("intermediate_size")?,
            eps: v
                .get("layer_norm_eps")
                .and_then(serde_json::Value::as_f64)
                .unwrap_or(1e-12) as f32,
            max_positions: num("max_position_embeddings")?,
        };
        if cfg.heads == 0 || !cfg.hidden.is_multiple_of(cfg.heads) {
            return Err(format_err(
                path,
                format!(
                    "hidden_size {} is not a multiple of {} heads",
                    cfg.hidden, cfg.heads
                ),
            ));
        }
        Ok(cfg)
    }
}

/// A memory-mapped `.safetensors` file: a JSON header of tensor names, dtypes, shapes and byte
/// ranges, then the raw little-endian data.
pub struct SafeTensors {
    path: PathBuf,
    map: memmap2::Mmap,
    data_start: usize,
    tensors: HashMap<String, (String, Vec<usize>, usize, usize)>,
}

impl SafeTensors {
    /// Opens and indexes `path`.
    pub fn open(path: &Path) -> Result<SafeTensors, BertError> {
        let file = fs::File::open(path).map_err(io_err(path))?;
        // SAFETY: the file is only read; isg's cache never rewrites a verified file in place.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io_err(path))?;
        if map.len() < 8 {
            return Err(format_err(path, "shorter than a safetensors header"));
        }
        let n = u64::from_le_bytes(map[..8].try_into().expect("8 bytes")) as usize;
        if n > map.len() - 8 {
            return Err(format_err(
                path,
                format!("header of {n} bytes runs past the end"),
            ));
        }
        let header: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&map[8..8 + n]).map_err(|e| format_err(path, e.to_string()))?;
        let data_start = 8 + n;
        let data_len = map.len() - data_start;
        let mut tensors = HashMap::new();
        for (name, t) in header {
            if name == "__metadata__" {
                continue;
            }
            let dtype = t.get("dtype").and_then(|d| d.as_str()).unwrap_or_default();
            let shape: Vec<usize> = t
                .get("shape")
                .and_then(|s| s.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|d| d.as_u64())
                        .map(|d| d as usize)
                        .collect()
                })
                .unwrap_or_default();
            let offs: Vec<usize> = t
                .get("data_offsets")
                .and_then(|s| s.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|d| d.as_u64())
                        .map(|d| d as usize)
                        .collect()
                })
                .unwrap_or_default();
            if offs.len() != 2 || offs[0] > offs[1] || offs[1] > data_len {
                return Err(format_err(path, format!("tensor {name}: bad data_offsets")));
            }
            tensors.insert(name, (dtype.to_string(), shape, offs[0], offs[1]));
        }
        Ok(SafeTensors {
            path: path.to_path_buf(),
            map,
            data_start,
            tensors,
        })
    }

    /// Whether a tensor of that name exists.
    pub fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// A tensor's shape, when it exists.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.tensors.get(name).map(|t| t.1.as_slice())
    }

    /// An f32 tensor's shape and values.
    pub fn f32(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>), BertError> {
        let (dtype, shape, start, end) = self
            .tensors
            .get(name)
            .ok_or_else(|| format_err(&self.path, format!("tensor {name} is missing")))?;
        if dtype != "F32" {
            return Err(format_err(
                &self.path,
                format!("tensor {name} is {dtype}, only F32 is read"),
            ));
        }
        let count: usize = shape.iter().product();
        if end - start != count * 4 {
            return Err(format_err(
                &self.path,
                format!("tensor {name}: {} bytes for shape {shape:?}", end - start),
            ));
        }
        let bytes = &self.map[self.data_start + start..self.data_start + end];
        let values = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        Ok((shape.clone(), values))
    }
}

/// What [`convert_bert`] wrote.
#[derive(Debug, Clone)]
pub struct BertReport {
    /// The encoder's sizes.
    pub config: BertConfig,
    /// Bytes of `model.onnx` + `model.onnx_data`.
    pub bytes: u64,
}

/// The name of the graph's output.
pub const EMBEDDING_OUTPUT: &str = "sentence_embedding";

/// Converts `safetensors` + `config` into `out_dir/model.onnx` and `out_dir/model.onnx_data`.
pub fn convert_bert(
    safetensors: &Path,
    config: &Path,
    out_dir: &Path,
) -> Result<BertReport, BertError> {
    let cfg = BertConfig::read(config)?;
    let st = SafeTensors::open(safetensors)?;
    fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let data_path = out_dir.join("model.onnx_data");
    let mut g = GraphBuilder::new(&data_path, "model.onnx_data").map_err(io_err(&data_path))?;
    BertGraph::new(&st, &cfg, &mut g).build()?;
    let model = g
        .finish("bert_sentence_encoder", &[("", 17)])
        .map_err(io_err(&data_path))?;
    let onnx_path = out_dir.join("model.onnx");
    fs::write(&onnx_path, model.encode_to_vec()).map_err(io_err(&onnx_path))?;
    let size = |p: &Path| fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    Ok(BertReport {
        config: cfg,
        bytes: size(&onnx_path) + size(&data_path),
    })
}

struct BertGraph<'a> {
    st: &'a SafeTensors,
    cfg: &'a BertConfig,
    g: &'a mut GraphBuilder,
    prefix: &'static str,
}

impl<'a> BertGraph<'a> {
    fn new(st: &'a SafeTensors, cfg: &'a BertConfig, g: &'a mut GraphBuilder) -> BertGraph<'a> {
        let prefix = if st.has("embeddings.word_embeddings.weight") {
            ""
        } else {
            "bert."
        };
        BertGraph { st, cfg, g, prefix }
    }

    fn io(&self, e: std::io::Error) -> BertError {
        BertError::Io {
            path: self.st.path.clone(),
            source: e,
        }
    }

    /// A weight as an initializer, checked against `dims`.
    fn weight(&mut self, name: &str, dims: &[usize]) -> Result<String, BertError> {
        let full = format!("{}{name}", self.prefix);
        let (shape, v) = self.st.f32(&full)?;
        if shape != dims {
            return Err(format_err(
                &self.st.path,
                format!("tensor {full} has shape {shape:?}, expected {dims:?}"),
            ));
        }
        let d: Vec<i64> = dims.iter().map(|&x| x as i64).collect();
        self.g.init_f32(&full, &d, &v).map_err(|e| self.io(e))
    }

    /// A `[out, in]` linear weight stored transposed as `[in, out]`, and its bias.
    fn linear(
        &mut self,
        x: &str,
        name: &str,
        n_in: usize,
        n_out: usize,
    ) -> Result<String, BertError> {
        let full = format!("{}{name}.weight", self.prefix);
        let (shape, w) = self.st.f32(&full)?;
        if shape != [n_out, n_in] {
            return Err(format_err(
                &self.st.path,
                format!("tensor {full} has shape {shape:?}, expected [{n_out}, {n_in}]"),
            ));
        }
        let mut t = vec![0f32; w.len()];
        for o in 0..n_out {
            for i in 0..n_in {
                t[i * n_out + o] = w[o * n_in + i];
            }
        }
        let wt = self
            .g
            .init_f32(&format!("{full}.T"), &[n_in as i64, n_out as i64], &t)
            .map_err(|e| self.io(e))?;
        let b = self.weight(&format!("{name}.bias"), &[n_out])?;
        let y = self.g.op("MatMul", &[x, &wt], &[]);
        Ok(self.g.op("Add", &[&y, &b], &[]))
    }

    fn layer_norm(&mut self, x: &str, name: &str) -> Result<String, BertError> {
        let h = self.cfg.hidden;
        let gamma = self.weight(&format!("{name}.weight"), &[h])?;
        let beta = self.weight(&format!("{name}.bias"), &[h])?;
        Ok(self.g.op(
            "LayerNormalization",
            &[x, &gamma, &beta],
            &[
                ("axis", Attr::Int(-1)),
                ("epsilon", Attr::Float(self.cfg.eps)),
            ],
        ))
    }

    fn scalar(&mut self, v: f32) -> Result<String, BertError> {
        let name = self.g.fresh("scalar");
        self.g.init_f32(&name, &[], &[v]).map_err(|e| self.io(e))
    }

    fn ints(&mut self, v: &[i64]) -> Result<String, BertError> {
        self.g.const_i64(v).map_err(|e| self.io(e))
    }

    fn build(mut self) -> Result<(), BertError> {
        let (h, heads) = (self.cfg.hidden, self.cfg.heads);
        let hd = h / heads;
        let batch_seq = [Dim::sym("batch"), Dim::sym("sequence")];
        self.g.input("input_ids", DataType::Int64, &batch_seq);
        self.g.input("attention_mask", DataType::Int64, &batch_seq);
        self.g.output(
            EMBEDDING_OUTPUT,
            DataType::Float,
            &[Dim::sym("batch"), Dim::Fixed(h as i64)],
        );

        // Embeddings: words + positions [0, sequence) + token type 0, then a layer norm.
        let vocab = self
            .st
            .shape(&format!("{}embeddings.word_embeddings.weight", self.prefix))
            .and_then(|s| s.first().copied())
            .unwrap_or(0);
        let words = self.weight("embeddings.word_embeddings.weight", &[vocab, h])?;
        let positions = self.weight(
            "embeddings.position_embeddings.weight",
            &[self.cfg.max_positions, h],
        )?;
        let full = format!("{}embeddings.token_type_embeddings.weight", self.prefix);
        let (tt_shape, tt) = self.st.f32(&full)?;
        if tt_shape.len() != 2 || tt_shape[1] != h {
            return Err(format_err(
                &self.st.path,
                format!("tensor {full} has shape {tt_shape:?}, expected [types, {h}]"),
            ));
        }
        let type0 = self
            .g
            .init_f32(&format!("{full}.row0"), &[h as i64], &tt[..h])
            .map_err(|e| self.io(e))?;
        let x = self
            .g
            .op("Gather", &[&words, "input_ids"], &[("axis", Attr::Int(0))]);
        let shape = self.g.op("Shape", &["input_ids"], &[]);
        let (one, two, zero) = (self.ints(&[1])?, self.ints(&[2])?, self.ints(&[0])?);
        let seq = self.g.op("Slice", &[&shape, &one, &two, &zero], &[]);
        let pos = self.g.op("Slice", &[&positions, &zero, &seq, &zero], &[]);
        let x = self.g.op("Add", &[&x, &pos], &[]);
        let x = self.g.op("Add", &[&x, &type0], &[]);
        let mut x = self.layer_norm(&x, "embeddings.LayerNorm")?;

        // The mask as floats, and as an additive bias [batch, 1, 1, sequence] on the scores.
        let maskf = self.g.op(
            "Cast",
            &["attention_mask"],
            &[("to", Attr::Int(DataType::Float as i64))],
        );
        let c1 = self.scalar(1.0)?;
        let big = self.scalar(10000.0)?;
        let m1 = self.g.op("Sub", &[&maskf, &c1], &[]);
        let bias = self.g.op("Mul", &[&m1, &big], &[]);
        let axes12 = self.ints(&[1, 2])?;
        let bias = self.g.op("Unsqueeze", &[&bias, &axes12], &[]);
        let split = self.ints(&[0, 0, heads as i64, hd as i64])?;
        let merge = self.ints(&[0, 0, h as i64])?;
        let scale = self.scalar(1.0 / (hd as f32).sqrt())?;
        let half = self.scalar(0.5)?;
        let inv_sqrt2 = self.scalar(std::f32::consts::FRAC_1_SQRT_2)?;

        for i in 0..self.cfg.layers {
            let a = format!("encoder.layer.{i}.");
            let heads_of = |s: &mut Self, name: &str, perm: &[i64]| -> Result<String, BertError> {
                let y = s.linear(&x, &format!("{a}attention.self.{name}"), h, h)?;
                let y = s.g.op("Reshape", &[&y, &split], &[]);
                Ok(s.g.op("Transpose", &[&y], &[("perm", Attr::Ints(perm.to_vec()))]))
            };
            let q = heads_of(&mut self, "query", &[0, 2, 1, 3])?;
            let k = heads_of(&mut self, "key", &[0, 2, 3, 1])?;
            let v = heads_of(&mut self, "value", &[0, 2, 1, 3])?;
            let s = self.g.op("MatMul", &[&q, &k], &[]);
            let s = self.g.op("Mul", &[&s, &scale], &[]);
            let s = self.g.op("Add", &[&s, &bias], &[]);
            let p = self.g.op("Softmax", &[&s], &[("axis", Attr::Int(-1))]);
            let o = self.g.op("MatMul", &[&p, &v], &[]);
            let o = self.g.op(
                "Transpose",
                &[&o],
                &[("perm", Attr::Ints(vec![0, 2, 1, 3]))],
            );
            let o = self.g.op("Reshape", &[&o, &merge], &[]);
            let o = self.linear(&o, &format!("{a}attention.output.dense"), h, h)?;
            let r = self.g.op("Add", &[&x, &o], &[]);
            x = self.layer_norm(&r, &format!("{a}attention.output.LayerNorm"))?;

            let f = self.cfg.intermediate;
            let u = self.linear(&x, &format!("{a}intermediate.dense"), h, f)?;
            let e = self.g.op("Mul", &[&u, &inv_sqrt2], &[]);
            let e = self.g.op("Erf", &[&e], &[]);
            let e = self.g.op("Add", &[&e, &c1], &[]);
            let gelu = self.g.op("Mul", &[&u, &e], &[]);
            let gelu = self.g.op("Mul", &[&gelu, &half], &[]);
            let d = self.linear(&gelu, &format!("{a}output.dense"), f, h)?;
            let r = self.g.op("Add", &[&x, &d], &[]);
            x = self.layer_norm(&r, &format!("{a}output.LayerNorm"))?;
        }

        // Mean over the unmasked positions, then L2 normalization.
        let axis2 = self.ints(&[2])?;
        let m3 = self.g.op("Unsqueeze", &[&maskf, &axis2], &[]);
        let xm = self.g.op("Mul", &[&x, &m3], &[]);
        let axis1 = self.ints(&[1])?;
        let sum = self
            .g
            .op("ReduceSum", &[&xm, &axis1], &[("keepdims", Attr::Int(0))]);
        let count = self
            .g
            .op("ReduceSum", &[&m3, &axis1], &[("keepdims", Attr::Int(0))]);
        let tiny = self.scalar(1e-9)?;
        let count = self.g.op("Max", &[&count, &tiny], &[]);
        let mean = self.g.op("Div", &[&sum, &count], &[]);
        self.g.node_named(
            "LpNormalization",
            "",
            &[&mean],
            &[EMBEDDING_OUTPUT],
            &[("axis", Attr::Int(-1)), ("p", Attr::Int(2))],
        );
        Ok(())
    }
}

//! GGUF to ONNX: [`convert`] turns a GGUF decoder (llama or qwen2 family) into a model folder
//! that isg's engine and ONNX Runtime GenAI load.
//!
//! The folder holds `model.onnx` (the graph, see [`decoder_graph`]), `model.onnx_data` (every
//! weight, in one external data file), `config.json`, `genai_config.json`, and the tokenizer
//! files. [`ConvertOptions`] picks the weight precision, which logits are computed and the KV
//! cache type; [`ConvertReport`] says what was written. The folder is assembled in a temporary
//! directory beside the destination and renamed into place at the end, so a half-finished
//! conversion is never mistaken for a finished one. [`width`] records the weight width and picks it
//! from the CPU's features; [`calibrate`] picks it by timing each width on this CPU.

pub mod bert;
pub mod calibrate;
pub mod config;
pub mod decoder_graph;
pub mod llama;
pub mod qwen2;
pub mod spec;
pub mod tokenizer_files;
pub mod weights;
pub mod width;

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use prost::Message;

use crate::gguf::{Gguf, GgufError};
use crate::onnx::build::GraphBuilder;
use decoder_graph::{DecoderGraph, GraphOptions};
use spec::{Family, ModelSpec};
use weights::WeightFormat;

/// The version of what a conversion writes (graph layout, weight encodings). Set-up model folders
/// record it, and one written by another version is converted again; raise it whenever the
/// converter's output changes.
pub const CONVERSION_VERSION: u32 = 3;

/// Weight precision of the converted projections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bits {
    /// `MatMulNBits` 4-bit (Q4_0, Q4_1 and Q4_K carried over exactly, others requantized).
    B4,
    /// `MatMulNBits` 8-bit.
    B8,
    /// 8-bit rows with one scale each, multiplied by `MatMulIntegerToFloat` against activations
    /// quantized row by row when the model runs (`--bits i8`).
    I8,
    /// `f16` weights (cast to `f32` when the session loads).
    B16,
    /// `f32` weights.
    B32,
}

impl Bits {
    /// From the number of bits (4, 8, 16, 32).
    pub fn from_number(n: u32) -> Option<Bits> {
        match n {
            4 => Some(Bits::B4),
            8 => Some(Bits::B8),
            16 => Some(Bits::B16),
            32 => Some(Bits::B32),
            _ => None,
        }
    }

    /// The name `--bits` takes: `4`, `8`, `i8`, `16`, `32`.
    pub fn name(self) -> &'static str {
        match self {
            Bits::B4 => "4",
            Bits::B8 => "8",
            Bits::I8 => "i8",
            Bits::B16 => "16",
            Bits::B32 => "32",
        }
    }

    /// What the weights are, for people: `8-bit rows (MatMulIntegerToFloat)`.
    pub fn describe(self) -> &'static str {
        match self {
            Bits::B4 => "4-bit blocks (MatMulNBits)",
            Bits::B8 => "8-bit blocks (MatMulNBits)",
            Bits::I8 => "8-bit rows (MatMulIntegerToFloat)",
            Bits::B16 => "f16",
            Bits::B32 => "f32",
        }
    }

    /// From a [`Bits::name`].
    pub fn from_name(name: &str) -> Option<Bits> {
        [Bits::B4, Bits::B8, Bits::I8, Bits::B16, Bits::B32]
            .into_iter()
            .find(|b| b.name() == name)
    }

    /// The number of bits.
    pub fn number(self) -> u32 {
        match self {
            Bits::B4 => 4,
            Bits::B8 | Bits::I8 => 8,
            Bits::B16 => 16,
            Bits::B32 => 32,
        }
    }
}

/// Which positions get logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogitsMode {
    /// Only the last position: `logits` is `[batch, 1, vocab]`.
    Last,
    /// Every position: `logits` is `[batch, sequence_length, vocab]`.
    All,
}

/// Element type of the KV cache (`past_key_values.*` / `present.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvCacheType {
    /// `float32`.
    F32,
    /// `float16`.
    F16,
}

/// Settings of a conversion.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    /// Weight precision.
    pub bits: Bits,
    /// Which logits the graph computes.
    pub logits: LogitsMode,
    /// KV cache type.
    pub kv_dtype: KvCacheType,
    /// Replace an existing output folder.
    pub force: bool,
}

/// The default precision for converted models: 8-bit `MatMulNBits` blocks.
///
/// Measured on the summarizer's workload (a 2,000-token prompt prefilled in pieces of 512, then
/// 30 decoded tokens) with SmolLM2-135M Q4_1 through ONNX Runtime 1.32, 2 threads, on the
/// 2-core development machine (busy with other work, so absolute figures are low; the order
/// held with 1 and 2 threads over repeated runs): 8 bits prefill 297 tok/s and decode 30 tok/s
/// (7.7 s per request), 4 bits 258 / 30.5 (8.7 s), `f32` 255 / 18 (9.5 s). Prefill dominates,
/// and 8-bit blocks are the fastest there; their requantization of Q4_1 costs little
/// (correlation with llama.cpp's logits 0.9988, against 0.9984 for exact 4-bit blocks).
pub const DEFAULT_BITS: Bits = Bits::B8;

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            bits: DEFAULT_BITS,
            logits: LogitsMode::Last,
            kv_dtype: KvCacheType::F32,
            force: false,
        }
    }
}

/// What a conversion produced.
#[derive(Debug, Clone)]
pub struct ConvertReport {
    /// The finished folder.
    pub out_dir: PathBuf,
    /// Model family.
    pub family: Family,
    /// Hyperparameters.
    pub spec: ModelSpec,
    /// Bytes of `model.onnx`.
    pub graph_bytes: u64,
    /// Bytes of `model.onnx_data`.
    pub data_bytes: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Whether tokenizer files were written.
    pub tokenizer_written: bool,
}

impl fmt::Display for ConvertReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "converted {} ({} layers, hidden {}, vocab {}) to {} in {:.1} s: model.onnx {:.1} MB, model.onnx_data {:.1} MB",
            self.family.name(),
            self.spec.n_layers,
            self.spec.hidden,
            self.spec.vocab,
            self.out_dir.display(),
            self.elapsed.as_secs_f64(),
            self.graph_bytes as f64 / 1e6,
            self.data_bytes as f64 / 1e6,
        )
    }
}

/// Why a conversion failed. Every message names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The GGUF could not be read.
    #[error(transparent)]
    Gguf(#[from] GgufError),
    /// The model's architecture is not one the converter knows.
    #[error("{path}: architecture {arch:?} is not supported (supported: {})", Family::SUPPORTED.join(", "))]
    UnsupportedArchitecture {
        /// The GGUF.
        path: PathBuf,
        /// `general.architecture`.
        arch: String,
    },
    /// A required metadata key is absent.
    #[error("{path}: metadata {key} is missing")]
    MissingMetadata {
        /// The GGUF.
        path: PathBuf,
        /// The key.
        key: String,
    },
    /// A metadata value is out of range or of the wrong type.
    #[error("{path}: metadata {key}: {reason}")]
    BadMetadata {
        /// The GGUF.
        path: PathBuf,
        /// The key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A required tensor is absent.
    #[error("{path}: tensor {name} is missing")]
    MissingTensor {
        /// The GGUF.
        path: PathBuf,
        /// The tensor.
        name: String,
    },
    /// A tensor has an unexpected shape or format.
    #[error("{path}: tensor {name}: {reason}")]
    BadTensor {
        /// The GGUF.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A model feature the converter does not implement.
    #[error("{path}: {what} is not supported")]
    Unsupported {
        /// The GGUF.
        path: PathBuf,
        /// The feature.
        what: String,
    },
    /// The output folder exists and `force` was not given.
    #[error("{path} already exists (pass --force to replace it)")]
    Exists {
        /// The folder.
        path: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The tokenizer files could not be built.
    #[error("{path}: tokenizer: {message}")]
    Tokenizer {
        /// The GGUF.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> ConvertError + '_ {
    move |source| ConvertError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads the hyperparameters of a supported GGUF model.
pub fn model_spec(gguf: &Gguf) -> Result<ModelSpec, ConvertError> {
    let arch = gguf.architecture().unwrap_or("");
    match Family::from_arch(arch) {
        Some(Family::Llama) => llama::spec(gguf),
        Some(Family::Qwen2) => qwen2::spec(gguf),
        None => Err(ConvertError::UnsupportedArchitecture {
            path: gguf.path().to_path_buf(),
            arch: arch.to_string(),
        }),
    }
}

/// Converts `gguf_path` into the model folder `out_dir`.
pub fn convert(
    gguf_path: &Path,
    out_dir: &Path,
    opts: &ConvertOptions,
) -> Result<ConvertReport, ConvertError> {
    let start = Instant::now();
    if out_dir.exists() && !opts.force {
        return Err(ConvertError::Exists {
            path: out_dir.to_path_buf(),
        });
    }
    let gguf = Gguf::open(gguf_path)?;
    let spec = model_spec(&gguf)?;

    let parent = match out_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_at(&parent))?;
    let name = out_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io_at(&tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(io_at(&tmp))?;
    let result = write_folder(&gguf, &spec, &tmp, opts);
    let tokenizer_written = match result {
        Ok(t) => t,
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    if out_dir.exists() {
        // `force` was given (checked above).
        fs::remove_dir_all(out_dir).map_err(io_at(out_dir))?;
    }
    fs::rename(&tmp, out_dir).map_err(io_at(out_dir))?;
    let size = |f: &str| fs::metadata(out_dir.join(f)).map(|m| m.len()).unwrap_or(0);
    Ok(ConvertReport {
        out_dir: out_dir.to_path_buf(),
        family: spec.family,
        graph_bytes: size("model.onnx"),
        data_bytes: size("model.onnx_data"),
        spec,
        elapsed: start.elapsed(),
        tokenizer_written,
    })
}

/// Writes every file of the folder into `dir`; returns whether tokenizer files were written.
/// How the projections of a model converted at `bits` are stored.
pub(crate) fn weight_format(bits: Bits) -> WeightFormat {
    match bits {
        Bits::B4 => WeightFormat::Int4,
        Bits::B8 => WeightFormat::Int8,
        Bits::I8 => WeightFormat::Int8Rows,
        Bits::B16 | Bits::B32 => WeightFormat::Float,
    }
}

fn write_folder(
    gguf: &Gguf,
    spec: &ModelSpec,
    dir: &Path,
    opts: &ConvertOptions,
) -> Result<bool, ConvertError> {
    let data_path = dir.join("model.onnx_data");
    let mut g = GraphBuilder::new(&data_path, "model.onnx_data").map_err(io_at(&data_path))?;
    let gopts = GraphOptions {
        format: weight_format(opts.bits),
        float16: opts.bits == Bits::B16,
        logits: opts.logits,
        kv: opts.kv_dtype,
    };
    DecoderGraph::new(gguf, spec, gopts, &mut g).build()?;
    let model = g
        .finish("main_graph", &[("", 21), ("com.microsoft", 1)])
        .map_err(io_at(&data_path))?;
    let onnx_path = dir.join("model.onnx");
    fs::write(&onnx_path, model.encode_to_vec()).map_err(io_at(&onnx_path))?;

    let write_json = |file: &str, v: serde_json::Value| {
        let p = dir.join(file);
        let text = serde_json::to_string_pretty(&v).expect("JSON values serialize");
        fs::write(&p, text + "\n").map_err(io_at(&p))
    };
    write_json("config.json", config::hf_config(spec))?;
    write_json("genai_config.json", config::genai_config(spec))?;
    write_tokenizer(gguf, dir)
}

/// Writes `tokenizer.json` and `tokenizer_config.json`.
///
/// Returns true when the files were written.
fn write_tokenizer(gguf: &Gguf, dir: &Path) -> Result<bool, ConvertError> {
    tokenizer_files::write_tokenizer_files(gguf, dir)
        .map(|_| true)
        .map_err(|e| ConvertError::Tokenizer {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })
}

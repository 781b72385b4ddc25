//! [`ModelReport`]: everything `isg inspect` learns about a model, serializable as JSON.

use std::path::PathBuf;

use serde::Serialize;

use super::verdict::Verdict;

/// What a model is and whether it will load, learned from its protobuf and file sizes alone.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModelReport {
    /// The `.onnx` file described.
    pub model_path: PathBuf,
    /// Size of the `.onnx` file in bytes.
    pub model_bytes: u64,
    /// How the file was chosen from a folder (absent when a file was given).
    pub folder: Option<FolderReport>,
    /// `producer_name` of the model.
    pub producer_name: String,
    /// `producer_version` of the model.
    pub producer_version: String,
    /// ONNX IR version.
    pub ir_version: i64,
    /// Operator sets imported, in file order.
    pub opsets: Vec<Opset>,
    /// Graph inputs that are not initializers.
    pub inputs: Vec<ValueReport>,
    /// Graph outputs.
    pub outputs: Vec<ValueReport>,
    /// Nodes per operator (main graph and subgraphs), most frequent first.
    pub ops: Vec<OpCount>,
    /// Total number of nodes counted in `ops`.
    pub node_count: usize,
    /// Initializer totals.
    pub initializers: InitializerSummary,
    /// Every external data file referenced, in order of first reference.
    pub external_files: Vec<ExternalFile>,
    /// Problems found; empty when the model should load.
    pub verdicts: Vec<Verdict>,
}

impl ModelReport {
    /// Bytes the weights occupy once loaded: inline plus external initializer data.
    pub fn weights_bytes(&self) -> u64 {
        self.initializers.inline_bytes + self.initializers.external_bytes
    }

    /// Whether no problem was found.
    pub fn is_ok(&self) -> bool {
        self.verdicts.is_empty()
    }
}

/// How a model file was picked from a folder.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FolderReport {
    /// The folder given.
    pub folder: PathBuf,
    /// Every `.onnx` candidate, as a `--variant` name (relative path without `.onnx`).
    pub candidates: Vec<String>,
    /// Why this file was picked: `only candidate`, `--variant`, `genai_config.json`.
    pub chosen_by: String,
    /// Whether `tokenizer.json` is present (and parses).
    pub tokenizer_json: bool,
    /// Whether `config.json` is present (and parses).
    pub config_json: bool,
    /// Whether `genai_config.json` is present (and parses).
    pub genai_config_json: bool,
    /// Layer count from the configs, when given.
    pub configured_layers: Option<u64>,
    /// `past_key_values.{i}.key` inputs found in the graph.
    pub past_key_inputs: usize,
}

/// One imported operator set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Opset {
    /// Domain; the default ONNX domain is written `ai.onnx`.
    pub domain: String,
    /// Version.
    pub version: i64,
}

/// A graph input or output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValueReport {
    /// Name.
    pub name: String,
    /// Element type, e.g. `float16`, `int64` (or `seq(float)` and the like for non-tensors).
    pub elem_type: String,
    /// Dimensions: a number, a symbolic name, or `?`; `None` when the rank is unknown.
    pub shape: Option<Vec<String>>,
}

/// How many nodes run one operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpCount {
    /// Domain (`ai.onnx` for the default domain, e.g. `com.microsoft` for contrib ops).
    pub domain: String,
    /// Operator type.
    pub op_type: String,
    /// Number of nodes.
    pub count: usize,
}

/// Initializer totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InitializerSummary {
    /// Initializers of the main graph.
    pub count: usize,
    /// Initializers and `Constant` tensors inside subgraphs (`If`, `Loop`, `Scan` bodies).
    pub in_subgraphs: usize,
    /// `Constant` nodes (main graph and subgraphs).
    pub constants: usize,
    /// Bytes stored inside the `.onnx` file.
    pub inline_bytes: u64,
    /// Bytes stored in external data files.
    pub external_bytes: u64,
    /// Tensors stored externally.
    pub external_count: usize,
}

/// One external data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalFile {
    /// The location as written in the model.
    pub location: String,
    /// Where it resolves: relative to the model file's folder, as ONNX Runtime does.
    pub resolved: PathBuf,
    /// Tensors stored in it.
    pub tensors: usize,
    /// Largest offset + length over those tensors.
    pub bytes_required: u64,
    /// The file's size, when it exists.
    pub bytes_present: Option<u64>,
    /// `ok`, `missing`, `short`, `symlink`, `unsafe location`, `in memory`.
    pub status: String,
}

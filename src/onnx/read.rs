//! Decoding a `.onnx` file into [`ModelProto`] without copying or touching tensor data.
//!
//! The file is memory-mapped and handed to prost as a [`Bytes`] that owns the map, so inline
//! `raw_data` fields become slices of the map (no copy, pages never read) and external data files
//! are never opened. Any byte string decodes to either a model or a [`Verdict`]: prost bounds
//! message nesting (100 levels) and checks every length against the bytes left, and the few
//! fields every real model has are checked afterwards.

use std::fs::File;
use std::path::Path;

use bytes::Bytes;
use memmap2::Mmap;
use prost::Message;

use super::proto::ModelProto;
use super::verdict::Verdict;

/// Files this small that start with this text are Git LFS pointers, not models.
const LFS_PREFIX: &[u8] = b"version https://git-lfs.github.com/spec/";

/// Memory-maps `path` and decodes it. Tensor payloads stay in the map.
pub fn read_model(path: &Path) -> Result<ModelProto, Verdict> {
    let unreadable = |e: std::io::Error| Verdict::Unreadable {
        path: path.to_path_buf(),
        cause: e.to_string(),
    };
    let file = File::open(path).map_err(unreadable)?;
    let len = file.metadata().map_err(unreadable)?.len();
    if len == 0 {
        return Err(Verdict::CorruptModel {
            path: path.to_path_buf(),
            cause: "the file is empty".into(),
        });
    }
    // SAFETY: the map is only read. A file truncated by another process while mapped would raise
    // SIGBUS; model files are not rewritten in place while isg inspects them.
    let map = unsafe { Mmap::map(&file) }.map_err(unreadable)?;
    decode_model(Bytes::from_owner(map)).map_err(|e| e.at(path))
}

/// Why a byte string is not a model, before a file name is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeFailure {
    /// A Git LFS pointer of this many bytes.
    LfsPointer(u64),
    /// Anything else, with the cause.
    Corrupt(String),
}

impl DecodeFailure {
    /// The verdict for file `path`.
    pub fn at(self, path: &Path) -> Verdict {
        match self {
            DecodeFailure::LfsPointer(size) => Verdict::LfsPointer {
                path: path.to_path_buf(),
                size,
            },
            DecodeFailure::Corrupt(cause) => Verdict::CorruptModel {
                path: path.to_path_buf(),
                cause,
            },
        }
    }
}

/// Decodes a model from bytes and checks that it looks like one (a graph, an IR version, an
/// opset import). Never panics, whatever the input.
pub fn decode_model(bytes: Bytes) -> Result<ModelProto, DecodeFailure> {
    if bytes.len() < 1024 && bytes.starts_with(LFS_PREFIX) {
        return Err(DecodeFailure::LfsPointer(bytes.len() as u64));
    }
    let model = ModelProto::decode(bytes)
        .map_err(|e| DecodeFailure::Corrupt(format!("protobuf decoding failed: {e}")))?;
    if model.graph.is_none() {
        return Err(DecodeFailure::Corrupt("no graph".into()));
    }
    if model.ir_version <= 0 {
        return Err(DecodeFailure::Corrupt(format!(
            "IR version {} is not valid",
            model.ir_version
        )));
    }
    if model.opset_import.is_empty() {
        return Err(DecodeFailure::Corrupt("no opset_import".into()));
    }
    Ok(model)
}

//! Errors of the GGUF reader.

use std::path::PathBuf;

/// Why a GGUF file could not be read. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    /// The file could not be opened or mapped.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with the `GGUF` magic.
    #[error("{path}: not a GGUF file (magic {found:02x?}, expected \"GGUF\")")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The first four bytes.
        found: [u8; 4],
    },
    /// A version this reader does not know (it reads 2 and 3).
    #[error("{path}: GGUF version {version} is not supported (versions 2 and 3 are)")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version found.
        version: u32,
    },
    /// The file ends before a structure it announces.
    #[error("{path}: truncated: {what} needs bytes up to offset {needed}, the file has {len}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What was being read.
        what: String,
        /// Offset one past the last byte needed.
        needed: u64,
        /// File length.
        len: u64,
    },
    /// A structure is inconsistent (absurd count, unknown value type, bad UTF-8, ...).
    #[error("{path}: malformed: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A tensor uses a block format this reader cannot decode.
    #[error("{path}: tensor {tensor}: type {ty} cannot be dequantized by isg")]
    UnsupportedType {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// The type's name.
        ty: String,
    },
}

//! GGUF files: the container llama.cpp and its ecosystem use for quantized models.
//!
//! The principal type is [`Gguf`], opened with [`Gguf::open`]: it memory-maps the file, parses
//! the header, every metadata value ([`Value`]) and every tensor description ([`TensorInfo`]),
//! and hands out each tensor's raw bytes ([`Gguf::tensor_bytes`]) or its values as `f32`
//! ([`Gguf::dequantize`], with the block formats in [`quant`]). Versions 2 and 3 are read;
//! nothing in a malformed file can make the reader panic or allocate without bound, every
//! failure is a [`GgufError`] that names the file.

mod error;
pub mod quant;
mod read;
mod value;
pub mod write;

pub use error::GgufError;
pub use quant::GgmlType;
pub use read::{Gguf, TensorInfo};
pub use value::Value;
pub use write::GgufWriter;

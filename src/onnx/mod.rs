//! ONNX models without ONNX Runtime: the protobuf types, a reader that never touches tensor data,
//! external-data accounting, and graph building for the converter.

pub mod build;

/// Protobuf types generated at build time from the ONNX schema (`onnx.proto`, IR version 10).
#[allow(clippy::all, missing_docs, rustdoc::all)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
}

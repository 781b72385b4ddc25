//! Models end to end: the GGUF reader and the converter, tokenizers, ONNX reading, checking and
//! loading, the engine, exporters' folders, `--device` and catalog provisioning.
//!
//! One test binary: each file below was a test binary of its own; the shared helpers are
//! declared once here.

#[macro_use]
#[path = "../prereq/mod.rs"]
mod prereq;
#[path = "../common/mod.rs"]
mod common;
#[path = "../onnx_models/mod.rs"]
mod onnx_models;
#[path = "../common/tokenizer_data.rs"]
mod tokenizer_data;

mod convert_qwen2;
mod convert_smollm2;
mod convert_tiny;
mod device_cli;
mod engine;
mod exports;
mod gguf_read;
mod onnx_inspect_cli;
mod onnx_load;
mod onnx_reader;
mod provision_catalog;
mod tokenizer_folders;
mod tokenizer_gguf;
mod tokenizer_spm;
mod tokenizer_tokio;
mod width_calibration;

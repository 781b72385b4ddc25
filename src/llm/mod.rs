//! Everything that runs a model: finding and loading ONNX Runtime ([`runtime`]), opening a model
//! folder, tokenizing and applying chat templates, and the generation engine.
//!
//! The principal type is the engine: it owns the ONNX Runtime session, the tokenizer and the KV
//! caches; requests (token ids or chat messages plus stopping rules) flow in, completions with
//! their timings flow out.

pub mod chat;
pub mod decoder;
pub mod device;
pub mod discover;
pub mod engine;
pub mod kv;
pub mod model;
pub mod probe;
pub mod runtime;
pub mod sample;
pub mod tokenizer;

//! `isg`, the interface summary generator: a one-line natural-language summary of every chunk of a
//! source tree, written by a small local LLM run in-process through ONNX Runtime.
//!
//! Data flows one way: [`source`] walks a tree and cuts files into chunks, [`pipeline`] turns
//! chunks into prompts and feeds them to the [`llm`] engine, and writes the summaries to sinks.
//! [`onnx`] reads and checks ONNX models without loading their weights, [`gguf`] reads GGUF files
//! and [`convert`] turns them into ONNX decoder folders. [`provision`] fetches ONNX Runtime and the
//! catalog models into isg's cache and resolves `--model` to a folder. [`process`] reads this
//! process's memory figures. [`search`] ranks an output folder's lines by meaning and [`mcp`]
//! serves them to agents over the Model Context Protocol.

#![warn(missing_docs)]

pub mod atomic_file;
pub mod bench;
pub mod convert;
pub mod eval;
pub mod gguf;
pub mod home;
pub mod llm;
pub mod mcp;
pub mod onnx;
pub mod output;
pub mod pipeline;
pub mod process;
pub mod provision;
pub mod record;
pub mod rollup;
pub mod run;
pub mod search;
pub mod source;

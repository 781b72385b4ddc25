//! `isg`, the interface summary generator: a one-line natural-language summary of every chunk of a
//! source tree, written by a small local LLM run in-process through ONNX Runtime.
//!
//! Data flows one way: [`source`] walks a tree and cuts files into chunks; [`run`] turns chunks
//! into prompts, feeds them to the [`llm`] engine and judges the answers into records;
//! [`rollup`] writes file, directory and root lines from them; [`output`] writes the records
//! (`summaries.jsonl`, `SUMMARY.md`, `index.html`, `run.json`) and cuts the map; [`pipeline`]
//! joins these stages (and merges shards). [`record`] holds what several stages share (records,
//! the run report, errors, the output lock) and imports none of them. [`onnx`] reads and checks
//! ONNX models without loading their weights, [`gguf`] reads GGUF files and [`convert`] turns
//! them into ONNX decoder folders. [`provision`] fetches ONNX Runtime and the catalog models
//! into isg's cache ([`home`]) and resolves `--model` to a folder. [`search`] ranks an output
//! folder's lines by meaning and [`mcp`] serves them to agents over the Model Context
//! Protocol; [`eval`] scores lines against authors' docs. Leaves: [`atomic_file`] (replacing a
//! file), [`chrf`] (character n-gram agreement of two lines), [`porter`] (the Porter stemmer), [`process`] (this process's memory figures).

#![warn(missing_docs)]

pub mod atomic_file;
pub mod bench;
pub mod chrf;
pub mod convert;
pub mod eval;
pub mod gguf;
pub mod home;
pub mod llm;
pub mod mcp;
pub mod onnx;
pub mod output;
pub mod pipeline;
pub mod porter;
pub mod process;
pub mod provision;
pub mod record;
pub mod rollup;
pub mod run;
pub mod search;
pub mod source;

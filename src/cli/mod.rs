//! Command-line front end: `clap` types stay here; each subcommand lives in its own file, turns
//! its flags into the library's settings structs and maps failures to messages and exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use isg::llm::Device;
use isg::llm::{Model, ModelSettings};
use isg::provision::SetupOptions;

mod bench;
mod cache;
mod convert;
mod doctor;
mod eval;
mod generate;
mod inspect;
mod map;
mod mcp;
mod merge;
mod models;
mod run_args;
mod search;
mod setup;
mod summarize;

/// Top-level flags shared by every subcommand.
#[derive(Parser, Debug)]
#[command(
    name = "isg",
    version,
    about = "One-line summaries of every chunk of a source tree, with a local LLM"
)]
pub struct Cli {
    /// Path to the ONNX Runtime shared library (overrides ORT_DYLIB_PATH and the search).
    #[arg(long, global = true, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// Where the model runs. `cuda` needs a build with `--features cuda` and the GPU build of
    /// ONNX Runtime; when either is missing, isg stops with an error rather than using the CPU.
    #[arg(long, global = true, value_enum, default_value_t = Device::Cpu)]
    pub device: Device,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Summarize every chunk of a source tree (the main job).
    Summarize(summarize::Args),
    /// Describe an ONNX model and check that it will load, without loading its weights.
    Inspect(inspect::Args),
    /// Convert a GGUF model into an ONNX decoder folder.
    Convert(convert::Args),
    /// Generate one completion, to check a model by hand.
    Generate(generate::Args),
    /// Measure prefill and decode speed, requests/min and peak memory.
    Bench(bench::Args),
    /// Fetch ONNX Runtime and a catalog model (default: the default model) into the cache.
    Setup(setup::Args),
    /// List the models isg can set up, their sizes and measured figures, and which are set up.
    Models(models::Args),
    /// Report what isg found: ONNX Runtime, cache directory, default model.
    Doctor(doctor::Args),
    /// Score summaries against the module docs of a source tree.
    Eval(eval::Args),
    /// Join the outputs of several shards into one set of files.
    Merge(merge::Args),
    /// Maintain the cache of an output folder (`isg cache gc`).
    Cache(cache::Args),
    /// Print the tree of file, directory and root lines cut to a token budget.
    Map(map::Args),
    /// Rank the lines of an output folder by meaning and by the words of paths and symbols.
    Search(search::Args),
    /// Serve an output folder to editors and agents: an MCP server over stdio.
    Mcp(mcp::Args),
}

/// Parses the command line, runs the subcommand and turns its outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let global = Global {
        ort_lib: cli.ort_lib,
        device: cli.device,
    };
    let result = match cli.command {
        Command::Summarize(a) => summarize::run(&global, a),
        Command::Inspect(a) => inspect::run(&global, a),
        Command::Convert(a) => convert::run(&global, a),
        Command::Generate(a) => generate::run(&global, a),
        Command::Bench(a) => bench::run(&global, a),
        Command::Setup(a) => setup::run(&global, a),
        Command::Models(a) => models::run(&global, a),
        Command::Doctor(a) => doctor::run(&global, a),
        Command::Eval(a) => eval::run(&global, a),
        Command::Merge(a) => merge::run(&global, a),
        Command::Cache(a) => cache::run(&global, a),
        Command::Map(a) => map::run(&global, a),
        Command::Search(a) => search::run(&global, a),
        Command::Mcp(a) => mcp::run(&global, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_line(&e));
            ExitCode::from(2)
        }
    }
}

/// Flags every subcommand may need.
#[derive(Debug, Clone)]
pub struct Global {
    /// `--ort-lib`, when given.
    pub ort_lib: Option<PathBuf>,
    /// `--device`.
    pub device: Device,
}

impl Global {
    /// Default model settings with the global flags applied.
    pub fn model_settings(&self) -> ModelSettings {
        ModelSettings {
            ort_lib: self.ort_lib.clone(),
            device: self.device,
            ..ModelSettings::default()
        }
    }

    /// Loads ONNX Runtime (fetching it when missing), resolves `--model` (a catalog name, a path,
    /// or the default model when `None`; catalog models are set up on first use) and opens it.
    pub fn open_model(
        &self,
        model: Option<&str>,
        settings: &ModelSettings,
    ) -> anyhow::Result<Model> {
        isg::provision::ensure_runtime(self.ort_lib.as_deref())?;
        // A device that cannot be had is reported before any model is set up.
        isg::llm::device::ensure(self.device)?;
        let dir = isg::provision::resolve_model(model, &SetupOptions::default())?;
        Model::open(&dir, settings)
    }
}

/// Renders an error and its causes as one line: "outer: inner: root".
pub fn error_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}

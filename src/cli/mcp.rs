//! `isg mcp`: serves an output folder to MCP clients (editors, coding agents) over stdio.

use std::path::PathBuf;
use std::process::ExitCode;

use super::Global;
use isg::run::DEFAULT_OUT_DIR;

/// Flags of `isg mcp`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The output folder of `isg summarize` or `isg merge` to serve (read-only).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_OUT_DIR)]
    pub out: PathBuf,
    /// A model folder (or its `tokenizer.json`) whose tokenizer the `map` tool counts tokens
    /// with; default: the model named in run.json, in isg's model cache.
    #[arg(long, value_name = "M")]
    pub model: Option<PathBuf>,
}

/// Runs `isg mcp` until the client closes stdin.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    // An absolute folder, so a client that changes directory cannot change what is served.
    let out = std::path::absolute(&args.out).unwrap_or(args.out);
    isg::mcp::serve_stdio(&out, global.ort_lib.as_deref(), args.model.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

//! `isg merge`: joins the output folders of `isg summarize --shard K/N` runs into one, then
//! writes the directory and root lines (which may span shards) with the shards' model.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::Global;
use isg::pipeline::missing_shards;
use isg::pipeline::{check_inputs, merge_shards};
use isg::run::Backend;

/// Flags of `isg merge`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output folders of the shard runs.
    #[arg(required = true, value_name = "DIR")]
    pub inputs: Vec<PathBuf>,
    /// Where the merged summaries.jsonl, SUMMARY.md, index.html and run.json go.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The shards' model (a catalog name or a folder), which writes the directory and root
    /// lines (default: the default model).
    #[arg(long, value_name = "M")]
    pub model: Option<String>,
    /// Join only: no directory or root lines, no model loaded.
    #[arg(long)]
    pub no_rollup: bool,
    /// Merge the shards given even when some of the partition's shards are missing (a warning
    /// names them); without it such a merge is refused and writes nothing.
    #[arg(long)]
    pub allow_missing: bool,
}

/// Runs `isg merge`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    // Refuse a bad set of inputs before loading a model.
    check_inputs(&args.inputs, args.allow_missing)
        .with_context(|| format!("merging into {}", args.out.display()))?;
    let model = if args.no_rollup {
        None
    } else {
        Some(global.open_model(args.model.as_deref(), &global.model_settings())?)
    };
    let backend = model.as_ref().map(|m| m as &dyn Backend);
    let report = merge_shards(&args.inputs, &args.out, backend, args.allow_missing)
        .with_context(|| format!("merging into {}", args.out.display()))?;
    let missing = missing_shards(&report.shards);
    eprintln!(
        "isg: merged {} folders: {} chunks in {} files into {}",
        args.inputs.len(),
        report.totals.chunks,
        report.totals.files,
        args.out.display()
    );
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|s| s.to_string()).collect();
        eprintln!(
            "warning: shards {} are missing; the merged output covers part of the tree",
            list.join(", ")
        );
    }
    if report.totals.failed > 0 {
        eprintln!(
            "error: {} chunks failed in the shard runs; rerun those shards to retry them",
            report.totals.failed
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

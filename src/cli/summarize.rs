//! `isg summarize`: flags in, [`SummarizeSettings`] out, then the run and its exit status.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::Global;
use super::run_args::RunArgs;
use isg::pipeline::settings::DEFAULT_OUT_DIR;
use isg::pipeline::sink::SUMMARIES_FILE;
use isg::pipeline::{Backend, Shard, SummarizeSettings, summarize};

/// Flags of `isg summarize`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The source tree (or a single file) to summarize.
    pub path: PathBuf,
    /// Output folder for summaries.jsonl, SUMMARY.md, run.json and the cache.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_OUT_DIR)]
    pub out: PathBuf,
    /// Summarize only shard K of N (files are assigned by a hash of their path).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Model, engine and prompt flags.
    #[command(flatten)]
    pub run: RunArgs,
}

impl Args {
    /// The library settings these flags ask for.
    pub fn settings(&self) -> SummarizeSettings {
        let mut s = self.run.settings(&self.path);
        s.out_dir = self.out.clone();
        s.shard = self.shard.unwrap_or(Shard::ALL);
        s
    }
}

/// Runs `isg summarize`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let settings = args.settings();
    let model: Box<dyn Backend> =
        Box::new(global.open_model(args.run.model.as_deref(), &args.run.model_settings(global))?);
    run_with(model.as_ref(), &settings, args.run.quiet)
}

/// Runs a summarize with an opened model and turns the outcome into an exit status.
fn run_with(
    backend: &dyn Backend,
    settings: &SummarizeSettings,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    let report = summarize(backend, settings)
        .with_context(|| format!("summarizing {}", settings.walk.root.display()))?;
    let t = &report.totals;
    let records = settings.out_dir.join(SUMMARIES_FILE);
    if !quiet {
        eprintln!(
            "isg: {} chunks in {} files ({} cached, {} computed, {} skipped files) in {:.1}s; \
             outputs in {}",
            t.chunks,
            t.files,
            t.cached,
            t.computed,
            report.skipped.len(),
            t.wall_seconds,
            settings.out_dir.display()
        );
    }
    if t.failed > 0 {
        eprintln!(
            "error: {} of {} chunks failed; their records in {} carry the error, rerun to retry them",
            t.failed,
            t.chunks,
            records.display()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

//! `isg summarize`: flags in, [`SummarizeSettings`] out, then the run and its exit status.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::Global;
use isg::pipeline::settings::{DEFAULT_MAX_NEW_TOKENS, DEFAULT_OUT_DIR, DEFAULT_PARALLEL};
use isg::pipeline::sink::SUMMARIES_FILE;
use isg::pipeline::{Backend, ProgressMode, Shard, SummarizeSettings, summarize};
use isg::source::{DEFAULT_MAX_LINES, View};

/// Flags of `isg summarize`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The source tree (or a single file) to summarize.
    pub path: PathBuf,
    /// Model folder or `.onnx` file (default: the built-in default model, set up on first use).
    #[arg(long, value_name = "M")]
    pub model: Option<PathBuf>,
    /// Output folder for summaries.jsonl, SUMMARY.md, run.json and the cache.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_OUT_DIR)]
    pub out: PathBuf,
    /// Requests kept in flight at once (the engine batches them).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PARALLEL)]
    pub parallel: usize,
    /// Longest chunk in lines.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_LINES)]
    pub max_lines: usize,
    /// Only files matching one of these globs (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip files and folders matching these globs (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// What the model reads of each chunk: code, code-doc-first-line, code-doc-first-line-only,
    /// interface or names (smaller views follow when a prompt does not fit).
    #[arg(long, value_name = "VIEW")]
    pub view: Option<View>,
    /// Longest prompt in tokens (default: the model's context minus --max-new-tokens).
    #[arg(long, value_name = "N")]
    pub max_prompt_tokens: Option<usize>,
    /// Cap on generated tokens per summary.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_NEW_TOKENS)]
    pub max_new_tokens: usize,
    /// Summarize only shard K of N (files are assigned by a hash of their path).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

impl Args {
    /// The library settings these flags ask for.
    pub fn settings(&self) -> SummarizeSettings {
        let mut s = SummarizeSettings::new(&self.path);
        s.walk.include = self.include.clone();
        s.walk.exclude = self.exclude.clone();
        s.out_dir = self.out.clone();
        s.max_lines = self.max_lines;
        if let Some(v) = self.view {
            s.view = v;
        }
        s.max_prompt_tokens = self.max_prompt_tokens;
        s.max_new_tokens = self.max_new_tokens;
        s.parallel = self.parallel.max(1);
        s.shard = self.shard.unwrap_or(Shard::ALL);
        s.progress = if self.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        };
        s
    }
}

/// Runs `isg summarize`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let settings = args.settings();
    let model = open_model(global, args.model.as_deref(), settings.parallel)?;
    run_with(model.as_ref(), &settings, args.quiet)
}

/// Opens the model (the default one when `model` is `None`) with `parallel` sequences in flight.
fn open_model(
    global: &Global,
    model: Option<&std::path::Path>,
    parallel: usize,
) -> anyhow::Result<Box<dyn Backend>> {
    let mut settings = isg::llm::model::ModelSettings::default();
    settings.engine.parallel = parallel;
    settings.ort_lib = global.ort_lib.clone();
    Ok(Box::new(isg::llm::model::Model::open(model, &settings)?))
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

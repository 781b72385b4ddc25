//! `isg summarize`: flags in, [`SummarizeSettings`] out, then the run and its exit status.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::Global;
use super::run_args::RunArgs;
use isg::output::SUMMARIES_FILE;
use isg::pipeline::summarize;
use isg::record::LockError;
use isg::record::Shard;
use isg::record::{OutputLock, Wait};
use isg::run::DEFAULT_OUT_DIR;
use isg::run::{Backend, SummarizeSettings};
use isg::source::DEFAULT_MAX_FILE_BYTES;

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
    /// Files larger than this many bytes are skipped (with the reason in run.json).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE_BYTES)]
    pub max_file_bytes: u64,
    /// When another run is writing to --out, wait for it to finish instead of stopping.
    #[arg(long)]
    pub wait: bool,
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
        s.wait_for_lock = self.wait;
        s.walk.max_file_bytes = self.max_file_bytes;
        s
    }
}

/// Runs `isg summarize`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let settings = args.settings();
    check_lock(&settings.out_dir, args.wait, args.run.quiet)?;
    // A stand-in model for the fault tests, only when ISG_TEST_BACKEND asks for it.
    let echo = stand_in(args.run.parallel)?;
    // The stand-in's lines are not worth embedding, unless a test of the vectors asks for it.
    let embed = echo.is_none() || std::env::var_os("ISG_TEST_EMBED").is_some_and(|v| v == "1");
    let model: Box<dyn Backend> = match echo {
        Some(echo) => echo,
        None => Box::new(
            global.open_model(args.run.model.as_deref(), &args.run.model_settings(global))?,
        ),
    };
    let code = run_with(model.as_ref(), &settings, args.run.quiet)?;
    if embed {
        embed_lines(global, &settings.out_dir, args.run.quiet);
    }
    Ok(code)
}

/// The stand-in model that `ISG_TEST_BACKEND` asks for, keeping `parallel` requests in flight;
/// an unknown value is an error.
#[cfg(feature = "test-support")]
fn stand_in(parallel: usize) -> anyhow::Result<Option<Box<dyn Backend>>> {
    let echo = isg::run::EchoBackend::from_env().map_err(anyhow::Error::msg)?;
    Ok(echo.map(|e| Box::new(e.with_parallel(parallel)) as Box<dyn Backend>))
}

/// Without the `test-support` feature there is no stand-in: the model is always loaded.
#[cfg(not(feature = "test-support"))]
fn stand_in(_parallel: usize) -> anyhow::Result<Option<Box<dyn Backend>>> {
    Ok(None)
}

/// Stops at once, before the model is loaded, when another run holds `out` (or waits for it
/// with `--wait`); says so when a lock left by a killed run is taken over. The run itself
/// locks the folder again for its whole length.
fn check_lock(out: &Path, wait: bool, quiet: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| {
        format!(
            "creating the output folder {}; check that its parent is writable",
            out.display()
        )
    })?;
    let lock = match OutputLock::acquire(out, Wait::No) {
        Err(LockError::Held { holder, .. }) if wait => {
            if !quiet {
                let who = holder.map_or_else(|| "another run".to_string(), |h| h.to_string());
                eprintln!("isg: waiting for the run holding {} ({who})", out.display());
            }
            OutputLock::acquire(out, Wait::Yes)?
        }
        other => other?,
    };
    if let Some(dead) = lock.taken_over()
        && !quiet
    {
        eprintln!(
            "isg: took over the lock of {} left by a run that died ({dead})",
            out.display()
        );
    }
    Ok(())
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

/// Computes the vectors of the lines `isg search` has not seen yet, when the embedding model is
/// set up (`isg setup` does it); otherwise the first search computes them. Then writes
/// `index.html`'s search files: the index with every line's vector and, when absent or made from
/// another model, the encoder. A failure here is reported and leaves the run's outcome alone.
fn embed_lines(global: &Global, out: &Path, quiet: bool) {
    let Some(model_dir) = isg::provision::installed_embedder(&isg::provision::cache_dir()) else {
        return;
    };
    let result = isg::search::open_embedder(global.ort_lib.as_deref(), 0)
        .and_then(|mut e| isg::search::embed_folder(out, &mut e));
    match result {
        Ok(c) if !quiet => eprintln!(
            "isg: search vectors: {} lines embedded, {} cached",
            c.computed, c.cached
        ),
        Ok(_) => {}
        Err(e) => {
            eprintln!(
                "warning: search vectors not computed ({e}); `isg search` computes them on first use"
            );
            return;
        }
    }
    match isg::search::page::write_page_files(out, Some(&model_dir)) {
        Ok(files) if !quiet => {
            if let Some(index) = files.index {
                let model = match files.model_written {
                    Some(bytes) => format!(
                        ", {} written ({:.1} MB)",
                        isg::search::page::SEARCH_MODEL_FILE,
                        bytes as f64 / 1e6
                    ),
                    None => String::new(),
                };
                eprintln!(
                    "isg: index.html search: {} lines{} in {} ({:.0} KB){model}",
                    index.docs,
                    if index.vectors { " with vectors" } else { "" },
                    isg::search::page::SEARCH_INDEX_FILE,
                    index.bytes as f64 / 1e3
                );
            }
        }
        Ok(_) => {}
        Err(e) => eprintln!(
            "warning: index.html's search files not written ({e}); the page ranks by words only"
        ),
    }
}

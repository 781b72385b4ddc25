//! `isg search QUERY`: the chunk, file and directory lines of an output folder ranked by
//! meaning and by the words of their paths and symbols.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use super::Global;
use isg::run::DEFAULT_OUT_DIR;
use isg::search::{FolderState, Searcher, open_embedder};

/// Flags of `isg search`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to look for, in words ("where are retries scheduled").
    pub query: String,
    /// The output folder of `isg summarize` or `isg merge`.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_OUT_DIR)]
    pub out: PathBuf,
    /// How many lines to print.
    #[arg(short = 'k', long = "top", value_name = "N", default_value_t = 10)]
    pub k: usize,
    /// One JSON object a line: kind, path, lines, score, summary.
    #[arg(long)]
    pub json: bool,
}

/// Runs `isg search`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if args.k == 0 {
        anyhow::bail!("-k 0: ask for at least one line (-k 1 or more)");
    }
    if args.query.trim().is_empty() {
        return Err(isg::search::SearchError::EmptyQuery.into());
    }
    let start = Instant::now();
    // A folder that is not there is reported before the encoder is loaded.
    FolderState::read(&args.out)?;
    let embedder = open_embedder(global.ort_lib.as_deref(), 1)?;
    let mut searcher = Searcher::open(&args.out, embedder)?;
    let load_ms = start.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let hits = searcher.search(&args.query, args.k)?;
    let query_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut out = std::io::stdout().lock();
    for h in &hits {
        if args.json {
            writeln!(out, "{}", serde_json::to_string(h)?)?;
        } else {
            let lines = h
                .lines
                .as_deref()
                .map(|l| format!(":{l}"))
                .unwrap_or_default();
            writeln!(
                out,
                "{:.3}  {} {}{}  {}",
                h.score, h.kind, h.path, lines, h.summary
            )?;
        }
    }
    let c = searcher.counts();
    eprintln!(
        "isg: {} results of {} lines in {query_ms:.1} ms (load {load_ms:.0} ms: {} vectors cached, {} computed{})",
        hits.len(),
        searcher.state().records.len(),
        c.cached,
        c.computed,
        if c.computed > 0 && !c.written {
            ", kept in memory: a run holds the folder, or it is not writable"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

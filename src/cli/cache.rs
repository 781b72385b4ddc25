//! `isg cache gc`: drops the cache entries the last run did not use.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::Global;
use isg::record::Wait;
use isg::run::DEFAULT_OUT_DIR;
use isg::run::collect_garbage;

/// Flags of `isg cache`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to do with the cache.
    #[command(subcommand)]
    pub command: CacheCommand,
}

/// The `isg cache` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum CacheCommand {
    /// Compact the cache of an output folder to the entries its last run used: entries of
    /// chunks no longer in the tree, of another model or prompt version, duplicates and bad
    /// lines are dropped. The file is replaced atomically.
    Gc {
        /// The output folder whose cache is compacted.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_OUT_DIR)]
        out: PathBuf,
        /// Wait for a run writing to the folder to finish instead of stopping at once.
        #[arg(long)]
        wait: bool,
    },
}

/// Runs `isg cache`.
pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        CacheCommand::Gc { out, wait } => {
            let wait = if wait { Wait::Yes } else { Wait::No };
            let done = collect_garbage(&out, wait)
                .with_context(|| format!("compacting the cache of {}", out.display()))?;
            match done {
                Some(c) => eprintln!(
                    "isg: cache of {}: {} lines ({} bytes) -> {} lines ({} bytes)",
                    out.display(),
                    c.lines_before,
                    c.bytes_before,
                    c.lines_after,
                    c.bytes_after
                ),
                None => eprintln!(
                    "isg: no completed run in {} recorded which cache entries it used; run \
                     `isg summarize` to completion first (nothing was dropped)",
                    out.display()
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

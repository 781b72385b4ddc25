//! `isg summarize`.

use std::process::ExitCode;

use super::Global;

/// Flags of `isg summarize`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs `isg summarize`.
pub fn run(_global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("isg summarize is not available yet")
}

//! `isg generate`.

use std::process::ExitCode;

use super::Global;

/// Flags of `isg generate`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs `isg generate`.
pub fn run(_global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("isg generate is not available yet")
}

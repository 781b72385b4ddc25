//! `isg bench`.

use std::process::ExitCode;

use super::Global;

/// Flags of `isg bench`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs `isg bench`.
pub fn run(_global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("isg bench is not available yet")
}

//! `isg eval`.

use std::process::ExitCode;

use super::Global;

/// Flags of `isg eval`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs `isg eval`.
pub fn run(_global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("isg eval is not available yet")
}

//! `isg merge`.

use std::process::ExitCode;

use super::Global;

/// Flags of `isg merge`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs `isg merge`.
pub fn run(_global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("isg merge is not available yet")
}

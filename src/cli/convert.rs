//! `isg convert`.

use std::process::ExitCode;

use super::Global;

/// Flags of `isg convert`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs `isg convert`.
pub fn run(_global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("isg convert is not available yet")
}

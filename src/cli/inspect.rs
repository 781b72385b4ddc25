//! `isg inspect`.

use std::process::ExitCode;

use super::Global;

/// Flags of `isg inspect`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs `isg inspect`.
pub fn run(_global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("isg inspect is not available yet")
}

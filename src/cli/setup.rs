//! `isg setup`.

use std::process::ExitCode;

use super::Global;

/// Flags of `isg setup`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs `isg setup`.
pub fn run(_global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("isg setup is not available yet")
}

//! `isg doctor`.

use std::process::ExitCode;

use super::Global;

/// Flags of `isg doctor`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs `isg doctor`.
pub fn run(_global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("isg doctor is not available yet")
}

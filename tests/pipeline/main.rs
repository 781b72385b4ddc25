//! The summarize pipeline end to end: the run's plumbing, cache, roll-up, outputs and merge with
//! stand-in engines, faults and hostile inputs through the binary, `isg eval`, the real model on
//! tokio, the Slurm recipe.
//!
//! One test binary: each file below was a test binary of its own; the shared helpers are
//! declared once here.

#[macro_use]
#[path = "../prereq/mod.rs"]
mod prereq;
#[path = "../pipeline_common/mod.rs"]
mod pipeline_common;

mod eval_cli;
mod eval_scores;
mod faults_inputs;
mod faults_runs;
mod merge_missing_shards;
mod pipeline_cache;
mod pipeline_output;
mod pipeline_rollup;
mod pipeline_run;
mod pipeline_trust;
mod slurm;
mod summarize_e2e;

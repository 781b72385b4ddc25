//! `isg bench`: engine throughput and memory at several concurrency levels.

use std::path::PathBuf;
use std::process::ExitCode;

use super::Global;
use isg::bench::{BenchSettings, run as run_bench};
use isg::llm::{EngineConfig, ModelSettings};

/// Flags of `isg bench`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Catalog model name (see `isg models`), model folder or .onnx file (default: the default
    /// catalog model, set up on first use).
    #[arg(long, value_name = "M")]
    model: Option<String>,
    /// Concurrency levels, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,4,20")]
    parallel: Vec<usize>,
    /// Tokens per prompt.
    #[arg(long, default_value_t = 2000)]
    prompt_tokens: usize,
    /// Tokens generated per request.
    #[arg(long, default_value_t = 32)]
    new_tokens: usize,
    /// Memory budget, e.g. 4G or 3500M.
    #[arg(long, default_value = "4G")]
    max_memory: String,
    /// Prompt tokens per prefill run.
    #[arg(long, default_value_t = isg::llm::DEFAULT_PREFILL_CHUNK)]
    prefill_chunk: usize,
    /// ONNX Runtime sessions sharing the streams (and one container of pre-packed weights);
    /// each gets an equal share of the streams, the memory budget and the cores.
    #[arg(long, default_value_t = 1)]
    sessions: usize,
    /// Write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Parses `4G`, `3500M`, `512K` or a plain byte count.
pub fn parse_bytes(s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last() {
        Some('G' | 'g') => (&s[..s.len() - 1], 1u64 << 30),
        Some('M' | 'm') => (&s[..s.len() - 1], 1 << 20),
        Some('K' | 'k') => (&s[..s.len() - 1], 1 << 10),
        _ => (s, 1),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("`{s}` is not a size like 4G, 3500M or 1000000"))?;
    Ok((v * mult as f64) as u64)
}

/// Runs `isg bench`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let max_parallel = args.parallel.iter().copied().max().unwrap_or(1);
    let settings = ModelSettings {
        engine: EngineConfig {
            parallel: max_parallel,
            prefill_chunk: args.prefill_chunk,
            max_memory: parse_bytes(&args.max_memory)?,
            max_context: args.prompt_tokens + args.new_tokens,
        },
        sessions: args.sessions,
        ..global.model_settings()
    };
    let model = global.open_model(args.model.as_deref(), &settings)?;
    eprintln!(
        "model {} (load {:.2} s), {} prompt tokens, {} new tokens per request",
        model.id(),
        model.load_seconds(),
        args.prompt_tokens,
        args.new_tokens
    );
    let report = run_bench(
        &model,
        &BenchSettings {
            parallel: args.parallel.clone(),
            prompt_tokens: args.prompt_tokens,
            new_tokens: args.new_tokens,
        },
        |line| eprintln!("{line}"),
    )?;
    println!(
        "{:>8} {:>8} {:>8} {:>12} {:>12} {:>12} {:>10} {:>12}",
        "parallel",
        "sessions",
        "prompt",
        "prefill t/s",
        "decode t/s",
        "requests/min",
        "wall s",
        "peak RSS MB"
    );
    for r in &report.rows {
        println!(
            "{:>8} {:>8} {:>8} {:>12.0} {:>12.1} {:>12.1} {:>10.1} {:>12.0}",
            r.parallel,
            r.sessions,
            r.prompt_tokens,
            r.prefill_tok_s,
            r.decode_tok_s,
            r.requests_per_min,
            r.wall_s,
            r.peak_rss_mb
        );
    }
    println!(
        "plain ONNX Runtime prefill: {:.0} tok/s (engine/plain at parallel {}: {:.2})",
        report.plain_prefill_tok_s,
        report.rows.first().map(|r| r.parallel).unwrap_or(0),
        report
            .rows
            .first()
            .map(|r| r.prefill_tok_s / report.plain_prefill_tok_s)
            .unwrap_or(0.0)
    );
    if let (Some(one), Some(many)) = (
        report.rows.iter().find(|r| r.parallel == 1),
        report.rows.iter().max_by_key(|r| r.parallel),
    ) {
        println!(
            "aggregate decode at parallel {} vs 1: {:.2}x",
            many.parallel,
            many.decode_tok_s / one.decode_tok_s
        );
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report.rows)?)?;
        eprintln!("figures written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

//! `isg bench`: prefill and decode throughput, requests per minute and peak memory of the engine
//! at several concurrency levels, on prompts cut from real Rust source (isg's own, compiled in).
//!
//! For each concurrency `P`, `P` requests of `prompt_tokens` tokens and exactly `new_tokens`
//! generated tokens are submitted at once after a warm-up; the figures come from the engine's own
//! counters. A plain ONNX Runtime run of one prompt (no pool, no engine) is measured first as the
//! baseline the engine's prefill is compared with.

use std::time::Instant;

use serde::Serialize;

use crate::llm::{Model, Request, Sampling};

/// Real Rust source the prompts are cut from.
const CORPUS: &[&str] = &[
    include_str!("llm/engine.rs"),
    include_str!("llm/session_runner.rs"),
    include_str!("llm/kv.rs"),
    include_str!("llm/runtime.rs"),
    include_str!("llm/sample.rs"),
    include_str!("llm/model.rs"),
    include_str!("provision/cache.rs"),
    include_str!("bench.rs"),
];

/// Bench settings.
#[derive(Debug, Clone)]
pub struct BenchSettings {
    /// Concurrency levels to measure.
    pub parallel: Vec<usize>,
    /// Tokens per prompt.
    pub prompt_tokens: usize,
    /// Tokens generated per request.
    pub new_tokens: usize,
}

/// Figures for one concurrency level.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    /// Requests in flight.
    pub parallel: usize,
    /// ONNX Runtime sessions sharing them.
    pub sessions: usize,
    /// Tokens per prompt.
    pub prompt_tokens: usize,
    /// Tokens generated per request.
    pub new_tokens: usize,
    /// Prompt tokens per second in prefill runs (all sessions together).
    pub prefill_tok_s: f64,
    /// Generated tokens per second, all streams together.
    pub decode_tok_s: f64,
    /// Completed requests per minute of wall time.
    pub requests_per_min: f64,
    /// Wall seconds for the batch of requests.
    pub wall_s: f64,
    /// Peak resident memory (MB) during this level.
    pub peak_rss_mb: f64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Model id.
    pub model: String,
    /// Plain ONNX Runtime prefill of one prompt (tokens/s), the baseline.
    pub plain_prefill_tok_s: f64,
    /// One row per concurrency.
    pub rows: Vec<BenchRow>,
}

/// Cuts `count` prompts of `len` tokens from the corpus, each starting at a different place.
pub fn prompts(model: &Model, count: usize, len: usize) -> anyhow::Result<Vec<Vec<u32>>> {
    let text: String = CORPUS.concat();
    let ids = model.tokenizer().encode(&text, false)?;
    let mut out = Vec::with_capacity(count);
    let stride = (ids.len().saturating_sub(len) / count.max(1)).max(1);
    for i in 0..count {
        let start = (i * stride) % ids.len().saturating_sub(len).max(1);
        let mut p: Vec<u32> = ids.iter().cycle().skip(start).take(len).copied().collect();
        p.truncate(len);
        out.push(p);
    }
    Ok(out)
}

/// Resets the kernel's peak-RSS counter of this process (Linux `clear_refs`).
pub fn reset_peak_rss() {
    crate::process::reset_peak();
}

/// Peak resident memory of this process in MB (`VmHWM`).
pub fn peak_rss_mb() -> f64 {
    mb(crate::process::peak_resident_bytes())
}

/// Current resident memory of this process in MB (`VmRSS`).
pub fn rss_mb() -> f64 {
    mb(crate::process::resident_bytes())
}

fn mb(bytes: Option<u64>) -> f64 {
    bytes.map_or(0.0, |b| b as f64 / (1024.0 * 1024.0))
}

/// Runs the benchmark; `progress` receives one line per finished level.
pub fn run(
    model: &Model,
    settings: &BenchSettings,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<BenchReport> {
    let request = |prompt: Vec<u32>| Request {
        prompt,
        max_new_tokens: settings.new_tokens,
        stop_at_newline: false,
        sampling: Sampling::Greedy,
        shared_prefix: 0,
        ignore_eos: true,
        stop_when: None,
    };
    // Warm-up: one short request through the whole path.
    let warm = prompts(model, 1, settings.prompt_tokens.min(128))?;
    for _ in 0..model.sessions() {
        model.generate(request(warm[0].clone()))?;
    }

    let plain_prefill_tok_s = {
        let p = prompts(model, 1, settings.prompt_tokens)?.remove(0);
        let secs = crate::llm::plain_prefill_seconds(model.onnx_path(), &p, model.device())?;
        p.len() as f64 / secs
    };
    progress(&format!(
        "plain ONNX Runtime prefill of {} tokens: {:.0} tok/s",
        settings.prompt_tokens, plain_prefill_tok_s
    ));

    let mut rows = Vec::new();
    for &p in &settings.parallel {
        reset_peak_rss();
        let before = model.stats();
        let start = Instant::now();
        let pending: Vec<_> = prompts(model, p, settings.prompt_tokens)?
            .into_iter()
            .map(|pr| model.submit(request(pr)))
            .collect();
        for r in pending {
            r.wait()?;
        }
        let wall = start.elapsed().as_secs_f64();
        let after = model.stats();
        // With several sessions their run times overlap: the aggregate rate divides the tokens
        // by the seconds of one session's share.
        let k = model.sessions().min(p).max(1) as f64;
        let row = BenchRow {
            parallel: p,
            sessions: model.sessions(),
            prompt_tokens: settings.prompt_tokens,
            new_tokens: settings.new_tokens,
            prefill_tok_s: (after.prefill_tokens - before.prefill_tokens) as f64
                / ((after.prefill_seconds - before.prefill_seconds) / k).max(1e-9),
            decode_tok_s: (after.decode_tokens - before.decode_tokens) as f64
                / ((after.decode_seconds - before.decode_seconds) / k).max(1e-9),
            requests_per_min: p as f64 / wall * 60.0,
            wall_s: wall,
            peak_rss_mb: peak_rss_mb(),
        };
        progress(&format!(
            "parallel {:>3}: prefill {:>6.0} tok/s, decode {:>6.1} tok/s, {:>6.1} requests/min, peak RSS {:>6.0} MB",
            row.parallel,
            row.prefill_tok_s,
            row.decode_tok_s,
            row.requests_per_min,
            row.peak_rss_mb
        ));
        rows.push(row);
    }
    Ok(BenchReport {
        model: model.id().to_string(),
        plain_prefill_tok_s,
        rows,
    })
}

//! One summarize run from end to end: the tree walked and chunked, the chunk stage of
//! [`crate::run`] (cache lookup, prompts, engine, judged lines, each record to the sinks as it
//! finishes), the roll-up of [`crate::rollup`] (file, directory and root lines), the cache
//! kept sound, and the [`RunReport`] with every record in source order to the sinks of
//! [`crate::output`].

use std::collections::HashSet;
use std::time::Instant;

use super::standard_sinks::standard_sinks;
use crate::llm::EngineStats;
use crate::output::SummarySink;
use crate::record::{
    OutputLock, PipelineError, Reduction, RunReport, Shard, SummaryRecord, Times, Totals, Wait,
    peak_rss_bytes,
};
use crate::rollup::{
    DEFAULT_ROLLUP_PROMPT_TOKENS, Levels, Rollup, RollupSettings, roll_up, root_name,
};
use crate::run::{
    Backend, Cache, DEFAULT_DESIGN, KeySettings, Lookup, PROMPT_VERSION, Plan, Progress,
    SAMPLE_TEMPERATURE, SAMPLE_TOP_P, SUPPORT_WEIGHT, Scope, SummarizeSettings, failpoint,
    write_live_keys,
};
use crate::source::{
    AuthoredDocs, Chunk, FileChange, Walk, authored_docs, changes_since, chunk_files, walk_between,
};

/// Runs `settings` on `backend` and writes the standard outputs (`summaries.jsonl`,
/// `SUMMARY.md`, `run.json`) to `settings.out_dir`.
pub fn summarize(
    backend: &dyn Backend,
    settings: &SummarizeSettings,
) -> Result<RunReport, PipelineError> {
    let mut sinks = standard_sinks(&settings.out_dir);
    summarize_into(backend, settings, &mut sinks)
}

/// Runs `settings` on `backend`, feeding `sinks`.
pub fn summarize_into(
    backend: &dyn Backend,
    settings: &SummarizeSettings,
    sinks: &mut [Box<dyn SummarySink>],
) -> Result<RunReport, PipelineError> {
    let start = Instant::now();
    let mut times = Times::default();
    let out = &settings.out_dir;
    std::fs::create_dir_all(out).map_err(|e| PipelineError::io("creating", out, e))?;
    let wait = if settings.wait_for_lock {
        Wait::Yes
    } else {
        Wait::No
    };
    let _lock = OutputLock::acquire(out, wait)?;
    let (tree, docs, chunks) = read_tree(settings, &mut times)?;

    let model = backend.model_id();
    let plan = Plan::new(backend, settings)?;
    let prompt_version = prompt_version(&settings.design);
    let key_settings = key_settings(settings, &model, &prompt_version, plan.max_prompt_tokens());
    let t = Instant::now();
    let scope = Scope {
        model: model.clone(),
        prompt_version: PROMPT_VERSION.to_string(),
    };
    let mut cache = Cache::open_scoped(out, scope)?;
    let authored = (!settings.ask_documented).then_some(&docs);
    let mut lookup = Lookup::new(&chunks, &key_settings, &cache, authored);
    let known = lookup.known();
    for sink in sinks.iter_mut() {
        sink.begin(&known)?;
    }
    times.write += t.elapsed().as_secs_f64();

    let stats_before = backend.stats();
    let mut progress = Progress::new(settings.progress, chunks.len() as u64, known.len() as u64);
    let computed = plan.compute(
        backend,
        &chunks,
        &mut lookup,
        &mut cache,
        sinks,
        &mut progress,
    );
    progress.finish();
    let computed = computed?;
    times.write += computed.write_seconds;

    let keys = lookup.keys().to_vec();
    let mut records = lookup.into_records();
    let rolled = rollup_after_chunks(backend, &records, &docs, settings, &model, &mut cache)?;
    let t = Instant::now();
    // The roll-up's entries are as live as the chunks' for compaction.
    let mut live_keys = keys;
    // Lines taken from the authors or an only child have no cache entry (no key).
    live_keys.extend(
        rolled
            .records
            .iter()
            .filter(|r| !r.hash.is_empty())
            .map(|r| r.hash.clone()),
    );
    keep_cache(out, &mut cache, &live_keys, &progress)?;
    let changed = changed_during(&tree, settings, &progress);
    let stats = stats_delta(&stats_before, &backend.stats());
    times.tokenize = computed.tokenize_seconds;
    // Sessions run side by side: their summed seconds divided by their number is the time taken.
    let sessions = stats.sessions.max(1) as f64;
    times.prefill = stats.prefill_seconds / sessions;
    times.decode = stats.decode_seconds / sessions;
    let mut report = RunReport {
        isg_version: env!("CARGO_PKG_VERSION").to_string(),
        model,
        prompt_version,
        root: settings.walk.root.display().to_string(),
        shards: vec![settings.shard],
        settings: settings_json(settings, plan.max_prompt_tokens(), backend.parallel()),
        totals: totals(&records, tree.files.len(), &stats, computed.retry_tokens),
        times,
        engine: serde_json::to_value(&stats).unwrap_or_default(),
        cache: serde_json::to_value(cache.load()).unwrap_or_default(),
        skipped: tree.skipped,
        merged_from: Vec::new(),
        changed,
        rollup: None,
    };
    report.totals.wall_seconds = start.elapsed().as_secs_f64();
    report.totals.chunks_per_min =
        report.totals.computed as f64 * 60.0 / report.totals.wall_seconds.max(1e-9);
    report.rollup = Some(rolled.stats);
    records.extend(rolled.records);
    report.times.write += t.elapsed().as_secs_f64();
    failpoint::hit("finishing");
    for sink in sinks.iter_mut() {
        sink.finish(&records, &report)?;
    }
    Ok(report)
}

/// The tree of `settings` walked (the shard's files only), what its authors wrote (from the
/// whole tree: every shard reads the same) and its chunks.
fn read_tree(
    settings: &SummarizeSettings,
    times: &mut Times,
) -> Result<(Walk, AuthoredDocs, Vec<Chunk>), PipelineError> {
    let t = Instant::now();
    let mut tree = walk_between(&settings.walk, || failpoint::stop("listed"))?;
    let docs = authored_docs(
        &settings.walk.root,
        &tree.files,
        &root_name(&settings.walk.root),
    );
    tree.files.retain(|f| settings.shard.contains(&f.path));
    tree.skipped.retain(|s| settings.shard.contains(&s.path));
    times.walk = t.elapsed().as_secs_f64();
    failpoint::hit("walked");

    let t = Instant::now();
    let chunks = chunk_files(&tree.files, settings.max_lines.max(1));
    times.chunk = t.elapsed().as_secs_f64();
    Ok((tree, docs, chunks))
}

/// What a chunk's cache key is made of besides its text.
fn key_settings(
    settings: &SummarizeSettings,
    model: &str,
    prompt_version: &str,
    max_prompt_tokens: usize,
) -> KeySettings {
    KeySettings {
        model: model.to_string(),
        prompt_version: prompt_version.to_string(),
        view: settings.view,
        max_prompt_tokens,
        max_new_tokens: settings.max_new_tokens,
        sampling: sampling_name(settings),
    }
}

/// The decoding rule of a run's cache keys: `greedy`, or the greedy answer with the sampled
/// ones it was chosen among, and whether second looks were taken.
fn sampling_name(settings: &SummarizeSettings) -> String {
    let mut name = "greedy".to_string();
    if settings.candidates > 1 {
        name.push_str(&format!(
            ", {} sampled at t {SAMPLE_TEMPERATURE} p {SAMPLE_TOP_P}, chosen by agreement and support {SUPPORT_WEIGHT}",
            settings.candidates - 1
        ));
    }
    if settings.second_look {
        name.push_str(", second look");
    }
    name
}

/// The files of the shard that changed while the run read them; a warning names them.
fn changed_during(
    tree: &Walk,
    settings: &SummarizeSettings,
    progress: &Progress,
) -> Vec<FileChange> {
    let changed: Vec<FileChange> = changes_since(tree, &settings.walk)
        .into_iter()
        .filter(|c| settings.shard.contains(&c.path))
        .collect();
    if !changed.is_empty() {
        let list: Vec<String> = changed.iter().take(5).map(|c| c.to_string()).collect();
        progress.println(&format!(
            "isg: warning: {} files changed during the run: {}{}; the outputs describe them as \
             they were read, and run.json lists them; rerun to update them",
            changed.len(),
            list.join(", "),
            if changed.len() > 5 { ", ..." } else { "" }
        ));
    }
    changed
}

/// Keeps the cache sound at the end of a run: rewrites it from memory (and says so) when the
/// output folder was deleted under the run, compacts it when dead lines pass half of it, and
/// records the keys this run used for `isg cache gc`.
fn keep_cache(
    out: &std::path::Path,
    cache: &mut Cache,
    keys: &[String],
    progress: &Progress,
) -> Result<(), PipelineError> {
    if !cache.path().exists() {
        progress.println(&format!(
            "isg: warning: {} was deleted during the run; writing the cache and outputs again",
            out.display()
        ));
        cache.rewrite()?;
    }
    let live: HashSet<&str> = keys.iter().map(String::as_str).collect();
    cache.compact_if_needed(&live)?;
    write_live_keys(out, live.iter().copied())
}

/// The roll-up of the chunk records: files, directories and the root; files only in a shard
/// run, whose directories may continue in other shards (`isg merge` rolls those up).
fn rollup_after_chunks(
    backend: &dyn Backend,
    records: &[SummaryRecord],
    docs: &AuthoredDocs,
    settings: &SummarizeSettings,
    model: &str,
    cache: &mut Cache,
) -> Result<Rollup, PipelineError> {
    let room = backend.context().saturating_sub(settings.max_new_tokens);
    let rollup_settings = RollupSettings {
        model: model.to_string(),
        docs: docs.clone(),
        max_new_tokens: settings.max_new_tokens,
        max_prompt_tokens: room.min(DEFAULT_ROLLUP_PROMPT_TOKENS),
        levels: if settings.shard == Shard::ALL {
            Levels::All
        } else {
            Levels::Files
        },
    };
    roll_up(backend, records, &rollup_settings, cache)
}

/// The prompt version a run records and keys its cache on: [`PROMPT_VERSION`], and the design
/// when it is not the default.
fn prompt_version(design: &str) -> String {
    if design == DEFAULT_DESIGN {
        PROMPT_VERSION.to_string()
    } else {
        format!("{PROMPT_VERSION}/{design}")
    }
}

/// The engine's work between two snapshots.
fn stats_delta(before: &EngineStats, after: &EngineStats) -> EngineStats {
    EngineStats {
        prefill_tokens: after.prefill_tokens - before.prefill_tokens.min(after.prefill_tokens),
        prefill_seconds: (after.prefill_seconds - before.prefill_seconds).max(0.0),
        decode_tokens: after.decode_tokens - before.decode_tokens.min(after.decode_tokens),
        decode_seconds: (after.decode_seconds - before.decode_seconds).max(0.0),
        decode_steps: after.decode_steps - before.decode_steps.min(after.decode_steps),
        peak_in_flight: after.peak_in_flight,
        reused_prefix_tokens: after.reused_prefix_tokens
            - before.reused_prefix_tokens.min(after.reused_prefix_tokens),
        sessions: after.sessions,
    }
}

/// Counts over the final records.
fn totals(
    records: &[SummaryRecord],
    files: usize,
    stats: &EngineStats,
    retry_prompt_tokens: u64,
) -> Totals {
    let computed: Vec<&SummaryRecord> = records
        .iter()
        .filter(|r| !r.cached && !r.failed())
        .collect();
    Totals {
        files,
        chunks: records.len(),
        cached: records.iter().filter(|r| r.cached).count(),
        computed: computed.len(),
        authored: records.iter().filter(|r| r.origin.is_some()).count(),
        failed: records.iter().filter(|r| r.failed()).count(),
        rejected: records.iter().filter(|r| r.rejected.is_some()).count(),
        retried: records.iter().filter(|r| r.attempts > 1).count(),
        fallback: records.iter().filter(|r| r.fallback).count(),
        retry_prompt_tokens,
        reduced: records
            .iter()
            .filter(|r| r.reduction == Reduction::View)
            .count(),
        elided: records
            .iter()
            .filter(|r| r.reduction == Reduction::Elided)
            .count(),
        prompt_tokens: computed.iter().map(|r| r.prompt_tokens as u64).sum(),
        generated_tokens: computed.iter().map(|r| r.generated_tokens as u64).sum(),
        wall_seconds: 0.0,
        chunks_per_min: 0.0,
        prefill_tok_s: rate(
            stats.prefill_tokens,
            stats.prefill_seconds / stats.sessions.max(1) as f64,
        ),
        decode_tok_s: rate(
            stats.decode_tokens,
            stats.decode_seconds / stats.sessions.max(1) as f64,
        ),
        peak_rss_bytes: peak_rss_bytes(),
    }
}

/// Tokens per second, 0 when nothing ran.
fn rate(tokens: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        tokens as f64 / seconds
    } else {
        0.0
    }
}

/// The settings as `run.json` shows them, with the prompt budget resolved and the requests the
/// backend keeps in flight.
fn settings_json(
    settings: &SummarizeSettings,
    max_prompt_tokens: usize,
    parallel: usize,
) -> serde_json::Value {
    let mut v = serde_json::to_value(settings).unwrap_or_default();
    if let Some(map) = v.as_object_mut() {
        map.insert("parallel".into(), parallel.into());
        map.insert("max_prompt_tokens".into(), max_prompt_tokens.into());
        map.insert("sampling".into(), sampling_name(settings).into());
    }
    v
}

//! Joining the outputs of shard runs (`isg merge DIR... --out DIR`).
//!
//! Each input folder holds a `run.json` and a `summaries.jsonl` from `isg summarize --shard K/N`.
//! All inputs must come from the same model and prompt version and cover distinct shards of the
//! same partition (`N`); no chunk may appear twice. The result is one `summaries.jsonl` in source
//! order, a `SUMMARY.md`, and a `run.json` whose counts, tokens and stage times are summed over
//! the shards, whose wall time and peak memory are the largest of any shard, and whose skips are
//! the union of the shards' skips.
//!
//! A set of inputs that does not cover its partition (shard 2 of 4 never ran, or its folder was
//! left off the command line) is refused with [`MergeError::MissingShards`], naming the missing
//! shards, before anything is written: a merged folder always describes the whole tree unless
//! the caller asks for a partial merge ([`merge_shards`] with `allow_missing`).
//!
//! Roll-up across shards: a file's chunks are always in one shard, so each shard writes its own
//! file lines; a directory's files may be spread over shards, so shard runs write no directory
//! or root lines. [`merge_rolled_up`] joins the file lines and then rolls up the directories
//! and the root with the shards' model and the same prompts and cache keys as an unsharded run,
//! which therefore gets the same lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::standard_sinks::standard_sinks;
use crate::output::{RUN_FILE, SUMMARIES_FILE, read_records, read_report};
use crate::record::MergeError;
use crate::record::PipelineError;
use crate::record::Shard;
use crate::record::{Kind, SummaryRecord, sort_source_order};
use crate::record::{RunReport, Times, Totals};
use crate::rollup::{
    DEFAULT_ROLLUP_PROMPT_TOKENS, Levels, RollupSettings, order_records, roll_up, root_name,
};
use crate::run::Backend;
use crate::run::Cache;
use crate::run::DEFAULT_MAX_NEW_TOKENS;

/// Merges the shard outputs in `inputs` into `out_dir`, writing the standard outputs, and
/// returns the merged report. Directory and root lines are left out: see [`merge_rolled_up`].
/// Missing shards are refused: see [`merge_shards`].
pub fn merge(inputs: &[PathBuf], out_dir: &Path) -> Result<RunReport, PipelineError> {
    merge_rolled_up(inputs, out_dir, None)
}

/// [`merge`], then, with a `backend`, the roll-up of directories and the root over the joined
/// file lines (cached in `out_dir`'s cache, so a second merge asks nothing), with the shards'
/// model, token cap and root name: the lines an unsharded run would write. Missing shards are
/// refused: see [`merge_shards`].
pub fn merge_rolled_up(
    inputs: &[PathBuf],
    out_dir: &Path,
    backend: Option<&dyn Backend>,
) -> Result<RunReport, PipelineError> {
    merge_shards(inputs, out_dir, backend, false)
}

/// [`merge_rolled_up`], choosing what a set of inputs that does not cover its partition does:
/// with `allow_missing` false it is refused with [`MergeError::MissingShards`] and nothing is
/// written to `out_dir`; with `allow_missing` true the shards given are merged (the caller can
/// list what is absent with [`missing_shards`] on the report's shards).
pub fn merge_shards(
    inputs: &[PathBuf],
    out_dir: &Path,
    backend: Option<&dyn Backend>,
    allow_missing: bool,
) -> Result<RunReport, PipelineError> {
    let mut loaded = Vec::new();
    for dir in inputs {
        let report = read_report(&dir.join(RUN_FILE))?;
        let records = read_records(&dir.join(SUMMARIES_FILE))?;
        loaded.push((dir.display().to_string(), report, records));
    }
    let (mut report, mut records) = merge_loaded(loaded)?;
    if !allow_missing {
        require_complete(&report.shards)?;
    }
    std::fs::create_dir_all(out_dir).map_err(|e| PipelineError::io("creating", out_dir, e))?;
    if let Some(backend) = backend {
        let model = backend.model_id();
        if model != report.model {
            return Err(PipelineError::Settings(format!(
                "the shards were summarized by model {:?} but the roll-up model is {model:?}; pass the shards' model with --model",
                report.model
            )));
        }
        let max_new_tokens = report
            .settings
            .get("max_new_tokens")
            .and_then(serde_json::Value::as_u64)
            .map_or(DEFAULT_MAX_NEW_TOKENS, |n| n as usize);
        // The shards read the same authored docs from the whole tree; take the first's.
        let mut docs = report
            .rollup
            .as_ref()
            .map(|r| r.docs.clone())
            .unwrap_or_default();
        if docs.name.is_empty() {
            docs.name = report
                .rollup
                .as_ref()
                .map(|r| r.root_name.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| root_name(Path::new(&report.root)));
        }
        let settings = RollupSettings {
            model,
            docs,
            max_new_tokens,
            max_prompt_tokens: backend
                .context()
                .saturating_sub(max_new_tokens)
                .min(DEFAULT_ROLLUP_PROMPT_TOKENS),
            levels: Levels::Dirs,
        };
        let mut cache = Cache::open(out_dir)?;
        let rolled = roll_up(backend, &records, &settings, &mut cache)?;
        report.rollup = Some(rolled.stats);
        records.extend(rolled.records);
        order_records(&mut records);
    }
    for mut sink in standard_sinks(out_dir) {
        sink.begin(&[])?;
        sink.finish(&records, &report)?;
    }
    Ok(report)
}

/// The checks of [`merge_shards`] on the inputs' `run.json` files alone (same model, prompt
/// version and N, each shard once, and every shard present unless `allow_missing`), so that a
/// command can refuse a bad set of inputs before it loads a model. Returns the shards given.
pub fn check_inputs(inputs: &[PathBuf], allow_missing: bool) -> Result<Vec<Shard>, PipelineError> {
    let mut loaded = Vec::new();
    for dir in inputs {
        let report = read_report(&dir.join(RUN_FILE))?;
        loaded.push((dir.display().to_string(), report, Vec::new()));
    }
    let (report, _) = merge_loaded(loaded)?;
    if !allow_missing {
        require_complete(&report.shards)?;
    }
    Ok(report.shards)
}

/// Merges loaded outputs: `(folder name, report, records)` per shard.
pub fn merge_loaded(
    inputs: Vec<(String, RunReport, Vec<SummaryRecord>)>,
) -> Result<(RunReport, Vec<SummaryRecord>), MergeError> {
    let Some((first_dir, first, _)) = inputs.first() else {
        return Err(MergeError::NoInputs);
    };
    let (first_dir, first) = (first_dir.clone(), first.clone());
    let mut shard_owner: BTreeMap<(u32, u32), String> = BTreeMap::new();
    for (dir, r, _) in &inputs {
        if r.model != first.model {
            return Err(MergeError::DifferentModels {
                a: first_dir,
                a_model: first.model,
                b: dir.clone(),
                b_model: r.model.clone(),
            });
        }
        if r.prompt_version != first.prompt_version {
            return Err(MergeError::DifferentPrompts {
                a: first_dir,
                a_version: first.prompt_version,
                b: dir.clone(),
                b_version: r.prompt_version.clone(),
            });
        }
        for s in &r.shards {
            if let Some(f) = first.shards.first()
                && f.count != s.count
            {
                return Err(MergeError::DifferentPartitions {
                    a: first_dir,
                    a_shard: f.to_string(),
                    b: dir.clone(),
                    b_shard: s.to_string(),
                });
            }
            if let Some(other) = shard_owner.insert((s.index, s.count), dir.clone()) {
                return Err(MergeError::SameShard {
                    shard: s.to_string(),
                    a: other,
                    b: dir.clone(),
                });
            }
        }
    }

    let mut owner: BTreeMap<(Kind, String, usize), String> = BTreeMap::new();
    let mut records = Vec::new();
    let mut skipped = BTreeMap::new();
    let (mut prefill_tokens, mut decode_tokens) = (0u64, 0u64);
    let mut totals = Totals::default();
    let mut times = Times::default();
    let mut merged_from = Vec::new();
    for (dir, r, mut recs) in inputs {
        // Directory and root lines of a shard saw only part of the tree: made again after.
        recs.retain(|rec| matches!(rec.kind, Kind::Chunk | Kind::File));
        for rec in &recs {
            let at = (rec.kind, rec.path.clone(), rec.start_line);
            if let Some(a) = owner.insert(at, dir.clone()) {
                return Err(MergeError::Overlap {
                    path: rec.path.clone(),
                    line: rec.start_line,
                    a,
                    b: dir,
                });
            }
        }
        records.extend(recs);
        for s in r.skipped {
            skipped.insert(
                (
                    s.path.clone(),
                    serde_json::to_string(&s).unwrap_or_default(),
                ),
                s,
            );
        }
        add_totals(&mut totals, &r.totals);
        let engine_count = |name: &str| r.engine.get(name).and_then(|v| v.as_u64()).unwrap_or(0);
        prefill_tokens += engine_count("prefill_tokens");
        decode_tokens += engine_count("decode_tokens");
        add_times(&mut times, &r.times);
        merged_from.push(dir);
    }
    totals.chunks_per_min = totals.computed as f64 * 60.0 / totals.wall_seconds.max(1e-9);
    totals.prefill_tok_s = if times.prefill > 0.0 {
        prefill_tokens as f64 / times.prefill
    } else {
        0.0
    };
    totals.decode_tok_s = if times.decode > 0.0 {
        decode_tokens as f64 / times.decode
    } else {
        0.0
    };
    sort_source_order(&mut records);
    // Chunks first (source order), then the file lines.
    records.sort_by_key(|r| r.kind != Kind::Chunk);
    let mut shards: Vec<Shard> = shard_owner
        .keys()
        .map(|&(index, count)| Shard { index, count })
        .collect();
    shards.sort_by_key(|s| s.index);
    let report = RunReport {
        isg_version: env!("CARGO_PKG_VERSION").to_string(),
        model: first.model,
        prompt_version: first.prompt_version,
        root: first.root,
        shards,
        settings: first.settings,
        totals,
        times,
        engine: serde_json::Value::Null,
        cache: serde_json::Value::Null,
        skipped: skipped.into_values().collect(),
        merged_from,
        changed: Vec::new(),
        rollup: None,
    };
    Ok((report, records))
}

/// The shards of the partition that `shards` does not cover (empty when none are missing).
pub fn missing_shards(shards: &[Shard]) -> Vec<Shard> {
    let Some(count) = shards.first().map(|s| s.count) else {
        return Vec::new();
    };
    (1..=count)
        .map(|index| Shard { index, count })
        .filter(|s| !shards.contains(s))
        .collect()
}

/// Refuses `shards` when they do not cover their partition, naming the missing ones.
pub fn require_complete(shards: &[Shard]) -> Result<(), MergeError> {
    let missing = missing_shards(shards);
    if missing.is_empty() {
        return Ok(());
    }
    let (noun, verb) = if missing.len() == 1 {
        ("shard", "is")
    } else {
        ("shards", "are")
    };
    Err(MergeError::MissingShards {
        missing: format!("{noun} {} {verb}", and_list(&missing)),
        given: and_list(shards),
    })
}

/// `1/4`, `1/4 and 3/4`, `1/4, 2/4 and 3/4`.
fn and_list(shards: &[Shard]) -> String {
    let names: Vec<String> = shards.iter().map(Shard::to_string).collect();
    match names.split_last() {
        None => "no shard".to_string(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn add_totals(sum: &mut Totals, t: &Totals) {
    sum.files += t.files;
    sum.chunks += t.chunks;
    sum.cached += t.cached;
    sum.computed += t.computed;
    sum.failed += t.failed;
    sum.rejected += t.rejected;
    sum.retried += t.retried;
    sum.fallback += t.fallback;
    sum.retry_prompt_tokens += t.retry_prompt_tokens;
    sum.reduced += t.reduced;
    sum.elided += t.elided;
    sum.prompt_tokens += t.prompt_tokens;
    sum.generated_tokens += t.generated_tokens;
    sum.wall_seconds = sum.wall_seconds.max(t.wall_seconds);
    sum.peak_rss_bytes = sum.peak_rss_bytes.max(t.peak_rss_bytes);
}

fn add_times(sum: &mut Times, t: &Times) {
    sum.walk += t.walk;
    sum.chunk += t.chunk;
    sum.tokenize += t.tokenize;
    sum.prefill += t.prefill;
    sum.decode += t.decode;
    sum.write += t.write;
}

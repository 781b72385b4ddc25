//! The summarize run: walk → chunks → cache lookup → prompts → engine → summaries → sinks.
//!
//! The main thread walks, chunks, looks every chunk up in the cache and hands the known records
//! to the sinks. Worker threads (the backend's [`parallel`](Backend::parallel) plus two, so the
//! engine's queue never runs dry while
//! a worker tokenizes) take the remaining chunks in source order, fit each prompt to the budget,
//! submit it, wait for the completion (retrying a failed request once) and judge the answer; a
//! rejected answer is asked again once in another view, and a second rejection gets a line
//! built from the chunk itself (its cost is counted in `run.json`'s totals). The
//! main thread receives the outcomes in completion order, appends each to the cache (flushed)
//! and to the sinks, and reports progress. At the end the sinks get every record in source order.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::backend::{Backend, Query};
use super::cache::{Cache, CacheEntry, KeySettings, Scope, cache_key, write_live_keys};
use super::compose::{fallback_line, summary_for};
use super::error::PipelineError;
use super::failpoint;
use super::judge::{Grounds, is_grounded};
use super::lock::{OutputLock, Wait};
use super::progress::Progress;
use super::prompt::{
    PROMPT_VERSION, Place, PromptTemplate, UnknownDesign, design, template_messages,
};
use super::record::{Reduction, SummaryRecord};
use super::reduce::fit;
use super::report::{RunReport, Times, Totals, peak_rss_bytes};
use super::rollup::{
    DEFAULT_ROLLUP_PROMPT_TOKENS, Levels, Rollup, RollupSettings, roll_up, root_name,
};
use super::settings::{DEFAULT_CHUNK_PROMPT_TOKENS, SummarizeSettings};
use super::shard::Shard;
use super::sink::{SummarySink, standard_sinks};
use super::stop::answer_settled;
use super::support::{support, vocabulary};
use crate::llm::EngineStats;
use crate::source::{
    AuthoredDocs, Chunk, Comments, FileChange, View, authored_docs, changes_since, chunk_files,
    walk_between,
};

/// Workers beyond the backend's `parallel`, so a request is always queued while others are being prepared.
const EXTRA_WORKERS: usize = 2;

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

    let t = Instant::now();
    let mut tree = walk_between(&settings.walk, || failpoint::stop("listed"))?;
    // What the authors wrote, from the whole tree: every shard reads the same.
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

    let places = places(&chunks);
    let model = backend.model_id();
    let plan = Plan::new(backend, settings)?;
    let prompt_version = prompt_version(&settings.design);
    let key_settings = KeySettings {
        model: model.clone(),
        prompt_version: prompt_version.clone(),
        view: settings.view,
        max_prompt_tokens: plan.max_prompt_tokens,
        max_new_tokens: settings.max_new_tokens,
        sampling: if settings.second_look {
            "greedy, second look".to_string()
        } else {
            "greedy".to_string()
        },
    };

    let t = Instant::now();
    let scope = Scope {
        model: model.clone(),
        prompt_version: PROMPT_VERSION.to_string(),
    };
    let mut cache = Cache::open_scoped(out, scope)?;
    let keys: Vec<String> = chunks.iter().map(|c| cache_key(c, &key_settings)).collect();
    let mut slots: Vec<Option<SummaryRecord>> = chunks
        .iter()
        .zip(&keys)
        .map(|(c, k)| cache.get(k).map(|e| cached_record(c, &model, e)))
        .collect();
    // Chunks to compute, one per distinct key, in source order.
    let mut waiting: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut todo: Vec<usize> = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        if slot.is_none() {
            let same = waiting.entry(keys[i].as_str()).or_default();
            if same.is_empty() {
                todo.push(i);
            }
            same.push(i);
        }
    }
    let known: Vec<SummaryRecord> = slots.iter().flatten().cloned().collect();
    for sink in sinks.iter_mut() {
        sink.begin(&known)?;
    }
    times.write += t.elapsed().as_secs_f64();

    let stats_before = backend.stats();
    let mut progress = Progress::new(settings.progress, chunks.len() as u64, known.len() as u64);
    let tokenize_us = AtomicU64::new(0);
    let retry_tokens = AtomicU64::new(0);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let workers = (backend.parallel() + EXTRA_WORKERS).min(todo.len());
    let mut failure: Option<PipelineError> = None;
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(usize, Outcome)>();
        for _ in 0..workers {
            let tx = tx.clone();
            let (plan, chunks, todo, places) = (&plan, &chunks, &todo, &places);
            let (next, stop) = (&next, &stop);
            let counters = Counters {
                tokenize_us: &tokenize_us,
                retry_tokens: &retry_tokens,
            };
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = todo.get(n) else { break };
                    let outcome = plan.run(backend, &chunks[i], places[i], &counters);
                    if tx.send((i, outcome)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut received = 0;
        while received < todo.len() {
            let (i, outcome) = match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(got) => got,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    progress.tick();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            received += 1;
            let t = Instant::now();
            let written = deliver(
                i,
                outcome,
                &chunks,
                &keys,
                &model,
                &waiting,
                &mut slots,
                &mut cache,
                sinks,
                &mut progress,
            );
            times.write += t.elapsed().as_secs_f64();
            if let Err(e) = written {
                stop.store(true, Ordering::Relaxed);
                failure = Some(e);
                break;
            }
        }
    });
    progress.finish();
    if let Some(e) = failure {
        return Err(e);
    }

    let mut records: Vec<SummaryRecord> = slots.into_iter().flatten().collect();
    let rolled = rollup_after_chunks(backend, &records, &docs, settings, &model, &mut cache)?;
    let t = Instant::now();
    // The roll-up's entries are as live as the chunks' for compaction.
    let mut live_keys = keys.clone();
    // Lines taken from the authors or an only child have no cache entry (no key).
    live_keys.extend(
        rolled
            .records
            .iter()
            .filter(|r| !r.hash.is_empty())
            .map(|r| r.hash.clone()),
    );
    keep_cache(out, &mut cache, &live_keys, &progress)?;
    let changed: Vec<FileChange> = changes_since(&tree, &settings.walk)
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
    let stats = stats_delta(&stats_before, &backend.stats());
    times.tokenize = tokenize_us.load(Ordering::Relaxed) as f64 / 1e6;
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
        settings: settings_json(settings, plan.max_prompt_tokens, backend.parallel()),
        totals: totals(
            &records,
            tree.files.len(),
            &stats,
            retry_tokens.load(Ordering::Relaxed),
        ),
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

/// What a worker hands back for one chunk.
enum Outcome {
    /// The model answered (the answers may still have been rejected and the line built from
    /// the chunk).
    Answered(CacheEntry),
    /// The chunk could not be summarized, even on a second try.
    Failed {
        error: String,
        view: String,
        reduction: Reduction,
    },
}

/// Counters the workers add to.
struct Counters<'a> {
    tokenize_us: &'a AtomicU64,
    retry_tokens: &'a AtomicU64,
}

/// The view a rejected answer is asked again in: the code for an interface or names view, the
/// interface for a code view.
pub fn retry_view(first: View) -> View {
    match first {
        View::Code(_) => View::Interface,
        View::Interface | View::Names => View::Code(Comments::DocFirstLineOnly),
    }
}

/// One request's result.
struct Attempt {
    raw: String,
    judged: Result<String, super::judge::Reject>,
    prompt_tokens: usize,
    generated_tokens: usize,
    ms: f64,
    view: View,
    reduction: Reduction,
    elided_lines: Option<usize>,
}

/// What every request of a run shares: the template, its tokenized head and the budgets.
struct Plan<'a> {
    settings: &'a SummarizeSettings,
    template: PromptTemplate,
    head: Vec<u32>,
    max_prompt_tokens: usize,
}

impl<'a> Plan<'a> {
    fn new(
        backend: &dyn Backend,
        settings: &'a SummarizeSettings,
    ) -> Result<Plan<'a>, PipelineError> {
        let context = backend.context();
        let room = context.saturating_sub(settings.max_new_tokens);
        let design = design(&settings.design).ok_or_else(|| {
            PipelineError::Settings(UnknownDesign(settings.design.clone()).to_string())
        })?;
        let rendered = backend
            .render_chat(&template_messages(design))
            .map_err(|e| PipelineError::Prompt(e.to_string()))?;
        let template = PromptTemplate::from_rendered(&rendered, design)
            .map_err(|e| PipelineError::Prompt(e.to_string()))?;
        let head = backend
            .encode_start(&template.head)
            .map_err(|e| PipelineError::Prompt(e.to_string()))?;
        // Unless told otherwise, a chunk gets at most DEFAULT_CHUNK_PROMPT_TOKENS of its own.
        let max_prompt_tokens = settings
            .max_prompt_tokens
            .unwrap_or_else(|| room.min(head.len() + DEFAULT_CHUNK_PROMPT_TOKENS));
        if max_prompt_tokens > room {
            return Err(PipelineError::Settings(format!(
                "--max-prompt-tokens {max_prompt_tokens} plus --max-new-tokens {} exceeds the model's \
                 context of {context} tokens; lower one of them",
                settings.max_new_tokens
            )));
        }
        if head.len() >= max_prompt_tokens {
            return Err(PipelineError::Settings(format!(
                "the fixed part of the prompt takes {} tokens, more than --max-prompt-tokens {max_prompt_tokens}",
                head.len()
            )));
        }
        Ok(Plan {
            settings,
            template,
            head,
            max_prompt_tokens,
        })
    }

    /// Prompts, submits and judges one chunk; a rejected answer is asked again once in
    /// [`retry_view`], and when that is rejected too the line is built from the chunk.
    fn run(
        &self,
        backend: &dyn Backend,
        chunk: &Chunk,
        place: Place,
        counters: &Counters,
    ) -> Outcome {
        let first = match self.attempt(backend, chunk, place, self.settings.view, counters) {
            Ok(a) => a,
            Err(failed) => return *failed,
        };
        let mut entry = CacheEntry {
            key: String::new(),
            summary: String::new(),
            raw: first.raw.clone(),
            rejected: None,
            prompt_tokens: first.prompt_tokens,
            generated_tokens: first.generated_tokens,
            ms: first.ms,
            view: first.view.name().to_string(),
            reduction: first.reduction,
            elided_lines: first.elided_lines,
        };
        let reason = match first.judged {
            Ok(line) => {
                entry.summary = line;
                if self.settings.second_look {
                    self.second_look(backend, chunk, place, first.view, &mut entry, counters);
                }
                return Outcome::Answered(entry);
            }
            Err(r) => r.name().to_string(),
        };
        let second = self.attempt(backend, chunk, place, retry_view(first.view), counters);
        let (second_reason, kept) = match second {
            Ok(a) => {
                add_attempt(&mut entry, &a, RETRY_SEPARATOR, counters);
                entry.view = a.view.name().to_string();
                entry.reduction = a.reduction;
                entry.elided_lines = a.elided_lines;
                match a.judged {
                    Ok(line) => (None, Some(line)),
                    Err(r) => (Some(r.name().to_string()), None),
                }
            }
            Err(_) => (Some(FAILED_RETRY.to_string()), None),
        };
        entry.rejected = Some(match &second_reason {
            Some(r2) => format!("{reason}, {r2}"),
            None => reason,
        });
        entry.summary = kept.unwrap_or_else(|| fallback_line(chunk));
        Outcome::Answered(entry)
    }

    /// A second look at an accepted line the chunk's own words support poorly
    /// ([`SUPPORT_FLOOR`]): the chunk is asked about once more in [`retry_view`], and the
    /// answer better supported by the chunk is kept (the first on a tie). Both answers stay
    /// in the entry's raw text.
    fn second_look(
        &self,
        backend: &dyn Backend,
        chunk: &Chunk,
        place: Place,
        view: View,
        entry: &mut CacheEntry,
        counters: &Counters,
    ) {
        let vocab = vocabulary(&chunk.text, &chunk.path);
        let first = support(&entry.summary, &vocab);
        if first >= SUPPORT_FLOOR {
            return;
        }
        let Ok(a) = self.attempt(backend, chunk, place, retry_view(view), counters) else {
            return;
        };
        add_attempt(entry, &a, SECOND_LOOK_SEPARATOR, counters);
        if let Ok(line) = a.judged
            && support(&line, &vocab) > first
        {
            entry.summary = line;
            entry.view = a.view.name().to_string();
            entry.reduction = a.reduction;
            entry.elided_lines = a.elided_lines;
        }
    }

    /// One request in `view` (or a smaller one when it does not fit), judged.
    fn attempt(
        &self,
        backend: &dyn Backend,
        chunk: &Chunk,
        place: Place,
        view: View,
        counters: &Counters,
    ) -> Result<Attempt, Box<Outcome>> {
        let t = Instant::now();
        let budget = self.max_prompt_tokens - self.head.len();
        let encode = |s: &str| backend.encode(s).map_err(|e| e.to_string());
        let fitted = fit(chunk, place, view, &self.template, budget, &encode);
        counters
            .tokenize_us
            .fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
        let fitted = match fitted {
            Ok(f) => f,
            Err(e) => {
                return Err(Box::new(Outcome::Failed {
                    error: e.to_string(),
                    view: view.name().to_string(),
                    reduction: Reduction::None,
                }));
            }
        };
        let mut prompt = self.head.clone();
        prompt.extend_from_slice(&fitted.ids);
        let request = Query {
            prompt,
            max_new_tokens: self.settings.max_new_tokens,
            shared_prefix: self.head.len(),
            // Only the first sentence is kept: stop once it is written (or already rejected).
            done_when: Some(answer_settled),
        };
        let started = Instant::now();
        let completion = match (backend.submit(request.clone()))() {
            Ok(c) => Ok(c),
            Err(_) => (backend.submit(request))(),
        };
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let failed = |error: String| {
            Box::new(Outcome::Failed {
                error,
                view: fitted.view.name().to_string(),
                reduction: fitted.reduction,
            })
        };
        let completion = completion.map_err(|e| failed(e.to_string()))?;
        let raw = backend
            .decode(&completion.tokens)
            .map_err(|e| failed(format!("decoding the answer: {e}")))?;
        Ok(Attempt {
            judged: summary_for(&raw, chunk),
            raw,
            prompt_tokens: completion.prompt_tokens,
            generated_tokens: completion.tokens.len(),
            ms,
            view: fitted.view,
            reduction: fitted.reduction,
            elided_lines: fitted.elided_lines,
        })
    }
}

/// Adds a further attempt's raw answer (after `separator`), tokens and time to `entry`, and
/// its prompt tokens to the run's count of second requests.
fn add_attempt(entry: &mut CacheEntry, a: &Attempt, separator: &str, counters: &Counters) {
    counters
        .retry_tokens
        .fetch_add(a.prompt_tokens as u64, Ordering::Relaxed);
    entry.raw = format!("{}\n{separator}\n{}", entry.raw, a.raw);
    entry.prompt_tokens += a.prompt_tokens;
    entry.generated_tokens += a.generated_tokens;
    entry.ms += a.ms;
}

/// The prompt version a run records and keys its cache on: [`PROMPT_VERSION`], and the design
/// when it is not the default.
fn prompt_version(design: &str) -> String {
    if design == super::prompt::DEFAULT_DESIGN {
        PROMPT_VERSION.to_string()
    } else {
        format!("{PROMPT_VERSION}/{design}")
    }
}

/// Where each chunk lies in its file (chunks come in file order, then line order).
pub fn places(chunks: &[Chunk]) -> Vec<Place> {
    let mut out = Vec::with_capacity(chunks.len());
    let mut i = 0;
    while i < chunks.len() {
        let n = chunks[i..]
            .iter()
            .take_while(|c| c.path == chunks[i].path)
            .count();
        out.extend((1..=n).map(|index| Place { index, count: n }));
        i += n;
    }
    out
}

/// An accepted line with less than this share of its content words in the chunk gets a second
/// look (see [`support`]).
pub const SUPPORT_FLOOR: f64 = 0.5;

/// Between the raw answers of an accepted line and its second look in a cache entry.
pub const SECOND_LOOK_SEPARATOR: &str = "--- second look ---";

/// Between the raw answers of the two attempts in a cache entry.
pub const RETRY_SEPARATOR: &str = "--- asked again ---";

/// The reason recorded when the second request failed in the engine.
const FAILED_RETRY: &str = "failed";

/// Records one outcome: cache first (so it is never computed again), then the sinks, for every
/// chunk that shares its key.
#[allow(clippy::too_many_arguments)]
fn deliver(
    i: usize,
    outcome: Outcome,
    chunks: &[Chunk],
    keys: &[String],
    model: &str,
    waiting: &HashMap<&str, Vec<usize>>,
    slots: &mut [Option<SummaryRecord>],
    cache: &mut Cache,
    sinks: &mut [Box<dyn SummarySink>],
    progress: &mut Progress,
) -> Result<(), PipelineError> {
    let make: Box<dyn Fn(&Chunk) -> SummaryRecord> = match outcome {
        Outcome::Answered(mut entry) => {
            entry.key = keys[i].clone();
            cache.append(entry.clone())?;
            Box::new(move |c| {
                let mut r = cached_record(c, model, &entry);
                r.cached = false;
                r
            })
        }
        Outcome::Failed {
            error,
            view,
            reduction,
        } => {
            progress.println(&format!(
                "isg: {}:{}-{} failed: {error}",
                chunks[i].path, chunks[i].start_line, chunks[i].end_line
            ));
            Box::new(move |c| {
                let mut r = SummaryRecord::for_chunk(c, model);
                r.error = Some(error.clone());
                r.view = view.clone();
                r.reduction = reduction;
                r.summary = fallback_line(c);
                r.fallback = true;
                r.grounded = grounded(c, &r.summary);
                r
            })
        }
    };
    let same = waiting.get(keys[i].as_str()).map_or(&[][..], Vec::as_slice);
    for &j in same {
        let record = make(&chunks[j]);
        for sink in sinks.iter_mut() {
            sink.record(&record)?;
        }
        progress.advance((record.prompt_tokens + record.generated_tokens) as u64);
        slots[j] = Some(record);
    }
    Ok(())
}

/// The record of `chunk` from a cache entry.
fn cached_record(chunk: &Chunk, model: &str, e: &CacheEntry) -> SummaryRecord {
    let mut r = SummaryRecord::for_chunk(chunk, model);
    r.summary = e.summary.clone();
    r.prompt_tokens = e.prompt_tokens;
    r.generated_tokens = e.generated_tokens;
    r.ms = e.ms;
    r.view = e.view.clone();
    r.reduction = e.reduction;
    r.elided_lines = e.elided_lines;
    r.rejected = e.rejected.clone();
    // Every rejected answer but the second was asked again; two rejections mean the line was
    // built from the chunk.
    let rejections = e.rejected.as_deref().map_or(0, |r| r.split(", ").count());
    r.attempts = 1 + rejections.min(1);
    r.fallback = rejections >= 2;
    r.grounded = grounded(chunk, &r.summary);
    r.cached = true;
    r
}

/// Whether every code name of `line` occurs in `chunk` or its path.
fn grounded(chunk: &Chunk, line: &str) -> bool {
    is_grounded(
        line,
        &Grounds {
            text: &chunk.text,
            path: &chunk.path,
        },
    )
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
        map.insert("sampling".into(), "greedy".into());
    }
    v
}

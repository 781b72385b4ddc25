//! The chunk stage of a run: every chunk looked up in the cache ([`Lookup`]), the rest
//! prompted, submitted, judged and recorded ([`Plan::compute`]).
//!
//! Worker threads (the backend's [`parallel`](Backend::parallel) plus two, so the engine's
//! queue never runs dry while a worker tokenizes) take the remaining chunks in source order,
//! fit each prompt to the budget, submit it, wait for the completion (retrying a failed request
//! once) and judge the answer; a rejected answer is asked again once in another view, and a
//! second rejection gets a line built from the chunk itself. The calling thread receives the
//! outcomes in completion order, appends each to the cache (flushed) and to the sinks, and
//! reports progress.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::backend::{Backend, Query};
use super::cache::{Cache, CacheEntry, KeySettings, cache_key};
use super::choose::choose;
use super::compose::{fallback_line, summary_for};
use super::judge::{Grounds, Reject, is_grounded};
use super::progress::Progress;
use super::prompt::{Place, PromptTemplate, UnknownDesign, design, template_messages};
use super::reduce::fit;
use super::settings::{DEFAULT_CHUNK_PROMPT_TOKENS, SummarizeSettings};
use super::stop::answer_settled;
use super::support::{support, vocabulary};
use crate::output::SummarySink;
use crate::record::{PipelineError, Reduction, SummaryRecord};
use crate::source::{AuthoredDocs, Chunk, Comments, View};

/// Every chunk of a run looked up in the cache: the records found, and the chunks left to
/// compute, one per distinct key, in source order.
pub struct Lookup {
    model: String,
    keys: Vec<String>,
    slots: Vec<Option<SummaryRecord>>,
    /// The chunks of each key still to compute.
    waiting: HashMap<String, Vec<usize>>,
    /// One chunk per key still to compute, in source order.
    todo: Vec<usize>,
}

impl Lookup {
    /// Looks every chunk up in `cache` under its key for `key_settings`. With `docs`, a chunk
    /// that is its whole file, in a file whose module doc gives a line, takes that line
    /// ([`authored_record`]) before the cache is asked: the authors' words need no request.
    pub fn new(
        chunks: &[Chunk],
        key_settings: &KeySettings,
        cache: &Cache,
        docs: Option<&AuthoredDocs>,
    ) -> Lookup {
        let model = key_settings.model.clone();
        let keys: Vec<String> = chunks.iter().map(|c| cache_key(c, key_settings)).collect();
        let places = places(chunks);
        let slots: Vec<Option<SummaryRecord>> = chunks
            .iter()
            .zip(&keys)
            .zip(&places)
            .map(|((c, k), place)| {
                docs.filter(|_| place.count == 1)
                    .and_then(|d| authored_record(c, &model, d))
                    .or_else(|| cache.get(k).map(|e| cached_record(c, &model, e)))
            })
            .collect();
        let mut waiting: HashMap<String, Vec<usize>> = HashMap::new();
        let mut todo: Vec<usize> = Vec::new();
        for (i, slot) in slots.iter().enumerate() {
            if slot.is_none() {
                let same = waiting.entry(keys[i].clone()).or_default();
                if same.is_empty() {
                    todo.push(i);
                }
                same.push(i);
            }
        }
        Lookup {
            model,
            keys,
            slots,
            waiting,
            todo,
        }
    }

    /// The records found in the cache, in source order.
    pub fn known(&self) -> Vec<SummaryRecord> {
        self.slots.iter().flatten().cloned().collect()
    }

    /// Every chunk's cache key, in source order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Every record made so far, in source order.
    pub fn into_records(self) -> Vec<SummaryRecord> {
        self.slots.into_iter().flatten().collect()
    }
}

/// What computing the chunks cost, besides the engine's own figures.
#[derive(Debug, Clone, Copy, Default)]
pub struct Computed {
    /// Seconds spent appending to the cache and the sinks.
    pub write_seconds: f64,
    /// Seconds the workers spent tokenizing prompts, summed.
    pub tokenize_seconds: f64,
    /// Prompt tokens of second requests (retries and second looks).
    pub retry_tokens: u64,
}

/// Workers beyond the backend's `parallel`, so a request is always queued while others are being prepared.
const EXTRA_WORKERS: usize = 2;

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
    judged: Result<String, Reject>,
    prompt_tokens: usize,
    generated_tokens: usize,
    ms: f64,
    view: View,
    reduction: Reduction,
    elided_lines: Option<usize>,
}

/// What every request of a run shares: the template, its tokenized head and the budgets.
pub struct Plan<'a> {
    settings: &'a SummarizeSettings,
    template: PromptTemplate,
    head: Vec<u32>,
    max_prompt_tokens: usize,
}

impl<'a> Plan<'a> {
    /// The plan of `settings` on `backend`: the prompt design rendered with the model's chat
    /// template, its fixed head tokenized once, the budgets checked against the context.
    pub fn new(
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

    /// The prompt budget of a chunk, the fixed head included.
    pub fn max_prompt_tokens(&self) -> usize {
        self.max_prompt_tokens
    }

    /// Computes every chunk `lookup` left to compute on worker threads, appending each outcome
    /// to `cache` and `sinks` as it arrives. On the first error writing them the workers stop
    /// and the error is returned.
    pub fn compute(
        &self,
        backend: &dyn Backend,
        chunks: &[Chunk],
        lookup: &mut Lookup,
        cache: &mut Cache,
        sinks: &mut [Box<dyn SummarySink>],
        progress: &mut Progress,
    ) -> Result<Computed, PipelineError> {
        let places = places(chunks);
        let Lookup {
            model,
            keys,
            slots,
            waiting,
            todo,
        } = lookup;
        let tokenize_us = AtomicU64::new(0);
        let retry_tokens = AtomicU64::new(0);
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let workers = (backend.parallel() + EXTRA_WORKERS).min(todo.len());
        let mut failure: Option<PipelineError> = None;
        let mut write_seconds = 0.0;
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel::<(usize, Outcome)>();
            for _ in 0..workers {
                let tx = tx.clone();
                let (plan, todo, places) = (self, &*todo, &places);
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
                    i, outcome, chunks, keys, model, waiting, slots, cache, sinks, progress,
                );
                write_seconds += t.elapsed().as_secs_f64();
                if let Err(e) = written {
                    stop.store(true, Ordering::Relaxed);
                    failure = Some(e);
                    break;
                }
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(Computed {
            write_seconds,
            tokenize_seconds: tokenize_us.load(Ordering::Relaxed) as f64 / 1e6,
            retry_tokens: retry_tokens.load(Ordering::Relaxed),
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
        let seed = seed_of(&prompt);
        let request = Query {
            prompt,
            max_new_tokens: self.settings.max_new_tokens,
            shared_prefix: self.head.len(),
            // Only the first sentence is kept: stop once it is written (or already rejected).
            done_when: Some(answer_settled),
            sampled: self.settings.candidates.saturating_sub(1),
            seed,
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
        let mut judged = summary_for(&raw, chunk);
        let mut raws = vec![raw];
        let mut generated = completion.tokens.len();
        if !completion.sampled.is_empty() {
            // Every accepted answer is a candidate, the greedy one first; the one the others
            // agree with and the chunk's words support is kept.
            let mut accepted: Vec<String> = judged.iter().cloned().collect();
            for ids in &completion.sampled {
                let Ok(text) = backend.decode(ids) else {
                    continue;
                };
                if let Ok(line) = summary_for(&text, chunk) {
                    accepted.push(line);
                }
                generated += ids.len();
                raws.push(text);
            }
            if !accepted.is_empty() {
                let vocab = vocabulary(&chunk.text, &chunk.path);
                judged = Ok(accepted.swap_remove(choose(&accepted, &vocab)));
            }
        }
        Ok(Attempt {
            judged,
            raw: raws.join(&format!("\n{SAMPLED_SEPARATOR}\n")),
            prompt_tokens: completion.prompt_tokens,
            generated_tokens: generated,
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

/// Between the raw greedy answer and each sampled answer of one request in a cache entry.
pub const SAMPLED_SEPARATOR: &str = "--- sampled ---";

/// The seed of a prompt's sampled answers: the same prompt is always given the same ones, so a
/// line does not change between runs (FNV-1a over the token ids).
fn seed_of(prompt: &[u32]) -> u64 {
    prompt.iter().fold(0xcbf2_9ce4_8422_2325, |h, &t| {
        (h ^ u64::from(t)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Between the raw answers of the two attempts in a cache entry.
pub const RETRY_SEPARATOR: &str = "--- asked again ---";

/// The reason recorded when the second request failed in the engine.
pub const FAILED_RETRY: &str = "failed";

/// Records one outcome: cache first (so it is never computed again), then the sinks, for every
/// chunk that shares its key.
#[allow(clippy::too_many_arguments)]
fn deliver(
    i: usize,
    outcome: Outcome,
    chunks: &[Chunk],
    keys: &[String],
    model: &str,
    waiting: &HashMap<String, Vec<usize>>,
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

/// The record of a chunk that is its whole file, from the first sentence of the file's module
/// doc (`//!`, a docstring) when `docs` has one: `origin` `module_doc`, no request made.
pub fn authored_record(chunk: &Chunk, model: &str, docs: &AuthoredDocs) -> Option<SummaryRecord> {
    let doc = docs.file_line(&chunk.path)?;
    let mut r = SummaryRecord::for_chunk(chunk, model);
    r.summary = doc.line.clone();
    // Nothing was sent to the model: the view names what the line was read from.
    r.view = doc.source.name().to_string();
    r.grounded = grounded(chunk, &r.summary);
    r.origin = Some(doc.source.name().to_string());
    r.origin_file = Some(doc.file.clone());
    Some(r)
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
            context: chunk.parent.as_deref(),
        },
    )
}

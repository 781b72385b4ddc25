//! The generation engine: many concurrent requests on one copy of the weights.
//!
//! [`Engine`] owns a [`SessionRunner`] (one ONNX Runtime session) and a [`KvPool`] on a worker thread.
//! Callers on any thread [`Engine::submit`] a [`Request`] (prompt token ids, a budget of new
//! tokens, stopping rules, sampling) and wait on the returned [`Pending`] for a [`Completion`]
//! with its figures. The worker keeps up to `parallel` sequences in flight: prompts are prefilled
//! one piece (default 512 tokens) at a time into their own cache slot, and every sequence that is
//! generating advances by one token per batched decode step. Admitted prompts are prefilled
//! before the next decode step, so each step carries as many rows as possible (a step reads every
//! weight once whatever its width). A finished sequence's slot is given to the next queued
//! request at once (continuous batching). Admission respects a memory budget
//! that counts each sequence's cache (prompt plus output budget) and the activations of a step.
//! Both cache strategies of [`SessionRunner`] (in place, growing) run under the same schedule; the
//! growing one gets two sevenths of the cache budget, since its staging tensors hold the cache
//! of a step twice more, with spare columns.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use thiserror::Error;

use super::discover::{DecoderIo, KvStrategy};
use super::kv::KvPool;
use super::sample::{Sampler, Sampling};
use super::session_runner::{DecodeRow, DecoderError, SessionRunner};

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Sequences in flight at once.
    pub parallel: usize,
    /// Prompt tokens per prefill run. Pieces of 256 prefilled the default model 1.2x faster than
    /// 512 on AMX (20 prompts of 450 tokens, 2 sessions: 1,104-1,129 against 921-941 tok/s) and
    /// as fast on the AVX2 kernels (382 against 377).
    pub prefill_chunk: usize,
    /// Memory budget in bytes for the whole process (weights, caches, activations).
    pub max_memory: u64,
    /// Longest prompt plus output a sequence may have (the cache size of a slot).
    pub max_context: usize,
}

/// Prompt tokens per prefill run unless told otherwise (see [`EngineConfig::prefill_chunk`]).
pub const DEFAULT_PREFILL_CHUNK: usize = 256;

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            parallel: 20,
            prefill_chunk: DEFAULT_PREFILL_CHUNK,
            max_memory: 4 << 30,
            max_context: 4096,
        }
    }
}

/// What the model must not cross while generating.
#[derive(Debug, Clone, Default)]
pub struct StopVocab {
    /// End-of-sequence ids from the model's configs.
    pub eos: Vec<u32>,
    /// `newline[id]` is true when token `id` contains a line break.
    pub newline: Vec<bool>,
}

/// One generation request.
#[derive(Debug, Clone)]
pub struct Request {
    /// Prompt token ids (chat template already applied).
    pub prompt: Vec<u32>,
    /// Hard cap on generated tokens.
    pub max_new_tokens: usize,
    /// Stop after the first token that contains a line break (once some text was produced).
    pub stop_at_newline: bool,
    /// Token choice.
    pub sampling: Sampling,
    /// The first `shared_prefix` prompt tokens are shared with other requests: their cache is
    /// computed once and copied.
    pub shared_prefix: usize,
    /// Keep generating past end-of-sequence tokens (benchmarks).
    pub ignore_eos: bool,
    /// The caller's own rule, asked after every generated token.
    pub stop_when: Option<StopCheck>,
}

/// A caller's stopping rule: given every token generated so far, whether the answer is complete
/// (the summarizer stops once the first sentence, all it keeps, is written).
#[derive(Clone)]
pub struct StopCheck(pub Arc<StopFn>);

/// The function behind a [`StopCheck`].
pub type StopFn = dyn Fn(&[u32]) -> bool + Send + Sync;

impl std::fmt::Debug for StopCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StopCheck(..)")
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Finish {
    /// An end-of-sequence token (not included in the output).
    Eos,
    /// A token with a line break (included; cut the text at the break).
    Newline,
    /// The token budget ran out.
    Length,
    /// The request's own [`StopCheck`] said the answer is complete.
    Rule,
}

/// A finished request with its figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Completion {
    /// Generated ids.
    pub tokens: Vec<u32>,
    /// Why it ended.
    pub finish: Finish,
    /// Prompt length.
    pub prompt_tokens: usize,
    /// Prompt tokens whose cache was copied from a shared prefix.
    pub reused_prefix_tokens: usize,
    /// Milliseconds between submission and admission.
    pub queue_ms: f64,
    /// Milliseconds spent in this request's prefill runs.
    pub prefill_ms: f64,
    /// Milliseconds from its first decode step to its end.
    pub decode_ms: f64,
}

/// Errors of a request or of the engine.
#[derive(Debug, Error, Clone)]
pub enum EngineError {
    /// The prompt plus its output budget exceeds the slot size.
    #[error(
        "prompt of {prompt} tokens plus {max_new} new tokens exceeds the context of {context} tokens"
    )]
    TooLong {
        /// Prompt tokens.
        prompt: usize,
        /// Requested new tokens.
        max_new: usize,
        /// Slot capacity.
        context: usize,
    },
    /// Empty prompt.
    #[error("empty prompt")]
    EmptyPrompt,
    /// A single request needs more memory than the whole budget.
    #[error("a request needs {need} bytes of cache but the memory budget leaves {budget}")]
    OverBudget {
        /// Bytes needed.
        need: u64,
        /// Bytes available.
        budget: u64,
    },
    /// ONNX Runtime failed.
    #[error("{0}")]
    Run(String),
    /// The engine stopped.
    #[error("the engine has stopped")]
    Stopped,
}

/// Totals since the engine started.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EngineStats {
    /// Prompt tokens run through the model (shared-prefix copies excluded).
    pub prefill_tokens: u64,
    /// Seconds in prefill runs.
    pub prefill_seconds: f64,
    /// Tokens generated.
    pub decode_tokens: u64,
    /// Seconds in decode steps.
    pub decode_seconds: f64,
    /// Decode steps run.
    pub decode_steps: u64,
    /// Most sequences in flight at once.
    pub peak_in_flight: usize,
    /// Prompt tokens served from the shared-prefix cache.
    pub reused_prefix_tokens: u64,
    /// Sessions these totals cover; their seconds add up side by side, so the time they took
    /// is about the seconds divided by this.
    pub sessions: usize,
}

impl EngineStats {
    /// Adds another engine's totals to these (several sessions of one model).
    pub fn add(&mut self, other: &EngineStats) {
        self.prefill_tokens += other.prefill_tokens;
        self.prefill_seconds += other.prefill_seconds;
        self.decode_tokens += other.decode_tokens;
        self.decode_seconds += other.decode_seconds;
        self.decode_steps += other.decode_steps;
        self.peak_in_flight += other.peak_in_flight;
        self.reused_prefix_tokens += other.reused_prefix_tokens;
        self.sessions += other.sessions;
    }
}

/// A submitted request; [`Pending::wait`] blocks until it completes.
pub struct Pending {
    rx: Receiver<Result<Completion, EngineError>>,
}

impl Pending {
    /// Waits for the completion.
    pub fn wait(self) -> Result<Completion, EngineError> {
        self.rx.recv().unwrap_or(Err(EngineError::Stopped))
    }
}

struct Job {
    req: Request,
    submitted: Instant,
    reply: Sender<Result<Completion, EngineError>>,
    /// Further answers to the same prompt: its cache is computed once and copied to each.
    forks: Vec<Fork>,
}

/// One further answer of a [`Job`]: how its tokens are picked, and where it goes.
struct Fork {
    sampling: Sampling,
    reply: Sender<Result<Completion, EngineError>>,
}

impl Job {
    /// A job of one answer.
    fn alone(
        req: Request,
        submitted: Instant,
        reply: Sender<Result<Completion, EngineError>>,
    ) -> Job {
        Job {
            req,
            submitted,
            reply,
            forks: Vec::new(),
        }
    }

    /// The job and its forks as separate jobs, each computing the prompt on its own (for a
    /// group that can never be in flight at once).
    fn split(self) -> Vec<Job> {
        let Job {
            req,
            submitted,
            reply,
            forks,
        } = self;
        let mut out = vec![Job::alone(req.clone(), submitted, reply)];
        out.extend(forks.into_iter().map(|f| {
            let req = Request {
                sampling: f.sampling,
                ..req.clone()
            };
            Job::alone(req, submitted, f.reply)
        }));
        out
    }
}

/// The engine handle; cheap to share behind an `Arc`.
pub struct Engine {
    tx: Mutex<Option<Sender<Job>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    io: DecoderIo,
    capacity: usize,
    stats: Arc<Mutex<EngineStats>>,
    kv_budget: u64,
    /// Requests submitted and not yet answered.
    outstanding: Arc<AtomicUsize>,
}

impl Engine {
    /// Starts the worker thread around a loaded decoder.
    ///
    /// `weights_bytes` is what the model's weights occupy; the cache budget is `max_memory` minus
    /// weights and an activation reserve.
    pub fn start(
        decoder: SessionRunner,
        vocab: StopVocab,
        config: EngineConfig,
        weights_bytes: u64,
    ) -> Result<Engine, EngineError> {
        let io = decoder.io().clone();
        let capacity = config.max_context.div_ceil(64) * 64;
        let parallel = config.parallel.max(1);
        let activation = activation_reserve(&io, &config, capacity);
        let mut kv_budget = config
            .max_memory
            .saturating_sub(weights_bytes)
            .saturating_sub(activation);
        if io.strategy == KvStrategy::Growing {
            // A growing cache also lives, during a step, in a past and a present staging tensor
            // as long as the rows' longest cache plus up to a quarter of spare columns: about
            // three and a half times the cache in flight.
            kv_budget = kv_budget / 7 * 2;
        }
        // One extra slot holds the shared prefix.
        let pool = KvPool::new(io.kv, parallel + 1, capacity)
            .map_err(|e| EngineError::Run(format!("reserving the KV cache: {e}")))?;
        let stats = Arc::new(Mutex::new(EngineStats {
            sessions: 1,
            ..EngineStats::default()
        }));
        let (tx, rx) = mpsc::channel::<Job>();
        let worker_stats = stats.clone();
        let outstanding = Arc::new(AtomicUsize::new(0));
        let worker_outstanding = outstanding.clone();
        let worker = std::thread::Builder::new()
            .name("isg-engine".into())
            .spawn(move || {
                Worker {
                    decoder,
                    pool,
                    vocab,
                    parallel,
                    chunk: config.prefill_chunk.max(1),
                    kv_budget,
                    stats: worker_stats,
                    outstanding: worker_outstanding,
                    prefix: None,
                }
                .run(rx)
            })
            .map_err(|e| EngineError::Run(format!("starting the engine thread: {e}")))?;
        Ok(Engine {
            tx: Mutex::new(Some(tx)),
            worker: Mutex::new(Some(worker)),
            io,
            capacity,
            stats,
            kv_budget,
            outstanding,
        })
    }

    /// The model's conventions.
    pub fn io(&self) -> &DecoderIo {
        &self.io
    }

    /// Positions per sequence (prompt plus output).
    pub fn context(&self) -> usize {
        self.capacity
    }

    /// Bytes of cache the budget allows in flight.
    pub fn kv_budget(&self) -> u64 {
        self.kv_budget
    }

    /// Requests submitted and not yet answered (queued or in flight).
    pub fn outstanding(&self) -> usize {
        self.outstanding.load(Ordering::Relaxed)
    }

    /// Queues a request.
    pub fn submit(&self, req: Request) -> Pending {
        self.submit_forked(req, &[])
            .pop()
            .expect("one pending answer per request")
    }

    /// Queues a request and `more` further answers to the same prompt, one per sampling rule:
    /// the prompt is run once and its cache copied to each (they are admitted together when
    /// the slots and the budget allow, else one by one). The first pending answer is the
    /// request's own, then one per entry of `more`.
    pub fn submit_forked(&self, req: Request, more: &[Sampling]) -> Vec<Pending> {
        let (reply, rx) = mpsc::channel();
        let mut pending = vec![Pending { rx }];
        let forks: Vec<Fork> = more
            .iter()
            .map(|&sampling| {
                let (reply, rx) = mpsc::channel();
                pending.push(Pending { rx });
                Fork { sampling, reply }
            })
            .collect();
        let answers = 1 + forks.len();
        let job = Job {
            req,
            submitted: Instant::now(),
            reply,
            forks,
        };
        let guard = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        let refused = match guard.as_ref() {
            Some(tx) => {
                self.outstanding.fetch_add(answers, Ordering::Relaxed);
                match tx.send(job) {
                    Ok(()) => None,
                    Err(mpsc::SendError(job)) => {
                        self.outstanding.fetch_sub(answers, Ordering::Relaxed);
                        Some(job)
                    }
                }
            }
            None => Some(job),
        };
        if let Some(job) = refused {
            for j in job.split() {
                let _ = j.reply.send(Err(EngineError::Stopped));
            }
        }
        pending
    }

    /// Runs one request to completion.
    pub fn generate(&self, req: Request) -> Result<Completion, EngineError> {
        self.submit(req).wait()
    }

    /// Totals so far.
    pub fn stats(&self) -> EngineStats {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(w) = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = w.join();
        }
    }
}

/// Bytes reserved for the activations of the largest step.
/// Bytes held back from the cache budget for the activations of one prefill piece and the
/// logits of one step.
pub(crate) fn activation_reserve(io: &DecoderIo, config: &EngineConfig, capacity: usize) -> u64 {
    let chunk = config.prefill_chunk as u64;
    let logits = if io.all_logits {
        chunk * io.vocab as u64 * 4
    } else {
        config.parallel as u64 * io.vocab as u64 * 4
    };
    // Attention scores of a prefill piece over the whole slot, per head, plus a fixed reserve for
    // the hidden states and the runtime's own buffers.
    let heads = (io.kv.kv_heads * 4) as u64;
    logits + chunk * capacity as u64 * heads * 4 + (256 << 20)
}

enum Phase {
    Prefill,
    Decode,
}

struct Seq {
    job: Job,
    slot: usize,
    /// Prompt positions in the cache.
    done: usize,
    phase: Phase,
    generated: Vec<u32>,
    next: u32,
    sampler: Sampler,
    cost: u64,
    admitted: Instant,
    prefill_s: f64,
    decode_start: Option<Instant>,
    reused: usize,
}

struct Worker {
    decoder: SessionRunner,
    pool: KvPool,
    vocab: StopVocab,
    parallel: usize,
    chunk: usize,
    kv_budget: u64,
    stats: Arc<Mutex<EngineStats>>,
    outstanding: Arc<AtomicUsize>,
    /// Token ids whose cache is in the prefix slot.
    prefix: Option<Vec<u32>>,
}

impl Worker {
    /// Sends a request's outcome to its caller.
    fn answer(
        &self,
        reply: &Sender<Result<Completion, EngineError>>,
        outcome: Result<Completion, EngineError>,
    ) {
        self.outstanding.fetch_sub(1, Ordering::Relaxed);
        let _ = reply.send(outcome);
    }

    fn prefix_slot(&self) -> usize {
        self.parallel
    }

    fn run(mut self, rx: Receiver<Job>) {
        let mut queue: VecDeque<Job> = VecDeque::new();
        let mut seqs: Vec<Seq> = Vec::new();
        let mut open = true;
        loop {
            // Take what has arrived; block only when there is nothing else to do.
            if seqs.is_empty() && queue.is_empty() {
                if !open {
                    return;
                }
                match rx.recv() {
                    Ok(job) => queue.push_back(job),
                    Err(_) => return,
                }
            }
            loop {
                match rx.try_recv() {
                    Ok(job) => queue.push_back(job),
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => {
                        open = false;
                        break;
                    }
                }
            }
            self.admit(&mut queue, &mut seqs);
            // Prompts first: a decode step costs about the same with one row as with twenty
            // (it reads every weight once), so it runs once every admitted prompt is in and the
            // batch is as wide as it can be.
            if let Some(i) = seqs.iter().position(|s| matches!(s.phase, Phase::Prefill)) {
                self.prefill_piece(&mut seqs, i);
            } else if seqs.iter().any(|s| matches!(s.phase, Phase::Decode)) {
                self.decode_step(&mut seqs);
            }
        }
    }

    fn admit(&mut self, queue: &mut VecDeque<Job>, seqs: &mut Vec<Seq>) {
        let cap = self.pool.capacity();
        let bpt = self.pool.shape().bytes_per_token() as u64;
        while seqs.len() < self.parallel {
            let Some(job) = queue.front() else { break };
            let req = &job.req;
            let err = if req.prompt.is_empty() {
                Some(EngineError::EmptyPrompt)
            } else if req.prompt.len() + req.max_new_tokens > cap {
                Some(EngineError::TooLong {
                    prompt: req.prompt.len(),
                    max_new: req.max_new_tokens,
                    context: cap,
                })
            } else {
                None
            };
            let cost = (req.prompt.len() + req.max_new_tokens) as u64 * bpt;
            let err = err.or_else(|| {
                (cost > self.kv_budget).then_some(EngineError::OverBudget {
                    need: cost,
                    budget: self.kv_budget,
                })
            });
            if let Some(e) = err {
                let job = queue.pop_front().expect("front exists");
                for j in job.split() {
                    self.answer(&j.reply, Err(e.clone()));
                }
                continue;
            }
            let group = 1 + job.forks.len();
            if group > 1 && (group > self.parallel || cost * group as u64 > self.kv_budget) {
                // The group can never be in flight at once: its answers go one by one.
                let job = queue.pop_front().expect("front exists");
                for j in job.split().into_iter().rev() {
                    queue.push_front(j);
                }
                continue;
            }
            let in_flight: u64 = seqs.iter().map(|s| s.cost).sum();
            if in_flight + cost * group as u64 > self.kv_budget
                || seqs.len() + group > self.parallel
            {
                break;
            }
            let job = queue.pop_front().expect("front exists");
            if group > 1 {
                self.admit_group(job, cost, seqs);
                continue;
            }
            let used: Vec<usize> = seqs.iter().map(|s| s.slot).collect();
            let slot = (0..self.parallel)
                .find(|s| !used.contains(s))
                .expect("a free slot exists while fewer than `parallel` run");
            let sampler = Sampler::new(job.req.sampling);
            let mut seq = Seq {
                slot,
                done: 0,
                phase: Phase::Prefill,
                generated: Vec::new(),
                next: 0,
                sampler,
                cost,
                admitted: Instant::now(),
                prefill_s: 0.0,
                decode_start: None,
                reused: 0,
                job,
            };
            if let Err(e) = self.reuse_prefix(&mut seq) {
                self.answer(&seq.job.reply, Err(e));
                continue;
            }
            seqs.push(seq);
            let mut st = self.stats.lock().unwrap_or_else(|p| p.into_inner());
            st.peak_in_flight = st.peak_in_flight.max(seqs.len());
        }
    }

    /// Copies a shared prompt prefix into a new sequence's slot, computing it first if needed.
    fn reuse_prefix(&mut self, seq: &mut Seq) -> Result<(), EngineError> {
        let p = seq.job.req.shared_prefix;
        // Keep at least one prompt token to prefill, so the last logits come from a real run.
        if p == 0 || p >= seq.job.req.prompt.len() {
            return Ok(());
        }
        let prefix = seq.job.req.prompt[..p].to_vec();
        self.hold_prefix(&prefix)?;
        self.pool.copy_prefix(self.prefix_slot(), seq.slot, p);
        seq.done = p;
        seq.reused = p;
        self.stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .reused_prefix_tokens += p as u64;
        Ok(())
    }

    /// Makes the prefix slot hold the cache of `prefix`: kept when the tokens there begin with
    /// it, else computed from the start.
    fn hold_prefix(&mut self, prefix: &[u32]) -> Result<(), EngineError> {
        match self.prefix.as_mut() {
            Some(held) if held.starts_with(prefix) => {
                held.truncate(prefix.len());
                Ok(())
            }
            _ => self.fill_prefix(prefix, 0).map(|_| ()),
        }
    }

    /// Computes the cache of `tokens` in the prefix slot, keeping its first `keep` positions
    /// (the caller has made sure they hold `tokens[..keep]`), in pieces from `keep` on as a
    /// sequence's own prefill would run them, so that a prompt gives the same cache and the same
    /// answers either way. Returns the logits of the last token.
    fn fill_prefix(&mut self, tokens: &[u32], keep: usize) -> Result<Vec<f32>, EngineError> {
        let slot = self.prefix_slot();
        if keep == 0 {
            self.pool.release(slot);
        } else {
            self.pool.touch(slot);
        }
        self.prefix = None;
        let start = Instant::now();
        let mut done = keep;
        let mut logits = Vec::new();
        while done < tokens.len() {
            let end = (done + self.chunk).min(tokens.len());
            logits = self
                .decoder
                .prefill(&mut self.pool, slot, done, &tokens[done..end])
                .map_err(|e| EngineError::Run(e.to_string()))?;
            done = end;
        }
        let mut st = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        st.prefill_tokens += (tokens.len() - keep) as u64;
        st.prefill_seconds += start.elapsed().as_secs_f64();
        drop(st);
        self.prefix = Some(tokens.to_vec());
        Ok(logits)
    }

    /// Admits a job and its forks at once: the prompt is run once in the prefix slot (all but
    /// the part it shares with what is there), its cache copied to one free slot per answer,
    /// and each answer's first token picked from the same logits by its own sampler.
    fn admit_group(&mut self, job: Job, cost: u64, seqs: &mut Vec<Seq>) {
        let Job {
            req,
            submitted,
            reply,
            forks,
        } = job;
        let len = req.prompt.len();
        let start = Instant::now();
        // As a lone request would: the shared head from the prefix slot (computed from the
        // start if it is not there), the rest of the prompt run from it, the last token always.
        let head = req.shared_prefix.min(len - 1);
        let filled = if head > 0 {
            self.hold_prefix(&req.prompt[..head])
        } else {
            Ok(())
        }
        .and_then(|()| self.fill_prefix(&req.prompt, head));
        let logits = match filled {
            Ok(logits) => {
                self.stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .reused_prefix_tokens += (head + forks.len() * len) as u64;
                logits
            }
            Err(e) => {
                self.answer(&reply, Err(e.clone()));
                for f in forks {
                    self.answer(&f.reply, Err(e.clone()));
                }
                return;
            }
        };
        let prefill_s = start.elapsed().as_secs_f64();
        let members = std::iter::once((req.sampling, reply))
            .chain(forks.into_iter().map(|f| (f.sampling, f.reply)));
        for (k, (sampling, reply)) in members.enumerate() {
            let used: Vec<usize> = seqs.iter().map(|s| s.slot).collect();
            let slot = (0..self.parallel)
                .find(|s| !used.contains(s))
                .expect("the group's slots were counted free");
            self.pool.copy_prefix(self.prefix_slot(), slot, len);
            let r = Request {
                sampling,
                ..req.clone()
            };
            let now = Instant::now();
            let mut seq = Seq {
                slot,
                done: len,
                phase: Phase::Decode,
                generated: Vec::new(),
                next: 0,
                sampler: Sampler::new(sampling),
                cost,
                admitted: now,
                prefill_s: if k == 0 { prefill_s } else { 0.0 },
                decode_start: Some(now),
                reused: if k == 0 { head } else { len },
                job: Job::alone(r, submitted, reply),
            };
            let token = seq.sampler.pick(&logits);
            let finished = self.accept(&mut seq, token);
            seqs.push(seq);
            if let Some(f) = finished {
                self.finish(seqs, seqs.len() - 1, f);
            }
        }
        let mut st = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        st.peak_in_flight = st.peak_in_flight.max(seqs.len());
    }

    fn prefill_piece(&mut self, seqs: &mut Vec<Seq>, i: usize) {
        let seq = &mut seqs[i];
        let prompt_len = seq.job.req.prompt.len();
        let end = (seq.done + self.chunk).min(prompt_len);
        let start = Instant::now();
        let result = self.decoder.prefill(
            &mut self.pool,
            seq.slot,
            seq.done,
            &seq.job.req.prompt[seq.done..end],
        );
        let secs = start.elapsed().as_secs_f64();
        seq.prefill_s += secs;
        {
            let mut st = self.stats.lock().unwrap_or_else(|p| p.into_inner());
            st.prefill_tokens += (end - seq.done) as u64;
            st.prefill_seconds += secs;
        }
        match result {
            Err(e) => self.fail(seqs, i, e),
            Ok(logits) => {
                seq.done = end;
                if end == prompt_len {
                    let token = seq.sampler.pick(&logits);
                    seq.phase = Phase::Decode;
                    seq.decode_start = Some(Instant::now());
                    if let Some(f) = self.accept(seq, token) {
                        self.finish(seqs, i, f);
                    }
                }
            }
        }
    }

    /// Records a generated token; returns why the sequence ends, if it does.
    fn accept(&self, seq: &mut Seq, token: u32) -> Option<Finish> {
        let req = &seq.job.req;
        if !req.ignore_eos && self.vocab.eos.contains(&token) {
            return Some(Finish::Eos);
        }
        let newline = |t: u32| self.vocab.newline.get(t as usize).copied().unwrap_or(false);
        let has_text = seq.generated.iter().any(|&t| !newline(t));
        seq.generated.push(token);
        seq.next = token;
        if req.stop_at_newline && newline(token) && has_text {
            return Some(Finish::Newline);
        }
        if let Some(check) = &req.stop_when
            && (check.0)(&seq.generated)
        {
            return Some(Finish::Rule);
        }
        (seq.generated.len() >= req.max_new_tokens).then_some(Finish::Length)
    }

    fn finish(&mut self, seqs: &mut Vec<Seq>, i: usize, finish: Finish) {
        let seq = seqs.swap_remove(i);
        self.pool.release(seq.slot);
        let done = Completion {
            prompt_tokens: seq.job.req.prompt.len(),
            reused_prefix_tokens: seq.reused,
            queue_ms: (seq.admitted - seq.job.submitted).as_secs_f64() * 1e3,
            prefill_ms: seq.prefill_s * 1e3,
            decode_ms: seq
                .decode_start
                .map(|t| t.elapsed().as_secs_f64() * 1e3)
                .unwrap_or(0.0),
            tokens: seq.generated,
            finish,
        };
        self.answer(&seq.job.reply, Ok(done));
    }

    fn fail(&mut self, seqs: &mut Vec<Seq>, i: usize, e: DecoderError) {
        let seq = seqs.swap_remove(i);
        self.pool.release(seq.slot);
        self.answer(&seq.job.reply, Err(EngineError::Run(e.to_string())));
    }

    fn decode_step(&mut self, seqs: &mut Vec<Seq>) {
        let rows_n = seqs
            .iter()
            .filter(|s| matches!(s.phase, Phase::Decode))
            .map(|s| s.slot + 1)
            .max()
            .unwrap_or(0);
        // Rows of slots that are not generating still take part in the batch: a free slot gets a
        // one-token dummy; a slot being prefilled writes its dummy at the position its next
        // prefill piece overwrites.
        let mut rows = vec![DecodeRow { token: 0, past: 0 }; rows_n];
        let mut decoding = 0u64;
        for s in seqs.iter() {
            if s.slot >= rows_n {
                continue;
            }
            rows[s.slot] = match s.phase {
                Phase::Decode => {
                    decoding += 1;
                    DecodeRow {
                        token: s.next,
                        past: s.job.req.prompt.len() + s.generated.len() - 1,
                    }
                }
                Phase::Prefill => DecodeRow {
                    token: 0,
                    past: s.done,
                },
            };
        }
        let start = Instant::now();
        let result = self.decoder.decode(&mut self.pool, &rows);
        {
            let mut st = self.stats.lock().unwrap_or_else(|p| p.into_inner());
            st.decode_seconds += start.elapsed().as_secs_f64();
            st.decode_tokens += decoding;
            st.decode_steps += 1;
        }
        let vocab = self.decoder.io().vocab;
        match result {
            Err(e) => {
                let mut i = 0;
                while i < seqs.len() {
                    if matches!(seqs[i].phase, Phase::Decode) {
                        self.fail(seqs, i, DecoderError::Run(e.to_string()));
                    } else {
                        i += 1;
                    }
                }
            }
            Ok(logits) => {
                let mut i = 0;
                while i < seqs.len() {
                    let s = &mut seqs[i];
                    if matches!(s.phase, Phase::Decode) && s.slot < rows_n {
                        let row = &logits[s.slot * vocab..(s.slot + 1) * vocab];
                        let token = s.sampler.pick(row);
                        if let Some(f) = self.accept(s, token) {
                            self.finish(seqs, i, f);
                            continue;
                        }
                    }
                    i += 1;
                }
            }
        }
    }
}

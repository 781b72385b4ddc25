//! A model ready to generate: an ONNX decoder folder opened, checked, loaded and served by an
//! [`Engine`], with its tokenizer and chat template.
//!
//! [`Model::open`] takes a resolved model folder (or `.onnx` file) and never downloads or converts
//! anything: callers resolve `--model` with [`crate::provision::resolve_model`] first, and load
//! ONNX Runtime (fetching it when allowed) with [`crate::provision::ensure_runtime`]. Before ONNX Runtime sees the file, the same checks as
//! `isg inspect` run, so a missing or short external data file is reported by name instead of as
//! ONNX Runtime's opaque initialization error.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use sha2::{Digest, Sha256};

use super::device::Device;
use super::engine::{
    Completion, Engine, EngineConfig, EngineError, EngineStats, Pending, Request, StopVocab,
};
use super::sample::Sampling;
use super::session_runner::{SessionRunner, SessionSettings};
use super::tokenizer::TextTokenizer;
use ort::session::builder::PrepackedWeights;

/// How to open a model.
#[derive(Debug, Clone, Default)]
pub struct ModelSettings {
    /// Engine settings (parallel sequences, prefill piece, memory budget, context).
    pub engine: EngineConfig,
    /// ONNX Runtime intra-op threads (0: one per core).
    pub threads: usize,
    /// `--ort-lib`.
    pub ort_lib: Option<PathBuf>,
    /// Which `.onnx` of a folder with several (`--variant`).
    pub variant: Option<String>,
    /// Execution provider (`--device`).
    pub device: Device,
    /// ONNX Runtime sessions serving the requests (0 or 1: one). With several, each session
    /// takes an equal share of `engine.parallel`, the memory budget and the cores, and they share
    /// one container of pre-packed weights.
    pub sessions: usize,
}

/// An opened model.
pub struct Model {
    dir: PathBuf,
    onnx: PathBuf,
    id: String,
    tokenizer: Arc<TextTokenizer>,
    engines: Vec<Engine>,
    load_seconds: f64,
    device: Device,
    parallel: usize,
}

impl Model {
    /// Opens `model` (a folder or `.onnx` file).
    pub fn open(model: &Path, settings: &ModelSettings) -> anyhow::Result<Model> {
        crate::llm::runtime::ensure(settings.ort_lib.as_deref())?;
        super::device::ensure(settings.device)?;
        let location = crate::onnx::locate_model(model, settings.variant.as_deref())
            .map_err(crate::onnx::InspectError::single)?;
        let onnx = location.onnx;
        let report = crate::onnx::preflight(&onnx)?;
        let dir = location.root;
        let tokenizer = Arc::new(
            TextTokenizer::load(&dir)
                .with_context(|| format!("loading the tokenizer of {}", dir.display()))?,
        );
        let sessions = settings.sessions.max(1);
        let parallel = settings.engine.parallel.max(1);
        let threads = match (settings.threads, sessions) {
            (0, 1) => 0,
            (0, k) => (std::thread::available_parallelism().map_or(1, |n| n.get()) / k).max(1),
            (t, _) => t,
        };
        let session_settings = SessionSettings {
            threads,
            device: settings.device,
            prepacked: (sessions > 1).then(PrepackedWeights::new),
        };
        let mut decoders = Vec::with_capacity(sessions);
        let mut load_seconds = 0.0;
        for _ in 0..sessions {
            let decoder = SessionRunner::load(&onnx, &session_settings)?;
            load_seconds += decoder.load_seconds;
            decoders.push(decoder);
        }
        // What the weights really take is what the process holds once ONNX Runtime has loaded
        // and pre-packed them (for every session); the file sizes are the fallback where the
        // resident size cannot be read.
        let in_use = crate::process::resident_bytes().unwrap_or_else(|| report.weights_bytes());
        let share = EngineConfig {
            parallel: parallel.div_ceil(sessions),
            max_memory: settings.engine.max_memory / sessions as u64,
            ..settings.engine.clone()
        };
        let mut engines = Vec::with_capacity(sessions);
        let mut vocab = None;
        for decoder in decoders {
            let vocab = vocab
                .get_or_insert_with(|| stop_vocab(&tokenizer, decoder.io().vocab))
                .clone();
            engines.push(Engine::start(
                decoder,
                vocab,
                share.clone(),
                in_use / sessions as u64,
            )?);
        }
        check_budget(&engines, in_use, &share, settings.engine.max_memory)?;
        let id = model_id(&dir, &onnx)?;
        Ok(Model {
            dir,
            onnx,
            id,
            tokenizer,
            engines,
            load_seconds,
            device: settings.device,
            parallel,
        })
    }

    /// Stable identity of the model for cache keys: folder name plus a hash of its graph file,
    /// configs and data file sizes.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The model folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The `.onnx` file that was loaded.
    pub fn onnx_path(&self) -> &Path {
        &self.onnx
    }

    /// The tokenizer and chat template.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// A shared handle to the tokenizer.
    pub fn tokenizer_arc(&self) -> Arc<TextTokenizer> {
        self.tokenizer.clone()
    }

    /// The generation engine (the first one when there are several sessions).
    pub fn engine(&self) -> &Engine {
        &self.engines[0]
    }

    /// Requests kept in flight at once, all sessions together (`engine.parallel` of the
    /// settings it was opened with, at least 1).
    pub fn parallel(&self) -> usize {
        self.parallel
    }

    /// Number of ONNX Runtime sessions serving requests.
    pub fn sessions(&self) -> usize {
        self.engines.len()
    }

    /// Queues a request on the session with the fewest requests outstanding.
    pub fn submit(&self, req: Request) -> Pending {
        self.engines
            .iter()
            .min_by_key(|e| e.outstanding())
            .expect("a model has at least one engine")
            .submit(req)
    }

    /// Queues a request and further answers to its prompt, one per sampling rule in `more`,
    /// on one session: the prompt is run once (see [`Engine::submit_forked`]).
    pub fn submit_forked(&self, req: Request, more: &[Sampling]) -> Vec<Pending> {
        self.engines
            .iter()
            .min_by_key(|e| e.outstanding())
            .expect("a model has at least one engine")
            .submit_forked(req, more)
    }

    /// Runs one request to completion.
    pub fn generate(&self, req: Request) -> Result<Completion, EngineError> {
        self.submit(req).wait()
    }

    /// Engine totals, summed over the sessions.
    pub fn stats(&self) -> EngineStats {
        let mut total = EngineStats::default();
        for e in &self.engines {
            total.add(&e.stats());
        }
        total
    }

    /// The execution provider the session runs on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Seconds ONNX Runtime took to create the sessions.
    pub fn load_seconds(&self) -> f64 {
        self.load_seconds
    }
}

/// A memory budget that cannot hold even one sequence at full context next to the loaded model.
#[derive(Debug, thiserror::Error)]
#[error(
    "the model needs {need_mib} MiB (loaded weights and runtime {in_use_mib} MiB, activations \
     {activations_mib} MiB, one sequence of {context} positions per session {sequence_mib} MiB) but \
     the memory budget is {budget_mib} MiB: raise --max-memory (or lower --sessions, or shorten \
     prompts with --max-prompt-tokens)"
)]
pub struct MemoryBudgetError {
    /// Everything the smallest useful run needs, in MiB.
    pub need_mib: u64,
    /// What the process held once the sessions were loaded, in MiB.
    pub in_use_mib: u64,
    /// Reserve for the activations of a prefill piece and the logits, all sessions, in MiB.
    pub activations_mib: u64,
    /// Cache of one full-context sequence per session, in MiB.
    pub sequence_mib: u64,
    /// Positions of a full-context sequence.
    pub context: usize,
    /// The budget, in MiB.
    pub budget_mib: u64,
}

/// Fails when some session's cache budget cannot hold one sequence at full context.
fn check_budget(
    engines: &[Engine],
    in_use: u64,
    share: &EngineConfig,
    budget: u64,
) -> Result<(), MemoryBudgetError> {
    let sessions = engines.len() as u64;
    let e = &engines[0];
    let context = e.context();
    let sequence = context as u64 * e.io().kv.bytes_per_token() as u64;
    let activations = super::engine::activation_reserve(e.io(), share, context) * sessions;
    if engines.iter().all(|e| e.kv_budget() >= sequence) {
        return Ok(());
    }
    let mib = |b: u64| b.div_ceil(1 << 20);
    Err(MemoryBudgetError {
        need_mib: mib(in_use + activations + sequence * sessions),
        in_use_mib: mib(in_use),
        activations_mib: mib(activations),
        sequence_mib: mib(sequence * sessions),
        context,
        budget_mib: budget >> 20,
    })
}

/// End-of-sequence ids from the configs and the ids whose text contains a line break.
fn stop_vocab(tokenizer: &TextTokenizer, vocab: usize) -> StopVocab {
    let newline = (0..vocab as u32)
        .map(|id| {
            tokenizer
                .decode(&[id], false)
                .is_ok_and(|t| t.contains('\n'))
        })
        .collect();
    StopVocab {
        eos: tokenizer.eos_ids().to_vec(),
        newline,
    }
}

/// `<folder name>-<12 hex digits>` from a hash of the graph file (its first 16 MiB and its size)
/// and the names and sizes of its neighbours (data files, tokenizer, configs).
fn model_id(dir: &Path, onnx: &Path) -> anyhow::Result<String> {
    use std::io::Read;
    let mut h = Sha256::new();
    let file = std::fs::File::open(onnx).with_context(|| format!("reading {}", onnx.display()))?;
    let len = file.metadata()?.len();
    let mut head = Vec::new();
    file.take(16 << 20)
        .read_to_end(&mut head)
        .with_context(|| format!("reading {}", onnx.display()))?;
    h.update(&head);
    h.update(len.to_le_bytes());
    let mut names: Vec<(String, u64)> = std::fs::read_dir(onnx.parent().unwrap_or(dir))
        .with_context(|| format!("listing {}", dir.display()))?
        .flatten()
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            meta.is_file()
                .then(|| (e.file_name().to_string_lossy().into_owned(), meta.len()))
        })
        .collect();
    names.sort();
    for (n, len) in names {
        h.update(n.as_bytes());
        h.update(len.to_le_bytes());
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    Ok(format!("{name}-{}", &hex::encode(h.finalize())[..12]))
}

//! A two-step generation that proves the engine can drive a loaded model: what `isg inspect
//! --load` runs after ONNX Runtime accepted the file.
//!
//! In flows a [`SessionRunner`]; [`probe`] prefills two short prompts of different lengths into two
//! slots of a small [`KvPool`], then runs one batched decode step over both rows, exactly as the
//! engine does, and checks every logit is finite. Out comes a [`Probe`] (strategy, tokens, time)
//! or the [`DecoderError`] the first `generate` would have met. [`open_session`] creates the
//! session from the model file first, so external data resolves as it will when isg runs the
//! model, and [`OpenedSession::probe`] hands it to the decoder.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ort::session::Session;

use super::device::Device;
use super::discover::KvStrategy;
use super::kv::KvPool;
use super::session_runner::{DecodeRow, DecoderError, SessionRunner};

/// What the two-step generation did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Probe {
    /// How the engine keeps this model's cache.
    pub strategy: KvStrategy,
    /// Prompt tokens prefilled (both rows).
    pub prefill_tokens: usize,
    /// Rows of the decode step.
    pub decode_rows: usize,
    /// Greedy tokens: the first of each row (from the prefill), then the second (decode step).
    pub tokens: Vec<[u32; 2]>,
    /// Milliseconds for both steps.
    pub ms: f64,
}

fn argmax(logits: &[f32]) -> u32 {
    super::sample::argmax(logits) as u32
}

fn finite(logits: &[f32], step: &str) -> Result<(), DecoderError> {
    match logits.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(DecoderError::Run(format!(
            "the {step} gave a non-finite logit ({} at index {i}); the weights or the export are broken",
            logits[i]
        ))),
    }
}

/// Runs a short prefill on two rows and one batched decode step.
pub fn probe(decoder: &mut SessionRunner) -> Result<Probe, DecoderError> {
    let io = decoder.io().clone();
    let start = Instant::now();
    let mut pool = KvPool::new(io.kv, 2, 64)
        .map_err(|e| DecoderError::Run(format!("reserving a small KV cache: {e}")))?;
    let vocab = io.vocab as u32;
    let prompts: [Vec<u32>; 2] = [
        (0..7).map(|i| (i * 37 + 11) % vocab).collect(),
        (0..4).map(|i| (i * 53 + 5) % vocab).collect(),
    ];
    let mut first = [0u32; 2];
    for (slot, p) in prompts.iter().enumerate() {
        let logits = decoder.prefill(&mut pool, slot, 0, p)?;
        if logits.len() != io.vocab {
            return Err(DecoderError::Run(format!(
                "the prefill gave {} logits, not one row of {}",
                logits.len(),
                io.vocab
            )));
        }
        finite(&logits, "prefill")?;
        first[slot] = argmax(&logits);
    }
    let rows: Vec<DecodeRow> = (0..2)
        .map(|i| DecodeRow {
            token: first[i],
            past: prompts[i].len(),
        })
        .collect();
    let logits = decoder.decode(&mut pool, &rows)?;
    if logits.len() != 2 * io.vocab {
        return Err(DecoderError::Run(format!(
            "the decode step gave {} logits, not two rows of {}",
            logits.len(),
            io.vocab
        )));
    }
    finite(&logits, "decode step")?;
    let tokens = (0..2)
        .map(|i| [first[i], argmax(&logits[i * io.vocab..(i + 1) * io.vocab])])
        .collect();
    Ok(Probe {
        strategy: io.strategy,
        prefill_tokens: prompts.iter().map(Vec::len).sum(),
        decode_rows: 2,
        tokens,
        ms: start.elapsed().as_secs_f64() * 1e3,
    })
}

/// An ONNX Runtime session created straight from a model file, not yet driven by isg.
pub struct OpenedSession {
    session: Session,
    path: PathBuf,
}

/// Why the two-step generation could not run.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The decoder refused the session (it does not follow the conventions isg knows).
    #[error(transparent)]
    Open(DecoderError),
    /// The two steps failed.
    #[error(transparent)]
    Run(DecoderError),
}

/// Creates a session from `onnx` on `device` in the loaded ONNX Runtime. ONNX Runtime's own
/// logger is quiet: its message is returned instead, so it is not printed twice.
pub fn open_session(onnx: &Path, device: Device) -> Result<OpenedSession, String> {
    let rt = super::runtime::loaded().ok_or("ONNX Runtime is not loaded")?;
    Session::builder(&rt.environment)
        .and_then(|b| Ok(b.with_log_level(ort::logging::LogLevel::Fatal)?))
        .and_then(|b| super::device::apply(b, device).map_err(|e| ort::Error::new(e.to_string())))
        .and_then(|mut b| b.commit_from_file(onnx))
        .map(|session| OpenedSession {
            session,
            path: onnx.to_path_buf(),
        })
        .map_err(|e| e.to_string())
}

impl OpenedSession {
    /// Hands the session to the decoder and runs the two steps of `probe` on it.
    pub fn probe(self) -> Result<Probe, ProbeError> {
        let mut decoder =
            SessionRunner::from_session(self.session, &self.path).map_err(ProbeError::Open)?;
        probe(&mut decoder).map_err(ProbeError::Run)
    }
}

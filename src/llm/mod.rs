//! Everything that runs a model: finding and loading ONNX Runtime ([`runtime`]), choosing the
//! execution provider ([`device`]), opening a model folder, tokenizing and applying chat
//! templates, and the generation engine.
//!
//! The principal type is [`Model`]: [`Model::open`] takes a resolved model folder and
//! [`ModelSettings`], checks and loads it, and serves it with one or more [`Engine`]s (one ONNX
//! Runtime session each, holding the KV caches) and its [`TextTokenizer`]. A [`Request`] (prompt
//! token ids, a budget of new tokens, stopping rules, [`Sampling`]) flows in through
//! [`Model::submit`]; a [`Completion`] with its timings, or an [`EngineError`], flows out, and
//! [`EngineStats`] add up the totals. `ort` stays inside this module: other layers see only the
//! types re-exported here, and [`runtime`] and [`device`] for locating the library and checking
//! the provider. [`Embedder`] runs a sentence encoder: lines in, unit vectors out. [`GraphTimer`]
//! times a small graph (the weight-width calibration's projections).

mod chat;
pub mod device;
mod discover;
mod embed;
mod engine;
mod kv;
mod model;
mod ort_status;
mod plain_run;
mod probe;
pub mod runtime;
mod sample;
mod session_runner;
mod template;
mod text_error;
mod timing;
mod tokenizer;

pub use chat::{ChatParts, ChatPrefix};
pub use device::{Device, DeviceError};
pub use discover::{DecoderIo, KvStrategy};
pub use embed::{EmbedError, Embedder};
pub use engine::{
    Completion, DEFAULT_PREFILL_CHUNK, Engine, EngineConfig, EngineError, EngineStats, Finish,
    Pending, Request, StopCheck, StopFn,
};
pub use kv::{KvDtype, KvPool, KvShape};
pub use model::{MemoryBudgetError, Model, ModelSettings};
pub use plain_run::plain_prefill_seconds;
pub use probe::{OpenedSession, Probe, ProbeError, open_session};
pub use runtime::{RuntimeError, RuntimeInfo};
pub use sample::Sampling;
pub use session_runner::{DecodeRow, DecoderError, SessionRunner, SessionSettings};
pub use template::{CHATML_TEMPLATE, ChatMessage};
pub use text_error::{ChatError, TextTokenizerError};
pub use timing::{GraphTimer, TimingError};
pub use tokenizer::{TextDecoder, TextTokenizer};

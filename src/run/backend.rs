//! What the pipeline needs from a model: its identity, a chat template, a tokenizer and a way to
//! answer prompts. [`Backend`] is implemented for the loaded [`crate::llm::Model`] (in
//! `model_backend.rs`) and for the stand-in [`EchoBackend`](super::echo_backend::EchoBackend);
//! keeping the pipeline behind this small trait, in its own types ([`Query`] in, [`Answer`] or
//! [`BackendError`] out), lets its plumbing (cache, resume, sinks) be tested on its own.

use crate::llm::EngineStats;

use super::prompt::ChatTurn;

/// One prompt to answer with greedy decoding, stopping at the first line break or
/// end-of-sequence token, and optionally with further answers sampled from the same prompt.
#[derive(Debug, Clone)]
pub struct Query {
    /// Prompt token ids (chat template already applied).
    pub prompt: Vec<u32>,
    /// Hard cap on generated tokens.
    pub max_new_tokens: usize,
    /// The first `shared_prefix` prompt tokens are the same for every query of the run.
    pub shared_prefix: usize,
    /// A rule on the text generated so far: generation may end once it holds. Backends that
    /// cannot check text while generating ignore it (the token cap and the newline rule still
    /// apply).
    pub done_when: Option<fn(&str) -> bool>,
    /// Further answers sampled at [`SAMPLE_TEMPERATURE`] within [`SAMPLE_TOP_P`], the k-th
    /// (from 1) with the seed `seed + k`; 0 for the greedy answer alone. Backends that cannot
    /// sample give none.
    pub sampled: usize,
    /// The seed of the sampled answers (see `sampled`): the same query gets the same answers.
    pub seed: u64,
}

/// The softmax temperature of sampled answers ([`Query::sampled`]).
pub const SAMPLE_TEMPERATURE: f32 = 0.7;

/// The nucleus mass of sampled answers ([`Query::sampled`]).
pub const SAMPLE_TOP_P: f32 = 0.95;

/// A backend's answer to a [`Query`].
#[derive(Debug, Clone)]
pub struct Answer {
    /// Generated token ids.
    pub tokens: Vec<u32>,
    /// Prompt length in tokens.
    pub prompt_tokens: usize,
    /// The sampled answers' token ids ([`Query::sampled`]), in order.
    pub sampled: Vec<Vec<u32>>,
}

/// What a backend could not do.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    /// The chat template could not be rendered.
    #[error("{0}")]
    Template(String),
    /// Text could not be turned into token ids, or ids into text.
    #[error("{0}")]
    Tokenizer(String),
    /// The model could not answer the query.
    #[error("{0}")]
    Generation(String),
}

/// A query on its way; calling it blocks until the answer is there.
pub type Ticket = Box<dyn FnOnce() -> Result<Answer, BackendError> + Send>;

/// A model the pipeline can run: thread-safe, shared by every worker.
pub trait Backend: Send + Sync {
    /// A stable identity of the model (part of every cache key).
    fn model_id(&self) -> String;
    /// Positions per sequence: prompt plus generated tokens.
    fn context(&self) -> usize;
    /// Queries it keeps in flight at once (at least 1); the pipeline runs as many workers, plus
    /// a few so that one is always queued.
    fn parallel(&self) -> usize;
    /// The chat template applied to `messages`, with the assistant's turn opened.
    fn render_chat(&self, messages: &[ChatTurn]) -> Result<String, BackendError>;
    /// Token ids of the start of a prompt: special tokens in the text parsed, a BOS token
    /// prepended when the model wants one.
    fn encode_start(&self, text: &str) -> Result<Vec<u32>, BackendError>;
    /// Token ids of text that continues a prompt: special tokens in the text parsed, none added.
    fn encode(&self, text: &str) -> Result<Vec<u32>, BackendError>;
    /// Text of `ids`, special tokens skipped.
    fn decode(&self, ids: &[u32]) -> Result<String, BackendError>;
    /// Queues a query.
    fn submit(&self, query: Query) -> Ticket;
    /// The engine's totals so far.
    fn stats(&self) -> EngineStats;
}

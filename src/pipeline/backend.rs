//! What the pipeline needs from a model: its identity, a chat template, a tokenizer and an
//! engine to submit requests to. [`Backend`] is implemented for the loaded model; keeping the
//! pipeline behind this small trait lets its plumbing (cache, resume, sinks) be tested on its own.

use crate::llm::engine::{Completion, EngineError, EngineStats, Request, StopCheck};

use super::prompt::ChatMessage;

/// A request on its way; calling it blocks until the completion is there.
pub type Ticket = Box<dyn FnOnce() -> Result<Completion, EngineError> + Send>;

/// A model the pipeline can run: thread-safe, shared by every worker.
pub trait Backend: Send + Sync {
    /// A stable identity of the model (part of every cache key).
    fn model_id(&self) -> String;
    /// Positions per sequence: prompt plus generated tokens.
    fn context(&self) -> usize;
    /// The chat template applied to `messages`, with the assistant's turn opened.
    fn render_chat(&self, messages: &[ChatMessage]) -> Result<String, String>;
    /// Token ids of the start of a prompt: special tokens in the text parsed, a BOS token
    /// prepended when the model wants one.
    fn encode_start(&self, text: &str) -> Result<Vec<u32>, String>;
    /// Token ids of text that continues a prompt: special tokens in the text parsed, none added.
    fn encode(&self, text: &str) -> Result<Vec<u32>, String>;
    /// Text of `ids`, special tokens skipped.
    fn decode(&self, ids: &[u32]) -> Result<String, String>;
    /// Queues a request with the engine.
    fn submit(&self, request: Request) -> Ticket;
    /// The engine's totals so far.
    fn stats(&self) -> EngineStats;
    /// A stopping rule that ends generation once `done` holds for the text generated so far;
    /// `None` when the backend cannot check text while generating (then the token cap and the
    /// newline rule still apply).
    fn stop_check(&self, done: fn(&str) -> bool) -> Option<StopCheck> {
        let _ = done;
        None
    }
}

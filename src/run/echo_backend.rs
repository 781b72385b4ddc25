//! A stand-in model for tests of the pipeline's plumbing (cache, resume, reduction, sinks) and
//! for the fault tests of the `isg` binary, where it is selected with `ISG_TEST_BACKEND=echo`
//! (or `echo:MS` to make each request take MS milliseconds). It is not a summarizer: text is one
//! token per character, the chat template is ChatML, and the answer to a prompt is a fixed
//! sentence naming how many prompt tokens it read, unless a test gives its own rule
//! ([`EchoBackend::with_answer`]). It records every prompt it is given, and fails the ones that
//! contain a marker when asked to ([`EchoBackend::failing_on`]).
//! It lets the tests kill, starve and corrupt real runs of the real binary on real files in
//! milliseconds instead of loading a model; it is hidden from the command line's help and
//! never chosen unless the variable is set.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::backend::{Answer, Backend, BackendError, Query, Ticket};
use super::prompt::ChatTurn;
use crate::llm::{EngineConfig, EngineStats};

/// The environment variable that selects the stand-in.
pub const TEST_BACKEND_ENV: &str = "ISG_TEST_BACKEND";

/// The rule that answers a prompt, given its text and its length in tokens.
pub type AnswerFn = dyn Fn(&str, usize) -> String + Send + Sync;

/// The rule that gives a prompt's k-th sampled answer (from 1), given its text.
pub type SampledFn = dyn Fn(&str, usize) -> String + Send + Sync;

/// The stand-in model.
pub struct EchoBackend {
    id: String,
    context: usize,
    parallel: usize,
    delay: Duration,
    answer: Arc<AnswerFn>,
    sampled: Option<Arc<SampledFn>>,
    fail_marker: Option<String>,
    prompts: Mutex<Vec<String>>,
}

impl Default for EchoBackend {
    fn default() -> Self {
        EchoBackend::new()
    }
}

impl EchoBackend {
    /// The stand-in as the binary uses it: model id `test-echo`, a context of 65536 tokens, as
    /// many requests in flight as the engine keeps by default, no delay, and the answer
    /// "Reads N prompt tokens." followed by a line break.
    pub fn new() -> EchoBackend {
        EchoBackend {
            id: "test-echo".into(),
            context: 1 << 16,
            parallel: EngineConfig::default().parallel,
            delay: Duration::ZERO,
            answer: Arc::new(|_, n| format!("Reads {n} prompt tokens.\n")),
            sampled: None,
            fail_marker: None,
            prompts: Mutex::new(Vec::new()),
        }
    }

    /// The stand-in asked for by [`TEST_BACKEND_ENV`], if any; an unknown value is an error.
    pub fn from_env() -> Result<Option<EchoBackend>, String> {
        let Ok(value) = std::env::var(TEST_BACKEND_ENV) else {
            return Ok(None);
        };
        let (name, ms) = value.split_once(':').unwrap_or((value.as_str(), "0"));
        match (name, ms.parse::<u64>()) {
            ("echo", Ok(ms)) => Ok(Some(
                EchoBackend::new().with_delay(Duration::from_millis(ms)),
            )),
            _ => Err(format!(
                "{TEST_BACKEND_ENV}={value} is not a test backend; use echo or echo:MS, or unset it"
            )),
        }
    }

    /// The same stand-in under another model id.
    pub fn with_id(mut self, id: &str) -> EchoBackend {
        self.id = id.to_string();
        self
    }

    /// The same stand-in with another context length.
    pub fn with_context(mut self, context: usize) -> EchoBackend {
        self.context = context;
        self
    }

    /// The same stand-in keeping `parallel` requests in flight (at least 1).
    pub fn with_parallel(mut self, parallel: usize) -> EchoBackend {
        self.parallel = parallel.max(1);
        self
    }

    /// The same stand-in taking `delay` to answer each request.
    pub fn with_delay(mut self, delay: Duration) -> EchoBackend {
        self.delay = delay;
        self
    }

    /// The same stand-in answering with `answer(prompt text, prompt tokens)`.
    pub fn with_answer(
        mut self,
        answer: impl Fn(&str, usize) -> String + Send + Sync + 'static,
    ) -> EchoBackend {
        self.answer = Arc::new(answer);
        self
    }

    /// The same stand-in giving `sampled(prompt text, k)` as a query's k-th sampled answer
    /// (without it, a sampled answer is the greedy one).
    pub fn with_sampled(
        mut self,
        sampled: impl Fn(&str, usize) -> String + Send + Sync + 'static,
    ) -> EchoBackend {
        self.sampled = Some(Arc::new(sampled));
        self
    }

    /// The same stand-in failing every request whose prompt contains `marker`.
    pub fn failing_on(mut self, marker: &str) -> EchoBackend {
        self.fail_marker = Some(marker.to_string());
        self
    }

    /// The prompts submitted so far, in order.
    pub fn prompts(&self) -> Vec<String> {
        self.prompts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The prompts submitted so far, forgetting them.
    pub fn take_prompts(&self) -> Vec<String> {
        std::mem::take(&mut *self.prompts.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl std::fmt::Debug for EchoBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EchoBackend")
            .field("id", &self.id)
            .field("context", &self.context)
            .field("parallel", &self.parallel)
            .field("delay", &self.delay)
            .field("fail_marker", &self.fail_marker)
            .finish_non_exhaustive()
    }
}

fn text_of(ids: &[u32]) -> String {
    ids.iter().filter_map(|&i| char::from_u32(i)).collect()
}

impl Backend for EchoBackend {
    fn model_id(&self) -> String {
        self.id.clone()
    }
    fn context(&self) -> usize {
        self.context
    }
    fn parallel(&self) -> usize {
        self.parallel
    }
    fn render_chat(&self, messages: &[ChatTurn]) -> Result<String, BackendError> {
        let mut s = String::new();
        for m in messages {
            s.push_str(&format!(
                "<|im_start|>{}\n{}<|im_end|>\n",
                m.role, m.content
            ));
        }
        s.push_str("<|im_start|>assistant\n");
        Ok(s)
    }
    fn encode_start(&self, text: &str) -> Result<Vec<u32>, BackendError> {
        self.encode(text)
    }
    fn encode(&self, text: &str) -> Result<Vec<u32>, BackendError> {
        Ok(text.chars().map(u32::from).collect())
    }
    fn decode(&self, ids: &[u32]) -> Result<String, BackendError> {
        Ok(text_of(ids))
    }
    fn submit(&self, query: Query) -> Ticket {
        let prompt = text_of(&query.prompt);
        let fail = self
            .fail_marker
            .as_ref()
            .is_some_and(|m| prompt.contains(m.as_str()));
        let answer = (self.answer)(&prompt, query.prompt.len());
        let sampled: Vec<String> = (1..=query.sampled)
            .map(|k| match &self.sampled {
                Some(rule) => rule(&prompt, k),
                None => answer.clone(),
            })
            .collect();
        self.prompts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(prompt);
        let delay = self.delay;
        let prompt_tokens = query.prompt.len();
        Box::new(move || {
            std::thread::sleep(delay);
            if fail {
                return Err(BackendError::Generation("stand-in failure".into()));
            }
            Ok(Answer {
                tokens: answer.chars().map(u32::from).collect(),
                prompt_tokens,
                sampled: sampled
                    .iter()
                    .map(|a| a.chars().map(u32::from).collect())
                    .collect(),
            })
        })
    }
    fn stats(&self) -> EngineStats {
        EngineStats::default()
    }
}

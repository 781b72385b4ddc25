//! A stand-in model for the fault tests of the `isg` binary, selected with
//! `ISG_TEST_BACKEND=echo` (or `echo:MS` to make each request take MS milliseconds). It is not
//! a summarizer: text is one token per character, the chat template is ChatML, and the answer
//! to a prompt is a fixed sentence naming how many prompt tokens it read.
//! It lets the tests kill, starve and corrupt real runs of the real binary on real files in
//! milliseconds instead of loading a model; it is hidden from the command line's help and
//! never chosen unless the variable is set.

use std::time::Duration;

use super::backend::{Backend, Ticket};
use super::prompt::ChatMessage;
use crate::llm::engine::{Completion, EngineStats, Finish, Request};

/// The environment variable that selects the stand-in.
pub const TEST_BACKEND_ENV: &str = "ISG_TEST_BACKEND";

/// The stand-in model.
#[derive(Debug, Clone)]
pub struct EchoBackend {
    delay: Duration,
}

impl EchoBackend {
    /// The stand-in asked for by [`TEST_BACKEND_ENV`], if any; an unknown value is an error.
    pub fn from_env() -> Result<Option<EchoBackend>, String> {
        let Ok(value) = std::env::var(TEST_BACKEND_ENV) else {
            return Ok(None);
        };
        let (name, ms) = value.split_once(':').unwrap_or((value.as_str(), "0"));
        match (name, ms.parse::<u64>()) {
            ("echo", Ok(ms)) => Ok(Some(EchoBackend {
                delay: Duration::from_millis(ms),
            })),
            _ => Err(format!(
                "{TEST_BACKEND_ENV}={value} is not a test backend; use echo or echo:MS, or unset it"
            )),
        }
    }
}

fn text_of(ids: &[u32]) -> String {
    ids.iter().filter_map(|&i| char::from_u32(i)).collect()
}

impl Backend for EchoBackend {
    fn model_id(&self) -> String {
        "test-echo".into()
    }
    fn context(&self) -> usize {
        1 << 16
    }
    fn render_chat(&self, messages: &[ChatMessage]) -> Result<String, String> {
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
    fn encode_start(&self, text: &str) -> Result<Vec<u32>, String> {
        self.encode(text)
    }
    fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        Ok(text.chars().map(u32::from).collect())
    }
    fn decode(&self, ids: &[u32]) -> Result<String, String> {
        Ok(text_of(ids))
    }
    fn submit(&self, request: Request) -> Ticket {
        let delay = self.delay;
        Box::new(move || {
            std::thread::sleep(delay);
            let answer = format!("Reads {} prompt tokens.\n", request.prompt.len());
            Ok(Completion {
                tokens: answer.chars().map(u32::from).collect(),
                finish: Finish::Newline,
                prompt_tokens: request.prompt.len(),
                reused_prefix_tokens: request.shared_prefix,
                queue_ms: 0.0,
                prefill_ms: 0.0,
                decode_ms: 0.0,
            })
        })
    }
    fn stats(&self) -> EngineStats {
        EngineStats::default()
    }
}

//! [`Backend`] for a loaded [`Model`]: its identity, chat template, tokenizer and engine. A
//! [`Query`] becomes a greedy engine [`Request`] that stops at the first line break, with its
//! sampled answers forked from the same prompt run.

use std::sync::Arc;

use crate::llm::{ChatMessage as LlmMessage, EngineStats, Model, Request, Sampling, StopCheck};

use super::backend::{
    Answer, Backend, BackendError, Query, SAMPLE_TEMPERATURE, SAMPLE_TOP_P, Ticket,
};
use super::prompt::ChatTurn;

impl Backend for Model {
    fn model_id(&self) -> String {
        self.id().to_string()
    }

    fn context(&self) -> usize {
        self.engine().context()
    }

    fn parallel(&self) -> usize {
        Model::parallel(self)
    }

    fn render_chat(&self, messages: &[ChatTurn]) -> Result<String, BackendError> {
        let messages: Vec<LlmMessage> = messages
            .iter()
            .map(|m| LlmMessage::new(m.role.clone(), m.content.clone()))
            .collect();
        self.tokenizer()
            .apply_chat_template(&messages, true)
            .map_err(|e| BackendError::Template(e.to_string()))
    }

    fn encode_start(&self, text: &str) -> Result<Vec<u32>, BackendError> {
        self.tokenizer()
            .encode_prompt_text(text)
            .map_err(|e| BackendError::Tokenizer(e.to_string()))
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>, BackendError> {
        self.tokenizer()
            .encode(text, false)
            .map_err(|e| BackendError::Tokenizer(e.to_string()))
    }

    fn decode(&self, ids: &[u32]) -> Result<String, BackendError> {
        self.tokenizer()
            .decode(ids, true)
            .map_err(|e| BackendError::Tokenizer(e.to_string()))
    }

    fn submit(&self, query: Query) -> Ticket {
        let stop_when = query.done_when.map(|done| {
            let tokenizer = self.tokenizer_arc();
            StopCheck(Arc::new(move |ids: &[u32]| {
                tokenizer.decode(ids, true).is_ok_and(|text| done(&text))
            }))
        });
        let more: Vec<Sampling> = (1..=query.sampled as u64)
            .map(|k| Sampling::Random {
                temperature: SAMPLE_TEMPERATURE,
                top_p: SAMPLE_TOP_P,
                seed: query.seed.wrapping_add(k),
            })
            .collect();
        let request = Request {
            prompt: query.prompt,
            max_new_tokens: query.max_new_tokens,
            stop_at_newline: true,
            sampling: Sampling::Greedy,
            shared_prefix: query.shared_prefix,
            ignore_eos: false,
            stop_when,
        };
        let pending = Model::submit_forked(self, request, &more);
        Box::new(move || {
            let mut done = pending.into_iter().map(|p| {
                p.wait()
                    .map_err(|e| BackendError::Generation(e.to_string()))
            });
            let first = done.next().expect("the request's own answer")?;
            // A sampled answer that failed is left out; the greedy one decides.
            let sampled = done.filter_map(Result::ok).map(|c| c.tokens).collect();
            Ok(Answer {
                tokens: first.tokens,
                prompt_tokens: first.prompt_tokens,
                sampled,
            })
        })
    }

    fn stats(&self) -> EngineStats {
        Model::stats(self)
    }
}

//! [`Backend`] for a loaded [`Model`]: its identity, chat template, tokenizer and engine.

use crate::llm::chat::ChatMessage as LlmMessage;
use std::sync::Arc;

use crate::llm::engine::{EngineStats, Request, StopCheck};
use crate::llm::model::Model;

use super::backend::{Backend, Ticket};
use super::prompt::ChatMessage;

impl Backend for Model {
    fn model_id(&self) -> String {
        self.id().to_string()
    }

    fn context(&self) -> usize {
        self.engine().context()
    }

    fn render_chat(&self, messages: &[ChatMessage]) -> Result<String, String> {
        let messages: Vec<LlmMessage> = messages
            .iter()
            .map(|m| LlmMessage::new(m.role.clone(), m.content.clone()))
            .collect();
        self.tokenizer()
            .apply_chat_template(&messages, true)
            .map_err(|e| e.to_string())
    }

    fn encode_start(&self, text: &str) -> Result<Vec<u32>, String> {
        self.tokenizer()
            .encode_prompt_text(text)
            .map_err(|e| e.to_string())
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        self.tokenizer()
            .encode(text, false)
            .map_err(|e| e.to_string())
    }

    fn decode(&self, ids: &[u32]) -> Result<String, String> {
        self.tokenizer()
            .decode(ids, true)
            .map_err(|e| e.to_string())
    }

    fn submit(&self, request: Request) -> Ticket {
        let pending = Model::submit(self, request);
        Box::new(move || pending.wait())
    }

    fn stats(&self) -> EngineStats {
        Model::stats(self)
    }

    fn stop_check(&self, done: fn(&str) -> bool) -> Option<StopCheck> {
        let tokenizer = self.tokenizer_arc();
        Some(StopCheck(Arc::new(move |ids: &[u32]| {
            tokenizer.decode(ids, true).is_ok_and(|text| done(&text))
        })))
    }
}

//! The side files of a model folder that say which tokens are special and what the chat template
//! is: `tokenizer_config.json`, `chat_template.jinja` / `chat_template.json`, `config.json`,
//! `generation_config.json` and ONNX Runtime GenAI's `genai_config.json`. All are optional.

use std::path::Path;

use serde_json::Value;

use crate::llm::text_error::TextTokenizerError;

/// What the side files say, before token strings are resolved to ids.
#[derive(Debug, Default, Clone)]
pub(super) struct FolderConfig {
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
    pub pad_token: Option<String>,
    pub unk_token: Option<String>,
    pub add_bos_token: Option<bool>,
    pub add_eos_token: Option<bool>,
    pub model_max_length: Option<usize>,
    pub chat_template: Option<String>,
    /// Ids from `config.json`, `generation_config.json`, `genai_config.json`, in that order.
    pub bos_ids: Vec<u32>,
    pub eos_ids: Vec<u32>,
    pub pad_ids: Vec<u32>,
}

impl FolderConfig {
    /// Reads whatever side files `dir` has.
    pub(super) fn read(dir: &Path) -> Result<FolderConfig, TextTokenizerError> {
        let mut cfg = FolderConfig::default();
        if let Some(tc) = read_json(&dir.join("tokenizer_config.json"))? {
            cfg.bos_token = token_string(tc.get("bos_token"));
            cfg.eos_token = token_string(tc.get("eos_token"));
            cfg.pad_token = token_string(tc.get("pad_token"));
            cfg.unk_token = token_string(tc.get("unk_token"));
            cfg.add_bos_token = tc.get("add_bos_token").and_then(Value::as_bool);
            cfg.add_eos_token = tc.get("add_eos_token").and_then(Value::as_bool);
            // transformers writes 1e30 for "no limit".
            cfg.model_max_length = tc
                .get("model_max_length")
                .and_then(Value::as_f64)
                .filter(|n| (1.0..1e12).contains(n))
                .map(|n| n as usize);
            cfg.chat_template = template(tc.get("chat_template"));
        }
        if let Some(t) = read_json(&dir.join("chat_template.json"))? {
            cfg.chat_template = template(t.get("chat_template")).or(cfg.chat_template);
        }
        let jinja = dir.join("chat_template.jinja");
        if jinja.is_file() {
            let text =
                std::fs::read_to_string(&jinja).map_err(|source| TextTokenizerError::Io {
                    path: jinja.clone(),
                    source,
                })?;
            cfg.chat_template = Some(text);
        }
        for name in ["config.json", "generation_config.json"] {
            if let Some(c) = read_json(&dir.join(name))? {
                cfg.absorb_ids(&c);
            }
        }
        if let Some(g) = read_json(&dir.join("genai_config.json"))?
            && let Some(model) = g.get("model")
        {
            cfg.absorb_ids(model);
            if cfg.model_max_length.is_none() {
                cfg.model_max_length = model
                    .get("context_length")
                    .and_then(Value::as_u64)
                    .map(|n| n as usize);
            }
        }
        Ok(cfg)
    }

    fn absorb_ids(&mut self, obj: &Value) {
        push_ids(&mut self.bos_ids, obj.get("bos_token_id"));
        push_ids(&mut self.eos_ids, obj.get("eos_token_id"));
        push_ids(&mut self.pad_ids, obj.get("pad_token_id"));
    }
}

fn read_json(path: &Path) -> Result<Option<Value>, TextTokenizerError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(TextTokenizerError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| TextTokenizerError::Json {
            path: path.to_owned(),
            source,
        })
}

/// A special token as `tokenizer_config.json` writes it: a string or `{"content": ...}`.
fn token_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content")?.as_str().map(str::to_owned),
        _ => None,
    }
}

/// A chat template: a string, or a list of named templates of which "default" is used.
fn template(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(list) => {
            let named = |name: &str| {
                list.iter().find_map(|t| {
                    (t.get("name")?.as_str()? == name)
                        .then(|| t.get("template")?.as_str().map(str::to_owned))
                        .flatten()
                })
            };
            named("default").or_else(|| list.first()?.get("template")?.as_str().map(str::to_owned))
        }
        _ => None,
    }
}

/// An id field: an integer or a list of integers.
fn push_ids(out: &mut Vec<u32>, v: Option<&Value>) {
    let mut push = |v: &Value| {
        if let Some(id) = v.as_u64().and_then(|n| u32::try_from(n).ok())
            && !out.contains(&id)
        {
            out.push(id);
        }
    };
    match v {
        Some(Value::Array(list)) => list.iter().for_each(&mut push),
        Some(v) => push(v),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_may_be_integers_or_lists() {
        let mut ids = Vec::new();
        push_ids(&mut ids, Some(&json!(2)));
        push_ids(&mut ids, Some(&json!([2, 0, -1, "x"])));
        assert_eq!(ids, vec![2, 0]);
    }

    #[test]
    fn templates_may_be_named() {
        let list =
            json!([{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]);
        assert_eq!(template(Some(&list)).as_deref(), Some("D"));
        assert_eq!(template(Some(&json!("S"))).as_deref(), Some("S"));
        assert_eq!(
            token_string(Some(&json!({"content": "<s>", "lstrip": false}))).as_deref(),
            Some("<s>")
        );
    }
}

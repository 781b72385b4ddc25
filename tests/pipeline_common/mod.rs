//! Shared helpers of the pipeline tests: copies of real source files to work on, the tokio crate
//! from the cargo registry, and a stand-in engine for tests of the run's plumbing.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use isg::llm::engine::{Completion, EngineError, EngineStats, Finish, Request};
use isg::pipeline::prompt::ChatMessage;
use isg::pipeline::{Backend, Ticket};

/// This repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies real source files of this repository into `dir` (keeping their relative paths) and
/// returns `dir`.
pub fn copy_real_files(dir: &Path, files: &[&str]) -> PathBuf {
    for f in files {
        let to = dir.join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo().join(f), &to).unwrap();
    }
    dir.to_path_buf()
}

/// A handful of real files of different sizes and languages.
pub const REAL_FILES: [&str; 5] = [
    "src/pipeline/shard.rs",
    "src/pipeline/clean.rs",
    "src/pipeline/sink/markdown.rs",
    "src/bench.rs",
    "build.rs",
];

const TOKIO: &str = "tokio-1.54.1";

/// The tokio crate in the local cargo registry. Missing: `None`, except under `CI=true`, where
/// the test fails.
pub fn tokio() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    let found = std::fs::read_dir(home.join("registry/src"))
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join(TOKIO))
        .find(|p| p.join("Cargo.toml").is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{TOKIO} is not in the cargo registry; run `cargo fetch` in a crate that depends on it"
        );
        eprintln!("skipped: {TOKIO} is not in the cargo registry");
    }
    found
}

/// A stand-in engine for plumbing tests: text is one token per character, the chat template is
/// ChatML, and every answer is a fixed sentence naming how many prompt tokens it read. It is
/// not a summarizer and no test treats its answers as summaries; it lets the cache, resume,
/// reduction and sink logic run without a model. Requests whose prompt contains `fail_marker`
/// fail.
pub struct StandIn {
    pub submitted: AtomicUsize,
    pub fail_marker: Option<String>,
    pub context: usize,
    pub prompts: Mutex<Vec<String>>,
}

impl StandIn {
    pub fn new() -> StandIn {
        StandIn {
            submitted: AtomicUsize::new(0),
            fail_marker: None,
            context: 1 << 20,
            prompts: Mutex::new(Vec::new()),
        }
    }
}

fn text_of(ids: &[u32]) -> String {
    ids.iter().filter_map(|&i| char::from_u32(i)).collect()
}

impl Backend for StandIn {
    fn model_id(&self) -> String {
        "stand-in".into()
    }
    fn context(&self) -> usize {
        self.context
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
        self.submitted.fetch_add(1, Ordering::SeqCst);
        let prompt = text_of(&request.prompt);
        self.prompts.lock().unwrap().push(prompt.clone());
        let fail = self
            .fail_marker
            .as_ref()
            .is_some_and(|m| prompt.contains(m.as_str()));
        let answer = format!("Read {} prompt tokens.\nsecond line", request.prompt.len());
        Box::new(move || {
            if fail {
                return Err(EngineError::Run("stand-in failure".into()));
            }
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

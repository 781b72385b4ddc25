//! Flags shared by the commands that run the summarize pipeline (`isg summarize`, `isg eval`):
//! which model, how it runs, and what each prompt holds.

use std::path::PathBuf;

use super::Global;
use isg::llm::{EngineConfig, ModelSettings};
use isg::provision::catalog;
use isg::run::{DEFAULT_CANDIDATES, DEFAULT_MAX_NEW_TOKENS, DEFAULT_SESSIONS};
use isg::run::{ProgressMode, SummarizeSettings};
use isg::source::{DEFAULT_MAX_LINES, View};

/// Model, engine and prompt flags of a pipeline run.
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// Catalog model name (see `isg models`), model folder or `.onnx` file (default: the default
    /// catalog model, set up on first use).
    #[arg(long, value_name = "M")]
    pub model: Option<String>,
    /// Which `.onnx` to load when the model folder holds several.
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// Requests kept in flight at once (the engine batches them).
    #[arg(long, value_name = "N", default_value_t = EngineConfig::default().parallel)]
    pub parallel: usize,
    /// ONNX Runtime sessions sharing the requests and one copy of the pre-packed weights
    /// (default: as many as keep the catalog model inside the default 4 GB budget: 2, or 1 for
    /// qwen2.5-coder-1.5b; 2 for a model given by path).
    #[arg(long, value_name = "N")]
    pub sessions: Option<usize>,
    /// Memory budget for the whole process (loaded weights, caches, activations), e.g. 4G or
    /// 3500M; a budget that cannot hold one full-length sequence is refused up front.
    #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = parse_size)]
    pub max_memory: u64,
    /// ONNX Runtime threads per session (default: the cores, divided among the sessions).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Longest chunk in lines.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_LINES)]
    pub max_lines: usize,
    /// Only files matching one of these globs (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip files and folders matching these globs (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// What the model reads of each chunk: code, code-doc-first-line, code-doc-first-line-only,
    /// interface or names (smaller views follow when a prompt does not fit).
    #[arg(long, value_name = "VIEW")]
    pub view: Option<View>,
    /// Longest prompt in tokens (default: the shared instructions and examples plus 512 tokens
    /// of the chunk, within the model's context minus --max-new-tokens).
    #[arg(long, value_name = "N")]
    pub max_prompt_tokens: Option<usize>,
    /// Cap on generated tokens per summary.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_NEW_TOKENS)]
    pub max_new_tokens: usize,
    /// Take a second look at accepted lines that the chunk's own words support poorly: ask
    /// once more in the other view and keep the better supported answer (about a fifth more
    /// prompt tokens).
    #[arg(long)]
    pub second_look: bool,
    /// Answers asked of each chunk: the greedy one and N-1 sampled from the same prompt run
    /// (the prompt is computed once); the accepted answer the others agree with and the
    /// chunk's own words support is kept. 1 asks the greedy answer alone (faster); 8 is the
    /// measured choice; more than half of --parallel leaves one chunk in flight at a time.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CANDIDATES as u64,
          value_parser = clap::value_parser!(u64).range(1..=16))]
    pub candidates: u64,
    /// Ask the model about one-chunk files that open with a module doc too (by default they
    /// take the doc's first sentence as their line, with no request).
    #[arg(long)]
    pub ask_documented: bool,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

impl RunArgs {
    /// Pipeline settings for `root` with these flags applied.
    pub fn settings(&self, root: impl Into<PathBuf>) -> SummarizeSettings {
        let mut s = SummarizeSettings::new(root);
        s.walk.include = self.include.clone();
        s.walk.exclude = self.exclude.clone();
        s.max_lines = self.max_lines;
        if let Some(v) = self.view {
            s.view = v;
        }
        s.max_prompt_tokens = self.max_prompt_tokens;
        s.max_new_tokens = self.max_new_tokens;
        s.second_look = self.second_look;
        s.candidates = self.candidates as usize;
        s.ask_documented = self.ask_documented;
        s.progress = if self.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        };
        s
    }

    /// How to open the model for these flags.
    pub fn model_settings(&self, global: &Global) -> ModelSettings {
        let mut m = global.model_settings();
        m.engine.parallel = self.parallel;
        m.engine.max_memory = self.max_memory;
        m.sessions = sessions_for(self.sessions, self.model.as_deref());
        m.threads = self.threads.unwrap_or(0);
        m.variant = self.variant.clone();
        m
    }
}

/// The sessions a run opens: `--sessions` when given, else the catalog model's own choice
/// (`model` is `--model`; `None` is the default model), else [`DEFAULT_SESSIONS`].
pub fn sessions_for(given: Option<usize>, model: Option<&str>) -> usize {
    given
        .unwrap_or_else(|| {
            catalog::find(model.unwrap_or(catalog::DEFAULT_MODEL))
                .map(|m| m.sessions)
                .unwrap_or(DEFAULT_SESSIONS)
        })
        .max(1)
}

/// `4G`, `3500M`, `512K` or a byte count, for clap.
fn parse_size(s: &str) -> Result<u64, String> {
    super::bench::parse_bytes(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_follow_the_flag_then_the_catalog_model() {
        assert_eq!(sessions_for(Some(3), Some("qwen2.5-coder-1.5b")), 3);
        assert_eq!(sessions_for(Some(0), None), 1);
        assert_eq!(sessions_for(None, Some("qwen2.5-coder-1.5b")), 1);
        assert_eq!(sessions_for(None, None), DEFAULT_SESSIONS);
        assert_eq!(
            sessions_for(None, Some("/models/my-model")),
            DEFAULT_SESSIONS
        );
    }
}

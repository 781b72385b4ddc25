//! What a summarize run is asked to do: plain settings, filled in by the command line or by a
//! program that uses the library.

use std::path::PathBuf;

use serde::Serialize;

use crate::record::Shard;
use crate::source::{DEFAULT_MAX_LINES, View, WalkSettings};

/// The default view a model reads of each chunk: the interface (signatures, doc first
/// sentences, bodies elided). On the tokio development set it takes 404 prompt tokens per file
/// against 1044 for the code with doc comments cut to their first line, and its summaries
/// scored as well or better once the prompt asks for a documentation line.
pub const DEFAULT_VIEW: View = View::Interface;

/// The default cap on generated tokens: one line of summary needs far fewer.
pub const DEFAULT_MAX_NEW_TOKENS: usize = 48;

/// The default number of ONNX Runtime sessions sharing those requests. On 2 cores, two
/// single-threaded sessions (10 streams each) summarized all of tokio in 460.9 s against 555.9 s
/// for one two-threaded session (`scripts/bench-tokio.sh [--sessions 1]`), for about 240 MB more
/// memory.
pub const DEFAULT_SESSIONS: usize = 2;

/// The name of the output folder when none is given.
pub const DEFAULT_OUT_DIR: &str = "isg-out";

/// How progress is reported on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressMode {
    /// A progress bar on a terminal, plain lines every few seconds otherwise.
    #[default]
    Auto,
    /// Plain lines every few seconds, even on a terminal.
    Plain,
    /// Nothing.
    Quiet,
}

/// Tokens a chunk's own part of the prompt gets when `--max-prompt-tokens` is not given (the
/// shared head comes on top). On tokio 1.54.1 one chunk in ten is longer; cutting those to
/// their first 512 tokens removes 12% of all prompt tokens.
pub const DEFAULT_CHUNK_PROMPT_TOKENS: usize = 512;

/// Settings of one `summarize` run.
#[derive(Debug, Clone, Serialize)]
pub struct SummarizeSettings {
    /// What to walk and which files to keep.
    pub walk: WalkSettings,
    /// Where outputs and the cache go.
    pub out_dir: PathBuf,
    /// Longest chunk in lines.
    pub max_lines: usize,
    /// The view the model reads first; smaller views follow when a prompt does not fit.
    pub view: View,
    /// Longest prompt in tokens; `None` means the shared head plus
    /// [`DEFAULT_CHUNK_PROMPT_TOKENS`], within the engine's context minus `max_new_tokens`.
    pub max_prompt_tokens: Option<usize>,
    /// Cap on generated tokens per chunk.
    pub max_new_tokens: usize,
    /// The part of the tree this run covers.
    pub shard: Shard,
    /// How progress is shown.
    pub progress: ProgressMode,
    /// Wait for another run that holds `out_dir` instead of stopping at once.
    #[serde(skip)]
    pub wait_for_lock: bool,
    /// The prompt design's name (see [`DESIGNS`](super::prompt::DESIGNS)).
    pub design: String,
    /// Ask once more about an accepted line that the chunk's own words support poorly, and
    /// keep the better supported answer (see [`support`](super::support)); off by default.
    #[serde(default)]
    pub second_look: bool,
    /// Answers asked of each chunk prompt: the greedy one and `candidates - 1` sampled from
    /// the same prompt run; the accepted answer the others agree with and the chunk's words
    /// support is kept (see [`choose`](super::choose)). 1 asks the greedy answer alone.
    pub candidates: usize,
    /// Ask the model about every chunk, even a whole file whose module doc already says what
    /// it is for (by default such a chunk takes the doc's first sentence: no request).
    #[serde(default)]
    pub ask_documented: bool,
}

/// Answers asked of each chunk prompt by default (see [`SummarizeSettings::candidates`]).
pub const DEFAULT_CANDIDATES: usize = 1;

impl SummarizeSettings {
    /// The defaults for a root.
    pub fn new(root: impl Into<PathBuf>) -> SummarizeSettings {
        SummarizeSettings {
            walk: WalkSettings::new(root),
            out_dir: PathBuf::from(DEFAULT_OUT_DIR),
            max_lines: DEFAULT_MAX_LINES,
            view: DEFAULT_VIEW,
            max_prompt_tokens: None,
            max_new_tokens: DEFAULT_MAX_NEW_TOKENS,
            shard: Shard::ALL,
            progress: ProgressMode::Auto,
            wait_for_lock: false,
            design: super::prompt::DEFAULT_DESIGN.to_string(),
            second_look: false,
            candidates: DEFAULT_CANDIDATES,
            ask_documented: false,
        }
    }
}

//! The chunk stage of a summarize run: chunks in, one judged line per chunk out.
//!
//! The principal types are the [`Backend`] (a loaded model behind a small trait: chat template,
//! tokenizer, engine; [`EchoBackend`] stands in for it in tests) and the [`Plan`] of a run
//! ([`SummarizeSettings`] against one backend). Every chunk is looked up in the [`Cache`] by a
//! content-addressed key ([`cache_key`]) first ([`Lookup`]); the rest become prompts
//! ([`PromptTemplate`], fitted to the token budget by the reduction ladder of [`fit`]) that
//! worker threads submit; answers are cleaned to one line ([`clean()`]), judged against their
//! chunk ([`accept`]: grounded, not boilerplate), one kept among several answers to the same
//! prompt when more are sampled ([`choose`]), retried once in another view when rejected,
//! and written as a line ([`summary_for`]), or as a line built from the chunk itself
//! ([`fallback_line`]) when both answers were rejected; generation stops as soon as the kept
//! part is written ([`answer_settled`]). Each record goes to the sinks as it is made.

mod backend;
mod cache;
mod choose;
mod chunks;
mod clean;
mod compose;
#[cfg(feature = "test-support")]
mod echo_backend;
pub mod failpoint;
mod judge;
mod model_backend;
mod progress;
mod prompt;
mod reduce;
mod settings;
mod stop;
mod support;

pub use backend::{Answer, Backend, BackendError, Query, SAMPLE_TEMPERATURE, SAMPLE_TOP_P, Ticket};
pub use cache::{
    CACHE_DIR, CACHE_FILE, CACHE_FORMAT, Cache, CacheEntry, CacheLoad, Compaction, KeySettings,
    LIVE_FILE, Scope, cache_key, collect_garbage, read_live_keys, write_live_keys,
};
pub use choose::{SUPPORT_WEIGHT, choose};
pub use chunks::{
    Computed, FAILED_RETRY, Lookup, Plan, RETRY_SEPARATOR, SAMPLED_SEPARATOR,
    SECOND_LOOK_SEPARATOR, SUPPORT_FLOOR, authored_record, places, retry_view,
};
pub use clean::{clean, drop_empty_openings, first_sentence, phrase};
pub use compose::{compose, fallback_line, line_for, summary_for};
#[cfg(feature = "test-support")]
pub use echo_backend::{AnswerFn, EchoBackend, TEST_BACKEND_ENV};
pub use judge::{
    Grounds, MIN_WORDS, Reject, accept, accept_for, contradicted_direction, identifiers, invented,
    is_boilerplate, is_grounded, names_path,
};
pub use progress::{PLAIN_INTERVAL, Progress};
pub use prompt::{
    ChatTurn, DEFAULT_DESIGN, DESIGNS, Design, NAMED_SHOTS, PROMPT_VERSION, Place, PromptTemplate,
    SHOTS, Shot, TemplateError, UnknownDesign, chunk_part, design, template_messages,
};
pub use reduce::{FitError, Fitted, MIN_KEPT_SHARE, elision_marker, fit};
pub use settings::{
    DEFAULT_CANDIDATES, DEFAULT_CHUNK_PROMPT_TOKENS, DEFAULT_MAX_NEW_TOKENS, DEFAULT_OUT_DIR,
    DEFAULT_SESSIONS, DEFAULT_VIEW, ProgressMode, SummarizeSettings,
};
pub use stop::{answer_settled, first_sentence_done};
pub use support::{support, vocabulary};

//! The prompt wording, in one place.
//!
//! A prompt is the model's chat template applied to a [`Design`]: a fixed system message, a few
//! worked examples (synthetic files, none from any project the summarizer is measured on) and a
//! user message that starts with a fixed instruction and ends with the chunk: its file path and
//! where the chunk lies in the file, the chunk in the chosen view, and the question (what the
//! file is for when the chunk is the whole file, what this part does when it is one of
//! several). Everything before the chunk is identical for every chunk, so [`PromptTemplate`]
//! splits the rendered template there: `head` is tokenized once and shared (the engine computes
//! its KV cache once), and each chunk adds its own part and `tail` (the end of the user turn and
//! the start of the assistant's answer).
//!
//! Change [`PROMPT_VERSION`] whenever the wording or layout changes: it is part of every cache
//! key (with the design's name), so old summaries are not reused for a new prompt.

use serde::{Deserialize, Serialize};

use crate::source::{Chunk, Language, SourceFile, View, chunk_file, view};

/// The version of the prompt wording and layout, and of how a line is made from an answer
/// (version 8: doc sentences shown in a chunk's view read reference links, `[text][label]`,
/// and emphasis, `*a*`, as their text); part of every cache key.
pub const PROMPT_VERSION: &str = "8";

/// A worked example: a synthetic file and the line it should get.
#[derive(Debug)]
pub struct Shot {
    /// The example's path.
    pub path: &'static str,
    /// Its code.
    pub code: &'static str,
    /// The answer.
    pub answer: &'static str,
}

/// One prompt design: everything about the wording a run uses.
#[derive(Debug)]
pub struct Design {
    /// Its name (`isg eval --design NAME`), part of the cache key.
    pub name: &'static str,
    /// The system message.
    pub system: &'static str,
    /// The fixed start of the user message, before the chunk.
    pub instruction: &'static str,
    /// Worked examples, sent as earlier turns of the chat.
    pub shots: &'static [Shot],
    /// Whether a `Language:` line is shown (the code fence names it too).
    pub language_line: bool,
    /// Whether an `Items:` line lists the chunk's item names (the views show them too).
    pub items_line: bool,
    /// Whether the question after the chunk says whole file or part.
    pub question: bool,
}

/// The system message of the documentation-line designs. Asking for "the first line of a
/// source file's documentation" instead of "a one-line summary of what the code does" moved
/// the 135M model from echoing code or narrating to short descriptive phrases (chrF 10.0 →
/// 20.4 on the development set).
const SYSTEM_DOC: &str = "You write the first line of a source file's documentation: one short \
English phrase that says what the file is for. Never write code.";

/// The same for chunks: the file or the part of it.
const SYSTEM_PART: &str = "You write the first line of the documentation of source code: one \
short English phrase that says what the code is for, naming its main type or function when it \
has one. Never write code.";

const INSTRUCTION_DOC: &str = "What is this file for? Answer with one short phrase, like the \
first line of its documentation.";

const INSTRUCTION_PART: &str = "Write the first line of the documentation of the code below.";

/// Examples for the few-shot designs: small files of kinds every project has (a data
/// structure, tests, a helper with its error type), none from a measured project.
pub const SHOTS: &[Shot] = &[
    Shot {
        path: "src/cache/lru.rs",
        code: "use std::collections::HashMap;\n\n/// A cache that evicts the least recently used entry when it is full.\npub struct LruCache<K, V> {\n    map: HashMap<K, usize>,\n    entries: Vec<(K, V)>,\n    capacity: usize,\n}\n\nimpl<K: Eq + Hash, V> LruCache<K, V> {\n    /// Creates an empty cache holding at most `capacity` entries.\n    pub fn new(capacity: usize) -> Self {\n        todo!()\n    }\n\n    /// Returns the value for `key` and marks it as recently used.\n    pub fn get(&mut self, key: &K) -> Option<&V> {\n        todo!()\n    }\n}\n",
        answer: "A fixed-capacity cache that evicts the least recently used entry.",
    },
    Shot {
        path: "tests/config_parse.rs",
        code: "use myapp::config::{Config, ParseError};\n\n#[test]\nfn empty_file_gives_defaults() {\n    let c = Config::parse(\"\").unwrap();\n    assert_eq!(c, Config::default());\n}\n\n#[test]\nfn unknown_key_is_an_error() {\n    let e = Config::parse(\"colour = 1\").unwrap_err();\n    assert!(matches!(e, ParseError::UnknownKey { .. }));\n}\n",
        answer: "Tests for parsing configuration files.",
    },
    Shot {
        path: "src/net/retry.rs",
        code: "use std::time::Duration;\n\n/// How long to wait between attempts.\npub struct Backoff {\n    base: Duration,\n    max: Duration,\n}\n\n/// Runs `op` until it succeeds or `attempts` run out, sleeping longer after each failure.\npub async fn retry<T, E, F, Fut>(attempts: u32, backoff: Backoff, mut op: F) -> Result<T, E>\nwhere\n    F: FnMut() -> Fut,\n    Fut: Future<Output = Result<T, E>>,\n{\n    todo!()\n}\n",
        answer: "Retrying fallible network operations with exponential backoff.",
    },
];

/// The same examples with answers that name the file's main item, as the authors' first lines
/// often do.
pub const NAMED_SHOTS: &[Shot] = &[
    Shot {
        path: SHOTS[0].path,
        code: SHOTS[0].code,
        answer: "An LruCache: a fixed-capacity cache that evicts the least recently used entry.",
    },
    Shot {
        path: SHOTS[1].path,
        code: SHOTS[1].code,
        answer: "Tests for Config::parse: defaults for an empty file, errors for unknown keys.",
    },
    Shot {
        path: SHOTS[2].path,
        code: SHOTS[2].code,
        answer: "Retrying fallible network operations with exponential Backoff.",
    },
];

/// Every design. Measured on the tokio development set with Qwen2.5-Coder-0.5B (8-bit), `isg
/// eval --design NAME` and score.sh (chrF / ROUGE-L / MiniLM): `doc` 28.0 / 23.2 / 0.541 with
/// 11.9% of answers asked again; `part-shots` (the default) 27.2 / 24.2 / 0.552 with 1.7%.
pub const DESIGNS: &[Design] = &[
    Design {
        name: "doc",
        system: SYSTEM_DOC,
        instruction: INSTRUCTION_DOC,
        shots: &[],
        language_line: true,
        items_line: true,
        question: false,
    },
    Design {
        name: "doc-lean",
        system: SYSTEM_DOC,
        instruction: INSTRUCTION_DOC,
        shots: &[],
        language_line: false,
        items_line: false,
        question: false,
    },
    Design {
        name: "part",
        system: SYSTEM_PART,
        instruction: INSTRUCTION_PART,
        shots: &[],
        language_line: false,
        items_line: false,
        question: true,
    },
    Design {
        name: "part-shots",
        system: SYSTEM_PART,
        instruction: INSTRUCTION_PART,
        shots: SHOTS,
        language_line: false,
        items_line: false,
        question: true,
    },
    Design {
        name: "part-shots-named",
        system: SYSTEM_PART,
        instruction: INSTRUCTION_PART,
        shots: NAMED_SHOTS,
        language_line: false,
        items_line: false,
        question: true,
    },
];

/// The design a run uses unless told otherwise: the best MiniLM and ROUGE-L on the development
/// set, the fewest rejected answers, and the fewest tokens per chunk.
pub const DEFAULT_DESIGN: &str = "part-shots";

/// The design called `name`.
pub fn design(name: &str) -> Option<&'static Design> {
    DESIGNS.iter().find(|d| d.name == name)
}

/// A design name that is not one of [`DESIGNS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown prompt design {0:?}; the designs are: {list}", list = DESIGNS.iter().map(|d| d.name).collect::<Vec<_>>().join(", "))]
pub struct UnknownDesign(pub String);

/// Where a chunk lies in its file: part `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// 1-based.
    pub index: usize,
    /// Chunks of the file.
    pub count: usize,
}

impl Place {
    /// A chunk that is its whole file.
    pub const WHOLE: Place = Place { index: 1, count: 1 };
}

/// Stands for the chunk while the template is rendered; never appears in real prompts.
const SLOT: &str = "\u{1}ISG-CHUNK-SLOT\u{1}";

/// One turn of a chat prompt, as the pipeline hands it to a [`Backend`](super::backend::Backend).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatTurn {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

impl ChatTurn {
    /// A message from `role`.
    pub fn new(role: &str, content: impl Into<String>) -> ChatTurn {
        ChatTurn {
            role: role.to_string(),
            content: content.into(),
        }
    }
}

/// The messages of the prompt of `design`, with a placeholder where the chunk goes.
pub fn template_messages(design: &Design) -> Vec<ChatTurn> {
    let mut m = vec![ChatTurn::new("system", design.system)];
    for shot in design.shots {
        let file = SourceFile::from_text(
            shot.path,
            Language::from_path(std::path::Path::new(shot.path)).unwrap_or(Language::Rust),
            shot.code,
        );
        let Some(chunk) = chunk_file(&file, usize::MAX).into_iter().next() else {
            continue;
        };
        let text = view(&chunk, View::Interface);
        m.push(ChatTurn::new(
            "user",
            format!(
                "{}\n\n{}",
                design.instruction,
                chunk_part(design, &chunk, Place::WHOLE, &text)
            ),
        ));
        m.push(ChatTurn::new("assistant", shot.answer));
    }
    m.push(ChatTurn::new(
        "user",
        format!("{}\n\n{SLOT}", design.instruction),
    ));
    m
}

/// The rendered chat template, split where the chunk goes.
#[derive(Debug, Clone)]
pub struct PromptTemplate {
    /// Everything before the chunk: identical for every chunk.
    pub head: String,
    /// Everything after the chunk: the end of the user turn, the assistant's turn opening.
    pub tail: String,
    /// The design it was rendered from.
    pub design: &'static Design,
}

/// The rendered template does not contain the chunk's placeholder exactly once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the chat template dropped or repeated the user message; cannot place the chunk in it")]
pub struct TemplateError;

impl PromptTemplate {
    /// Splits the rendering of [`template_messages`] (with the generation prompt) at the chunk.
    pub fn from_rendered(
        rendered: &str,
        design: &'static Design,
    ) -> Result<PromptTemplate, TemplateError> {
        let mut parts = rendered.split(SLOT);
        match (parts.next(), parts.next(), parts.next()) {
            (Some(head), Some(tail), None) => Ok(PromptTemplate {
                head: head.to_string(),
                tail: tail.to_string(),
                design,
            }),
            _ => Err(TemplateError),
        }
    }

    /// The per-chunk part of a prompt: the chunk's context and `view_text`, then the tail.
    pub fn suffix(&self, chunk: &Chunk, place: Place, view_text: &str) -> String {
        format!(
            "{}{}",
            chunk_part(self.design, chunk, place, view_text),
            self.tail
        )
    }
}

/// The chunk as the model reads it: path (and the part of the file), the items or the
/// enclosing item as the design asks, the view in a fenced block, then the question.
pub fn chunk_part(design: &Design, chunk: &Chunk, place: Place, view_text: &str) -> String {
    let mut s = format!("File: {}", chunk.path);
    if place.count > 1 {
        s.push_str(&format!(
            " (part {} of {}, lines {}-{})",
            place.index, place.count, chunk.start_line, chunk.end_line
        ));
    }
    s.push('\n');
    if design.language_line {
        s.push_str(&format!("Language: {}\n", chunk.language.name()));
    }
    if let Some(parent) = &chunk.parent {
        s.push_str(&format!("Inside: {parent}\n"));
    }
    if design.items_line && !chunk.symbols.is_empty() {
        s.push_str(&format!("Items: {}\n", chunk.symbols.join(", ")));
    }
    if !design.question && place.count == 1 {
        s.push_str(&format!("Lines {}-{}:\n", chunk.start_line, chunk.end_line));
    }
    s.push_str(&format!(
        "```{}\n{}\n```",
        chunk.language.name(),
        view_text.trim_end_matches('\n')
    ));
    if design.question {
        s.push_str(if place.count > 1 {
            "\nWhat does this part of the file do? One short phrase."
        } else {
            "\nWhat is this file for? One short phrase."
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_slot() {
        let d = design(DEFAULT_DESIGN).unwrap();
        let rendered = format!("<s>sys</s><u>{}\n\n{SLOT}</u><a>", d.instruction);
        let t = PromptTemplate::from_rendered(&rendered, d).unwrap();
        assert!(t.head.ends_with("\n\n"));
        assert_eq!(t.tail, "</u><a>");
        assert!(PromptTemplate::from_rendered("no slot", d).is_err());
        assert!(PromptTemplate::from_rendered(&format!("{SLOT}{SLOT}"), d).is_err());
    }

    #[test]
    fn every_design_renders_its_shots_and_the_slot_last() {
        for d in DESIGNS {
            let m = template_messages(d);
            assert_eq!(m.len(), 2 + 2 * d.shots.len(), "{}", d.name);
            assert!(m.last().unwrap().content.ends_with(SLOT));
            for pair in m[1..m.len() - 1].chunks(2) {
                assert!(pair[0].content.contains("```rust\n"), "{}", pair[0].content);
                assert_eq!(pair[1].role, "assistant");
            }
        }
        assert!(design("nope").is_none());
    }

    #[test]
    fn chunk_part_names_path_place_and_question() {
        let file = SourceFile::from_text(
            "src/time/sleep.rs",
            Language::Rust,
            "/// Waits.\npub fn sleep(d: Duration) -> Sleep {\n    todo!()\n}\n",
        );
        let chunk = &chunk_file(&file, 300)[0];
        let doc = design("doc").unwrap();
        let part = chunk_part(doc, chunk, Place::WHOLE, &chunk.text);
        assert!(
            part.starts_with("File: src/time/sleep.rs\nLanguage: rust\n"),
            "{part}"
        );
        assert!(part.contains("Items: fn sleep"), "{part}");
        assert!(part.contains("Lines 1-4:\n```rust\n/// Waits."), "{part}");
        assert!(part.ends_with("}\n```"), "{part}");

        let lean = design("part").unwrap();
        let part = chunk_part(lean, chunk, Place { index: 2, count: 3 }, &chunk.text);
        assert!(
            part.starts_with("File: src/time/sleep.rs (part 2 of 3, lines 1-4)\n```rust\n"),
            "{part}"
        );
        assert!(part.ends_with("```\nWhat does this part of the file do? One short phrase."));
        let whole = chunk_part(lean, chunk, Place::WHOLE, &chunk.text);
        assert!(
            whole.ends_with("What is this file for? One short phrase."),
            "{whole}"
        );
        assert!(!whole.contains("Items:") && !whole.contains("Language:"));
    }
}

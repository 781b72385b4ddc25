//! The roll-up's prompt wording and its cache key.
//!
//! A roll-up prompt is the model's chat template applied to a fixed system message and a user
//! message holding one file's or directory's children: for a file, its item names and its
//! chunks' lines; for a directory, each file's and subdirectory's line. Line numbers are left
//! out, so code that only moved asks the same question. Everything before the user message is
//! the same for every prompt, so it is tokenized once and its KV cache shared.
//!
//! Change [`ROLLUP_PROMPT_VERSION`] whenever the wording or layout changes: it is part of every
//! roll-up cache key.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::run::ChatTurn;

/// The version of the roll-up wording and layout, and of how a line is made from an answer
/// (rollup-7: an opening that names the kind, "The tests directory: ...", is dropped, and one
/// file beside the `mod.rs` that declares it may speak for its directory); part of every
/// roll-up cache key.
pub const ROLLUP_PROMPT_VERSION: &str = "rollup-7";

/// The system message.
pub const SYSTEM: &str = "You write the first line of the documentation of a source file or \
directory: one short English phrase that says what its parts are for together. Never write \
code, never name a file.";

/// Item names listed for a file before "and N more".
const MAX_ITEMS: usize = 40;

/// Stands for the user message while the template is rendered; never appears in prompts.
pub const SLOT: &str = "\u{1}ISG-ROLLUP-SLOT\u{1}";

/// A worked example of a roll-up: a subject, its children, and the line it should get. The
/// answers say what the parts do together, not what one of them does, and name no file.
struct RollupShot {
    subject: Subject,
    path: &'static str,
    items: &'static [&'static str],
    children: &'static [(&'static str, &'static str)],
    answer: &'static str,
}

/// The examples, from no measured project.
const SHOTS: &[RollupShot] = &[
    RollupShot {
        subject: Subject::Dir,
        path: "src/storage",
        items: &[],
        children: &[
            (
                "btree.rs",
                "A B-tree index over the pages of the database file.",
            ),
            ("wal.rs", "Writes and replays the write-ahead log."),
            (
                "page_cache.rs",
                "A cache of recently read pages that evicts the least used.",
            ),
        ],
        answer: "The storage engine: a B-tree index, the write-ahead log and a page cache.",
    },
    RollupShot {
        subject: Subject::File,
        path: "src/http/client.rs",
        items: &[
            "struct Client",
            "fn Client::new",
            "fn Client::get",
            "fn Client::post",
        ],
        children: &[
            (
                "Client, Client::new",
                "A client holding a connection pool and default headers.",
            ),
            (
                "Client::get, Client::post",
                "Sending GET and POST requests with retries.",
            ),
        ],
        answer: "An HTTP client with pooled connections and retried requests.",
    },
];

/// The messages of a roll-up prompt, with [`SLOT`] where the body goes.
pub fn template_messages() -> Vec<ChatTurn> {
    let mut m = vec![ChatTurn::new("system", SYSTEM)];
    for shot in SHOTS {
        let items: Vec<String> = shot.items.iter().map(|s| s.to_string()).collect();
        let children: Vec<ChildLine> = shot
            .children
            .iter()
            .map(|(label, text)| ChildLine {
                label: label.to_string(),
                text: text.to_string(),
            })
            .collect();
        m.push(ChatTurn::new(
            "user",
            body(
                shot.subject,
                shot.path,
                false,
                &items,
                &children,
                &mut |_| true,
            ),
        ));
        m.push(ChatTurn::new("assistant", shot.answer));
    }
    m.push(ChatTurn::new("user", SLOT));
    m
}

/// One child as a prompt shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildLine {
    /// `mutex.rs`, `mpsc/`, or a chunk's item names (`Mutex, lock`).
    pub label: String,
    /// What the child is for (its line without the "The x module:" opening), empty when its
    /// line says nothing beyond its name.
    pub text: String,
}

/// What a roll-up asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A file, from its chunks.
    File,
    /// A directory (or the root), from its files and subdirectories.
    Dir,
}

/// The user message: the subject's path (a directory's marked `(tests)` when it holds tests;
/// on a file, the mark drew answers from the worked examples' words), (for a file) its items, then the children that fit (`fits` says whether a candidate body is still
/// within the budget; children come in order of importance and are shown in that order), the
/// names of those that did not, the question.
pub fn body(
    subject: Subject,
    path: &str,
    tests: bool,
    items: &[String],
    children: &[ChildLine],
    fits: &mut dyn FnMut(&str) -> bool,
) -> String {
    let mark = if tests && subject == Subject::Dir {
        " (tests)"
    } else {
        ""
    };
    let (head, list_title, question) = match subject {
        Subject::File => (
            format!("File: {path}\n"),
            "Its parts, with what each does:\n",
            "What is this file for? Answer with one short phrase, like the first line of its \
             documentation.",
        ),
        Subject::Dir => (
            format!("Directory: {path}{mark}\n"),
            "Its files and folders, with what each is for:\n",
            "What is this directory for? Answer with one short phrase, like the first line of \
             its documentation.",
        ),
    };
    let mut top = head;
    if !items.is_empty() {
        let shown: Vec<&str> = items.iter().take(MAX_ITEMS).map(String::as_str).collect();
        top.push_str(&format!("Items: {}", shown.join(", ")));
        if items.len() > MAX_ITEMS {
            top.push_str(&format!(" and {} more", items.len() - MAX_ITEMS));
        }
        top.push('\n');
    }
    let assemble = |shown: &[String], rest: &[&str]| {
        let mut s = top.clone();
        s.push_str(list_title);
        for line in shown {
            s.push_str(line);
        }
        if !rest.is_empty() {
            s.push_str(&format!("- also: {}\n", rest.join(", ")));
        }
        s.push('\n');
        s.push_str(question);
        s
    };
    let mut shown: Vec<String> = Vec::new();
    let mut rest: Vec<&str> = Vec::new();
    for c in children {
        let line = match (c.label.is_empty(), c.text.is_empty()) {
            (_, true) => {
                rest.push(&c.label);
                continue;
            }
            (true, false) => format!("- {}\n", c.text),
            (false, false) => format!("- {}: {}\n", c.label, c.text),
        };
        shown.push(line);
        let remaining: Vec<&str> = rest.clone();
        if !fits(&assemble(&shown, &remaining)) {
            shown.pop();
            rest.push(&c.label);
        }
    }
    // Names of children that did not fit, as many as fit.
    while !rest.is_empty() && !fits(&assemble(&shown, &rest)) {
        rest.pop();
    }
    assemble(&shown, &rest)
}

/// What a roll-up cache key hashes, in a fixed field order.
#[derive(Serialize)]
struct KeyInput<'a> {
    version: &'a str,
    model: &'a str,
    max_new_tokens: usize,
    body: &'a str,
}

/// The cache key of a roll-up: the body (the children's lines and names), the model, the
/// roll-up prompt version and the token cap, hashed; lowercase hex.
pub fn rollup_key(body: &str, model: &str, max_new_tokens: usize) -> String {
    let input = KeyInput {
        version: ROLLUP_PROMPT_VERSION,
        model,
        max_new_tokens,
        body,
    };
    // Serializing plain strings and numbers cannot fail.
    let bytes = serde_json::to_vec(&input).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// A child's line without its "The <topic> module:" opening; empty when the line is only
/// that opening ("The time module.").
pub fn line_text(line: &str) -> String {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("The ")
        && let Some((topic, tail)) = rest.split_once(" module")
        && !topic.contains('.')
    {
        let tail = tail.trim_start_matches(':').trim();
        return if tail == "." {
            String::new()
        } else {
            tail.to_string()
        };
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(label: &str, text: &str) -> ChildLine {
        ChildLine {
            label: label.into(),
            text: text.into(),
        }
    }

    #[test]
    fn strips_the_topic_opening() {
        assert_eq!(
            line_text("The mutex module: an async mutex."),
            "an async mutex."
        );
        assert_eq!(line_text("The mutex module."), "");
        assert_eq!(line_text("Channels for tasks."), "Channels for tasks.");
    }

    #[test]
    fn lists_children_until_the_budget_then_names_the_rest() {
        let children = vec![
            child("mutex.rs", "an async mutex."),
            child("rwlock.rs", "a reader-writer lock."),
            child("notify.rs", ""),
        ];
        let all = body(Subject::Dir, "src/sync", false, &[], &children, &mut |_| {
            true
        });
        assert!(all.starts_with("Directory: src/sync\n"), "{all}");
        assert!(all.contains("- mutex.rs: an async mutex.\n- rwlock.rs: a reader-writer lock.\n- also: notify.rs\n"), "{all}");
        assert!(
            all.ends_with("like the first line of its documentation."),
            "{all}"
        );
        let limit = all.len() - 20;
        let cut = body(Subject::Dir, "src/sync", false, &[], &children, &mut |s| {
            s.len() <= limit
        });
        assert!(cut.len() <= limit, "{cut}");
        assert!(cut.contains("- mutex.rs: an async mutex.\n"), "{cut}");
        assert!(!cut.contains("reader-writer"), "{cut}");
        assert!(cut.contains("- also: rwlock.rs, notify.rs\n"), "{cut}");
    }

    #[test]
    fn keys_follow_the_body_model_and_cap() {
        let k = rollup_key("b", "m", 48);
        assert_eq!(k.len(), 64);
        assert_eq!(k, rollup_key("b", "m", 48));
        assert_ne!(k, rollup_key("c", "m", 48));
        assert_ne!(k, rollup_key("b", "n", 48));
        assert_ne!(k, rollup_key("b", "m", 32));
    }
}

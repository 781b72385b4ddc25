//! Deciding whether a cleaned answer is a summary worth keeping, and why not.
//!
//! In: a phrase (see [`super::clean::phrase`]) and the [`Grounds`] it must stand on (the chunk's
//! text and path). Out: the phrase, or a [`Reject`] naming the first rule it breaks:
//! - empty, or reads like code;
//! - fewer than [`MIN_WORDS`] words, or stuck repeating itself;
//! - names a file path;
//! - boilerplate that would fit any file ("a Rust library for", "this code", "documentation");
//! - invents a name: every word that looks like a code identifier ([`identifiers`]: CamelCase,
//!   snake_case, `a::b` paths, backticked words, `call()`s) must occur in the chunk or its path;
//! - says the opposite of the code about a direction: "converts A to B" where the chunk's own
//!   names, docs and strings say B to A and never A to B ([`contradicted_direction`]).

use serde::{Deserialize, Serialize};

/// Why a cleaned answer is not a usable summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Reject {
    /// Nothing left after cleaning.
    #[error("empty answer")]
    Empty,
    /// The answer looks like source code rather than a sentence.
    #[error("answer looks like code")]
    Code,
    /// Fewer than [`MIN_WORDS`] words.
    #[error("answer too short")]
    Short,
    /// The answer goes round in circles (a stuck model): see [`repeats_words`].
    #[error("answer repeats itself")]
    Repetitive,
    /// The answer names a file path instead of saying what the code does.
    #[error("answer names a file path")]
    Path,
    /// The answer would fit any file ("a Rust library for", "this code", "documentation").
    #[error("answer is boilerplate")]
    Boilerplate,
    /// The answer names an identifier that is neither in the chunk nor in its path.
    #[error("answer names something the chunk does not have")]
    Invented,
    /// The answer gives a direction ("A to B") that the chunk's own words reverse.
    #[error("answer says the opposite of the code")]
    Contradicts,
}

impl Reject {
    /// The stable name used in records (`empty`, `code`, `invented`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Reject::Empty => "empty",
            Reject::Code => "code",
            Reject::Short => "short",
            Reject::Repetitive => "repetitive",
            Reject::Path => "path",
            Reject::Boilerplate => "boilerplate",
            Reject::Invented => "invented",
            Reject::Contradicts => "contradicts",
        }
    }
}

/// What an answer must stand on: the chunk's text, its path and the item it lies in.
#[derive(Debug, Clone, Copy)]
pub struct Grounds<'a> {
    /// The chunk's text (the code the model read a view of).
    pub text: &'a str,
    /// The file's path relative to the root.
    pub path: &'a str,
    /// The item the chunk is a piece of, as the prompt names it (`impl Serializer for
    /// MapKeySerializer` for the middle of a long impl block), when it is one.
    pub context: Option<&'a str>,
}

/// Answers with fewer words say nothing ("Mocks.").
pub const MIN_WORDS: usize = 2;

/// Keeps `summary` as it is, or says why it is not a sentence: empty or code-like.
pub fn accept(summary: &str) -> Result<String, Reject> {
    let s = summary.trim();
    if !s.chars().any(char::is_alphabetic) {
        return Err(Reject::Empty);
    }
    if looks_like_code(s) {
        return Err(Reject::Code);
    }
    Ok(s.to_string())
}

/// [`accept`], then every other rule of this module against `grounds`.
pub fn accept_for(summary: &str, grounds: &Grounds) -> Result<String, Reject> {
    let s = accept(summary)?;
    let words = normalized_words(&s);
    if words.iter().filter(|w| !w.is_empty()).count() < MIN_WORDS {
        return Err(Reject::Short);
    }
    let hyphen_loop = s
        .split(['-', '.'])
        .collect::<Vec<_>>()
        .windows(3)
        .any(|w| w[0] == w[1] && w[1] == w[2]);
    if repeats_words(&words) || hyphen_loop {
        return Err(Reject::Repetitive);
    }
    if names_path(&s) {
        return Err(Reject::Path);
    }
    if is_boilerplate(&s) {
        return Err(Reject::Boilerplate);
    }
    if invented(&s, grounds).is_some() {
        return Err(Reject::Invented);
    }
    if contradicted_direction(&s, grounds.text).is_some() {
        return Err(Reject::Contradicts);
    }
    Ok(s)
}

/// Words that join the two ends of a direction ("GGUF to ONNX", "bytes into frames").
const DIRECTION_WORDS: [&str; 3] = ["to", "into", "2"];

/// Words that are never the ends of a direction ("up to date", "to be", "a to b").
const NOT_ENDS: [&str; 28] = [
    "a", "an", "the", "it", "its", "be", "is", "are", "and", "or", "of", "for", "from", "with",
    "up", "back", "them", "one", "each", "other", "way", "able", "how", "that", "this", "which",
    "order", "used",
];

/// The words of `text` in order, lower case, with code names cut into their parts
/// (`gguf_to_onnx` → `gguf to onnx`, `GgufToOnnx` → `gguf to onnx`).
pub(crate) fn word_stream(text: &str) -> Vec<String> {
    marked_words(text).into_iter().map(|(w, _)| w).collect()
}

/// [`word_stream`], each word marked when it opens a name of several parts (`to` in
/// `to_value`, `into` in `IntoIterator`): such a word names what the code makes, not a step
/// from the word before it.
fn marked_words(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for raw in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        let mut parts: Vec<String> = Vec::new();
        for piece in raw.split('_').filter(|p| !p.is_empty()) {
            let chars: Vec<char> = piece.chars().collect();
            let mut word = String::new();
            for (i, &c) in chars.iter().enumerate() {
                let boundary = i > 0
                    && c.is_uppercase()
                    && (chars[i - 1].is_lowercase()
                        || (chars[i - 1].is_uppercase()
                            && chars.get(i + 1).is_some_and(|n| n.is_lowercase())));
                if boundary && !word.is_empty() {
                    parts.push(std::mem::take(&mut word));
                }
                word.extend(c.to_lowercase());
            }
            if !word.is_empty() {
                parts.push(word);
            }
        }
        let compound = parts.len() > 1;
        for (i, p) in parts.into_iter().enumerate() {
            out.push((p, compound && i == 0));
        }
    }
    out
}

/// Words on each side of a direction word that may be its ends ("ONNX weights to GGUF
/// format": `onnx`, `weights` and `gguf`, `format`).
const END_WINDOW: usize = 2;

/// Every (from, to) pair the words state: a word among the [`END_WINDOW`] before a direction
/// word and one among those after it ("gguf to onnx", "GGUF tensors into ONNX initializers"),
/// the nearest first.
fn directions(marked: &[(String, bool)]) -> Vec<(String, String)> {
    let words: Vec<&String> = marked.iter().map(|(w, _)| w).collect();
    let end = |w: &str| {
        w.len() >= 2
            && !NOT_ENDS.contains(&w)
            && !DIRECTION_WORDS.contains(&w)
            && w.chars().any(char::is_alphabetic)
    };
    let mut out = Vec::new();
    for i in 1..words.len().saturating_sub(1) {
        if !DIRECTION_WORDS.contains(&words[i].as_str()) || marked[i].1 {
            continue;
        }
        let before: Vec<&String> = words[..i].iter().rev().take(END_WINDOW).copied().collect();
        let after: Vec<&String> = words[i + 1..].iter().take(END_WINDOW).copied().collect();
        for a in &before {
            for b in &after {
                if end(a) && end(b) && a != b {
                    out.push(((*a).clone(), (*b).clone()));
                }
            }
        }
    }
    out
}

/// The first direction "A to B" that `line` states while `text` (the chunk: its names, docs and
/// strings) states "B to A" and never "A to B"; `None` when the line agrees with the code or
/// the code says nothing either way.
pub fn contradicted_direction(line: &str, text: &str) -> Option<(String, String)> {
    let claimed = directions(&marked_words(line));
    if claimed.is_empty() {
        return None;
    }
    let stated = directions(&marked_words(text));
    claimed.into_iter().find(|(a, b)| {
        let forward = stated.iter().any(|(x, y)| x == a && y == b);
        let backward = stated.iter().any(|(x, y)| x == b && y == a);
        backward && !forward
    })
}

/// Whether `s` names a file path (`src/x.rs`, `a/b`, `x.py`).
pub fn names_path(s: &str) -> bool {
    s.split_whitespace().any(|w| {
        let w = w
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '/' && c != '.')
            .trim_end_matches('.');
        has_source_extension(w) || (w.contains('/') && looks_like_directory_path(w))
    })
}

/// Whether `w` ends with the extension of a source file (`lib.rs`, `main.go`).
fn has_source_extension(w: &str) -> bool {
    [".rs", ".py", ".go", ".js", ".ts", ".c", ".h", ".cpp"]
        .iter()
        .any(|e| w.len() > e.len() && w.ends_with(e))
}

/// Whether a word with a slash is a path (`src/io`, `./build`, `a/b/c`, `io_uring/ops`) rather
/// than a pair of words (`I/O`, `key/value`, `read/write`, `TCP/UDP`, `and/or`).
fn looks_like_directory_path(w: &str) -> bool {
    let parts: Vec<&str> = w.split('/').collect();
    w.starts_with(['.', '/', '~'])
        || parts.len() > 2
        || parts.iter().any(|p| {
            p.is_empty()
                || p.contains(['_', '.'])
                || ["src", "lib", "tests", "test", "bin", "examples", "benches"].contains(p)
        })
}

/// Phrases that fit any file, so say nothing about this one (lower case).
const BOILERPLATE: [&str; 13] = [
    "rust library",
    "rust crate",
    "a library for",
    "library that provides",
    "this code",
    "the code ",
    "code snippet",
    "documentation",
    "this file",
    "source file",
    "this module",
    "this chunk",
    "lines of code",
];

/// Whether `s` contains one of the phrases that fit any file, or restates where the chunk lies
/// ("part 2 of 4", "lines 300-599"), which the prompt told the model.
pub fn is_boilerplate(s: &str) -> bool {
    let lower = format!("{} ", s.to_lowercase());
    BOILERPLATE.iter().any(|b| lower.contains(b)) || restates_place(&lower)
}

/// Ordinal words that open a positional phrase ("the second part of the file").
const ORDINALS: [&str; 10] = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "last",
    "next",
    "final",
    "middle",
    "remaining",
];

/// "part K of N", "part K of the file", "the second part of", "lines A-B" with numbers, "the
/// rest of the file", "continuation of".
fn restates_place(lower: &str) -> bool {
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    let number = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_digit());
    let range = |w: &str| {
        w.split_once(['-', '–'])
            .is_some_and(|(a, b)| number(a) && number(b.trim_end_matches('.')))
    };
    let of_file = |w: &str| {
        matches!(
            w.trim_end_matches('.'),
            "file" | "module" | "code" | "source" | "chunk" | "previous"
        )
    };
    words
        .windows(3)
        .any(|w| (w[0] == "part" || w[0] == "section") && number(w[1]) && w[2] == "of")
        || words.windows(3).any(|w| {
            ORDINALS.contains(&w[0])
                && (w[1] == "part" || w[1] == "section" || w[1] == "half")
                && w[2] == "of"
        })
        || words.windows(4).any(|w| {
            w[0] == "the" && w[1] == "rest" && w[2] == "of" && (w[3] == "the" || of_file(w[3]))
        })
        || words
            .windows(2)
            .any(|w| w[0] == "continuation" && w[1] == "of")
        || words
            .windows(2)
            .any(|w| (w[0] == "lines" || w[0] == "line") && range(w[1]))
}

/// Proper names written in CamelCase that are not code identifiers.
const KNOWN_NAMES: &[&str] = &[
    "IPv4",
    "IPv6",
    "JavaScript",
    "TypeScript",
    "WebAssembly",
    "WebSocket",
    "WebSockets",
    "GitHub",
    "PyPI",
    "macOS",
    "iOS",
    "FreeBSD",
    "NetBSD",
    "OpenBSD",
    "PowerShell",
    "GraphQL",
    "PostgreSQL",
    "MySQL",
];

/// The words of `s` that look like code identifiers: backticked spans, `a::b` paths, words
/// with an underscore, CamelCase words (a lower-case letter followed by an upper-case one, or
/// two capitals and a lower-case letter) and words ending in `()`; surrounding punctuation and a
/// possessive `'s` removed. [`KNOWN_NAMES`] are not identifiers.
pub fn identifiers(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    // Backticked spans first, then the words outside them.
    let mut outside = String::new();
    while let Some(open) = rest.find('`') {
        outside.push_str(&rest[..open]);
        outside.push(' ');
        let after = &rest[open + 1..];
        match after.find('`') {
            Some(close) => {
                let inner = after[..close].trim();
                if !inner.is_empty() && !inner.contains(' ') {
                    out.push(tidy(inner).to_string());
                } else {
                    outside.push_str(inner);
                }
                rest = &after[close + 1..];
            }
            None => {
                rest = after;
            }
        }
    }
    outside.push_str(rest);
    for w in outside.split_whitespace() {
        let call = w
            .trim_end_matches(['.', ',', ';', ':', '!', '?'])
            .ends_with("()");
        let t = tidy(w);
        if t.is_empty() || KNOWN_NAMES.contains(&t) {
            continue;
        }
        if call || t.contains("::") || snake(t) || camel(t) {
            out.push(t.to_string());
        }
    }
    out.retain(|t| !t.is_empty());
    out
}

/// The first identifier of `s` ([`identifiers`]) that the grounds do not have, if any.
pub fn invented(s: &str, grounds: &Grounds) -> Option<String> {
    let path = grounds.path.to_lowercase();
    identifiers(s).into_iter().find(|id| {
        !id.split("::").all(|seg| {
            grounded_name(seg, grounds.text, &path)
                || grounds.context.is_some_and(|c| grounded_name(seg, c, ""))
        })
    })
}

/// Whether every identifier of `s` occurs in the grounds.
pub fn is_grounded(s: &str, grounds: &Grounds) -> bool {
    invented(s, grounds).is_none()
}

/// Whether one name (a segment of a path) occurs in `text` or in the lower-cased `path`; a
/// plural `s` may be added to a name, and generic arguments are ignored.
fn grounded_name(name: &str, text: &str, path: &str) -> bool {
    let name = name.split(['<', '(']).next().unwrap_or("").trim();
    if name.is_empty() {
        return true;
    }
    let found = |n: &str| !n.is_empty() && (text.contains(n) || path.contains(&n.to_lowercase()));
    found(name)
        || name.strip_suffix('s').is_some_and(found)
        || name.strip_suffix("es").is_some_and(found)
}

/// A word without surrounding punctuation, quotes, a possessive `'s` or a trailing `()`.
fn tidy(w: &str) -> &str {
    let w = w.trim_matches(|c: char| {
        !(c.is_alphanumeric()
            || c == '_'
            || c == ':'
            || c == '<'
            || c == '>'
            || c == '('
            || c == ')')
    });
    let w = w.trim_end_matches(['.', ',', ';', '!', '?']);
    let w = w.strip_suffix("()").unwrap_or(w);
    let w = w.strip_suffix("'s").unwrap_or(w);
    let w = w.trim_matches(|c: char| c == '(' || c == ')' || c == ':');
    w.trim_end_matches('.')
}

/// `snake_case` or `SCREAMING_CASE`: an underscore between letters or digits.
fn snake(w: &str) -> bool {
    let b = w.as_bytes();
    (1..b.len().saturating_sub(1)).any(|i| {
        b[i] == b'_' && b[i - 1].is_ascii_alphanumeric() && b[i + 1].is_ascii_alphanumeric()
    })
}

/// `CamelCase` or `camelCase`: a lower-case letter followed by an upper-case one, or an
/// upper-case run followed by a lower-case letter after the first character (`TCPStream`).
fn camel(w: &str) -> bool {
    let c: Vec<char> = w.chars().collect();
    if !c.iter().all(|ch| ch.is_alphanumeric()) {
        return false;
    }
    let lower_upper = c
        .windows(2)
        .any(|p| p[0].is_lowercase() && p[1].is_uppercase());
    let caps_then_lower = c
        .windows(3)
        .any(|p| p[0].is_uppercase() && p[1].is_uppercase() && p[2].is_lowercase());
    lower_upper || caps_then_lower
}

/// The words of `s`, lower-cased, without surrounding punctuation.
pub(crate) fn normalized_words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .collect()
}

/// Whether words come round again as a stuck model's do: three words in the same order twice
/// ("a macro that generates a macro that"), a pair twice in a row ("read write read write"), a
/// pair joined to itself by one small word ("asynchronous I/O and asynchronous I/O", "file
/// operations for file operations"), or one word three times in a row. A pair that merely
/// comes twice is ordinary English ("from the socket without removing it from the queue"), and
/// so is one with a word of its own between ("128-bit integers, signed 128-bit integers").
pub(crate) fn repeats_words(words: &[String]) -> bool {
    let words: Vec<&String> = words.iter().filter(|w| !w.is_empty()).collect();
    let mut triples = std::collections::HashSet::new();
    let triple_again = words.windows(3).any(|t| !triples.insert(t));
    let pair_again = words.windows(4).any(|w| w[0] == w[2] && w[1] == w[3]);
    let pair_joined = words
        .windows(5)
        .any(|w| w[0] == w[3] && w[1] == w[4] && JOINING.contains(&w[2].as_str()));
    let tripled = words.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]);
    triple_again || pair_again || pair_joined || tripled
}

/// Small words that join a phrase to itself in a stuck model's answer.
const JOINING: [&str; 10] = [
    "and", "or", "for", "of", "with", "to", "in", "on", "from", "by",
];

/// Line starts that mark code in the supported languages.
const CODE_STARTS: [&str; 24] = [
    "use ", "pub ", "fn ", "impl ", "impl<", "mod ", "struct ", "enum ", "trait ", "let ",
    "const ", "static ", "#[", "#!", "//", "/*", "import ", "from ", "#include", "def ", "func ",
    "package ", "return ", "extern ",
];

/// Whether a line reads like source code rather than prose.
fn looks_like_code(s: &str) -> bool {
    let s = s.trim_start_matches('`');
    if CODE_STARTS.iter().any(|p| s.starts_with(p)) {
        return true;
    }
    if s.ends_with('{') || s.ends_with(';') || s.ends_with("};") || s.ends_with("=>") {
        return true;
    }
    // `a::b` paths are names in prose, not code punctuation.
    let symbols = s
        .replace("::", "")
        .chars()
        .filter(|c| {
            matches!(
                c,
                '{' | '}' | ';' | '(' | ')' | '<' | '>' | '=' | '&' | '[' | ']' | ':'
            )
        })
        .count();
    let words = s.split_whitespace().count();
    // Prose has few brackets per word; code has many and few spaces.
    symbols * 3 > s.chars().count() / 4 || (words <= 1 && symbols > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "pub struct Semaphore { permits: usize }\nimpl Semaphore {\n    \
        pub fn acquire_many(&self) -> Permit { todo!() }\n}\nuse std::sync::Mutex;\n";

    fn grounds() -> Grounds<'static> {
        Grounds {
            text: TEXT,
            path: "tokio/src/sync/batch_semaphore.rs",
            context: None,
        }
    }

    #[test]
    fn accepts_sentences() {
        for s in [
            "Implements a multi-producer, single-consumer channel.",
            "Defines the Runtime builder (threads, timers and I/O).",
            "Task harness: polls a future and stores its output.",
        ] {
            assert_eq!(accept(s).as_deref(), Ok(s));
        }
    }

    #[test]
    fn rejects_empty_and_code() {
        assert_eq!(accept(""), Err(Reject::Empty));
        assert_eq!(accept("  ... "), Err(Reject::Empty));
        for code in [
            "use std::sync::Arc;",
            "#[derive(Debug)]",
            "pub fn spawn<F>(future: F) -> JoinHandle<F::Output>",
            "impl<T> Drop for Sender<T> {",
            "let x = y.lock();",
            "Arc<Mutex<HashMap<K,V>>>",
            "//! Runtime",
            "`pub struct Foo;`",
        ] {
            assert_eq!(accept(code), Err(Reject::Code), "{code}");
        }
    }

    #[test]
    fn rejects_stuck_short_path_and_boilerplate_answers() {
        let g = grounds();
        assert_eq!(accept_for("Mocks.", &g), Err(Reject::Short));
        assert_eq!(
            accept_for("A macro that generates a macro that generates a macro.", &g),
            Err(Reject::Repetitive)
        );
        assert_eq!(
            accept_for("Stub for an open-ended open-ended open-ended option", &g),
            Err(Reject::Repetitive)
        );
        assert_eq!(
            accept_for("A wrapper for io.io.io.io", &g),
            Err(Reject::Repetitive)
        );
        assert_eq!(
            accept_for(
                "Writes signed 64-bit integers, 128-bit integers, 128-bit integers",
                &g
            ),
            Err(Reject::Repetitive)
        );
        assert_eq!(
            accept_for("Reads and writes, reads and writes.", &g),
            Err(Reject::Repetitive)
        );
        for joined in [
            "Asynchronous I/O and asynchronous I/O.",
            "File operations for file operations on Unix-like systems.",
        ] {
            assert_eq!(accept_for(joined, &g), Err(Reject::Repetitive), "{joined}");
        }
        // A pair of words that comes twice is ordinary English, not a stuck model.
        for fine in [
            "Polls for data from the socket without removing it from the input queue.",
            "Configures the time driver based on the time flavor.",
            "Creates a new pair of streams that act like a pair of connected sockets.",
            "Reads 128-bit integers, signed 128-bit integers and floats.",
            "Sets the thread name, name, thread name function and stack size.",
        ] {
            assert_eq!(accept_for(fine, &g), Ok(fine.to_string()), "{fine}");
        }
        assert_eq!(
            accept_for("Part of tokio/src/io/join.rs module.", &g),
            Err(Reject::Path)
        );
        assert_eq!(
            accept_for("Helpers used by lib.rs only.", &g),
            Err(Reject::Path)
        );
        for path in [
            "Helpers of src/io.",
            "Shared by tests/support and the benches.",
            "Operations under io_uring/ops.",
        ] {
            assert_eq!(accept_for(path, &g), Err(Reject::Path), "{path}");
        }
        // A slash between two words is not a path.
        for words in [
            "Represents a JSON key/value type.",
            "Core functionality for vector I/O.",
            "Read/write halves of a stream.",
            "TCP/UDP helpers.",
        ] {
            assert!(accept_for(words, &g).is_ok(), "{words}");
        }
        for b in [
            "A Rust library for building command-line applications.",
            "Documentation for the semaphore.",
            "This code implements a semaphore.",
            "Hyper is a rust crate for semaphores.",
        ] {
            assert_eq!(accept_for(b, &g), Err(Reject::Boilerplate), "{b}");
        }
        assert_eq!(
            accept_for("Async I/O with a semaphore of permits.", &g).as_deref(),
            Ok("Async I/O with a semaphore of permits.")
        );
    }

    #[test]
    fn rejects_answers_that_restate_the_place() {
        let g = grounds();
        for a in [
            "Part 2 of 4 of the semaphore implementation.",
            "The semaphore, lines 300-599.",
            "Semaphore permits (part 3 of 3).",
            "Part 2 of the file.",
            "The second part of the semaphore module.",
            "The rest of the file: more permits.",
            "Continuation of the semaphore.",
        ] {
            assert_eq!(accept_for(a, &g), Err(Reject::Boilerplate), "{a}");
        }
        for a in [
            "Splits a buffer into two parts of equal size.",
            "Reads lines from a socket.",
            "Waits 2 of the permits.",
        ] {
            assert!(accept_for(a, &g).is_ok(), "{a}");
        }
    }

    #[test]
    fn names_must_be_in_the_chunk_or_its_path() {
        let g = grounds();
        for ok in [
            "A counting `Semaphore` whose `acquire_many` hands out a Permit.",
            "Semaphores and their permits.",
            "Batch semaphore built on std::sync::Mutex.",
            "The Semaphore's permit count.",
            "Waits in acquire_many() for permits.",
            "A batch_semaphore for JavaScript and macOS users.",
        ] {
            assert_eq!(accept_for(ok, &g).as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            "A type-checking library for RayonPool.",
            "Wraps `notify_waiters` for the semaphore.",
            "Semaphore built on tokio::sync::Notify.",
            "Calls spawn_blocking for permits.",
            "Permits are released by release().",
        ] {
            assert_eq!(accept_for(bad, &g), Err(Reject::Invented), "{bad}");
        }
        assert_eq!(
            invented("Uses `Notify` and Semaphore.", &g).as_deref(),
            Some("Notify")
        );
        // The middle of a long impl block: its type is named by the enclosing item.
        let piece = Grounds {
            text: "    fn serialize_none(self) -> Result<()> {\n        Err(key_must_be_a_string())\n    }\n",
            path: "src/ser.rs",
            context: Some("impl ser::Serializer for MapKeySerializer"),
        };
        assert_eq!(
            invented("Serialization for `MapKeySerializer`.", &piece),
            None
        );
        assert_eq!(
            invented("Serialization for `MapSerializer`.", &piece).as_deref(),
            Some("MapSerializer")
        );
    }

    #[test]
    fn a_direction_the_code_reverses_is_rejected() {
        let text = "/// Converts a GGUF file's tensors to ONNX initializers.\n\
            pub fn gguf_to_onnx(src: &Path) -> Result<()> { todo!() }\n";
        let g = Grounds {
            text,
            path: "src/convert/weights.rs",
            context: None,
        };
        assert_eq!(
            accept_for("Convert ONNX weights to GGUF format.", &g),
            Err(Reject::Contradicts)
        );
        assert_eq!(
            contradicted_direction("Converts ONNX to GGUF.", text),
            Some(("onnx".to_string(), "gguf".to_string()))
        );
        for ok in [
            "Converts GGUF tensors to ONNX initializers.",
            "GGUF to ONNX conversion of the weights.",
            "Loads weights for the converter.",
        ] {
            assert!(accept_for(ok, &g).is_ok(), "{ok}");
        }
        // Code that says nothing of a direction cannot contradict one.
        assert_eq!(contradicted_direction("Maps keys to values.", TEXT), None);
        // A name that opens with `to` says what it makes, not where from.
        let to_value = "pub fn to_value<T: Serialize>(value: T) -> Result<Value> {}\n\
            /// Interpret a serde_json::Value as an instance of type T.\n\
            pub fn from_value<T>(value: Value) -> T { serde_json::to_value(1) }\n";
        assert_eq!(
            contradicted_direction("Converts a value to a serde_json::Value.", to_value),
            None
        );
        // Code that says both directions does not contradict either.
        let both = "fn onnx_to_gguf() {}\nfn gguf_to_onnx() {}\n";
        assert_eq!(contradicted_direction("Converts ONNX to GGUF.", both), None);
    }

    #[test]
    fn identifiers_are_code_like_words() {
        assert_eq!(
            identifiers(
                "The `Runtime` builder: JoinHandle, tokio::spawn, block_on() and TCPStream, not TCP or I/O."
            ),
            vec![
                "Runtime",
                "JoinHandle",
                "tokio::spawn",
                "block_on",
                "TCPStream"
            ]
        );
        assert!(identifiers("Plain English words only, with Capitals.").is_empty());
    }
}

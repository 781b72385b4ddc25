//! Writing the line a reader gets for a chunk: from an accepted answer, or, when the model's
//! answers were rejected, from the chunk itself.
//!
//! In: the phrase the judge accepted ([`super::judge`]) or the chunk. Out: one line of text.
//! [`compose`] writes an accepted phrase as a sentence ("Utilities for sleeping.") with
//! inline-code backticks removed; the file's topic ([`file_topic`]) is kept beside it, not in it. [`fallback_line`] never asks the model: it
//! is the first sentence of the principal item's own doc comment (the module doc, else the
//! first documented type, else the first documented function), else a list of the chunk's items
//! ("Defines `Semaphore`, `Permit` and `Semaphore::acquire`."). The line of test code
//! ([`is_test_code`]) says it is about tests ([`as_test_line`]), whichever way it was made.

use super::clean::{clean, phrase};
use super::judge::{Grounds, Reject, accept_for};
use crate::record::{file_topic, legacy_opening};
use crate::source::{Chunk, as_test_line, first_sentence, is_test_code};

/// The line a reader gets from an accepted phrase: backticks removed, the first letter
/// capitalized, ending with a stop. The file's topic is not repeated in it: the path stands
/// beside every line, and records keep the topic in a field of its own.
pub fn compose(phrase: &str) -> String {
    // A model that opens with the topic anyway ("The sync module: ...") says it twice.
    let phrase = legacy_opening(phrase).map_or(phrase, |(_, rest)| rest);
    let phrase = phrase.replace('`', "");
    let mut chars = phrase.chars();
    let body = match chars.next() {
        Some(a) => format!("{}{}", a.to_uppercase(), chars.as_str()),
        None => String::new(),
    };
    if body.ends_with(['.', '!', '?']) {
        body
    } else {
        format!("{body}.")
    }
}

/// What the judge made of one answer: the line to keep, or why there is none.
pub fn summary_for(raw: &str, chunk: &Chunk) -> Result<String, Reject> {
    let grounds = Grounds {
        text: &chunk.text,
        path: &chunk.path,
        context: chunk.parent.as_deref(),
    };
    line_for(raw, &grounds).map(|line| for_chunk(line, chunk))
}

/// `line` as the line of `chunk`: said to be about tests when the chunk is test code.
fn for_chunk(line: String, chunk: &Chunk) -> String {
    if is_test_code(chunk) {
        as_test_line(&line)
    } else {
        line
    }
}

/// The line kept from `raw`, judged against `grounds` (the text the model read and its path),
/// or why there is none.
pub fn line_for(raw: &str, grounds: &Grounds) -> Result<String, Reject> {
    accept_for(&phrase(&clean(raw)), grounds).map(|p| compose(&p))
}

/// A line built from the chunk alone, for when no answer of the model was kept.
pub fn fallback_line(chunk: &Chunk) -> String {
    for_chunk(
        principal_doc(chunk).unwrap_or_else(|| items_line(chunk)),
        chunk,
    )
}

/// How strongly a doc comment speaks for the chunk: the module's own doc, a type's, a
/// function's, anything else's. Lower is stronger.
fn doc_rank(chunk: &Chunk, start: usize, end: usize) -> u8 {
    let comment = chunk.text[start..end].trim_start();
    if comment.starts_with("//!") || comment.starts_with("/*!") {
        return 0;
    }
    let mut after = chunk.text[end..].trim_start();
    // Attributes and decorators between the doc and its item.
    while after.starts_with("#[") || after.starts_with('@') {
        after = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
    }
    let mut words = after.split_whitespace().peekable();
    while words.peek().is_some_and(|w| {
        w.starts_with("pub")
            || matches!(
                *w,
                "export" | "default" | "async" | "unsafe" | "const" | "extern"
            )
    }) {
        words.next();
    }
    match words.next() {
        Some(
            "struct" | "enum" | "trait" | "union" | "type" | "class" | "interface" | "typedef",
        ) => 1,
        Some("fn" | "def" | "func" | "function") => 2,
        _ => 3,
    }
}

/// The first sentence of the strongest doc comment of the chunk (see [`doc_rank`]), when it
/// has at least three words.
fn principal_doc(chunk: &Chunk) -> Option<String> {
    let mut best: Option<(u8, String)> = None;
    for c in chunk.comments.iter().filter(|c| c.doc) {
        let (Some(_), true) = (chunk.text.get(c.start..c.end), c.end <= chunk.text.len()) else {
            continue;
        };
        let sentence = first_sentence(&chunk.text[c.start..c.end]).replace('`', "");
        let sentence = sentence.split_whitespace().collect::<Vec<_>>().join(" ");
        if sentence.split_whitespace().count() < 3 {
            continue;
        }
        let rank = doc_rank(chunk, c.start, c.end);
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((rank, sentence));
        }
    }
    best.map(|(_, s)| {
        if s.ends_with(['.', '!', '?']) {
            s
        } else {
            format!("{s}.")
        }
    })
}

/// Item kinds that name types.
const TYPE_KINDS: [&str; 9] = [
    "struct",
    "enum",
    "trait",
    "union",
    "type",
    "class",
    "interface",
    "typedef",
    "namespace",
];

/// "Defines `A`, `B` and `C`." from the chunk's item names (types first), "Implements `Trait`
/// for `Type`." for a chunk of impl blocks only, else a line naming the enclosing item (never
/// the chunk's place: line numbers stand beside every line already).
fn items_line(chunk: &Chunk) -> String {
    let mut types = Vec::new();
    let mut others = Vec::new();
    let mut impls = Vec::new();
    for s in &chunk.symbols {
        let (kind, name) = s.split_once(' ').unwrap_or(("", s.as_str()));
        let name = name.trim();
        if kind == "impl" {
            impls.push(name.to_string());
        } else if TYPE_KINDS.contains(&kind) {
            types.push(name.to_string());
        } else {
            others.push(name.to_string());
        }
    }
    let mut names: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for n in types.into_iter().chain(others) {
        if seen.insert(n.clone()) {
            names.push(n);
        }
    }
    if !names.is_empty() {
        return format!("Defines {}.", name_list(&names));
    }
    if let Some(first) = impls.first() {
        return match first.split_once(" for ") {
            Some((t, ty)) => format!("Implements `{t}` for `{ty}`."),
            None => format!("Methods of `{first}`."),
        };
    }
    match &chunk.parent {
        Some(p) => format!("Continues `{p}`."),
        None => format!("Top-level code of the {} module.", file_topic(&chunk.path)),
    }
}

/// "`A`", "`A` and `B`", "`A`, `B` and `C`", "`A`, `B`, `C` and 2 more".
fn name_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().take(3).map(|n| format!("`{n}`")).collect();
    let more = names.len().saturating_sub(3);
    match (quoted.len(), more) {
        (1, _) => quoted[0].clone(),
        (n, 0) => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
        (_, m) => format!("{} and {m} more", quoted.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Language, SourceFile, chunk_file};

    fn chunk(path: &str, text: &str) -> Chunk {
        let file = SourceFile::from_text(path, Language::Rust, text);
        chunk_file(&file, 300).remove(0)
    }

    #[test]
    fn topics_and_composed_lines() {
        assert_eq!(file_topic("tokio/src/time/mod.rs"), "time");
        assert_eq!(file_topic("src/io/stdio_common.rs"), "stdio common");
        assert_eq!(file_topic("pkg/__init__.py"), "pkg");
        assert_eq!(
            compose("a utility to delay a `Sleep`"),
            "A utility to delay a Sleep."
        );
        assert_eq!(compose("TCP helpers."), "TCP helpers.");
        assert_eq!(compose("The sync module: async locks"), "Async locks.");
        assert_eq!(compose("waker list for `Notify`"), "Waker list for Notify.");
    }

    #[test]
    fn answers_are_judged_against_their_chunk() {
        let c = chunk(
            "src/time/sleep.rs",
            "/// Waits until `deadline`.\npub fn sleep_until(deadline: Instant) -> Sleep {\n    todo!()\n}\n",
        );
        assert_eq!(
            summary_for("Sleeping until a deadline with `sleep_until`.\nMore.", &c).as_deref(),
            Ok("Sleeping until a deadline with sleep_until.")
        );
        assert_eq!(summary_for("```rust\n", &c), Err(Reject::Empty));
        assert_eq!(
            summary_for("Timers built on `DelayQueue`.", &c),
            Err(Reject::Invented)
        );
    }

    #[test]
    fn fallback_prefers_the_module_doc_then_types_then_functions() {
        let c = chunk(
            "src/sync/sem.rs",
            "/// Helper that adds.\nfn add() {}\n\n/// A counting semaphore with [`Permit`]s.\n#[derive(Debug)]\npub struct Semaphore;\n",
        );
        assert_eq!(fallback_line(&c), "A counting semaphore with Permits.");
        let c = chunk(
            "src/sync/sem.rs",
            "//! Semaphores for async code.\n\n/// A counting semaphore.\npub struct Semaphore;\n",
        );
        assert_eq!(fallback_line(&c), "Semaphores for async code.");
        let c = chunk(
            "src/sync/sem.rs",
            "/// Adds two numbers together.\npub fn add() {}\n",
        );
        assert_eq!(fallback_line(&c), "Adds two numbers together.");
    }

    #[test]
    fn fallback_lists_items_without_docs() {
        let c = chunk(
            "src/sync/sem.rs",
            "pub struct Semaphore;\npub struct Permit;\nimpl Semaphore {\n    pub fn acquire(&self) {}\n}\n",
        );
        assert_eq!(
            fallback_line(&c),
            "Defines `Semaphore`, `Permit` and `Semaphore::acquire`."
        );
        let c = chunk("src/a.rs", "impl<T> Future for JoinHandle<T> {}\n");
        assert_eq!(fallback_line(&c), "Implements `Future` for `JoinHandle`.");
        let c = chunk("src/a.rs", "// nothing but a comment\n");
        assert_eq!(fallback_line(&c), "Top-level code of the a module.");
    }
}

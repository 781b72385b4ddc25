//! Turning a model's answer into one line of plain text, and deciding whether to keep it.
//!
//! [`clean`] is mechanical: it drops code fences and blank lines, keeps the first line of text,
//! removes markdown emphasis, inline-code backticks, list and heading markers, a leading label
//! such as `Summary:`, surrounding quotes, and collapses whitespace. [`accept`] judges the
//! cleaned line: an empty answer or one that reads like code is a [`Reject`]. The run records a
//! rejected answer with its reason; this is the place to add retries or fallbacks.

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
}

impl Reject {
    /// The stable name used in records (`empty`, `code`).
    pub fn name(self) -> &'static str {
        match self {
            Reject::Empty => "empty",
            Reject::Code => "code",
        }
    }
}

/// Labels a model sometimes puts before its answer; removed, case-insensitively.
const LABELS: [&str; 5] = [
    "one-line summary:",
    "one line summary:",
    "summary:",
    "answer:",
    "description:",
];

/// The first line of plain text in a model's answer (possibly empty).
pub fn clean(raw: &str) -> String {
    let line = raw
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !is_fence(l))
        .unwrap_or("");
    let mut s = strip_markers(line);
    s = s.replace("**", "").replace("__", "").replace('`', "");
    let mut s = strip_label(s.trim()).to_string();
    s = strip_quotes(&s).to_string();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s.trim().to_string()
}

/// Keeps `summary` as it is, or says why it is not a summary.
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

/// A line of only backticks or tildes, possibly with a language tag: a markdown code fence.
fn is_fence(line: &str) -> bool {
    line.starts_with("```") || line.starts_with("~~~")
}

/// Removes heading, list and quote markers at the start of a line.
fn strip_markers(line: &str) -> String {
    let mut s = line;
    loop {
        let t = s.trim_start();
        let next = t
            .strip_prefix('#')
            .or_else(|| t.strip_prefix("> "))
            .or_else(|| t.strip_prefix("- "))
            .or_else(|| t.strip_prefix("* "))
            .or_else(|| t.strip_prefix("+ "));
        match next {
            Some(rest) => s = rest,
            None => return t.to_string(),
        }
    }
}

/// Removes one leading label such as `Summary:`.
fn strip_label(s: &str) -> &str {
    let lower = s.to_lowercase();
    for label in LABELS {
        if lower.starts_with(label) && s.is_char_boundary(label.len()) {
            return s[label.len()..].trim_start();
        }
    }
    s
}

/// Removes one pair of surrounding quotes.
fn strip_quotes(s: &str) -> &str {
    for (open, close) in [('"', '"'), ('\'', '\''), ('“', '”')] {
        if let Some(inner) = s.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            return inner.trim();
        }
    }
    s
}

/// Line starts that mark code in the supported languages.
const CODE_STARTS: [&str; 24] = [
    "use ", "pub ", "fn ", "impl ", "impl<", "mod ", "struct ", "enum ", "trait ", "let ",
    "const ", "static ", "#[", "#!", "//", "/*", "import ", "from ", "#include", "def ", "func ",
    "package ", "return ", "extern ",
];

/// Whether a line reads like source code rather than prose.
fn looks_like_code(s: &str) -> bool {
    if CODE_STARTS.iter().any(|p| s.starts_with(p)) {
        return true;
    }
    if s.ends_with('{') || s.ends_with(';') || s.ends_with("};") || s.ends_with("=>") {
        return true;
    }
    let symbols = s
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

    #[test]
    fn keeps_first_line_of_text() {
        assert_eq!(
            clean("Spawns a task on the runtime.\nIt returns a handle."),
            "Spawns a task on the runtime."
        );
        assert_eq!(clean("\n\n  Runs timers. \n"), "Runs timers.");
    }

    #[test]
    fn strips_markdown() {
        assert_eq!(
            clean("```rust\nfn main() {}\n```"),
            "fn main() {}",
            "the fence goes, the code stays for accept() to judge"
        );
        assert_eq!(
            clean("**Summary:** Reads `Bytes` from a socket."),
            "Reads Bytes from a socket."
        );
        assert_eq!(
            clean("- Defines the `Runtime` builder."),
            "Defines the Runtime builder."
        );
        assert_eq!(
            clean("## A channel for one value"),
            "A channel for one value"
        );
        assert_eq!(clean("\"Parks the thread.\""), "Parks the thread.");
        assert_eq!(clean("Summary:   waits   for\tIO"), "waits for IO");
        assert_eq!(clean("```\n```"), "");
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
        ] {
            assert_eq!(accept(code), Err(Reject::Code), "{code}");
        }
        assert_eq!(Reject::Code.name(), "code");
    }

    #[test]
    fn never_panics_on_odd_text() {
        for s in [
            "“quoted”",
            "ü:",
            "#",
            "- ",
            "Summary:",
            "sUMMARY: x",
            "日本語の説明。",
        ] {
            let c = clean(s);
            let _ = accept(&c);
        }
        assert_eq!(clean("“Quoted text.”"), "Quoted text.");
    }
}

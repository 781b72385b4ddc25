//! How well a chunk's own words support a line about it.
//!
//! In: a line and the chunk it describes (text and path). Out: [`support`], the share of the
//! line's content words that the chunk also uses: in its names (`gguf_to_onnx` counts as
//! `gguf`, `to`, `onnx`), its doc comments, its string literals or its path. Stop words and
//! words that fit any code ("implementation", "functions", "module") do not count either way.
//! The pipeline uses it to choose between two accepted answers: a line made of the chunk's own
//! vocabulary is less likely to describe something else.

use std::collections::HashSet;

use super::judge::word_stream;

/// Words that say nothing about a chunk in particular.
const EMPTY_WORDS: [&str; 58] = [
    "a",
    "an",
    "the",
    "and",
    "or",
    "of",
    "for",
    "to",
    "in",
    "on",
    "with",
    "by",
    "from",
    "into",
    "as",
    "at",
    "its",
    "it",
    "is",
    "are",
    "be",
    "that",
    "this",
    "which",
    "their",
    "using",
    "used",
    "use",
    "uses",
    "based",
    "via",
    "over",
    "all",
    "each",
    "some",
    "other",
    "module",
    "modules",
    "file",
    "files",
    "code",
    "function",
    "functions",
    "method",
    "methods",
    "implementation",
    "implementations",
    "implements",
    "implementing",
    "type",
    "types",
    "utilities",
    "utility",
    "various",
    "support",
    "providing",
    "provides",
    "handling",
];

/// A word cut to a rough stem, so "channels" meets "channel" and "parsing" meets "parse".
fn stem(w: &str) -> String {
    let w = w.to_lowercase();
    for suffix in ["ings", "ing", "ers", "ies", "es", "ed", "er", "s"] {
        if let Some(s) = w.strip_suffix(suffix)
            && s.len() >= 3
        {
            return s.to_string();
        }
    }
    w
}

/// The stems of the words a chunk uses, its path included.
pub fn vocabulary(text: &str, path: &str) -> HashSet<String> {
    word_stream(text)
        .into_iter()
        .chain(word_stream(path))
        .map(|w| stem(&w))
        .collect()
}

/// The share (0 to 1) of the content words of `line` that occur in `vocab` ([`vocabulary`]);
/// 1 for a line without content words.
pub fn support(line: &str, vocab: &HashSet<String>) -> f64 {
    support_share(line, vocab).unwrap_or(1.0)
}

/// The share (0 to 1) of the content words of `line` that occur in `vocab`; `None` for a line
/// without content words.
pub fn support_share(line: &str, vocab: &HashSet<String>) -> Option<f64> {
    let words: Vec<String> = word_stream(line)
        .into_iter()
        .filter(|w| w.len() > 1 && !EMPTY_WORDS.contains(&w.as_str()))
        .map(|w| stem(&w))
        .collect();
    if words.is_empty() {
        return None;
    }
    let found = words.iter().filter(|w| vocab.contains(*w)).count();
    Some(found as f64 / words.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_in_the_chunks_words_score_higher() {
        let text = "/// A bounded multi-producer channel.\npub struct Sender<T> { chan: Chan<T> }\nimpl<T> Sender<T> { pub fn try_send(&self) {} }\n";
        let v = vocabulary(text, "src/sync/mpsc/bounded.rs");
        let good = support("Bounded channel senders with try_send.", &v);
        let off = support("Parsing configuration files from disk.", &v);
        assert!(good > 0.99, "{good}");
        assert!(off < 0.01, "{off}");
        assert_eq!(support("The implementation of the module.", &v), 1.0);
        let half = support("Bounded channels for database rows.", &v);
        assert!((0.3..0.7).contains(&half), "{half}");
    }
}

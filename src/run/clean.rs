//! Turning a model's raw answer into one line of plain text.
//!
//! [`clean`] is mechanical: it drops code fences and blank lines, keeps the first line of text,
//! removes markdown emphasis, list and heading markers, a leading label such as `Summary:`,
//! surrounding quotes, and collapses whitespace. Inline-code backticks are kept, so that the
//! judge ([`super::judge`]) can see which words the model meant as code names; the line a reader
//! gets has them removed ([`super::compose`]). [`phrase`] cuts the cleaned line to its first
//! sentence and drops an opening such as "This file is a part of".

use crate::source::sentence_end;

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
    s = s.replace("**", "").replace("__", "");
    let mut s = strip_label(s.trim()).to_string();
    s = strip_quotes(&s).to_string();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s.trim().to_string()
}

/// Openings that introduce the file instead of describing it; [`phrase`] drops them.
const LEADS: [&str; 17] = [
    // Positional ones first: "this part" alone would leave "of the file ...".
    "this part of the file",
    "this part of the code",
    "this section of the file",
    "the part of the file",
    "part of the file",
    "this file",
    "this module",
    "this directory",
    "the directory",
    "this folder",
    "this package",
    "the file",
    "the module",
    "this code",
    "the code",
    "this chunk",
    "this part",
];

/// Verbs after a lead ("This file is a ..."), dropped with it; "that" too ("Part of the file
/// that initializes ...").
const LEAD_VERBS: [&str; 6] = [
    "is",
    "contains",
    "provides",
    "defines",
    "implements",
    "that",
];

/// Words after the verb, dropped too ("is a part of", "is for", "is code that").
const LEAD_FILLERS: [&str; 9] = ["a", "an", "the", "part", "of", "for", "set", "code", "that"];

/// The cleaned answer's first sentence, without an opening such as "This file is a part of"
/// (up to a path or name that follows it).
pub fn phrase(cleaned: &str) -> String {
    let first = first_sentence(cleaned);
    let words: Vec<&str> = first.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let mut i = 0;
    if let Some(lead) = LEADS.iter().find(|l| {
        let lw: Vec<&str> = l.split(' ').collect();
        lower.len() > lw.len() && lower[..lw.len()] == lw[..]
    }) {
        i = lead.split(' ').count();
        // A name right after the lead: "The file `x.rs` is ...".
        if lower
            .get(i)
            .is_some_and(|w| !LEAD_VERBS.contains(&w.as_str()))
            && lower
                .get(i + 1)
                .is_some_and(|w| LEAD_VERBS.contains(&w.as_str()))
        {
            i += 1;
        }
        if lower
            .get(i)
            .is_some_and(|w| LEAD_VERBS.contains(&w.as_str()))
        {
            i += 1;
            while lower
                .get(i)
                .is_some_and(|w| LEAD_FILLERS.contains(&w.as_str()))
                && i + 1 < lower.len()
            {
                i += 1;
            }
        } else {
            i = 0;
        }
    }
    if i == 0 {
        i = folder_opening(&lower);
    }
    drop_empty_openings(&words[i..].join(" "))
}

/// Openings that name the kind of thing instead of what it is for; what follows them is the
/// answer (lower case, after "<Name> is ").
const KIND_OPENINGS: [&str; 8] = [
    "a rust library for ",
    "a rust library that ",
    "a rust crate for ",
    "a library for ",
    "a crate for ",
    "a directory for ",
    "a directory containing ",
    "a folder containing ",
];

/// Words that join a positional opening to what follows ("Part 4 of the file, where the code
/// is for handling ..."): dropped with it.
const PLACE_JOINS: [&str; 9] = [
    "where the code is for ",
    "where the code ",
    "which provides ",
    "which contains ",
    "which handles ",
    "which is for ",
    "which ",
    "where ",
    "for ",
];

/// A phrase without an opening that says nothing: where the chunk lies ("Part 2 of the file,
/// parsing an index" → "Parsing an index") or what kind of thing the subject is ("Tokio-util is
/// a Rust library for I/O operations" → "I/O operations"). A phrase with fewer than two words
/// after the opening is returned as it is, for the judge to reject.
pub fn drop_empty_openings(phrase: &str) -> String {
    let capital = |t: &str| {
        let mut chars = t.chars();
        match chars.next() {
            Some(c) => format!("{}{}", c.to_uppercase(), chars.as_str()),
            None => String::new(),
        }
    };
    let enough = |t: &str| t.split_whitespace().count() >= 2;
    let lower = phrase.to_lowercase();
    // "Part N of <anything>, <rest>" / "Section N of ...: <rest>".
    let words: Vec<&str> = lower.split_whitespace().collect();
    if words.len() > 3
        && (words[0] == "part" || words[0] == "section")
        && words[1].chars().all(|c| c.is_ascii_digit())
        && words[2] == "of"
        && let Some(cut) = lower.find([',', ':', ';'])
    {
        let mut rest = phrase[cut + 1..].trim_start();
        let rest_lower = rest.to_lowercase();
        if let Some(join) = PLACE_JOINS.iter().find(|j| rest_lower.starts_with(*j)) {
            rest = &rest[join.len()..];
        }
        if enough(rest) {
            return capital(rest);
        }
        return phrase.to_string();
    }
    // "<Name> is a Rust library for <rest>", with a name of at most three words.
    let after_is = [" is ", " are "].iter().find_map(|v| {
        let at = lower.find(v)?;
        (phrase[..at].split_whitespace().count() <= 3).then(|| at + v.len())
    });
    for start in [0, after_is.unwrap_or(0)] {
        for opening in KIND_OPENINGS {
            if lower[start..].starts_with(opening) {
                let rest = &phrase[start + opening.len()..];
                if enough(rest) {
                    return capital(rest);
                }
            }
        }
    }
    phrase.to_string()
}

/// Openings that call a directory a directory ("a directory for ...", "a folder containing
/// ..."): the words to drop, or 0. What follows is what the directory holds.
fn folder_opening(lower: &[String]) -> usize {
    const NOUNS: [&str; 3] = ["directory", "folder", "package"];
    const LINKS: [&str; 5] = ["for", "of", "containing", "with", "that holds"];
    let Some(noun) = lower
        .get(1)
        .filter(|_| matches!(lower[0].as_str(), "a" | "the"))
    else {
        return 0;
    };
    if !NOUNS.contains(&noun.as_str()) {
        return 0;
    }
    for link in LINKS {
        let lw: Vec<&str> = link.split(' ').collect();
        let end = 2 + lw.len();
        if lower.len() > end && lower[2..end] == lw[..] {
            return end;
        }
    }
    0
}

/// Text up to and including the first `.`, `!` or `?` followed by a space or the end.
pub fn first_sentence(s: &str) -> &str {
    sentence_end(s).map_or(s, |end| &s[..end])
}

/// The cleaned first line of text of a partial answer, or `None` when there is none yet or
/// when it opens with a quote (stripped only with its partner at the end of the line, which is
/// not written yet).
pub(crate) fn first_line_so_far(raw: &str) -> Option<String> {
    let line = raw
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !is_fence(l))?;
    // The steps of `clean` before it strips quotes.
    let unmarked = strip_markers(line).replace("**", "").replace("__", "");
    if strip_label(unmarked.trim()).starts_with(['"', '\'', '“']) {
        return None;
    }
    Some(clean(line))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openings_that_say_nothing_are_dropped() {
        for (a, want) in [
            (
                "Part 4 of the file, where the code is for handling large powers of 64.",
                "Handling large powers of 64.",
            ),
            (
                "Part 1 of the file, parsing an index from a string.",
                "Parsing an index from a string.",
            ),
            (
                "Part 2 of the Value module, which provides methods for accessing JSON data.",
                "Methods for accessing JSON data.",
            ),
            (
                "A Rust library for parsing JSON data.",
                "Parsing JSON data.",
            ),
            (
                "Tokio-util is a Rust library for I/O operations in Tokio.",
                "I/O operations in Tokio.",
            ),
            (
                "A directory containing the parsers of the config format.",
                "The parsers of the config format.",
            ),
            // Nothing left: as it was, for the judge to reject.
            (
                "Part 2 of the Map implementation.",
                "Part 2 of the Map implementation.",
            ),
            ("A Rust library for Rust.", "A Rust library for Rust."),
            ("Async channels for tasks.", "Async channels for tasks."),
        ] {
            assert_eq!(drop_empty_openings(a), want, "{a}");
        }
    }

    #[test]
    fn keeps_first_line_of_text() {
        assert_eq!(
            clean("Spawns a task on the runtime.\nIt returns a handle."),
            "Spawns a task on the runtime."
        );
        assert_eq!(clean("\n\n  Runs timers. \n"), "Runs timers.");
    }

    #[test]
    fn strips_markdown_but_keeps_code_names() {
        assert_eq!(
            clean("```rust\nfn main() {}\n```"),
            "fn main() {}",
            "the fence goes, the code stays for the judge"
        );
        assert_eq!(
            clean("**Summary:** Reads `Bytes` from a socket."),
            "Reads `Bytes` from a socket."
        );
        assert_eq!(
            clean("- Defines the `Runtime` builder."),
            "Defines the `Runtime` builder."
        );
        assert_eq!(
            clean("## A channel for one value"),
            "A channel for one value"
        );
        assert_eq!(clean("\"Parks the thread.\""), "Parks the thread.");
        assert_eq!(clean("Summary:   waits   for\tIO"), "waits for IO");
        assert_eq!(clean("```\n```"), "");
        assert_eq!(clean("“Quoted text.”"), "Quoted text.");
    }

    #[test]
    fn phrase_drops_the_introduction() {
        assert_eq!(
            phrase("This file is a wrapper for a barrier. It uses a mutex."),
            "wrapper for a barrier."
        );
        assert_eq!(
            phrase("The file jspi.rs contains a single function."),
            "single function."
        );
        assert_eq!(phrase("This module is part of tokio"), "tokio");
        assert_eq!(
            phrase("A channel for one value."),
            "A channel for one value."
        );
        assert_eq!(phrase("This file"), "This file");
        assert_eq!(phrase("This chunk defines the waker list."), "waker list.");
        // Where the chunk lies is no part of what it does.
        assert_eq!(
            phrase("This part of the file is code that defines a macro for selecting."),
            "defines a macro for selecting."
        );
        assert_eq!(
            phrase("Part of the file that initializes the local runtime."),
            "initializes the local runtime."
        );
        assert_eq!(
            phrase("This part of the file implements the RwLock guards."),
            "RwLock guards."
        );
        assert_eq!(
            phrase("This directory is for the runtime's task scheduling."),
            "runtime's task scheduling."
        );
        assert_eq!(
            phrase("A directory for managing code in a pipeline."),
            "managing code in a pipeline."
        );
        assert_eq!(
            phrase("a folder containing scripts for test fixtures."),
            "scripts for test fixtures."
        );
        assert_eq!(phrase("A directory for"), "A directory for");
        assert_eq!(
            phrase("A directory watcher for file events."),
            "A directory watcher for file events."
        );
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
            let _ = phrase(&clean(s));
            let _ = first_line_so_far(s);
        }
    }
}

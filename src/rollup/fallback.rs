//! The line a file, directory or the root gets when the model's answer is rejected or the
//! request fails: built from what its children say, never from their names alone.
//!
//! A file takes the line of its largest chunk whose answer was accepted, else the line of its
//! largest chunk (built from that chunk's own docs or items). A directory joins the lines of
//! its two largest children that have accepted lines ("An async mutex; a reader-writer
//! lock."), else of its two largest children; only a directory whose children have no line at
//! all is described by their names.

/// A child as the fallback sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackChild {
    /// A chunk's first item name, or a file's or directory's topic (`mutex`, `mpsc`).
    pub name: String,
    /// The child's line as a reader sees it (empty when it has none).
    pub line: String,
    /// Whether that line was accepted (not itself a fallback or failure).
    pub accepted: bool,
    /// Lines of source below the child (larger children come first).
    pub lines: usize,
}

/// Children whose lines a directory's fallback joins.
const JOINED: usize = 2;

/// Children named when no child has a line.
const NAMED: usize = 4;

/// Children largest first, those with accepted lines before the rest.
fn ranked(children: &[FallbackChild]) -> Vec<&FallbackChild> {
    let mut by_size: Vec<&FallbackChild> = children.iter().filter(|c| !c.line.is_empty()).collect();
    by_size.sort_by_key(|c| (!c.accepted, std::cmp::Reverse(c.lines)));
    by_size
}

/// The fallback line of a file from its chunks.
pub fn file_fallback(chunks: &[FallbackChild]) -> String {
    match ranked(chunks).first() {
        Some(c) => c.line.clone(),
        None => names_line(chunks),
    }
}

/// The fallback line of a directory (or the root) from its files and subdirectories.
pub fn dir_fallback(children: &[FallbackChild]) -> String {
    let ranked = ranked(children);
    let accepted: Vec<&&FallbackChild> = ranked.iter().filter(|c| c.accepted).collect();
    let pick: Vec<&str> = if accepted.is_empty() {
        ranked
            .iter()
            .take(JOINED)
            .map(|c| c.line.as_str())
            .collect()
    } else {
        accepted
            .iter()
            .take(JOINED)
            .map(|c| c.line.as_str())
            .collect()
    };
    let mut parts: Vec<String> = Vec::new();
    for line in pick {
        let part = line.trim().trim_end_matches(['.', '!', '?', ';']).trim();
        if !part.is_empty() && !parts.iter().any(|p| p.eq_ignore_ascii_case(part)) {
            parts.push(part.to_string());
        }
    }
    match parts.len() {
        0 => names_line(children),
        1 => format!("{}.", parts[0]),
        _ => {
            let rest: Vec<String> = parts[1..].iter().map(|p| lower_first(p)).collect();
            format!("{}; {}.", parts[0], rest.join("; "))
        }
    }
}

/// "Code of `mpsc`, `mutex` and 2 more." for children without any line.
fn names_line(children: &[FallbackChild]) -> String {
    let mut by_size: Vec<&FallbackChild> = children.iter().collect();
    by_size.sort_by_key(|c| std::cmp::Reverse(c.lines));
    let mut names: Vec<&str> = Vec::new();
    for c in &by_size {
        if !c.name.is_empty() && !names.contains(&c.name.as_str()) {
            names.push(&c.name);
        }
    }
    if names.is_empty() {
        return "Nothing that could be summarized.".to_string();
    }
    let shown: Vec<String> = names.iter().take(NAMED).map(|n| format!("`{n}`")).collect();
    let more = names.len().saturating_sub(NAMED);
    let list = match (shown.len(), more) {
        (1, _) => shown[0].clone(),
        (n, 0) => format!("{} and {}", shown[..n - 1].join(", "), shown[n - 1]),
        (_, m) => format!("{} and {m} more", shown.join(", ")),
    };
    format!("Code of {list}.")
}

/// The first letter in lower case, unless the first word is a name ("TCP", "AsyncRead").
fn lower_first(s: &str) -> String {
    let first_word = s.split_whitespace().next().unwrap_or("");
    let ordinary = first_word
        .chars()
        .skip(1)
        .all(|c| c.is_lowercase() || matches!(c, ',' | ':' | ';' | '-'));
    let mut chars = s.chars();
    match chars.next() {
        Some(a) if a.is_uppercase() && ordinary => {
            format!("{}{}", a.to_lowercase(), chars.as_str())
        }
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, line: &str, accepted: bool, lines: usize) -> FallbackChild {
        FallbackChild {
            name: name.into(),
            line: line.into(),
            accepted,
            lines,
        }
    }

    #[test]
    fn a_file_takes_its_largest_accepted_chunk_line() {
        let kids = [
            c("Small", "Small part.", true, 10),
            c("Big", "Defines `Big`.", false, 300),
            c("Mid", "The lock.", true, 100),
        ];
        assert_eq!(file_fallback(&kids), "The lock.");
        assert_eq!(
            file_fallback(&[c("Big", "Defines `Big`.", false, 300)]),
            "Defines `Big`."
        );
    }

    #[test]
    fn a_directory_joins_what_its_largest_children_say() {
        let kids = [
            c("a", "", false, 1),
            c(
                "mpsc",
                "A multi-producer, single-consumer channel.",
                true,
                900,
            ),
            c("mutex", "An async mutex.", true, 300),
            c("rwlock", "Defines `RwLock`.", false, 2000),
            c("notify", "Wakes tasks.", true, 100),
        ];
        let line = dir_fallback(&kids);
        assert_eq!(
            line,
            "A multi-producer, single-consumer channel; an async mutex."
        );
        assert!(!line.contains("parts"), "{line}");
        // Without accepted lines, the largest children's own lines.
        let kids = [
            c("rwlock", "Defines `RwLock`.", false, 2000),
            c("x", "Defines `X`.", false, 10),
        ];
        assert_eq!(dir_fallback(&kids), "Defines `RwLock`; defines `X`.");
        assert_eq!(
            dir_fallback(&[c("TCP", "TCP sockets.", true, 5)]),
            "TCP sockets."
        );
        // Only names left: they are named, never as "parts".
        let kids = [c("mpsc", "", false, 9), c("mutex", "", false, 3)];
        assert_eq!(dir_fallback(&kids), "Code of `mpsc` and `mutex`.");
        assert_eq!(dir_fallback(&[]), "Nothing that could be summarized.");
    }
}

//! The line a file, directory or the root gets when the model's answer is rejected or the
//! request fails: built from its children, never empty.
//!
//! A file takes the line of its largest chunk whose answer was accepted; failing that, and for
//! directories, "The <topic> module: <children>." names its largest children (item names for a
//! file; files and subdirectories by topic for a directory).

use crate::pipeline::compose::file_topic;

/// Children named before "and N more".
const NAMED: usize = 4;

/// A child as the fallback sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackChild {
    /// A chunk's first item name, or a file's or directory's topic (`mutex`, `mpsc`).
    pub name: String,
    /// The child's line, when it was accepted (not itself a fallback or failure).
    pub accepted_line: Option<String>,
    /// Lines of source below the child (larger children come first).
    pub lines: usize,
}

/// The fallback line of a file (when `is_file`) or directory whose topic comes from
/// `topic_path`, from its `children`.
pub fn fallback_line(topic_path: &str, is_file: bool, children: &[FallbackChild]) -> String {
    let mut by_size: Vec<&FallbackChild> = children.iter().collect();
    by_size.sort_by_key(|c| std::cmp::Reverse(c.lines));
    if is_file && let Some(line) = by_size.iter().find_map(|c| c.accepted_line.clone()) {
        return line;
    }
    let topic = file_topic(topic_path);
    let mut names: Vec<&str> = Vec::new();
    for c in &by_size {
        if !c.name.is_empty() && !names.contains(&c.name.as_str()) {
            names.push(&c.name);
        }
    }
    if names.is_empty() {
        return format!("The {topic} module.");
    }
    let shown = names.len().min(NAMED);
    let mut list = names[..shown].join(", ");
    if names.len() > shown {
        list.push_str(&format!(" and {} more", names.len() - shown));
    }
    let what = if is_file { "items" } else { "parts" };
    format!("The {topic} module: {what} {list}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, line: Option<&str>, lines: usize) -> FallbackChild {
        FallbackChild {
            name: name.into(),
            accepted_line: line.map(str::to_string),
            lines,
        }
    }

    #[test]
    fn a_file_takes_its_largest_accepted_chunk_line() {
        let kids = [
            c("Small", Some("The mutex module: small part."), 10),
            c("Big", None, 300),
            c("Mid", Some("The mutex module: the lock."), 100),
        ];
        assert_eq!(
            fallback_line("src/sync/mutex.rs", true, &kids),
            "The mutex module: the lock."
        );
    }

    #[test]
    fn otherwise_it_names_the_largest_children() {
        let kids = [
            c("a", None, 1),
            c("mpsc", None, 900),
            c("mutex", None, 300),
            c("rwlock", None, 200),
            c("notify", None, 100),
            c("barrier", None, 50),
        ];
        assert_eq!(
            fallback_line("src/sync/mod.rs", false, &kids),
            "The sync module: parts mpsc, mutex, rwlock, notify and 2 more."
        );
        assert_eq!(
            fallback_line("src/sync/mod.rs", false, &[]),
            "The sync module."
        );
        assert_eq!(
            fallback_line("src/x.rs", true, &[c("X", None, 3)]),
            "The x module: items X."
        );
    }
}

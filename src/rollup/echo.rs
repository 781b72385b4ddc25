//! Whether a directory's line only repeats what one of its children says: a line that
//! describes one file or subdirectory as if it were the whole directory misleads a reader
//! (the `src` of a JSON crate described as its number-parsing helpers), so it is rejected and
//! the directory gets the line built from several children instead. The file that stands for
//! the directory (`mod.rs`, `lib.rs`, `__init__.py`, ...) may be repeated: it speaks for the
//! whole.

use std::collections::HashSet;

/// The name of the rejection in records.
pub const ECHOES_ONE_CHILD: &str = "one child";

/// A line whose content words occur in one child's line at least this much...
const ECHO_SHARE: f64 = 0.8;

/// ...while they occur in the other children's lines at most this much on average.
const OTHERS_SHARE: f64 = 0.5;

/// Fewer content words than this say too little to tell.
const MIN_CONTENT_WORDS: usize = 3;

/// Words that carry no content of their own.
const STOP: [&str; 24] = [
    "the", "and", "for", "with", "its", "their", "from", "into", "that", "this", "are", "was",
    "which", "can", "use", "used", "using", "other", "more", "all", "one", "two", "via", "per",
];

/// The content words of a line: lower case, at least three letters, no stop words, a plural
/// `s` dropped.
fn content_words(line: &str) -> HashSet<String> {
    line.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.len() >= 3 && !STOP.contains(&w.as_str()))
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if stem.len() >= 3 && !stem.ends_with('s') => stem.to_string(),
            _ => w,
        })
        .collect()
}

/// One child's line as the check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSays {
    /// The child's accepted line.
    pub line: String,
    /// Whether the child is the file that stands for the directory (`mod.rs`, `lib.rs`, ...).
    pub speaks_for_dir: bool,
}

/// Whether `line` says what one of `children` says and little of the others, that child not
/// being the file that stands for the directory. Needs at least two children with lines
/// besides that file: a directory of one child (with or without a `mod.rs` that declares it)
/// takes that child's line on purpose.
pub fn echoes_one_child(line: &str, children: &[ChildSays]) -> bool {
    let words = content_words(line);
    let children: Vec<&ChildSays> = children
        .iter()
        .filter(|c| !c.line.trim().is_empty())
        .collect();
    let kids: Vec<HashSet<String>> = children.iter().map(|c| content_words(&c.line)).collect();
    let own = children.iter().filter(|c| !c.speaks_for_dir).count();
    if words.len() < MIN_CONTENT_WORDS || own < 2 {
        return false;
    }
    let share = |kid: &HashSet<String>| {
        words.iter().filter(|w| kid.contains(*w)).count() as f64 / words.len() as f64
    };
    let shares: Vec<f64> = kids.iter().map(share).collect();
    let (best, &top) = shares
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .expect("two children at least");
    let others: f64 = shares
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != best)
        .map(|(_, s)| s)
        .sum::<f64>()
        / (shares.len() - 1) as f64;
    top >= ECHO_SHARE && others <= OTHERS_SHARE && !children[best].speaks_for_dir
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(xs: &[&str]) -> Vec<ChildSays> {
        xs.iter()
            .map(|s| ChildSays {
                line: s.to_string(),
                speaks_for_dir: false,
            })
            .collect()
    }

    #[test]
    fn a_line_that_repeats_one_of_several_children_is_caught() {
        let kids = lines(&[
            "A lexical library for small integers, large powers of 64, floating-point numbers, rounding, base conversion, and more.",
            "A JSON value type and its parsing and serialization methods.",
            "I/O module: core functionality, vector I/O.",
        ]);
        assert!(echoes_one_child(
            "Small integers, large powers of 64, floating-point numbers, rounding, base conversion, and more.",
            &kids
        ));
        // A line that gathers the children is kept.
        assert!(!echoes_one_child(
            "JSON values, their parsing and serialization, and the number parsing below them.",
            &kids
        ));
    }

    #[test]
    fn similar_children_one_child_or_a_short_line_are_left_alone() {
        let tests = lines(&[
            "Tests for file operations with io_uring.",
            "Tests for file operations when cancelling.",
        ]);
        assert!(!echoes_one_child(
            "Tests for file operations with io_uring.",
            &tests
        ));
        assert!(!echoes_one_child(
            "A JSON value type and its parsing.",
            &lines(&["A JSON value type and its parsing.", ""])
        ));
        assert!(!echoes_one_child(
            "JSON values.",
            &lines(&["JSON values.", "Numbers."])
        ));
        // The directory's own mod.rs speaks for it.
        let mut kids = lines(&[
            "Time utilities for tokio.",
            "Timeouts for futures.",
            "A clock.",
        ]);
        assert!(echoes_one_child("Time utilities for tokio.", &kids));
        kids[0].speaks_for_dir = true;
        assert!(!echoes_one_child("Time utilities for tokio.", &kids));
        // One file beside the mod.rs that declares it: that file is what the directory holds.
        let mut pair = lines(&[
            "A module for testing utilities.",
            "Test code: arbitrary graph creation for tournament games.",
        ]);
        let line = "Test utilities: arbitrary graph creation for tournament games.";
        assert!(echoes_one_child(line, &pair));
        pair[0].speaks_for_dir = true;
        assert!(!echoes_one_child(line, &pair));
    }
}

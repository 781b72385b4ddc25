//! What a path says a file is about ([`file_topic`]), the topic every record keeps in a field
//! of its own, and the opening that older lines carried it in ([`legacy_opening`]).

/// File stems that name their directory rather than themselves.
const DIRECTORY_FILES: [&str; 4] = ["mod", "__init__", "index", "doc"];

/// What a path says a file is about: `tokio/src/time/mod.rs` → `time`,
/// `src/io/stdio_common.rs` → `stdio common` (the stem, or the directory for `mod.rs`,
/// `__init__.py`, `index.js`, `doc.go`; underscores read as spaces).
pub fn file_topic(path: &str) -> String {
    let p = std::path::Path::new(path);
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = if DIRECTORY_FILES.contains(&stem.as_str()) {
        p.parent()
            .and_then(std::path::Path::file_name)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or(stem)
    } else {
        stem
    };
    name.replace('_', " ")
}

/// Words that name what a path is rather than what it does, after a topic in an opening.
const KIND_WORDS: [&str; 6] = [
    "module",
    "directory",
    "folder",
    "crate",
    "package",
    "library",
];

/// Splits "The <topic> module: <rest>" (or "directory", "folder", "crate", "package",
/// "library" in place of "module"; a topic of at most three words) into its topic and rest;
/// `None` for any other line.
pub fn legacy_opening(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim().strip_prefix("The ")?;
    let (head, tail) = rest.split_once(": ")?;
    let (topic, kind) = head.rsplit_once(' ')?;
    let fits = KIND_WORDS.contains(&kind)
        && !topic.contains('.')
        && topic.split_whitespace().count() <= 3
        && !tail.trim().is_empty();
    fits.then_some((topic, tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_opening_that_names_the_kind_is_split_off() {
        assert_eq!(
            legacy_opening("The sync module: channels and locks."),
            Some(("sync", "channels and locks."))
        );
        assert_eq!(
            legacy_opening("The tests directory: test code for graphs."),
            Some(("tests", "test code for graphs."))
        );
        // Not a kind word, a long topic, or nothing after the colon: the line stays whole.
        assert_eq!(
            legacy_opening("The I/O utilities: reading and writing."),
            None
        );
        assert_eq!(
            legacy_opening("The one big happy family module: all."),
            None
        );
        assert_eq!(legacy_opening("The sync module: "), None);
        assert_eq!(legacy_opening("Channels for tasks."), None);
    }
}

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

/// Splits "The <topic> module: <rest>" into its topic and rest; `None` for any other line.
pub fn legacy_opening(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim().strip_prefix("The ")?;
    let (topic, tail) = rest.split_once(" module: ")?;
    (!topic.contains('.') && !tail.is_empty()).then_some((topic, tail))
}

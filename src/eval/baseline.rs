//! The file-name baseline: "The <name> module.", where the name is the file's stem with
//! underscores read as spaces, or the directory's name for a `mod.rs`, `__init__.py`,
//! `index.js`/`index.ts` or `doc.go` file. A summarizer that does not beat it says nothing a
//! reader could not see in the path.

use std::path::Path;

/// File stems that name their directory rather than themselves.
const DIRECTORY_FILES: [&str; 4] = ["mod", "__init__", "index", "doc"];

/// What the path says the file is about: `tokio/src/time/mod.rs` → `time`,
/// `src/io/stdio_common.rs` → `stdio common`.
pub fn file_topic(path: &str) -> String {
    let p = Path::new(path);
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = if DIRECTORY_FILES.contains(&stem.as_str()) {
        p.parent()
            .and_then(Path::file_name)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or(stem)
    } else {
        stem
    };
    name.replace('_', " ")
}

/// The baseline summary of a file: "The <topic> module.".
pub fn file_name_summary(path: &str) -> String {
    format!("The {} module.", file_topic(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_files_and_directories() {
        assert_eq!(
            file_name_summary("tokio/src/time/mod.rs"),
            "The time module."
        );
        assert_eq!(
            file_name_summary("tokio/src/io/stdio_common.rs"),
            "The stdio common module."
        );
        assert_eq!(
            file_name_summary("tokio-util/src/lib.rs"),
            "The lib module."
        );
        assert_eq!(file_name_summary("pkg/__init__.py"), "The pkg module.");
    }
}

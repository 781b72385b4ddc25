//! The file-name baseline: "The <name> module.", where the name is the file's stem with
//! underscores read as spaces, or the directory's name for a `mod.rs`, `__init__.py`,
//! `index.js`/`index.ts` or `doc.go` file. A summarizer that does not beat it says nothing a
//! reader could not see in the path.

pub use crate::record::file_topic;

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

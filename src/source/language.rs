//! Languages isg knows, detected by file extension, and their tree-sitter grammars.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The language of a source file, decided by its extension.
///
/// Every language except [`Language::Text`] has a tree-sitter grammar and is cut at syntax
/// boundaries; `Text` (extensions opted in through
/// [`WalkSettings::text_extensions`](super::WalkSettings::text_extensions), or a single file named
/// as the root) is cut into line chunks at blank lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Rust (`.rs`).
    Rust,
    /// Python (`.py`, `.pyi`).
    Python,
    /// Go (`.go`).
    Go,
    /// JavaScript (`.js`, `.mjs`, `.cjs`, `.jsx`).
    JavaScript,
    /// TypeScript (`.ts`, `.mts`, `.cts`).
    TypeScript,
    /// TypeScript with JSX (`.tsx`).
    Tsx,
    /// C (`.c`, `.h`).
    C,
    /// C++ (`.cc`, `.cpp`, `.cxx`, `.c++`, `.hh`, `.hpp`, `.hxx`, `.h++`, `.ipp`, `.inl`).
    Cpp,
    /// Any other text, cut into line chunks.
    Text,
}

impl Language {
    /// Every language with a grammar, in a fixed order.
    pub const PARSED: [Language; 8] = [
        Language::Rust,
        Language::Python,
        Language::Go,
        Language::JavaScript,
        Language::TypeScript,
        Language::Tsx,
        Language::C,
        Language::Cpp,
    ];

    /// The language of a file extension (without the dot, case-insensitive), if it has a grammar.
    pub fn from_extension(ext: &str) -> Option<Language> {
        let ext = ext.to_ascii_lowercase();
        Some(match ext.as_str() {
            "rs" => Language::Rust,
            "py" | "pyi" => Language::Python,
            "go" => Language::Go,
            "js" | "mjs" | "cjs" | "jsx" => Language::JavaScript,
            "ts" | "mts" | "cts" => Language::TypeScript,
            "tsx" => Language::Tsx,
            "c" | "h" => Language::C,
            "cc" | "cpp" | "cxx" | "c++" | "hh" | "hpp" | "hxx" | "h++" | "ipp" | "inl" => {
                Language::Cpp
            }
            _ => return None,
        })
    }

    /// The language of a path, from its extension, if it has a grammar.
    pub fn from_path(path: &Path) -> Option<Language> {
        Language::from_extension(path.extension()?.to_str()?)
    }

    /// A stable lowercase name (`rust`, `python`, `go`, `javascript`, `typescript`, `tsx`, `c`,
    /// `cpp`, `text`), as serialized.
    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Go => "go",
            Language::JavaScript => "javascript",
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
            Language::C => "c",
            Language::Cpp => "cpp",
            Language::Text => "text",
        }
    }

    /// The tree-sitter grammar, or `None` for [`Language::Text`].
    pub(crate) fn grammar(self) -> Option<tree_sitter::Language> {
        Some(match self {
            Language::Rust => tree_sitter_rust::LANGUAGE.into(),
            Language::Python => tree_sitter_python::LANGUAGE.into(),
            Language::Go => tree_sitter_go::LANGUAGE.into(),
            Language::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Language::C => tree_sitter_c::LANGUAGE.into(),
            Language::Cpp => tree_sitter_cpp::LANGUAGE.into(),
            Language::Text => return None,
        })
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

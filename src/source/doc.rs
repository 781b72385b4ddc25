//! Module docs: what a file says about itself, and the file without it, for scoring summaries
//! against the authors' own words.
//!
//! The rule per language:
//! - Rust: every `//!` line (anywhere in the file), plus a `/*! ... */` block that opens the
//!   file.
//! - Python: the module docstring (a string as the first statement).
//! - Go: the comment block directly above the `package` clause (`// Package x ...`).
//! - JavaScript, TypeScript, C, C++: the first comment block before any code (`/** ... */`,
//!   `/* ... */` or a run of `//` lines), where blocks that mention a copyright, a license or
//!   an SPDX identifier are passed over as license headers; a `#!` line is passed over too.
//! - Text: none.

use serde::{Deserialize, Serialize};
use tree_sitter::Parser;

use super::comments::comment_body;
use super::items::named_children;
use super::{Language, SourceFile};

/// A file's module doc and the file without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleDoc {
    /// The doc text, comment markers removed, one line per source line.
    pub doc: String,
    /// The file with the doc's lines removed (line numbers shift).
    pub stripped: String,
}

/// The module doc of a file and the file without it, or `None` when the file has none.
pub fn module_doc(file: &SourceFile) -> Option<ModuleDoc> {
    let lines: Vec<&str> = file.text.lines().collect();
    let remove: Vec<usize> = match file.language {
        Language::Rust => rust_doc_lines(&lines),
        Language::Python => python_doc_lines(&file.text),
        Language::Go => go_doc_lines(&lines),
        Language::JavaScript
        | Language::TypeScript
        | Language::Tsx
        | Language::C
        | Language::Cpp => leading_block_lines(&lines),
        Language::Text => Vec::new(),
    };
    if remove.is_empty() {
        return None;
    }
    let doc_src: Vec<&str> = remove
        .iter()
        .filter_map(|&i| lines.get(i).copied())
        .collect();
    let doc = match file.language {
        Language::Rust => doc_src
            .iter()
            .map(|l| {
                let t = l.trim_start();
                match t.strip_prefix("//!") {
                    Some(rest) => rest
                        .strip_prefix(' ')
                        .unwrap_or(rest)
                        .trim_end()
                        .to_string(),
                    None => comment_body(t),
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => comment_body(&doc_src.join("\n")),
    };
    let doc = doc.trim_matches('\n').to_string();
    if doc.trim().is_empty() {
        return None;
    }
    let mut stripped = String::with_capacity(file.text.len());
    let mut r = remove.iter().peekable();
    for (i, l) in lines.iter().enumerate() {
        if r.peek() == Some(&&i) {
            r.next();
            continue;
        }
        stripped.push_str(l);
        stripped.push('\n');
    }
    Some(ModuleDoc { doc, stripped })
}

/// `//!` lines, and a `/*! */` block opening the file.
fn rust_doc_lines(lines: &[&str]) -> Vec<usize> {
    let mut out = Vec::new();
    let first = lines.iter().position(|l| !l.trim().is_empty());
    if let Some(f) = first
        && lines[f].trim_start().starts_with("/*!")
    {
        let end = (f..lines.len())
            .find(|&i| lines[i].contains("*/"))
            .unwrap_or(lines.len() - 1);
        out.extend(f..=end);
    }
    for (i, l) in lines.iter().enumerate() {
        if l.trim_start().starts_with("//!") && !out.contains(&i) {
            out.push(i);
        }
    }
    out.sort_unstable();
    out
}

/// The lines of the module docstring.
fn python_doc_lines(text: &str) -> Vec<usize> {
    let mut parser = Parser::new();
    if parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .is_err()
    {
        return Vec::new();
    }
    let Some(tree) = parser.parse(text, None) else {
        return Vec::new();
    };
    let first = named_children(tree.root_node())
        .into_iter()
        .find(|n| n.kind() != "comment");
    match first {
        Some(n)
            if n.kind() == "expression_statement"
                && n.named_child_count() == 1
                && n.named_child(0).is_some_and(|c| c.kind() == "string") =>
        {
            (n.start_position().row..=n.end_position().row).collect()
        }
        _ => Vec::new(),
    }
}

/// The comment block directly above `package`.
fn go_doc_lines(lines: &[&str]) -> Vec<usize> {
    let Some(pkg) = lines.iter().position(|l| l.starts_with("package ")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut i = pkg;
    if i > 0 && lines[i - 1].trim_end().ends_with("*/") {
        let end = i - 1;
        let start = (0..=end)
            .rev()
            .find(|&j| lines[j].trim_start().starts_with("/*"));
        if let Some(s) = start {
            return (s..=end).collect();
        }
    }
    while i > 0 && lines[i - 1].trim_start().starts_with("//") {
        i -= 1;
        out.push(i);
    }
    out.reverse();
    // A `//go:build` constraint is not documentation.
    out.retain(|&j| !lines[j].trim_start().starts_with("//go:"));
    out
}

/// The first comment block before any code that is not a license header.
fn leading_block_lines(lines: &[&str]) -> Vec<usize> {
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim();
        if t.is_empty() || (i == 0 && t.starts_with("#!")) {
            i += 1;
            continue;
        }
        let block: Vec<usize> = if t.starts_with("/*") {
            let end = (i..lines.len())
                .find(|&j| lines[j].contains("*/"))
                .unwrap_or(lines.len() - 1);
            (i..=end).collect()
        } else if t.starts_with("//") {
            (i..lines.len())
                .take_while(|&j| lines[j].trim_start().starts_with("//"))
                .collect()
        } else {
            return Vec::new();
        };
        let Some(&last) = block.last() else {
            return Vec::new();
        };
        let text = block
            .iter()
            .map(|&j| lines[j])
            .collect::<Vec<_>>()
            .join("\n")
            .to_ascii_lowercase();
        let license = ["copyright", "license", "spdx-"]
            .iter()
            .any(|w| text.contains(w));
        if !license {
            return block;
        }
        i = last + 1;
    }
    Vec::new()
}

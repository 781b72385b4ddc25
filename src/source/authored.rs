//! What the authors wrote about their project and its directories, read before any model is
//! asked: the package name and description from the manifest, the first paragraph of a README,
//! and the module doc of the file that stands for a directory.
//!
//! The principal entry point is [`authored_docs`]: it takes the walked root and the files the
//! walk read and returns [`AuthoredDocs`], the project's name (`Cargo.toml` `[package] name`,
//! `package.json` `name`, `pyproject.toml` `[project] name`, `go.mod` `module`, else the
//! README's title, else the folder's name) and one [`Authored`] line per directory that has
//! one. A directory's own doc is, in order: the description of a manifest in it, the first
//! sentence of its README, the module doc of its `mod.rs` / `lib.rs` / `main.rs` / `__init__.py`
//! / `doc.go` / `index.js` (or, for Rust, the `src/<dir>.rs` beside it). The root's is the same,
//! its manifest first. Nothing here fails: a manifest that does not parse, a README that is
//! binary or empty, a directory without docs give no line, never an error.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::comments::first_sentence;
use super::doc::module_doc;
use super::walk::SourceFile;

/// The names of the files that stand for their directory: their module doc is the
/// directory's own.
pub const DIRECTORY_FILES: [&str; 7] = [
    "mod.rs",
    "lib.rs",
    "main.rs",
    "__init__.py",
    "doc.go",
    "index.js",
    "index.ts",
];

/// The root's path in the map of [`AuthoredDocs::dirs`].
pub const ROOT: &str = ".";

/// Longest README or manifest read, in bytes (more is not the first paragraph).
const MAX_READ: u64 = 256 * 1024;

/// Where an authored line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocSource {
    /// A package manifest's description (`Cargo.toml`, `package.json`, `pyproject.toml`).
    Manifest,
    /// The first paragraph of a README.
    Readme,
    /// The module doc of the file that stands for the directory (`mod.rs`, `lib.rs`, ...).
    ModuleDoc,
}

impl DocSource {
    /// The stable name used in records (`manifest`, `readme`, `module_doc`).
    pub fn name(self) -> &'static str {
        match self {
            DocSource::Manifest => "manifest",
            DocSource::Readme => "readme",
            DocSource::ModuleDoc => "module_doc",
        }
    }
}

/// One line the authors wrote about a directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authored {
    /// The line: the first sentence, markup removed, ending with a stop.
    pub line: String,
    /// Where it was read from.
    pub source: DocSource,
    /// The file it was read from, relative to the root.
    pub file: String,
}

/// What the authors wrote about a tree, by directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthoredDocs {
    /// The project's name: from the root's manifest, else its README's title, else the
    /// folder's name.
    pub name: String,
    /// Where the name came from (`Cargo.toml`, `README.md`, or `folder`).
    pub name_from: String,
    /// Each directory's own line (`.` for the root), relative paths with `/` separators.
    pub dirs: BTreeMap<String, Authored>,
    /// Each file's own line: the first sentence of its module doc (`//!`, a docstring).
    #[serde(default)]
    pub files: BTreeMap<String, Authored>,
}

impl AuthoredDocs {
    /// The authored line of `dir` (`.` for the root), if it has one.
    pub fn line(&self, dir: &str) -> Option<&Authored> {
        self.dirs.get(dir)
    }

    /// The authored line of the file at `path`, if its module doc gives one.
    pub fn file_line(&self, path: &str) -> Option<&Authored> {
        self.files.get(path)
    }
}

/// A manifest's name and description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Manifest {
    file: &'static str,
    name: Option<String>,
    description: Option<String>,
}

/// Reads what the authors wrote about `root` and the directories of `files` (see the module
/// docs). `folder_name` is the name used when nothing better names the project.
pub fn authored_docs(root: &Path, files: &[SourceFile], folder_name: &str) -> AuthoredDocs {
    let mut dirs: Vec<String> = vec![ROOT.to_string()];
    for f in files {
        let mut parts: Vec<&str> = f.path.split('/').collect();
        parts.pop();
        for d in 1..=parts.len() {
            dirs.push(parts[..d].join("/"));
        }
    }
    dirs.sort();
    dirs.dedup();
    let by_path: BTreeMap<&str, &SourceFile> = files.iter().map(|f| (f.path.as_str(), f)).collect();
    let mut out = AuthoredDocs::default();
    for dir in &dirs {
        let abs = if dir == ROOT {
            root.to_path_buf()
        } else {
            root.join(dir)
        };
        let manifest = read_manifest(&abs);
        if dir == ROOT {
            let readme_title = find_readme(&abs).and_then(|(_, text)| readme_title(&text));
            (out.name, out.name_from) = match (&manifest.name, readme_title) {
                (Some(n), _) => (n.clone(), manifest.file.to_string()),
                (None, Some(t)) => (t, "README".to_string()),
                (None, None) => (folder_name.to_string(), "folder".to_string()),
            };
        }
        if let Some(a) = dir_line(dir, &abs, &manifest, &by_path) {
            out.dirs.insert(dir.clone(), a);
        }
    }
    for f in files {
        if let Some(line) = module_doc(f).and_then(|d| sentence(&d.doc)) {
            out.files.insert(
                f.path.clone(),
                Authored {
                    line,
                    source: DocSource::ModuleDoc,
                    file: f.path.clone(),
                },
            );
        }
    }
    out
}

/// The first authored line of one directory: manifest description, README, module doc.
fn dir_line(
    dir: &str,
    abs: &Path,
    manifest: &Manifest,
    files: &BTreeMap<&str, &SourceFile>,
) -> Option<Authored> {
    let rel = |name: &str| {
        if dir == ROOT {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        }
    };
    if let Some(d) = manifest.description.as_deref().and_then(sentence) {
        return Some(Authored {
            line: d,
            source: DocSource::Manifest,
            file: rel(manifest.file),
        });
    }
    if let Some((name, text)) = find_readme(abs)
        && let Some(line) = readme_paragraph(&text).as_deref().and_then(sentence)
    {
        return Some(Authored {
            line,
            source: DocSource::Readme,
            file: rel(&name),
        });
    }
    let stem = dir.rsplit('/').next().unwrap_or(dir);
    let mut candidates: Vec<String> = DIRECTORY_FILES
        .iter()
        .flat_map(|n| [n.to_string(), format!("src/{n}")])
        .filter(|n| n == "src/lib.rs" || n == "src/main.rs" || !n.starts_with("src/"))
        .map(|n| rel(&n))
        .collect();
    if dir != ROOT {
        // Rust's `src/sync.rs` beside `src/sync/`.
        let parent = dir.rsplit_once('/').map_or("", |(p, _)| p);
        candidates.push(if parent.is_empty() {
            format!("{stem}.rs")
        } else {
            format!("{parent}/{stem}.rs")
        });
    }
    for c in candidates {
        let Some(f) = files.get(c.as_str()) else {
            continue;
        };
        if let Some(line) = module_doc(f).and_then(|d| sentence(&d.doc)) {
            return Some(Authored {
                line,
                source: DocSource::ModuleDoc,
                file: c,
            });
        }
    }
    None
}

/// A line from authored text: one sentence, markup and extra spaces removed, a stop at the
/// end; `None` when fewer than three words are left (a name, a badge, "TODO").
fn sentence(text: &str) -> Option<String> {
    let first = first_sentence(text);
    let s: String = first
        .replace('`', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let s = s
        .trim()
        .trim_end_matches([':', ',', ';'])
        .trim()
        .to_string();
    if s.split_whitespace().count() < 3 || !s.chars().any(char::is_alphabetic) {
        return None;
    }
    Some(if s.ends_with(['.', '!', '?']) {
        s
    } else {
        format!("{s}.")
    })
}

/// Reads a file as text, at most [`MAX_READ`] bytes; `None` when missing, unreadable or not
/// UTF-8.
fn read_text(path: &Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut buf = Vec::new();
    f.take(MAX_READ).read_to_end(&mut buf).ok()?;
    if buf.contains(&0) {
        return None;
    }
    String::from_utf8(buf).ok()
}

/// The manifest of a directory, the first of `Cargo.toml`, `package.json`, `pyproject.toml`,
/// `go.mod` that exists and parses.
fn read_manifest(dir: &Path) -> Manifest {
    if let Some(text) = read_text(&dir.join("Cargo.toml"))
        && let Ok(v) = text.parse::<toml::Table>()
    {
        let package = v.get("package").and_then(|p| p.as_table());
        let field = |k: &str| {
            package
                .and_then(|p| p.get(k))
                .and_then(|s| s.as_str())
                .map(str::to_string)
        };
        // A workspace's shared description, when the package says `description.workspace`.
        let workspace_description = v
            .get("workspace")
            .and_then(|w| w.get("package"))
            .and_then(|p| p.get("description"))
            .and_then(|s| s.as_str())
            .map(str::to_string);
        return Manifest {
            file: "Cargo.toml",
            name: field("name"),
            description: field("description").or(workspace_description),
        };
    }
    if let Some(text) = read_text(&dir.join("package.json"))
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
    {
        let field = |k: &str| v.get(k).and_then(|s| s.as_str()).map(str::to_string);
        return Manifest {
            file: "package.json",
            name: field("name"),
            description: field("description"),
        };
    }
    if let Some(text) = read_text(&dir.join("pyproject.toml"))
        && let Ok(v) = text.parse::<toml::Table>()
    {
        let table = v
            .get("project")
            .or_else(|| v.get("tool").and_then(|t| t.get("poetry")));
        let field = |k: &str| {
            table
                .and_then(|p| p.get(k))
                .and_then(|s| s.as_str())
                .map(str::to_string)
        };
        return Manifest {
            file: "pyproject.toml",
            name: field("name"),
            description: field("description"),
        };
    }
    if let Some(text) = read_text(&dir.join("go.mod")) {
        let name = text.lines().find_map(|l| {
            let module = l.trim().strip_prefix("module ")?;
            let module = module.trim().trim_matches('"');
            module.rsplit('/').next().map(str::to_string)
        });
        return Manifest {
            file: "go.mod",
            name: name.filter(|n| !n.is_empty()),
            description: None,
        };
    }
    Manifest::default()
}

/// The README of a directory (`README.md`, `README`, `README.rst`, `README.txt`, any case)
/// and its text.
fn find_readme(dir: &Path) -> Option<(String, String)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| {
            let l = n.to_lowercase();
            l == "readme" || l.starts_with("readme.")
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .find_map(|n| read_text(&dir.join(&n)).map(|t| (n, t)))
}

/// A README's title: its first `# ` heading (or a setext heading), when it is short.
fn readme_title(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim();
        if let Some(h) = t.strip_prefix("# ") {
            return short_name(h);
        }
        if i + 1 < lines.len() && !t.is_empty() && is_rule(lines[i + 1], '=') {
            return short_name(t);
        }
    }
    None
}

fn short_name(h: &str) -> Option<String> {
    let h = h.trim().trim_matches('#').trim().replace('`', "");
    (!h.is_empty() && h.split_whitespace().count() <= 3 && !h.contains('<')).then_some(h)
}

fn is_rule(l: &str, c: char) -> bool {
    let t = l.trim();
    t.len() >= 3 && t.chars().all(|x| x == c)
}

/// The first paragraph of prose of a README: headings, badges, images, HTML, link lists,
/// code blocks and tables passed over.
fn readme_paragraph(text: &str) -> Option<String> {
    let mut para: Vec<&str> = Vec::new();
    let mut fence = false;
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim();
        if t.starts_with("```") || t.starts_with("~~~") {
            fence = !fence;
            if !para.is_empty() {
                break;
            }
            continue;
        }
        let next_is_rule = lines
            .get(i + 1)
            .is_some_and(|n| is_rule(n, '=') || is_rule(n, '-'));
        let skip = fence
            || t.starts_with('#')
            || t.starts_with('<')
            || t.starts_with("[![")
            || t.starts_with("![")
            || t.starts_with('|')
            || t.starts_with("..")
            || t.starts_with(':')
            || (t.starts_with('[') && t.contains("]:"))
            || is_rule(t, '=')
            || is_rule(t, '-')
            || is_rule(t, '*')
            || next_is_rule;
        if t.is_empty() || skip {
            if !para.is_empty() {
                break;
            }
            continue;
        }
        // A line of links only (badges written inline, a table of contents) is not prose.
        if t.starts_with('[') && !t.contains(' ') {
            continue;
        }
        para.push(t);
    }
    (!para.is_empty()).then(|| para.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_prose_skips_titles_badges_and_html() {
        let text = "# tokio\n\n[![crates](https://x/y.svg)](https://x)\n<p align=center><img src=a></p>\n\nA runtime for writing reliable, asynchronous applications with Rust. It provides I/O.\n\nMore.";
        assert_eq!(
            readme_paragraph(text)
                .as_deref()
                .and_then(sentence)
                .as_deref(),
            Some("A runtime for writing reliable, asynchronous applications with Rust.")
        );
        assert_eq!(readme_title(text).as_deref(), Some("tokio"));
        assert_eq!(
            readme_title("Title\n=====\n\ntext").as_deref(),
            Some("Title")
        );
        assert_eq!(readme_paragraph("# only a title\n"), None);
        assert_eq!(readme_paragraph(""), None);
    }

    #[test]
    fn sentences_need_three_words() {
        assert_eq!(sentence("TODO"), None);
        assert_eq!(
            sentence("`isg` summarizes source trees"),
            Some("isg summarizes source trees.".into())
        );
    }
}

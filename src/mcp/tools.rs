//! What the `map` and `summary` tools answer, from a [`FolderState`], and the checks of their
//! arguments. Kept apart from the protocol so each answer is a plain function of the folder.

use std::path::{Component, Path, PathBuf};

use rmcp::ErrorData;
use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};

use crate::output::{DEFAULT_MAP_TOKENS, MapFormat, importance, render_map};
use crate::record::{Kind, SummaryRecord};
use crate::search::FolderState;

/// Largest `k` the search tool takes.
pub const MAX_K: usize = 200;

/// Arguments of the `map` tool.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MapArgs {
    /// Budget in tokens of the summarizing model's tokenizer (default 2000).
    pub tokens: Option<usize>,
    /// A directory or file, relative to the tree's root, to map alone.
    pub subtree: Option<String>,
}

/// Arguments of the `search` tool.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// What to look for, in words.
    pub query: String,
    /// How many lines to return (1 to 200, default 10).
    pub k: Option<usize>,
}

/// Arguments of the `summary` tool.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryArgs {
    /// A file or directory relative to the tree's root (`.` for the root).
    pub path: String,
}

/// `k`, or the default; out of range is a bad argument.
pub fn check_k(k: Option<usize>) -> Result<usize, ErrorData> {
    match k {
        None => Ok(10),
        Some(k) if (1..=MAX_K).contains(&k) => Ok(k),
        Some(k) => Err(ErrorData::invalid_params(
            format!("k = {k} is out of range; give 1 to {MAX_K}"),
            None,
        )),
    }
}

/// Whether the folder changed since `state` was read (or nothing was read).
pub fn changed(out_dir: &Path, state: Option<&FolderState>) -> bool {
    state.is_none_or(|s| s.changed(out_dir))
}

/// `path` as the records spell it (`a/b`, `` for the root), or an error when it is absolute or
/// leaves the tree.
pub fn tree_path(path: &str, root: &str) -> Result<String, ErrorData> {
    let outside = || {
        ErrorData::invalid_params(
            format!(
                "path {path:?} is outside the summarized tree (root {root}); give a path relative \
                 to the root, as the map and search answers spell them"
            ),
            None,
        )
    };
    let p = Path::new(path.trim());
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(outside());
            }
        }
    }
    Ok(parts.join("/"))
}

fn under(path: &str, prefix: &str) -> bool {
    prefix.is_empty() || path == prefix || path.starts_with(&format!("{prefix}/"))
}

/// The `tokenizer.json` of the model that wrote the folder: `<cache>/models/<name>/` for a
/// model id `name-<hash>`.
fn tokenizer_of(model_id: &str) -> Result<PathBuf, ErrorData> {
    let name = match model_id.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name
        }
        _ => model_id,
    };
    let t = crate::provision::cache_dir()
        .join("models")
        .join(name)
        .join("tokenizer.json");
    if t.is_file() {
        Ok(t)
    } else {
        Err(ErrorData::internal_error(
            format!(
                "map counts tokens with the tokenizer of {model_id:?}, which is not at {}; run \
                 `isg setup --model {name}`",
                t.display()
            ),
            None,
        ))
    }
}

/// The `map` tool's answer: the Markdown map of the folder (or of `subtree`) within the budget,
/// counted with `tokenizer` (a `tokenizer.json`, or a folder holding one), else the tokenizer of
/// the model that wrote the folder.
pub fn map_text(
    state: &FolderState,
    args: &MapArgs,
    tokenizer: Option<&Path>,
) -> Result<String, ErrorData> {
    let budget = args.tokens.unwrap_or(DEFAULT_MAP_TOKENS);
    if budget == 0 {
        return Err(ErrorData::invalid_params(
            "tokens = 0: give a budget of at least one token (default 2000)",
            None,
        ));
    }
    let sub = match &args.subtree {
        Some(s) => tree_path(s, &state.report.root)?,
        None => String::new(),
    };
    let records: Vec<SummaryRecord> = state
        .records
        .iter()
        .filter(|r| sub.is_empty() || (r.kind != Kind::Root && under(&r.path, &sub)))
        .cloned()
        .collect();
    if records.is_empty() {
        return Err(not_in_tree(&sub, &state.report.root));
    }
    let tokenizer_path = match tokenizer {
        Some(t) if t.is_dir() => t.join("tokenizer.json"),
        Some(t) => t.to_path_buf(),
        None => tokenizer_of(&state.report.model)?,
    };
    let tokenizer = tokenizers::Tokenizer::from_file(&tokenizer_path).map_err(|e| {
        ErrorData::internal_error(format!("loading {}: {e}", tokenizer_path.display()), None)
    })?;
    let count = |text: &str| {
        tokenizer
            .encode(text, false)
            .map_or(usize::MAX, |e| e.len())
    };
    let imp = importance(Path::new(&state.report.root), &records);
    let map = render_map(
        &records,
        &state.report,
        &imp,
        budget,
        MapFormat::Markdown,
        &count,
    );
    if map.tokens > budget {
        return Err(ErrorData::invalid_params(
            format!(
                "tokens = {budget}: even the top line takes {} tokens; give a larger budget",
                map.tokens
            ),
            None,
        ));
    }
    Ok(map.text)
}

fn not_in_tree(path: &str, root: &str) -> ErrorData {
    ErrorData::invalid_params(
        format!(
            "path {path:?} is not in the summarized tree (root {root}); give a file or directory \
             as the map and search answers spell them"
        ),
        None,
    )
}

/// One line of the `summary` tool's answer.
#[derive(Debug, Serialize)]
struct Line<'a> {
    kind: &'static str,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    lines: Option<String>,
    summary: &'a str,
}

impl<'a> Line<'a> {
    fn of(r: &'a SummaryRecord) -> Line<'a> {
        Line {
            kind: r.kind.name(),
            path: &r.path,
            lines: matches!(r.kind, Kind::Chunk | Kind::File)
                .then(|| format!("{}-{}", r.start_line, r.end_line)),
            summary: &r.summary,
        }
    }
}

/// The `summary` tool's answer: `{"path", "kind", "summary", "lines", "children": [...]}` for a
/// file (its chunks) or a directory (its files and subdirectories, each with its line).
pub fn summary_json(state: &FolderState, path: &str) -> Result<String, ErrorData> {
    let p = tree_path(path, &state.report.root)?;
    let records = &state.records;
    let own = records.iter().find(|r| {
        if p.is_empty() {
            r.kind == Kind::Root
        } else {
            matches!(r.kind, Kind::File | Kind::Dir) && r.path == p
        }
    });
    let chunks: Vec<&SummaryRecord> = records
        .iter()
        .filter(|r| r.kind == Kind::Chunk && r.path == p)
        .collect();
    let (kind, children): (&str, Vec<Line>) = match own.map(|r| r.kind) {
        Some(Kind::File) => ("file", chunks.into_iter().map(Line::of).collect()),
        None if !chunks.is_empty() => ("file", chunks.into_iter().map(Line::of).collect()),
        Some(k) => {
            let child = |r: &&SummaryRecord| {
                matches!(r.kind, Kind::File | Kind::Dir) && parent(&r.path) == p && r.path != p
            };
            let mut kids: Vec<Line> = records.iter().filter(child).map(Line::of).collect();
            // Files without a file record (older outputs) show as their first chunk.
            for r in records
                .iter()
                .filter(|r| r.kind == Kind::Chunk && parent(&r.path) == p)
            {
                if !kids.iter().any(|l| l.path == r.path) {
                    kids.push(Line::of(r));
                }
            }
            (k.name(), kids)
        }
        None => return Err(not_in_tree(path, &state.report.root)),
    };
    let summary = own.map(|r| r.summary.as_str()).unwrap_or_default();
    let v = serde_json::json!({
        "path": if p.is_empty() { "." } else { p.as_str() },
        "kind": kind,
        "summary": summary,
        "children": children,
    });
    Ok(serde_json::to_string_pretty(&v).expect("JSON values serialize"))
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_tree() {
        assert_eq!(tree_path("src/io", "/r").unwrap(), "src/io");
        assert_eq!(tree_path("./src/io/", "/r").unwrap(), "src/io");
        assert_eq!(tree_path(".", "/r").unwrap(), "");
        for bad in ["../etc/passwd", "/etc/passwd", "src/../../x"] {
            let e = tree_path(bad, "/r").unwrap_err();
            assert!(
                e.message.contains("outside the summarized tree"),
                "{bad}: {e:?}"
            );
        }
    }

    #[test]
    fn k_is_checked() {
        assert_eq!(check_k(None).unwrap(), 10);
        assert_eq!(check_k(Some(3)).unwrap(), 3);
        assert!(check_k(Some(0)).is_err());
        assert!(
            check_k(Some(MAX_K + 1))
                .unwrap_err()
                .message
                .contains("1 to 200")
        );
    }
}

//! The ranking: every chunk, file and directory line of an output folder as a [`Doc`], scored
//! against a query by meaning (cosine of sentence vectors) plus a lexical score (BM25 over the
//! words of its path and symbols), in one [`SearchIndex`].
//!
//! `score = cosine + LEXICAL_WEIGHT × bm25 / (best bm25 of the query) − DIR_PRIOR (directories)`:
//! the lexical part is scaled per query so that its best document gets exactly
//! [`LEXICAL_WEIGHT`], which keeps the two halves comparable whatever the query's length. The
//! weights were chosen on the development set (query = a file's doc line, hit = the file):
//! see `scripts/search-recall.sh`.

use serde::Serialize;

use super::lexical::{Bm25, terms};
use crate::record::{COPIED_FROM_CHILD, Kind, SummaryRecord};

/// Weight of the lexical score against the cosine (which lies in [-1, 1]).
pub const LEXICAL_WEIGHT: f32 = 0.3;

/// How much a file name's words count against the other words of a path or a symbol.
pub const FILE_NAME_WEIGHT: f32 = 2.0;

/// How much each word of a line counts against a word of its path or symbols.
pub const LINE_WORD_WEIGHT: f32 = 0.5;

/// Taken off a directory's score: a file is the more precise answer when a directory and one
/// of its files (its `mod.rs`, `__init__.py`) say the same.
pub const DIR_PRIOR: f32 = 0.2;

/// One line that can be found: a chunk, a file or a directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// Chunk, file or directory.
    pub kind: Kind,
    /// The file or directory, relative to the walked root.
    pub path: String,
    /// First and last line of a chunk or file (none for a directory).
    pub lines: Option<(usize, usize)>,
    /// The line shown.
    pub summary: String,
    /// What the line is about, from the path (`time` for `src/time/mod.rs`).
    pub topic: String,
    /// Item names (chunks and files).
    pub symbols: Vec<String>,
}

impl Doc {
    /// The doc of a record, when it can be searched (not the root, not a failed or empty line).
    pub fn from_record(r: &SummaryRecord) -> Option<Doc> {
        if r.kind == Kind::Root || r.failed() || r.summary.trim().is_empty() {
            return None;
        }
        // A directory with one child shows that child's line: the child answers for it, and
        // the copy would only push the more precise entry down a rank.
        if r.origin.as_deref() == Some(COPIED_FROM_CHILD) {
            return None;
        }
        Some(Doc {
            kind: r.kind,
            path: r.path.clone(),
            lines: (r.kind != Kind::Dir && r.end_line > 0).then_some((r.start_line, r.end_line)),
            summary: r.shown_line().to_string(),
            topic: if r.topic.is_empty() {
                crate::record::file_topic(&r.path)
            } else {
                r.topic.clone()
            },
            symbols: r.symbols.clone(),
        })
    }

    /// The text whose vector stands for the doc: its topic, then its line ("time: Utilities
    /// for tracking time."): the topic's words help place the line.
    pub fn embed_text(&self) -> String {
        if self.topic.is_empty() {
            self.summary.clone()
        } else {
            format!("{}: {}", self.topic, self.summary)
        }
    }

    /// The lexical terms of the doc: its path's words (the file name's counting
    /// [`FILE_NAME_WEIGHT`]), its symbols' names (without `fn`, `struct`, ...) and, weighing
    /// [`LINE_WORD_WEIGHT`] each, the words of its line.
    pub fn lexical_terms(&self) -> Vec<(String, f32)> {
        let mut out = Vec::new();
        let (dir, name) = match self.path.rsplit_once('/') {
            Some((d, n)) => (d, n),
            None => ("", self.path.as_str()),
        };
        let stem = name.split('.').next().unwrap_or(name);
        let stem = if matches!(stem, "mod" | "lib" | "main" | "index" | "__init__") {
            dir.rsplit('/').next().unwrap_or(stem)
        } else {
            stem
        };
        out.extend(terms(dir).into_iter().map(|t| (t, 1.0)));
        out.extend(terms(stem).into_iter().map(|t| (t, FILE_NAME_WEIGHT)));
        for s in &self.symbols {
            let name = s.split_once(' ').map_or(s.as_str(), |(_, n)| n);
            out.extend(terms(name).into_iter().map(|t| (t, 1.0)));
        }
        out.extend(
            terms(&self.summary)
                .into_iter()
                .map(|t| (t, LINE_WORD_WEIGHT)),
        );
        out
    }
}

/// One ranked answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// `chunk`, `file` or `dir`.
    pub kind: &'static str,
    /// The file or directory.
    pub path: String,
    /// `"START-END"` for chunks and files, absent for directories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<String>,
    /// The combined score.
    pub score: f32,
    /// The line.
    pub summary: String,
}

/// Which of `docs` [`SearchIndex::new`] keeps: all but a chunk whose file shows the same line.
pub fn indexed(docs: &[Doc]) -> Vec<bool> {
    let files: std::collections::HashSet<(&str, &str)> = docs
        .iter()
        .filter(|d| d.kind == Kind::File)
        .map(|d| (d.path.as_str(), d.summary.as_str()))
        .collect();
    docs.iter()
        .map(|d| d.kind != Kind::Chunk || !files.contains(&(d.path.as_str(), d.summary.as_str())))
        .collect()
}

/// Docs, their unit vectors and their lexical index.
#[derive(Debug, Clone)]
pub struct SearchIndex {
    docs: Vec<Doc>,
    vectors: Vec<f32>,
    dims: usize,
    bm25: Bm25,
}

impl SearchIndex {
    /// Indexes `docs` with one vector each (`vectors[i]` for `docs[i]`, all `dims` wide). A
    /// chunk whose file shows the same line (a one-chunk file) is left out: the file stands
    /// for it.
    pub fn new(docs: Vec<Doc>, vectors: Vec<Vec<f32>>, dims: usize) -> SearchIndex {
        let keep = indexed(&docs);
        let (docs, vectors): (Vec<Doc>, Vec<Vec<f32>>) = docs
            .into_iter()
            .zip(vectors)
            .enumerate()
            .filter(|(i, _)| keep[*i])
            .map(|(_, dv)| dv)
            .unzip();
        let bm25 = Bm25::new(docs.iter().map(Doc::lexical_terms).collect());
        let mut flat = Vec::with_capacity(docs.len() * dims);
        for v in &vectors {
            flat.extend(v.iter().copied().take(dims));
            flat.extend(std::iter::repeat_n(0.0, dims.saturating_sub(v.len())));
        }
        SearchIndex {
            docs,
            vectors: flat,
            dims,
            bm25,
        }
    }

    /// The docs, in order.
    pub fn docs(&self) -> &[Doc] {
        &self.docs
    }

    /// The `k` best docs for `query`, whose unit vector is `query_vector`, best first. A line
    /// shown twice (a one-chunk file's line is its chunk's) is listed once, as the file.
    pub fn search(&self, query: &str, query_vector: &[f32], k: usize) -> Vec<Hit> {
        let lex = self.bm25.scores(&terms(query));
        let best = lex.iter().copied().fold(0.0f32, f32::max);
        let mut scored: Vec<(f32, usize)> = self
            .docs
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let v = &self.vectors[i * self.dims..(i + 1) * self.dims];
                let cos: f32 = v.iter().zip(query_vector).map(|(a, b)| a * b).sum();
                let l = if best > 0.0 { lex[i] / best } else { 0.0 };
                let prior = if self.docs[i].kind == Kind::Dir {
                    DIR_PRIOR
                } else {
                    0.0
                };
                (cos + LEXICAL_WEIGHT * l - prior, i)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut out: Vec<Hit> = Vec::with_capacity(k);
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for (score, i) in scored {
            if out.len() >= k {
                break;
            }
            let d = &self.docs[i];
            let key = (d.path.as_str(), d.summary.as_str());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            out.push(Hit {
                kind: d.kind.name(),
                path: d.path.clone(),
                lines: d.lines.map(|(a, b)| format!("{a}-{b}")),
                score,
                summary: d.summary.clone(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(kind: Kind, path: &str, summary: &str, symbols: &[&str]) -> Doc {
        Doc {
            kind,
            path: path.into(),
            lines: (kind != Kind::Dir).then_some((1, 10)),
            summary: summary.into(),
            topic: String::new(),
            symbols: symbols.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn lexical_terms_weigh_the_file_name_and_skip_item_keywords() {
        let d = doc(
            Kind::Chunk,
            "net/tcp/mod.rs",
            "x",
            &["fn TcpStream::connect"],
        );
        let t = d.lexical_terms();
        assert!(t.contains(&("net".into(), 1.0)));
        assert!(t.contains(&("tcp".into(), FILE_NAME_WEIGHT)), "{t:?}");
        assert!(t.contains(&("connect".into(), 1.0)));
        assert!(!t.iter().any(|(w, _)| w == "fn" || w == "mod"));
    }

    #[test]
    fn cosine_ranks_and_the_lexical_score_breaks_near_ties() {
        let docs = vec![
            doc(
                Kind::File,
                "a/retry.rs",
                "Backoff for failed calls.",
                &["fn retry"],
            ),
            doc(
                Kind::File,
                "a/other.rs",
                "Backoff for failed calls.",
                &["fn other"],
            ),
            doc(Kind::Dir, "b", "Unrelated things.", &[]),
        ];
        let vectors = vec![vec![1.0, 0.0], vec![0.99, 0.141], vec![0.0, 1.0]];
        let idx = SearchIndex::new(docs, vectors, 2);
        let q = [1.0, 0.0];
        let hits = idx.search("zzz", &q, 3);
        assert_eq!(hits[0].path, "a/retry.rs");
        assert_eq!(hits[2].kind, "dir");
        assert_eq!(hits[2].lines, None);
        // The second file's words lift it over the first, whose cosine is only 0.01 higher.
        let hits = idx.search("other", &q, 2);
        assert_eq!(hits[0].path, "a/other.rs");
        assert!((hits[0].score - (0.99 + LEXICAL_WEIGHT)).abs() < 1e-5);
        assert_eq!(idx.search("other", &q, 1).len(), 1);
    }

    #[test]
    fn a_line_shown_twice_is_listed_once() {
        let docs = vec![
            doc(Kind::Chunk, "x.rs", "Same line.", &[]),
            doc(Kind::File, "x.rs", "Same line.", &[]),
            doc(Kind::Chunk, "y.rs", "Same line.", &[]),
        ];
        let idx = SearchIndex::new(docs, vec![vec![1.0]; 3], 1);
        let hits = idx.search("q", &[1.0], 5);
        assert_eq!(hits.len(), 2);
        assert_eq!((hits[0].kind, hits[0].path.as_str()), ("file", "x.rs"));
    }

    #[test]
    fn a_directory_line_copied_from_its_only_child_is_not_indexed() {
        let rec = |kind: &str, path: &str, origin: Option<&str>| -> SummaryRecord {
            let mut v = serde_json::json!({
                "kind": kind, "path": path, "start_line": 0, "end_line": 0, "language": "",
                "symbols": [], "summary": "Child process handling.", "hash": "", "model": "m",
                "prompt_tokens": 0, "generated_tokens": 0, "ms": 0.0, "view": "rollup",
                "reduction": "none", "cached": false, "attempts": 0, "grounded": true,
                "fallback": false,
            });
            if let Some(o) = origin {
                v["origin"] = o.into();
            }
            serde_json::from_value(v).unwrap()
        };
        assert!(Doc::from_record(&rec("dir", "src/process", Some(COPIED_FROM_CHILD))).is_none());
        assert!(Doc::from_record(&rec("dir", "src/process", None)).is_some());
        assert!(Doc::from_record(&rec("dir", "src/process", Some("readme"))).is_some());
        assert!(Doc::from_record(&rec("file", "src/process/unix.rs", None)).is_some());
    }
}

//! The records of an output folder as a tree: the root, its directories, their files, the
//! files' chunks. [`Tree::build`] takes records of every kind (chunk records alone are enough:
//! files and directories are derived from the chunks' paths) and links each node to its record
//! when there is one. Roll-up, `SUMMARY.md`, `index.html` and `isg map` all walk this tree.

use std::collections::{BTreeMap, HashMap};

use super::summary::{Kind, SummaryRecord};

/// The root's path in records.
pub const ROOT_PATH: &str = ".";

/// One node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Root, directory, file or chunk.
    pub kind: Kind,
    /// Relative path (`.` for the root, `src/sync` for a directory, the file's path for a
    /// file and its chunks).
    pub path: String,
    /// The last path component (`sync/`, `mutex.rs`), or `L10–L80` for a chunk.
    pub name: String,
    /// Depth below the root (the root is 0, its children 1, ...).
    pub depth: usize,
    /// Index of the node's record in the records the tree was built from, if there is one.
    pub record: Option<usize>,
    /// Children: files first, then subdirectories, each in name order; a file's chunks in
    /// source order.
    pub children: Vec<usize>,
    /// Lines of source below the node.
    pub lines: usize,
    /// Files below the node (1 for a file, 0 for a chunk).
    pub files: usize,
}

/// The tree of an output's records; node 0 is the root.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// All nodes, the root first.
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The tree of `records` (any order, any kinds).
    pub fn build(records: &[SummaryRecord]) -> Tree {
        let mut chunks: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut rolled: HashMap<(Kind, &str), usize> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            match r.kind {
                Kind::Chunk => chunks.entry(&r.path).or_default().push(i),
                k => {
                    if k == Kind::File {
                        chunks.entry(&r.path).or_default();
                    }
                    rolled.insert((k, r.path.as_str()), i);
                }
            }
        }
        let mut tree = Tree {
            nodes: vec![Node {
                kind: Kind::Root,
                path: ROOT_PATH.to_string(),
                name: ROOT_PATH.to_string(),
                depth: 0,
                record: rolled.get(&(Kind::Root, ROOT_PATH)).copied(),
                children: Vec::new(),
                lines: 0,
                files: 0,
            }],
        };
        let mut dirs: HashMap<String, usize> = HashMap::new();
        // Files and subdirectories of each directory node, kept apart to order them.
        let mut files_of: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut subdirs_of: HashMap<usize, Vec<usize>> = HashMap::new();
        for (path, mut idx) in chunks {
            idx.sort_by_key(|&i| (records[i].start_line, records[i].end_line));
            let parts: Vec<&str> = path.split('/').collect();
            let mut parent = 0;
            for d in 1..parts.len() {
                let dir = parts[..d].join("/");
                parent = match dirs.get(&dir) {
                    Some(&n) => n,
                    None => {
                        let n = tree.push(Node {
                            kind: Kind::Dir,
                            name: format!("{}/", parts[d - 1]),
                            depth: d,
                            record: rolled.get(&(Kind::Dir, dir.as_str())).copied(),
                            path: dir.clone(),
                            children: Vec::new(),
                            lines: 0,
                            files: 0,
                        });
                        subdirs_of.entry(parent).or_default().push(n);
                        dirs.insert(dir, n);
                        n
                    }
                };
            }
            let own = rolled
                .get(&(Kind::File, path))
                .map(|&i| records[i].end_line);
            let lines = idx
                .iter()
                .map(|&i| records[i].end_line)
                .max()
                .or(own)
                .unwrap_or(0);
            let file = tree.push(Node {
                kind: Kind::File,
                path: path.to_string(),
                name: parts[parts.len() - 1].to_string(),
                depth: parts.len(),
                record: rolled.get(&(Kind::File, path)).copied(),
                children: Vec::new(),
                lines,
                files: 1,
            });
            files_of.entry(parent).or_default().push(file);
            for i in idx {
                let r = &records[i];
                let c = tree.push(Node {
                    kind: Kind::Chunk,
                    path: path.to_string(),
                    name: format!("L{}–L{}", r.start_line, r.end_line),
                    depth: parts.len() + 1,
                    record: Some(i),
                    children: Vec::new(),
                    lines: r.end_line + 1 - r.start_line.min(r.end_line + 1),
                    files: 0,
                });
                tree.nodes[file].children.push(c);
            }
        }
        for n in 0..tree.nodes.len() {
            let mut children = files_of.remove(&n).unwrap_or_default();
            children.extend(subdirs_of.remove(&n).unwrap_or_default());
            let by_name = |&i: &usize| tree.nodes[i].name.clone();
            children.sort_by_key(|i| (tree.nodes[*i].kind == Kind::Dir, by_name(i)));
            if tree.nodes[n].kind != Kind::File {
                tree.nodes[n].children = children;
            }
        }
        // Sizes: children always come after their parent, so sum from the end.
        for n in (0..tree.nodes.len()).rev() {
            if matches!(tree.nodes[n].kind, Kind::Dir | Kind::Root) {
                let kids = tree.nodes[n].children.clone();
                tree.nodes[n].lines = kids.iter().map(|&k| tree.nodes[k].lines).sum();
                tree.nodes[n].files = kids.iter().map(|&k| tree.nodes[k].files).sum();
            }
        }
        tree
    }

    fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// The nodes in pre-order (a node, then its children in order), from the root.
    pub fn preorder(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.nodes.len());
        let mut stack = vec![0];
        while let Some(n) = stack.pop() {
            out.push(n);
            stack.extend(self.nodes[n].children.iter().rev());
        }
        out
    }

    /// The parent of every node (`None` for the root).
    pub fn parents(&self) -> Vec<Option<usize>> {
        let mut parent = vec![None; self.nodes.len()];
        for (n, node) in self.nodes.iter().enumerate() {
            for &c in &node.children {
                parent[c] = Some(n);
            }
        }
        parent
    }
}

/// The summary line of `node`, when its record has one.
pub fn line_of<'a>(tree: &Tree, records: &'a [SummaryRecord], node: usize) -> Option<&'a str> {
    tree.nodes[node]
        .record
        .map(|i| records[i].summary.as_str())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(path: &str, start: usize, end: usize) -> SummaryRecord {
        let file = crate::source::SourceFile::from_text(
            path,
            crate::source::Language::Rust,
            "fn a() {}\n".repeat(end),
        );
        let c = &crate::source::chunk_file(&file, 1000)[0];
        let mut r = SummaryRecord::for_chunk(c, "m");
        r.start_line = start;
        r.end_line = end;
        r
    }

    #[test]
    fn builds_root_dirs_files_and_chunks_in_order() {
        let records = vec![
            chunk("src/sync/mutex.rs", 41, 90),
            chunk("src/lib.rs", 1, 10),
            chunk("src/sync/mutex.rs", 1, 40),
            chunk("README.md", 1, 5),
        ];
        let t = Tree::build(&records);
        let names: Vec<(Kind, &str, usize)> = t
            .preorder()
            .into_iter()
            .map(|n| (t.nodes[n].kind, t.nodes[n].name.as_str(), t.nodes[n].depth))
            .collect();
        assert_eq!(
            names,
            vec![
                (Kind::Root, ".", 0),
                (Kind::File, "README.md", 1),
                (Kind::Chunk, "L1–L5", 2),
                (Kind::Dir, "src/", 1),
                (Kind::File, "lib.rs", 2),
                (Kind::Chunk, "L1–L10", 3),
                (Kind::Dir, "sync/", 2),
                (Kind::File, "mutex.rs", 3),
                (Kind::Chunk, "L1–L40", 4),
                (Kind::Chunk, "L41–L90", 4),
            ]
        );
        assert_eq!((t.nodes[0].lines, t.nodes[0].files), (105, 3));
        let parents = t.parents();
        assert_eq!(parents[0], None);
        assert!(parents.iter().skip(1).all(Option::is_some));
    }
}

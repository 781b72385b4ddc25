//! Shared by the search and MCP tests: an output folder made by a real run with the stand-in
//! engine whose chunk and file lines are then replaced by lines a summarizer would write for
//! its four small files, and a snapshot of a folder's files.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use isg::output::{SUMMARIES_FILE, read_records};
use isg::pipeline::summarize;
use isg::record::Kind;
use isg::run::{ProgressMode, SummarizeSettings};
use isg::search::VectorCache;

use crate::pipeline_common::stand_in;

/// Files of the tree and the line each one's chunk and file records get.
pub const FILES: [(&str, &str, &str); 4] = [
    (
        "net/retry.rs",
        "pub fn retry_with_backoff() {}\n",
        "Retries failed HTTP requests, waiting longer after each failure.",
    ),
    (
        "config/load.rs",
        "pub fn read_settings() {}\n",
        "Reads the settings file from disk and fills in default values.",
    ),
    (
        "text/tokens.rs",
        "pub fn split_words() {}\n",
        "Splits a sentence into lowercase words.",
    ),
    (
        "img/resize.rs",
        "pub fn scale() {}\n",
        "Scales a picture down to a thumbnail.",
    ),
];

pub fn make_folder(tmp: &Path) -> PathBuf {
    let root = tmp.join("tree");
    for (path, text, _) in FILES {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let out = tmp.join("out");
    let mut s = SummarizeSettings::new(&root);
    s.out_dir = out.clone();
    s.progress = ProgressMode::Quiet;
    summarize(&stand_in(), &s).unwrap();
    set_lines(&out, &FILES.map(|(p, _, l)| (p, l)));
    set_dir_lines(&out);
    out
}

/// Gives each directory a line as the roll-up would write it (the stand-in's would name only
/// its prompt's size).
fn set_dir_lines(out: &Path) {
    let path = out.join(SUMMARIES_FILE);
    let mut records = read_records(&path).unwrap();
    for r in &mut records {
        if r.kind == Kind::Dir {
            r.summary = format!("The {} directory: one source file.", r.path);
        }
    }
    let text: String = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    std::fs::write(&path, text).unwrap();
}

/// Gives the chunk and file records of each path the line.
pub fn set_lines(out: &Path, lines: &[(&str, &str)]) {
    let path = out.join(SUMMARIES_FILE);
    let mut records = read_records(&path).unwrap();
    let mut changed = 0;
    for r in &mut records {
        if let Some((_, line)) = lines.iter().find(|(p, _)| *p == r.path)
            && matches!(r.kind, Kind::Chunk | Kind::File)
        {
            r.summary = line.to_string();
            changed += 1;
        }
    }
    assert!(changed >= lines.len(), "every file has a record");
    let text: String = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    std::fs::write(&path, text).unwrap();
}

/// Every file of the folder but the vector cache and the lock, with its bytes.
pub fn snapshot(out: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p != VectorCache::path_in(out) && !p.ends_with(".isg-lock") {
                files.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    files
}

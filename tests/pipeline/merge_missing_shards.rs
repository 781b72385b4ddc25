//! A merge of an incomplete set of shards: refused with a one-line error naming the missing
//! shards, leaving `--out` as it was (absent, or holding an earlier merge), unless
//! `--allow-missing` asks for a partial merge, which warns and joins what is there. Shards are
//! real runs of the `isg` binary over copies of this repository's sources, with the stand-in
//! model (`ISG_TEST_BACKEND=echo`).

use crate::pipeline_common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use isg::output::read_records;
use isg::pipeline::{merge_rolled_up, merge_shards};
use isg::record::{Kind, MergeError, PipelineError, Shard};
use pipeline_common::{copy_real_files, stand_in};

const FILES: [&str; 10] = [
    "src/pipeline/summarize.rs",
    "src/pipeline/cache.rs",
    "src/pipeline/clean.rs",
    "src/pipeline/merge.rs",
    "src/pipeline/shard.rs",
    "src/source/walk.rs",
    "src/source/chunk.rs",
    "src/provision/pip.rs",
    "src/bench.rs",
    "build.rs",
];

fn isg() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_isg"));
    c.env("ISG_TEST_BACKEND", "echo:0")
        .env_remove("ISG_TEST_KILL_AT");
    c
}

fn ok(mut c: Command) -> Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs the four shards of `tree` into `dir/shard-K` and returns their folders.
fn four_shards(tree: &Path, dir: &Path) -> Vec<PathBuf> {
    (1..=4)
        .map(|k| {
            let out = dir.join(format!("shard-{k}"));
            let mut c = isg();
            c.args(["summarize", "--max-lines", "60", "--quiet", "--shard"])
                .arg(format!("{k}/4"))
                .arg(tree)
                .arg("--out")
                .arg(&out);
            ok(c);
            out
        })
        .collect()
}

/// `isg merge DIRS --no-rollup --out OUT [extra]`.
fn merge(dirs: &[&PathBuf], out: &Path, extra: &[&str]) -> Output {
    let mut c = isg();
    c.arg("merge")
        .args(dirs)
        .arg("--no-rollup")
        .arg("--out")
        .arg(out)
        .args(extra);
    c.output().unwrap()
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    files.sort();
    files
}

fn chunk_paths(out: &Path) -> BTreeSet<String> {
    read_records(&out.join("summaries.jsonl"))
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == Kind::Chunk)
        .map(|r| r.path)
        .collect()
}

#[test]
fn a_merge_missing_shards_names_them_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = copy_real_files(&tmp.path().join("tree"), &FILES);
    let dirs = four_shards(&tree, tmp.path());
    // Each shard holds some of the files: the test covers a real partition.
    for d in &dirs {
        assert!(!chunk_paths(d).is_empty(), "{} is empty", d.display());
    }

    // Shards 2/4 and 4/4 left out, into a folder that does not exist yet.
    let out = tmp.path().join("merged");
    let refused = merge(&[&dirs[0], &dirs[2]], &out, &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with("error: merging into ")
            && stderr.contains("shards 2/4 and 4/4 are missing (the inputs hold 1/4 and 3/4)")
            && stderr.contains("--allow-missing"),
        "{stderr}"
    );
    assert!(!out.exists(), "a refused merge created {}", out.display());

    // One shard missing, into a folder that holds a complete merge: left as it was.
    let all: Vec<&PathBuf> = dirs.iter().collect();
    let done = merge(&all, &out, &[]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&done.stderr).contains("missing"),
        "a complete merge warns: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    let whole = chunk_paths(&out);
    let before = snapshot(&out);
    let refused = merge(&[&dirs[0], &dirs[1], &dirs[3]], &out, &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("shard 3/4 is missing (the inputs hold 1/4, 2/4 and 4/4)"),
        "{stderr}"
    );
    assert_eq!(snapshot(&out), before, "a refused merge changed the folder");

    // --allow-missing: a partial merge of what is there, with a warning naming the rest.
    let partial = tmp.path().join("partial");
    let allowed = merge(&[&dirs[0], &dirs[2]], &partial, &["--allow-missing"]);
    let stderr = String::from_utf8_lossy(&allowed.stderr);
    assert!(allowed.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: shards 2/4, 4/4 are missing"),
        "{stderr}"
    );
    let expected: BTreeSet<String> = chunk_paths(&dirs[0])
        .union(&chunk_paths(&dirs[2]))
        .cloned()
        .collect();
    assert_eq!(chunk_paths(&partial), expected);
    assert!(chunk_paths(&partial).len() < whole.len());
}

#[test]
fn the_library_merge_refuses_missing_shards_before_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = copy_real_files(&tmp.path().join("tree"), &FILES);
    let dirs = four_shards(&tree, tmp.path());
    let out = tmp.path().join("merged");
    let backend = stand_in().with_id("test-echo");
    let err = merge_rolled_up(&dirs[..3], &out, Some(&backend)).unwrap_err();
    match &err {
        PipelineError::Merge(MergeError::MissingShards { missing, given }) => {
            assert_eq!(missing, "shard 4/4 is");
            assert_eq!(given, "1/4, 2/4 and 3/4");
        }
        other => panic!("expected MissingShards, got {other:?}"),
    }
    assert!(err.to_string().starts_with("shard 4/4 is missing"), "{err}");
    assert!(!out.exists(), "the refused merge created {}", out.display());
    assert!(
        backend.take_prompts().is_empty(),
        "the refused merge asked the model"
    );

    // Allowed: the three shards are joined and rolled up.
    let report = merge_shards(&dirs[..3], &out, Some(&backend), true).unwrap();
    assert_eq!(
        report.shards,
        (1..=3)
            .map(|index| Shard { index, count: 4 })
            .collect::<Vec<_>>()
    );
    assert_eq!(
        isg::pipeline::missing_shards(&report.shards),
        [Shard { index: 4, count: 4 }]
    );
    assert!(out.join("summaries.jsonl").exists());
}

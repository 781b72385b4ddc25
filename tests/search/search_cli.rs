//! `isg search` on an output folder: the line that means the query ranks first (by meaning,
//! with no word in common), `--json` prints kind, path, lines, score and summary, the vectors
//! are cached by content (a second search embeds nothing, an edited line is embedded alone),
//! nothing but the vector cache is written, a run holding the folder leaves the cache alone,
//! and bad input gets a one-line error. The folder is made by a real run with the stand-in
//! engine, whose lines are then replaced by lines a summarizer would write for these files.

use crate::prereq;
use crate::search_common;

use std::path::Path;
use std::process::{Command, Output};

use isg::record::{OutputLock, Wait};
use isg::search::VectorCache;
use search_common::{FILES, make_folder, set_lines, snapshot};

fn isg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isg"))
        .args(args)
        .output()
        .expect("running isg")
}

fn search_json(out: &Path, query: &str, k: usize) -> (Vec<serde_json::Value>, String) {
    let o = isg(&[
        "search",
        query,
        "--out",
        out.to_str().unwrap(),
        "-k",
        &k.to_string(),
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "isg search failed: {stderr}");
    let hits = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (hits, stderr)
}

fn computed(stderr: &str) -> usize {
    let at = stderr.find(" computed").expect("the counts line");
    let start = stderr[..at].rfind(' ').unwrap() + 1;
    stderr[start..at].parse().unwrap()
}

#[test]
fn the_line_that_means_the_query_ranks_first_and_vectors_are_cached_by_content() {
    require!(prereq::embedder());
    let tmp = tempfile::tempdir().unwrap();
    let out = make_folder(tmp.path());
    let before = snapshot(&out);

    for (query, want) in [
        ("try the network call again after an error", "net/retry.rs"),
        ("make an image smaller", "img/resize.rs"),
        ("parse the configuration", "config/load.rs"),
        ("tokenize a phrase", "text/tokens.rs"),
    ] {
        let (hits, _) = search_json(&out, query, 3);
        assert_eq!(hits.len(), 3, "{query}");
        assert_eq!(hits[0]["path"], want, "{query}: {hits:?}");
        assert_eq!(
            hits[0]["kind"], "file",
            "a one-chunk file is listed once, as the file"
        );
        assert_eq!(hits[0]["lines"], "1-1");
        let line = FILES.iter().find(|f| f.0 == want).unwrap().2;
        assert_eq!(hits[0]["summary"], line);
        let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
        assert!(
            scores[0] > scores[1] + 0.05,
            "{query}: {scores:?} is a clear first"
        );
    }
    // The lexical half: a symbol's words find its file even in a query that means little.
    let (hits, _) = search_json(&out, "split_words", 1);
    assert_eq!(hits[0]["path"], "text/tokens.rs");

    // Every search after the first embedded only its query; nothing else was written.
    let (_, stderr) = search_json(&out, "make an image smaller", 5);
    assert_eq!(computed(&stderr), 0, "{stderr}");
    assert_eq!(
        snapshot(&out),
        before,
        "search writes only the vector cache"
    );
    let cache_bytes = std::fs::metadata(VectorCache::path_in(&out)).unwrap().len();

    // An edited line is embedded alone (once: its chunk and file records share it).
    set_lines(&out, &[("img/resize.rs", "Draws charts of sales figures.")]);
    let (hits, stderr) = search_json(&out, "plot revenue numbers", 1);
    assert_eq!(computed(&stderr), 1, "{stderr}");
    assert_eq!(hits[0]["path"], "img/resize.rs");
    assert!(std::fs::metadata(VectorCache::path_in(&out)).unwrap().len() > cache_bytes);

    // While a run holds the folder, a new line's vector is kept in memory, not written.
    set_lines(&out, &[("img/resize.rs", "Compresses log files.")]);
    let cache = std::fs::read(VectorCache::path_in(&out)).unwrap();
    let lock = OutputLock::acquire(&out, Wait::No).unwrap();
    let (hits, stderr) = search_json(&out, "shrink old logs", 1);
    assert_eq!(hits[0]["path"], "img/resize.rs");
    assert!(
        stderr.contains("kept in memory: a run holds the folder"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(VectorCache::path_in(&out)).unwrap(), cache);
    drop(lock);
    let (_, stderr) = search_json(&out, "shrink old logs", 1);
    assert_eq!(computed(&stderr), 1, "{stderr}");
}

#[test]
fn bad_input_gets_one_line_that_names_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nowhere");
    let o = isg(&["search", "anything", "--out", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("nowhere: no such output folder"), "{err}");
    assert!(err.contains("isg summarize"), "{err}");

    let o = isg(&["search", "anything", "--out", tmp.path().to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not an output folder of isg (run.json is missing)"),
        "{err}"
    );

    let o = isg(&["search", "  ", "--out", tmp.path().to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("the query is empty"), "{err}");

    let o = isg(&["search", "anything", "-k", "0"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("-k 0"), "{err}");
}

/// `(embedded, cached)` from `isg summarize`'s line about the search vectors.
fn embedded(stderr: &str) -> (usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("isg: search vectors:"))
        .unwrap_or_else(|| panic!("no search vectors line in {stderr}"));
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    (nums[0], nums[1])
}

#[test]
fn summarize_embeds_the_lines_and_an_incremental_run_only_the_changed_ones() {
    require!(prereq::embedder());
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    for (path, text, _) in FILES {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let out = tmp.path().join("out");
    let run = || {
        let o = Command::new(env!("CARGO_BIN_EXE_isg"))
            .args([
                "summarize",
                root.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .env("ISG_TEST_BACKEND", "echo")
            .env("ISG_TEST_EMBED", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{stderr}");
        stderr
    };
    let (first, cached) = embedded(&run());
    assert!(
        first >= 4 && cached == 0,
        "{first} embedded, {cached} cached"
    );
    assert!(VectorCache::path_in(&out).is_file());
    let (_, stderr) = search_json(&out, "anything", 1);
    assert_eq!(computed(&stderr), 0, "the run left every vector: {stderr}");

    // One file grows: its line and its ancestors' change, the rest come from the cache.
    std::fs::write(
        root.join("img/resize.rs"),
        "pub fn scale() {}\npub fn crop() {}\npub fn rotate() {}\n",
    )
    .unwrap();
    let (again, cached) = embedded(&run());
    assert!(
        again >= 1 && again < first,
        "{again} of {first} embedded again"
    );
    assert!(cached > 0, "{cached} cached");
}

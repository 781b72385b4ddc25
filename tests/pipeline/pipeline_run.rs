//! The run's plumbing on real files, with a stand-in engine: outputs, source order, cache hits
//! on a rerun, recomputing only what changed, records of deleted files dropped, failures
//! recorded and retried once, shards that partition the chunks, and the prompt budget.

use crate::pipeline_common;

use std::path::Path;

use isg::output::read_records;
use isg::pipeline::summarize;
use isg::record::{Kind, Reduction, Shard, SummaryRecord};
use isg::rollup::SYSTEM as ROLLUP_SYSTEM;
use isg::run::EchoBackend;
use isg::run::{ProgressMode, SummarizeSettings};
use isg::source::View;
use pipeline_common::{REAL_FILES, copy_real_files, stand_in};

fn settings(root: &Path, out: &Path) -> SummarizeSettings {
    let mut s = SummarizeSettings::new(root);
    s.out_dir = out.to_path_buf();
    s.max_lines = 60;
    s.progress = ProgressMode::Quiet;
    s
}

/// The chunk records (the roll-up's file, directory and root records left out).
fn records(out: &Path) -> Vec<SummaryRecord> {
    let mut recs = read_records(&out.join("summaries.jsonl")).unwrap();
    recs.retain(|r| r.kind == Kind::Chunk);
    recs
}

/// Requests for chunks (roll-up requests left out).
fn chunk_submissions(backend: &EchoBackend) -> usize {
    let prompts = backend.prompts();
    prompts
        .iter()
        .filter(|p| !p.contains(ROLLUP_SYSTEM))
        .count()
}

fn assert_source_order(recs: &[SummaryRecord]) {
    for w in recs.windows(2) {
        assert!(
            (w[0].path.as_str(), w[0].start_line) < (w[1].path.as_str(), w[1].start_line),
            "{}:{} before {}:{}",
            w[0].path,
            w[0].start_line,
            w[1].path,
            w[1].start_line
        );
    }
}

#[test]
fn writes_outputs_then_reuses_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let root = copy_real_files(&tmp.path().join("tree"), &REAL_FILES);
    let out = tmp.path().join("out");
    let s = settings(&root, &out);

    let backend = stand_in();
    let report = summarize(&backend, &s).unwrap();
    let first = records(&out);
    assert!(first.len() >= REAL_FILES.len(), "{}", first.len());
    assert_eq!(report.totals.chunks, first.len());
    assert_eq!(report.totals.computed, first.len());
    assert_eq!(report.totals.cached, 0);
    assert_eq!(chunk_submissions(&backend), first.len());
    assert_source_order(&first);
    for r in &first {
        // Only a chunk of test code (these files' test modules) opens with "Test code:".
        let tests = r
            .symbols
            .iter()
            .any(|s| s.starts_with("mod tests") || s.starts_with("fn tests::"));
        let said = match r.summary.strip_prefix("Test code: read ") {
            Some(rest) => tests.then_some(rest),
            None => r.summary.strip_prefix("Read "),
        };
        assert!(
            !r.summary.contains('\n') && said.is_some_and(|s| s.ends_with(" prompt tokens.")),
            "{r:?}"
        );
        assert_eq!(r.model, "stand-in");
        assert!(r.prompt_tokens > 0 && r.generated_tokens > 0 && !r.cached);
        assert!(
            r.start_line <= r.end_line && r.end_line - r.start_line < 60,
            "{r:?}"
        );
    }
    // Every line of every file is covered once.
    for f in REAL_FILES {
        let lines = std::fs::read_to_string(root.join(f))
            .unwrap()
            .lines()
            .count();
        let mut next = 1;
        for r in first.iter().filter(|r| r.path == f) {
            assert_eq!(r.start_line, next, "{f}");
            next = r.end_line + 1;
        }
        assert_eq!(next, lines + 1, "{f}");
    }
    let md = std::fs::read_to_string(out.join("SUMMARY.md")).unwrap();
    assert!(
        md.contains("\n- **src/**") && md.contains("\n    - **shard.rs**"),
        "{md}"
    );
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["model"], "stand-in");
    assert_eq!(run["totals"]["chunks"], first.len());

    // A rerun computes nothing and writes the same records, marked cached.
    let again = stand_in();
    let report = summarize(&again, &s).unwrap();
    assert_eq!(chunk_submissions(&again), 0);
    assert_eq!(report.totals.cached, first.len());
    let second = records(&out);
    assert_eq!(second.len(), first.len());
    for (a, b) in first.iter().zip(&second) {
        assert!(b.cached);
        assert_eq!(
            (&a.path, a.start_line, &a.summary),
            (&b.path, b.start_line, &b.summary)
        );
    }
}

#[test]
fn edits_recompute_only_changed_chunks_and_deleted_files_drop_out() {
    let tmp = tempfile::tempdir().unwrap();
    let root = copy_real_files(&tmp.path().join("tree"), &REAL_FILES);
    let out = tmp.path().join("out");
    let s = settings(&root, &out);
    summarize(&stand_in(), &s).unwrap();
    let before = records(&out);

    // Append an item to one file and delete another.
    let edited = root.join("src/pipeline/shard.rs");
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text.push_str("\n/// Added later.\npub fn added_later() -> u32 {\n    7\n}\n");
    std::fs::write(&edited, text).unwrap();
    std::fs::remove_file(root.join("src/bench.rs")).unwrap();

    let backend = stand_in();
    let report = summarize(&backend, &s).unwrap();
    let after = records(&out);
    let computed: Vec<&SummaryRecord> = after.iter().filter(|r| !r.cached).collect();
    assert!(!computed.is_empty());
    assert!(
        computed.iter().all(|r| r.path == "src/pipeline/shard.rs"),
        "{computed:?}"
    );
    assert_eq!(chunk_submissions(&backend), computed.len());
    assert_eq!(report.totals.computed, computed.len());
    assert!(after.iter().all(|r| r.path != "src/bench.rs"));
    assert!(
        after
            .iter()
            .any(|r| r.symbols.iter().any(|s| s.contains("added_later")))
    );
    // Everything else, including the untouched chunks of the edited file, came from the cache.
    for r in after.iter().filter(|r| r.cached) {
        assert!(
            before
                .iter()
                .any(|b| b.hash == r.hash && b.summary == r.summary),
            "{r:?}"
        );
    }
    let untouched = before.iter().filter(|r| r.path != "src/bench.rs").count();
    assert!(after.len() - computed.len() >= untouched - 1);
    assert!(
        after
            .iter()
            .any(|r| r.cached && r.path == "src/pipeline/shard.rs")
    );
    assert_source_order(&after);
}

#[test]
fn failures_are_recorded_retried_once_and_not_cached() {
    let tmp = tempfile::tempdir().unwrap();
    let root = copy_real_files(&tmp.path().join("tree"), &REAL_FILES);
    let out = tmp.path().join("out");
    let s = settings(&root, &out);
    let backend = stand_in().failing_on("File: build.rs");
    let report = summarize(&backend, &s).unwrap();
    let recs = records(&out);
    let failed: Vec<&SummaryRecord> = recs.iter().filter(|r| r.error.is_some()).collect();
    assert!(!failed.is_empty());
    assert!(
        failed
            .iter()
            .all(|r| r.path == "build.rs" && r.fallback && !r.summary.is_empty())
    );
    assert_eq!(report.totals.failed, failed.len());
    assert_eq!(
        chunk_submissions(&backend),
        recs.len() + failed.len(),
        "each failed chunk is tried twice"
    );
    let md = std::fs::read_to_string(out.join("SUMMARY.md")).unwrap();
    assert!(
        !md.contains("failed") && !md.contains("stand-in failure"),
        "SUMMARY.md shows an error: {md}"
    );

    // The rerun retries exactly the failed chunks.
    let again = stand_in();
    let report = summarize(&again, &s).unwrap();
    assert_eq!(chunk_submissions(&again), failed.len());
    assert_eq!(report.totals.failed, 0);
}

#[test]
fn shards_partition_the_chunks() {
    let tmp = tempfile::tempdir().unwrap();
    let root = copy_real_files(&tmp.path().join("tree"), &REAL_FILES);
    let whole = tmp.path().join("whole");
    summarize(&stand_in(), &settings(&root, &whole)).unwrap();
    let all = records(&whole);

    let mut dirs = Vec::new();
    let mut seen = Vec::new();
    for k in 1..=3 {
        let out = tmp.path().join(format!("shard{k}"));
        let mut s = settings(&root, &out);
        s.shard = Shard { index: k, count: 3 };
        summarize(&stand_in(), &s).unwrap();
        for r in records(&out) {
            assert!(s.shard.contains(&r.path));
            seen.push((r.path.clone(), r.start_line));
        }
        dirs.push(out);
    }
    seen.sort();
    let expected: Vec<(String, usize)> =
        all.iter().map(|r| (r.path.clone(), r.start_line)).collect();
    assert_eq!(seen, expected);

    let merged = tmp.path().join("merged");
    let report = isg::pipeline::merge(&dirs, &merged).unwrap();
    assert_eq!(report.totals.chunks, all.len());
    let joined = records(&merged);
    assert_eq!(
        joined
            .iter()
            .map(|r| (&r.path, r.start_line, &r.summary))
            .collect::<Vec<_>>(),
        all.iter()
            .map(|r| (&r.path, r.start_line, &r.summary))
            .collect::<Vec<_>>()
    );
    assert!(isg::pipeline::missing_shards(&report.shards).is_empty());
    assert!(
        isg::pipeline::merge(&[dirs[0].clone(), dirs[0].clone()], &merged).is_err(),
        "the same shard twice is refused"
    );
}

#[test]
fn long_chunks_are_reduced_and_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let root = copy_real_files(&tmp.path().join("tree"), &REAL_FILES);
    let out = tmp.path().join("out");
    let mut s = settings(&root, &out);
    s.max_lines = 40;
    s.view = View::Code(isg::source::Comments::Keep);
    // One token per character: about 1,000 characters of chunk after the fixed prompt (the
    // instruction and worked examples take about 1,950).
    s.max_prompt_tokens = Some(3_000);
    let backend = stand_in();
    let report = summarize(&backend, &s).unwrap();
    let recs = records(&out);
    assert!(recs.iter().all(|r| r.error.is_none()), "{recs:?}");
    assert!(recs.iter().all(|r| r.prompt_tokens <= 3_000));
    let reduced: Vec<&SummaryRecord> = recs
        .iter()
        .filter(|r| r.reduction != Reduction::None)
        .collect();
    assert!(!reduced.is_empty());
    for r in &reduced {
        assert_ne!(r.view, "code", "{r:?}");
        if r.reduction == Reduction::Elided {
            assert!(r.elided_lines.unwrap() > 0);
        }
    }
    assert!(
        recs.iter()
            .any(|r| r.reduction == Reduction::None && r.view == "code")
    );
    assert_eq!(report.totals.reduced + report.totals.elided, reduced.len());
    let prompts = backend.prompts();
    assert!(prompts.iter().any(|p| p.contains("…elided ")) == (report.totals.elided > 0));
}

//! The roll-up on real files with a stand-in engine whose answer depends on the whole prompt:
//! file, directory and root records, one-chunk files without a request, the cache (an edit
//! recomputes its chunk, its file and its ancestors only), fallbacks from the children when an
//! answer is rejected, shards merged into the same lines as an unsharded run, and the outputs
//! (SUMMARY.md tree, `isg map` within its budget).

use crate::pipeline_common;

use std::collections::HashMap;
use std::path::Path;

use isg::output::{MapFormat, render_map};
use isg::output::{read_records, read_report};
use isg::pipeline::merge_rolled_up;
use isg::pipeline::summarize;
use isg::record::{Kind, Shard, SummaryRecord};
use isg::run::EchoBackend;
use isg::run::{ProgressMode, SummarizeSettings};
use pipeline_common::{REAL_FILES, copy_real_files};

/// Real files with their module docs removed, so every line is asked of the model (a file or
/// directory with its own doc takes the authors' line instead: see
/// `authored_docs_come_first_at_every_level`).
fn undocumented_real_files(dir: &Path) -> std::path::PathBuf {
    let root = copy_real_files(dir, &REAL_FILES);
    for f in REAL_FILES {
        let path = root.join(f);
        let text = std::fs::read_to_string(&path).unwrap();
        let file = isg::source::SourceFile::from_text(
            f,
            isg::source::Language::from_path(Path::new(f)).unwrap(),
            text,
        );
        if let Some(doc) = isg::source::module_doc(&file) {
            std::fs::write(&path, doc.stripped).unwrap();
        }
    }
    root
}

/// The user's part of a prompt: what follows the last user turn's opening (the roll-up's
/// examples come before it).
fn last_turn(prompt: &str) -> &str {
    prompt.rsplit("<|im_start|>user\n").next().unwrap_or(prompt)
}

/// Words the stand-in builds its answers from.
const WORDS: [&str; 16] = [
    "queues", "tasks", "timers", "buffers", "streams", "signals", "channels", "locks", "bytes",
    "frames", "events", "workers", "sockets", "handles", "tables", "codes",
];

/// A stand-in engine: one token per character, ChatML, and an answer made of words picked by a
/// hash of the whole prompt, so a different prompt almost surely gets a different answer.
/// Roll-up prompts containing `code_for` get an answer that reads as code.
fn wordy(code_for: Option<&'static str>) -> EchoBackend {
    EchoBackend::new()
        .with_id("wordy")
        .with_context(1 << 20)
        .with_parallel(4)
        .with_answer(move |prompt, _| {
            let h = prompt.bytes().fold(0xcbf29ce484222325u64, |h, b| {
                (h ^ b as u64).wrapping_mul(0x100000001b3)
            });
            let pick = |k: u32| WORDS[((h >> (k * 4)) & 15) as usize];
            if code_for.is_some_and(|m| prompt.contains(m)) {
                "fn main() { let x = 1; }".to_string()
            } else {
                format!(
                    "Handles {} {} and {} {}.",
                    pick(0),
                    pick(1),
                    pick(2),
                    pick(3)
                )
            }
        })
}

fn settings(root: &Path, out: &Path) -> SummarizeSettings {
    let mut s = SummarizeSettings::new(root);
    s.out_dir = out.to_path_buf();
    s.max_lines = 60;
    // Whole chunks, as the stand-in counts characters as tokens: an edit must reach its prompt.
    s.max_prompt_tokens = Some(1 << 19);
    s.progress = ProgressMode::Quiet;
    s
}

fn records(out: &Path) -> Vec<SummaryRecord> {
    read_records(&out.join("summaries.jsonl")).unwrap()
}

fn of_kind(recs: &[SummaryRecord], kind: Kind) -> Vec<&SummaryRecord> {
    recs.iter().filter(|r| r.kind == kind).collect()
}

/// Which prompts were roll-ups of files, of directories, or chunks.
fn split_prompts(prompts: &[String]) -> (usize, Vec<String>, usize) {
    let files = prompts
        .iter()
        .map(|p| last_turn(p))
        .filter(|p| p.contains("What is this file for? Answer") && p.contains("Its parts"))
        .count();
    let dirs: Vec<String> = prompts
        .iter()
        .map(|p| last_turn(p))
        .filter(|p| p.contains("What is this directory for?"))
        .map(|p| {
            p.split("Directory: ")
                .nth(1)
                .and_then(|s| s.lines().next())
                .unwrap_or("")
                .to_string()
        })
        .collect();
    (files, dirs.clone(), prompts.len() - files - dirs.len())
}

#[test]
fn files_dirs_and_root_get_lines_and_edits_recompute_only_their_ancestors() {
    let tmp = tempfile::tempdir().unwrap();
    let root = undocumented_real_files(&tmp.path().join("tree"));
    let out = tmp.path().join("out");
    let s = settings(&root, &out);
    let backend = wordy(None);
    let report = summarize(&backend, &s).unwrap();
    let recs = records(&out);
    let chunks = of_kind(&recs, Kind::Chunk);
    let files = of_kind(&recs, Kind::File);
    let dirs = of_kind(&recs, Kind::Dir);
    let roots = of_kind(&recs, Kind::Root);
    assert_eq!(report.totals.chunks, chunks.len());
    assert_eq!(files.len(), REAL_FILES.len());
    let mut dir_paths: Vec<&str> = dirs.iter().map(|r| r.path.as_str()).collect();
    dir_paths.sort();
    assert_eq!(dir_paths, ["src", "src/pipeline", "src/pipeline/sink"]);
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0].path, ".");
    assert!(roots[0].summary.starts_with("Handles "), "{:?}", roots[0]);
    assert_eq!(roots[0].topic, "tree");

    // A one-chunk file's line is its chunk's; files of several chunks were asked about once.
    let mut multi = 0;
    for f in &files {
        let mine: Vec<&&SummaryRecord> = chunks.iter().filter(|c| c.path == f.path).collect();
        assert_eq!(f.start_line, 1);
        assert_eq!(f.end_line, mine.last().unwrap().end_line);
        if mine.len() == 1 {
            assert_eq!(f.summary, mine[0].summary);
            assert_eq!(f.prompt_tokens, mine[0].prompt_tokens);
        } else {
            multi += 1;
            assert_eq!(f.view, "rollup");
            assert!(f.summary.starts_with("Handles "), "{f:?}");
            assert!(!f.summary.contains(" module: "), "{f:?}");
            assert!(f.rejected.is_none() && f.error.is_none(), "{f:?}");
        }
    }
    assert!(multi >= 2, "the test needs files of several chunks");
    let (file_prompts, dir_prompts, chunk_prompts) = split_prompts(&backend.take_prompts());
    // Each chunk is asked once, and once more when its answer was rejected.
    let retried = chunks.iter().filter(|c| c.attempts > 1).count();
    assert_eq!(chunk_prompts, chunks.len() + retried);
    assert_eq!(file_prompts, multi);
    // Bottom-up: each directory after its subdirectories, the root last; `sink/` holds one
    // file and takes its line without a request.
    assert_eq!(dir_prompts, ["src/pipeline", "src", "tree"]);
    let sink = dirs.iter().find(|d| d.path == "src/pipeline/sink").unwrap();
    let markdown = files
        .iter()
        .find(|f| f.path == "src/pipeline/sink/markdown.rs")
        .unwrap();
    assert_eq!(sink.summary, markdown.summary);
    assert_eq!(sink.origin.as_deref(), Some("child"));
    let stats = report.rollup.clone().unwrap();
    assert_eq!((stats.files, stats.dirs, stats.copied), (5, 4, 5 - multi));
    assert_eq!(
        (stats.computed, stats.only_child, stats.authored),
        (multi + 3, 1, 0)
    );
    let run = read_report(&out.join("run.json")).unwrap();
    assert_eq!(run.rollup.unwrap().computed, multi + 3);

    // The directory prompt holds its children's lines.
    let md = std::fs::read_to_string(out.join("SUMMARY.md")).unwrap();
    assert!(md.contains("\n- **src/**: Handles "), "{md}");
    assert!(!md.contains(" module: "), "{md}");
    assert!(md.contains("\n  - **pipeline/**: "), "{md}");
    assert!(md.contains("\n    - **sink/**: "), "{md}");
    assert!(md.contains("\n      - **markdown.rs**: "), "{md}");
    assert!(md.contains("\n        - L1–L"), "{md}");
    assert!(
        std::fs::read_to_string(out.join("index.html"))
            .unwrap()
            .contains("markdown.rs")
    );

    // A rerun asks nothing.
    let again = wordy(None);
    summarize(&again, &s).unwrap();
    assert!(again.take_prompts().is_empty());
    let same = records(&out);
    assert_eq!(same.len(), recs.len());
    assert!(
        same.iter()
            .filter(|r| r.view == "rollup" && r.origin.is_none())
            .all(|r| r.cached)
    );

    // Editing one function recomputes that chunk, its file and its ancestors, nothing else.
    let edited = root.join("src/pipeline/sink/markdown.rs");
    let text = std::fs::read_to_string(&edited).unwrap();
    // A doc line: the interface view shows it, so the chunk's prompt changes.
    let changed = text.replacen(
        "/// Writes `SUMMARY.md`.",
        "/// Writes the `SUMMARY.md` file.",
        1,
    );
    assert_ne!(changed, text);
    std::fs::write(&edited, changed).unwrap();
    let third = wordy(None);
    summarize(&third, &s).unwrap();
    let third_prompts = third.take_prompts();
    let (file_prompts, dir_prompts, chunk_prompts) = split_prompts(&third_prompts);
    assert_eq!((chunk_prompts, file_prompts), (1, 1));
    assert_eq!(dir_prompts, ["src/pipeline", "src", "tree"]);
    let after = records(&out);
    for r in after.iter().filter(|r| r.kind != Kind::Chunk) {
        let recomputed = !r.cached && r.view == "rollup";
        let expected =
            r.path == "src/pipeline/sink/markdown.rs" || matches!(r.kind, Kind::Dir | Kind::Root);
        assert_eq!(recomputed, expected, "{r:?}");
    }
    let before: HashMap<(Kind, &str), &str> = recs
        .iter()
        .filter(|r| r.kind == Kind::Root || r.kind == Kind::Dir)
        .map(|r| ((r.kind, r.path.as_str()), r.summary.as_str()))
        .collect();
    let root_after = after.iter().find(|r| r.kind == Kind::Root).unwrap();
    assert_ne!(
        before[&(Kind::Root, ".")],
        root_after.summary,
        "the root line follows its children"
    );
}

#[test]
fn a_rejected_answer_gets_a_line_built_from_the_children() {
    let tmp = tempfile::tempdir().unwrap();
    let root = undocumented_real_files(&tmp.path().join("tree"));
    let out = tmp.path().join("out");
    let backend = wordy(Some("Directory: src/pipeline\n"));
    summarize(&backend, &settings(&root, &out)).unwrap();
    let recs = records(&out);
    let dir = recs
        .iter()
        .find(|r| r.kind == Kind::Dir && r.path == "src/pipeline")
        .unwrap();
    // Asked again with a note, rejected again: two reasons, the fallback.
    assert_eq!(dir.rejected.as_deref(), Some("code, code"));
    assert_eq!(dir.attempts, 2);
    // Built from what its largest children say, never from their names alone.
    let children: Vec<&SummaryRecord> = recs
        .iter()
        .filter(|r| {
            (r.kind == Kind::File
                && r.path.starts_with("src/pipeline/")
                && !r.path[13..].contains('/'))
                || (r.kind == Kind::Dir && r.path == "src/pipeline/sink")
        })
        .collect();
    assert!(children.len() >= 2, "{children:?}");
    assert!(!dir.summary.contains("parts"), "{dir:?}");
    let said = |c: &SummaryRecord| {
        let first = c.summary.trim_end_matches('.');
        dir.summary.to_lowercase().contains(&first.to_lowercase())
    };
    assert!(
        children.iter().filter(|c| said(c)).count() >= 2,
        "{dir:?} from {children:?}"
    );
    assert!(dir.fallback);
    let other = recs
        .iter()
        .find(|r| r.kind == Kind::Dir && r.path == "src")
        .unwrap();
    assert!(other.rejected.is_none());
    let md = std::fs::read_to_string(out.join("SUMMARY.md")).unwrap();
    assert!(md.contains("*(fallback)*"), "{md}");
}

#[test]
fn merged_shards_get_the_lines_of_an_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let root = undocumented_real_files(&tmp.path().join("tree"));
    let whole = tmp.path().join("whole");
    summarize(&wordy(None), &settings(&root, &whole)).unwrap();
    let all = records(&whole);

    let mut dirs = Vec::new();
    for k in 1..=3 {
        let out = tmp.path().join(format!("shard{k}"));
        let mut s = settings(&root, &out);
        s.shard = Shard { index: k, count: 3 };
        summarize(&wordy(None), &s).unwrap();
        let recs = records(&out);
        assert!(
            recs.iter()
                .all(|r| matches!(r.kind, Kind::Chunk | Kind::File))
        );
        dirs.push(out);
    }
    let merged = tmp.path().join("merged");
    let backend = wordy(None);
    let report = merge_rolled_up(&dirs, &merged, Some(&backend)).unwrap();
    let (files, dir_prompts, chunks) = split_prompts(&backend.take_prompts());
    assert_eq!((files, chunks, dir_prompts.len()), (0, 0, 3));
    assert_eq!(report.rollup.unwrap().dirs, 4);
    let key = |r: &SummaryRecord| {
        (
            r.kind,
            r.path.clone(),
            r.start_line,
            r.end_line,
            r.summary.clone(),
            r.symbols.clone(),
        )
    };
    let joined: Vec<_> = records(&merged).iter().map(key).collect();
    assert_eq!(joined, all.iter().map(key).collect::<Vec<_>>());

    // A second merge finds every line in the merged folder's cache.
    let again = wordy(None);
    merge_rolled_up(&dirs, &merged, Some(&again)).unwrap();
    assert!(again.take_prompts().is_empty());
}

#[test]
fn the_map_fits_its_budget_root_first() {
    let tmp = tempfile::tempdir().unwrap();
    let root = undocumented_real_files(&tmp.path().join("tree"));
    let out = tmp.path().join("out");
    summarize(&wordy(None), &settings(&root, &out)).unwrap();
    let recs = records(&out);
    let report = read_report(&out.join("run.json")).unwrap();
    let imp = isg::output::importance(&root, &recs);
    assert!(imp["src/pipeline/clean.rs"].public_items > 0);
    // One token per whitespace-separated word.
    let count = |s: &str| s.split_whitespace().count();
    let full = render_map(&recs, &report, &imp, 100_000, MapFormat::Markdown, &count);
    assert!(full.text.ends_with("Nothing left out.\n"), "{}", full.text);
    let small = render_map(&recs, &report, &imp, 120, MapFormat::Markdown, &count);
    assert!(small.tokens <= 120 && count(&small.text) == small.tokens);
    let lines: Vec<&str> = small.text.lines().collect();
    assert!(lines[0].starts_with("# Map of tree"), "{}", small.text);
    assert!(lines[1].starts_with("- tree: Handles "), "{}", small.text);
    assert!(small.shown.dirs >= 1 && small.left_out.chunks > 0);
    assert!(
        lines.last().unwrap().starts_with("Left out: "),
        "{}",
        small.text
    );
    assert!(small.shown.chunks + small.shown.files < full.shown.chunks + full.shown.files);
    let json = render_map(&recs, &report, &imp, 200, MapFormat::Json, &count);
    assert!(json.tokens <= 200);
    let v: serde_json::Value = serde_json::from_str(&json.text).unwrap();
    assert_eq!(v["nodes"][0]["kind"], "root");
    assert!(v["left_out"]["chunks"].as_u64().unwrap() > 0);
}

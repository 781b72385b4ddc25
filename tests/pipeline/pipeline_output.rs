//! Output formats and merging on records of real chunks: the Markdown layout, reading a
//! `summaries.jsonl` with a torn last line, and the merge rules.

use std::path::PathBuf;

use isg::output::{read_records, render_markdown};
use isg::pipeline::merge_loaded;
use isg::record::{MergeError, RunReport, Shard, SummaryRecord};
use isg::source::{Language, SourceFile, chunk_file};

fn records_of(files: &[&str]) -> Vec<SummaryRecord> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(root.join(crate::pipeline_common::source_of(f))).unwrap();
        let lang = Language::from_path(std::path::Path::new(f)).unwrap();
        for c in chunk_file(&SourceFile::from_text(f, lang, text), 60) {
            let mut r = SummaryRecord::for_chunk(&c, "m1");
            r.summary = format!("Lines {} to {} of {}.", c.start_line, c.end_line, f);
            out.push(r);
        }
    }
    out
}

fn report(shard: Shard) -> RunReport {
    RunReport {
        model: "m1".into(),
        prompt_version: "1".into(),
        shards: vec![shard],
        ..RunReport::default()
    }
}

#[test]
fn markdown_is_a_tree_of_directories_files_and_chunks_in_source_order() {
    let mut recs = records_of(&["src/pipeline/shard.rs", "src/bench.rs", "build.rs"]);
    isg::record::sort_source_order(&mut recs);
    // A failed chunk keeps a line built from its code; the error stays in summaries.jsonl.
    recs[0].error = Some("engine stopped".into());
    recs[0].summary = "Defines `main`.".into();
    recs[0].fallback = true;
    let md = render_markdown(&recs, &report(Shard::ALL));
    let entries: Vec<&str> = md
        .lines()
        .filter(|l| l.trim_start().starts_with("- **"))
        .collect();
    assert_eq!(
        entries,
        [
            "- **build.rs**",
            "- **src/**",
            "  - **bench.rs**",
            "  - **pipeline/**",
            "    - **shard.rs**"
        ],
        "{md}"
    );
    // Chunks under their file, in source order, with items and lines.
    let chunks: Vec<&str> = md
        .lines()
        .filter(|l| l.trim_start().starts_with("- L"))
        .collect();
    assert_eq!(chunks.len(), recs.len());
    assert!(
        chunks[0].starts_with("  - L1–L")
            && chunks[0].ends_with(": Defines `main`. *(fallback)*")
            && !chunks[0].contains("engine stopped"),
        "{}",
        chunks[0]
    );
    let shard: Vec<&&str> = chunks
        .iter()
        .filter(|b| b.contains("of src/pipeline/shard.rs"))
        .collect();
    assert!(shard.len() > 1);
    assert!(shard[0].starts_with("      - L1–L"), "{}", shard[0]);
    assert!(md.contains("`struct Shard`"), "item names are shown: {md}");
    let pos = |s: &str| md.find(s).unwrap();
    assert!(pos("**build.rs**") < pos("**src/**") && pos("**bench.rs**") < pos("**pipeline/**"));
}

#[test]
fn a_torn_last_record_is_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let recs = records_of(&["src/bench.rs"]);
    let mut text = String::new();
    for r in &recs {
        text.push_str(&serde_json::to_string(r).unwrap());
        text.push('\n');
    }
    text.push_str("{\"path\":\"src/ho");
    let path = tmp.path().join("summaries.jsonl");
    std::fs::write(&path, text).unwrap();
    assert_eq!(read_records(&path).unwrap(), recs);
}

#[test]
fn merge_joins_in_source_order_and_refuses_mismatches() {
    let all = records_of(&["src/pipeline/shard.rs", "src/bench.rs", "build.rs"]);
    let split = |k: u32| -> Vec<SummaryRecord> {
        let s = Shard { index: k, count: 2 };
        all.iter()
            .filter(|r| s.contains(&r.path))
            .cloned()
            .collect()
    };
    let inputs = || {
        vec![
            (
                "a".to_string(),
                report(Shard { index: 2, count: 2 }),
                split(2),
            ),
            (
                "b".to_string(),
                report(Shard { index: 1, count: 2 }),
                split(1),
            ),
        ]
    };
    let (merged, recs) = merge_loaded(inputs()).unwrap();
    let mut expected = all.clone();
    isg::record::sort_source_order(&mut expected);
    assert_eq!(recs, expected);
    assert_eq!(merged.shards.len(), 2);
    assert_eq!(merged.merged_from, ["a", "b"]);

    let mut other_model = inputs();
    other_model[1].1.model = "m2".into();
    assert!(matches!(
        merge_loaded(other_model),
        Err(MergeError::DifferentModels { .. })
    ));
    let mut other_prompt = inputs();
    other_prompt[1].1.prompt_version = "2".into();
    assert!(matches!(
        merge_loaded(other_prompt),
        Err(MergeError::DifferentPrompts { .. })
    ));
    let mut other_n = inputs();
    other_n[1].1.shards = vec![Shard { index: 1, count: 3 }];
    assert!(matches!(
        merge_loaded(other_n),
        Err(MergeError::DifferentPartitions { .. })
    ));
    let mut twice = inputs();
    twice[1].1.shards = vec![Shard { index: 2, count: 2 }];
    assert!(matches!(
        merge_loaded(twice),
        Err(MergeError::SameShard { .. })
    ));
    let mut overlap = inputs();
    let dup = overlap[0].2[0].clone();
    overlap[1].2.push(dup);
    assert!(matches!(
        merge_loaded(overlap),
        Err(MergeError::Overlap { .. })
    ));
    assert!(matches!(
        merge_loaded(Vec::new()),
        Err(MergeError::NoInputs)
    ));
}

//! Cache keys and resume on real chunks: what changes a key and what does not, a torn last line
//! after a kill, duplicate entries, and a killed run's partial output.

use crate::pipeline_common;

use std::io::Write;

use isg::record::Reduction;
use isg::run::{CACHE_DIR, CACHE_FILE};
use isg::run::{Cache, CacheEntry, KeySettings, cache_key};
use isg::source::{Chunk, Comments, Language, SourceFile, View, chunk_file};
use pipeline_common::repo;

fn real_chunks() -> Vec<Chunk> {
    let text =
        std::fs::read_to_string(repo().join(pipeline_common::source_of("src/pipeline/cache.rs")))
            .unwrap();
    chunk_file(
        &SourceFile::from_text("src/pipeline/cache.rs", Language::Rust, text),
        60,
    )
}

fn key_settings() -> KeySettings {
    KeySettings {
        model: "smollm2-135m-instruct@abc".into(),
        prompt_version: isg::run::PROMPT_VERSION.into(),
        view: View::Code(Comments::DocFirstLine),
        max_prompt_tokens: 2000,
        max_new_tokens: 48,
        sampling: "greedy".into(),
    }
}

fn entry(key: &str, summary: &str) -> CacheEntry {
    CacheEntry {
        key: key.into(),
        summary: summary.into(),
        raw: summary.into(),
        rejected: None,
        prompt_tokens: 100,
        generated_tokens: 9,
        ms: 12.5,
        view: "code".into(),
        reduction: Reduction::None,
        elided_lines: None,
    }
}

#[test]
fn keys_follow_what_the_summary_depends_on() {
    let chunks = real_chunks();
    assert!(chunks.len() > 2);
    let s = key_settings();
    let keys: Vec<String> = chunks.iter().map(|c| cache_key(c, &s)).collect();
    let mut distinct = keys.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), keys.len(), "every chunk has its own key");
    assert!(keys.iter().all(|k| k.len() == 64));

    let c = &chunks[1];
    let k = cache_key(c, &s);
    // Moving a chunk (other line numbers) keeps its key.
    let mut moved = c.clone();
    moved.start_line += 10;
    moved.end_line += 10;
    assert_eq!(cache_key(&moved, &s), k);
    // The text, the path, the model, the prompt version and every setting change it.
    let mut edited = c.clone();
    edited.text.push_str("// edit\n");
    assert_ne!(cache_key(&edited, &s), k);
    let mut renamed = c.clone();
    renamed.path = "src/other.rs".into();
    assert_ne!(cache_key(&renamed, &s), k);
    let variants: [fn(&mut KeySettings); 6] = [
        |s| s.model.push('2'),
        |s| s.prompt_version.push('x'),
        |s| s.view = View::Interface,
        |s| s.max_prompt_tokens = 1000,
        |s| s.max_new_tokens = 32,
        |s| s.sampling = "random".into(),
    ];
    for change in variants {
        let mut other = key_settings();
        change(&mut other);
        assert_ne!(cache_key(c, &other), k);
    }
}

#[test]
fn a_torn_last_line_is_dropped_and_repaired() {
    let tmp = tempfile::tempdir().unwrap();
    let s = key_settings();
    let keys: Vec<String> = real_chunks().iter().map(|c| cache_key(c, &s)).collect();
    {
        let mut cache = Cache::open(tmp.path()).unwrap();
        assert!(cache.is_empty());
        cache.append(entry(&keys[0], "First.")).unwrap();
        cache.append(entry(&keys[1], "Second.")).unwrap();
    }
    let path = tmp.path().join(CACHE_DIR).join(CACHE_FILE);
    // A kill in the middle of the third write leaves half a line.
    let third = serde_json::to_string(&entry(&keys[2], "Third.")).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(&third.as_bytes()[..third.len() / 2]).unwrap();
    drop(f);

    let mut cache = Cache::open(tmp.path()).unwrap();
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.load().torn_bytes, third.len() / 2);
    assert!(cache.get(&keys[2]).is_none());
    // The next entry starts on its own line and survives the next open.
    cache.append(entry(&keys[2], "Third.")).unwrap();
    drop(cache);
    let cache = Cache::open(tmp.path()).unwrap();
    assert_eq!(cache.len(), 3);
    assert_eq!(cache.load().torn_bytes, 0);
    assert_eq!(cache.load().bad_lines, 0);
    assert_eq!(cache.get(&keys[2]).unwrap().summary, "Third.");
}

#[test]
fn duplicates_and_garbage_lines_are_tolerated() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(CACHE_DIR);
    std::fs::create_dir_all(&dir).unwrap();
    let a = serde_json::to_string(&entry("k1", "Old.")).unwrap();
    let b = serde_json::to_string(&entry("k1", "New.")).unwrap();
    let c = serde_json::to_string(&entry("k2", "Other.")).unwrap();
    std::fs::write(dir.join(CACHE_FILE), format!("{a}\nnot json\n\n{b}\n{c}\n")).unwrap();
    let cache = Cache::open(tmp.path()).unwrap();
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.get("k1").unwrap().summary, "New.");
    let load = cache.load();
    assert_eq!((load.entries, load.duplicates, load.bad_lines), (3, 1, 1));
}

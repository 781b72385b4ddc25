//! The whole tokio crate (1.54.1, from the cargo registry): coverage, limits, item boundaries,
//! determinism, speed, and the size of each view.
//!
//! Tokio is found in the local cargo registry, or fetched there by cargo (see [`prereq`]). When
//! it cannot be had the test is skipped, except under `CI=true`, where it fails.

use crate::prereq;

use std::path::Path;
use std::time::Instant;

use isg::source::{Comments, View, WalkSettings, chunk_files, view, walk};

const TOKIO: &str = "tokio-1.54.1";

/// Spans (1-based) of every `fn` item of a Rust file.
fn fn_spans(text: &str) -> Vec<(usize, usize)> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_rust::LANGUAGE.into())
        .unwrap();
    let tree = parser.parse(text, None).unwrap();
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        if n.kind() == "function_item" {
            out.push((n.start_position().row + 1, n.end_position().row + 1));
        }
        let mut c = n.walk();
        stack.extend(n.named_children(&mut c));
    }
    out
}

#[test]
fn tokio_chunks_cover_every_line_at_item_boundaries() {
    let root = require!(prereq::tokio_source());
    let t0 = Instant::now();
    let w = walk(&WalkSettings::new(&root)).unwrap();
    let t_walk = t0.elapsed();
    let t1 = Instant::now();
    let chunks = chunk_files(&w.files, 300);
    let t_chunk = t1.elapsed();
    assert!(w.files.len() > 500, "{} files", w.files.len());
    assert!(w.skipped.is_empty(), "{:?}", w.skipped);

    let lines: usize = w.files.iter().map(|f| f.text.lines().count()).sum();
    let chars = |v: View| -> usize { chunks.iter().map(|c| view(c, v).chars().count()).sum() };
    let code = chars(View::Code(Comments::Keep));
    let interface = chars(View::Interface);
    println!(
        "tokio: {} files, {lines} lines, {} chunks, {:.1} mean chunk lines; walk {:?}, chunk {:?}",
        w.files.len(),
        chunks.len(),
        lines as f64 / chunks.len() as f64,
        t_walk,
        t_chunk
    );
    for v in View::LADDER {
        println!("  view {:<26} {:>9} chars", v.name(), chars(v));
    }
    assert!(interface * 4 < code, "interface {interface} vs code {code}");

    for max_lines in [300, 60, 7] {
        let chunks = if max_lines == 300 {
            chunks.clone()
        } else {
            chunk_files(&w.files, max_lines)
        };
        let mut by_file = chunks.chunk_by(|a, b| a.path == b.path);
        for f in &w.files {
            let file_chunks = if f.text.is_empty() {
                &[][..]
            } else {
                by_file.next().unwrap()
            };
            let mut next = 1;
            for c in file_chunks {
                assert_eq!(c.path, f.path);
                assert_eq!(c.start_line, next, "{}: gap at {next}", f.path);
                assert!(
                    c.line_count() <= max_lines,
                    "{} {}-{}",
                    f.path,
                    c.start_line,
                    c.end_line
                );
                next = c.end_line + 1;
            }
            assert_eq!(next, f.text.lines().count() + 1, "{}", f.path);
            // No chunk starts inside a function that fits in a chunk.
            if max_lines == 300 {
                for (s, e) in fn_spans(&f.text) {
                    if e - s < max_lines {
                        for c in file_chunks {
                            assert!(
                                !(c.start_line > s && c.start_line <= e),
                                "{}: chunk {}-{} cuts fn at {s}-{e}",
                                f.path,
                                c.start_line,
                                c.end_line
                            );
                        }
                    }
                }
            }
        }
        assert!(by_file.next().is_none());
    }

    // Deterministic: the same walk and chunks again.
    let again = chunk_files(&walk(&WalkSettings::new(&root)).unwrap().files, 300);
    assert_eq!(again, chunks);
}

/// The first sentence of each module doc, as [`module_doc`] and [`first_sentence`] find it,
/// equals the reference summaries of the tokio development set (built from the same docs).
#[test]
fn module_doc_first_sentences_match_the_reference_set() {
    let tokio = require!(prereq::tokio_source());
    let registry = tokio.parent().unwrap();
    let refs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/source/tokio-module-doc-references.jsonl"),
    )
    .unwrap();
    let mut checked = 0;
    for line in refs.lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let path = r["path"].as_str().unwrap();
        let (krate, rest) = path.split_once('/').unwrap();
        let dir = match krate {
            "tokio" => TOKIO,
            "tokio-util" => "tokio-util-0.7.20",
            "tokio-stream" => "tokio-stream-0.1.19",
            other => panic!("unknown crate {other}"),
        };
        let file = registry.join(dir).join(rest);
        if !file.is_file() {
            assert!(krate != "tokio", "{} missing", file.display());
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let src = isg::source::SourceFile::from_text(rest, isg::source::Language::Rust, text);
        let doc = isg::source::module_doc(&src).unwrap();
        assert_eq!(
            isg::source::first_sentence(&doc.doc),
            r["reference"].as_str().unwrap(),
            "{path}"
        );
        assert!(!doc.stripped.contains("//!"), "{path}");
        checked += 1;
    }
    assert!(checked >= 40, "{checked} references checked");
}

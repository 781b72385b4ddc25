//! Chunking, item names, views and module docs on small real-world files of every language.

use std::path::PathBuf;

use isg::source::{
    Chunk, Comments, Language, SourceFile, View, WalkSettings, chunk_file, module_doc, view, walk,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/source")
}

fn fixture(name: &str) -> SourceFile {
    let w = walk(&WalkSettings::new(fixtures().join(name))).unwrap();
    w.files.into_iter().next().unwrap()
}

/// Chunks cover the file's lines in order, exactly once, within the limit, with a true hash.
fn assert_covers(file: &SourceFile, chunks: &[Chunk], max_lines: usize) {
    let lines: Vec<&str> = file.text.split_inclusive('\n').collect();
    let mut next = 1;
    for c in chunks {
        assert_eq!(
            c.start_line, next,
            "{}: gap or overlap at {}",
            file.path, next
        );
        assert!(c.end_line >= c.start_line);
        assert!(
            c.line_count() <= max_lines,
            "{}: chunk {}-{} over {max_lines}",
            file.path,
            c.start_line,
            c.end_line
        );
        assert_eq!(c.text, lines[c.start_line - 1..c.end_line].concat());
        assert_eq!(c.hash, hex::encode(Sha256::digest(c.text.as_bytes())));
        assert_eq!(c.path, file.path);
        assert_eq!(c.language, file.language);
        next = c.end_line + 1;
    }
    assert_eq!(next, lines.len() + 1, "{}: lines left over", file.path);
}

#[test]
fn item_names_in_every_language() {
    let cases: [(&str, Language, &[&str]); 8] = [
        (
            "pool.py",
            Language::Python,
            &[
                "class Pool",
                "def Pool.__init__",
                "def Pool.idle",
                "def Pool.put",
                "def make_pool",
            ],
        ),
        (
            "server.go",
            Language::Go,
            &[
                "const DefaultTimeout",
                "type Server",
                "func New",
                "func Server.Run",
            ],
        ),
        (
            "queue.js",
            Language::JavaScript,
            &[
                "const CAPACITY",
                "class Queue",
                "method Queue.push",
                "function drain",
                "const helper",
            ],
        ),
        (
            "cache.ts",
            Language::TypeScript,
            &[
                "interface Entry",
                "type Clock",
                "enum Policy",
                "class LruCache",
                "method LruCache.get",
            ],
        ),
        (
            "button.tsx",
            Language::Tsx,
            &["interface ButtonProps", "function Button"],
        ),
        (
            "ring.c",
            Language::C,
            &["function ring_push", "function ring_pop", "struct stats"],
        ),
        (
            "ring.h",
            Language::C,
            &["#define RING_CAP", "typedef ring_t", "function ring_push"],
        ),
        (
            "shapes.cpp",
            Language::Cpp,
            &[
                "namespace geo",
                "class geo::Circle",
                "function geo::Circle::area",
                "function geo_area",
            ],
        ),
    ];
    for (name, lang, expected) in cases {
        let f = fixture(name);
        assert_eq!(f.language, lang, "{name}");
        let chunks = chunk_file(&f, 300);
        assert_eq!(chunks.len(), 1, "{name}");
        for e in expected {
            assert!(
                chunks[0].symbols.iter().any(|s| s == e),
                "{name}: {e} not in {:?}",
                chunks[0].symbols
            );
        }
    }
}

#[test]
fn rust_names_items_inside_macro_bodies_and_impls() {
    let text = r#"use std::fmt;

cfg_rt! {
    /// A handle.
    pub struct JoinHandle<T> {
        raw: RawTask,
        _p: PhantomData<T>,
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>) -> Poll<T> {
        todo!()
    }
}

pub mod inner {
    pub fn spawn() {}
}

macro_rules! ready { () => {} }
"#;
    let f = SourceFile::from_text("join.rs", Language::Rust, text);
    let c = &chunk_file(&f, 300)[0];
    assert_eq!(
        c.symbols,
        [
            "struct JoinHandle",
            "impl Future for JoinHandle",
            "type JoinHandle::Output",
            "fn JoinHandle::poll",
            "mod inner",
            "fn inner::spawn",
            "macro ready!"
        ]
    );
    let i = view(c, View::Interface);
    assert!(i.contains("/// A handle.\n"), "{i}");
    assert!(i.contains("        raw: RawTask,\n"), "{i}");
    assert!(
        i.contains("    fn poll(self: Pin<&mut Self>) -> Poll<T> { ... }\n"),
        "{i}"
    );
    assert!(!i.contains("use std"), "{i}");
    assert!(!i.contains("todo!"), "{i}");
}

#[test]
fn long_items_are_cut_at_members_and_small_items_are_packed() {
    // An impl of 30 methods of 5 lines each, after 20 one-line consts.
    let mut text = String::new();
    for i in 0..20 {
        text.push_str(&format!("const C{i}: u8 = {i};\n"));
    }
    text.push_str("\nimpl Big {\n");
    for i in 0..30 {
        text.push_str(&format!(
            "    /// Method {i}.\n    fn m{i}(&self) {{\n        let x = {i};\n        drop(x);\n    }}\n"
        ));
    }
    text.push_str("}\n");
    let f = SourceFile::from_text("big.rs", Language::Rust, text);
    let chunks = chunk_file(&f, 40);
    assert_covers(&f, &chunks, 40);
    // The consts are packed into one chunk; every later chunk starts at a doc comment or a
    // method, never inside one.
    assert!(chunks[0].symbols.len() >= 20);
    for c in &chunks[1..] {
        let first = c.text.lines().next().unwrap().trim();
        assert!(
            first.starts_with("///") || first.is_empty() || first.starts_with("impl"),
            "chunk {}-{} starts with {first:?}",
            c.start_line,
            c.end_line
        );
        if !first.starts_with("impl") {
            assert_eq!(c.parent.as_deref(), Some("impl Big"));
            assert!(view(c, View::Interface).starts_with("impl Big {\n"));
        }
    }
}

#[test]
fn views_shrink_along_the_ladder() {
    let f = fixture("pool.py");
    let c = &chunk_file(&f, 300)[0];
    let code = view(c, View::Code(Comments::Keep));
    let brief = view(c, View::Code(Comments::DocFirstLine));
    let minimal = view(c, View::Code(Comments::DocFirstLineOnly));
    let interface = view(c, View::Interface);
    let names = view(c, View::Names);
    assert_eq!(code, f.text);
    assert!(
        brief.contains("\"\"\"A tiny connection pool.\"\"\"\n"),
        "{brief}"
    );
    assert!(!brief.contains("Connections are created lazily"));
    assert!(brief.contains("# Reuse an idle connection"));
    assert!(!minimal.contains("# Reuse"));
    assert!(minimal.contains("\"\"\"Returns a connection to the pool.\"\"\""));
    assert!(
        interface.contains("    def get(self): ...\n"),
        "{interface}"
    );
    assert!(interface.contains("        \"\"\"Number of idle connections.\"\"\"\n"));
    assert!(!interface.contains("import"));
    assert!(names.contains("def Pool.put\n"));
    let sizes: Vec<usize> = [&code, &brief, &minimal, &interface, &names]
        .iter()
        .map(|s| s.len())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] > w[1]), "{sizes:?}");

    assert_eq!(
        View::Code(Comments::Keep).ladder_from(),
        [View::Code(Comments::Keep), View::Interface, View::Names]
    );
    for v in View::LADDER {
        assert_eq!(v.name().parse::<View>().unwrap(), v);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            format!("\"{}\"", v.name())
        );
    }
    assert!("full".parse::<View>().is_err());
}

#[test]
fn module_docs_in_every_language() {
    let cases = [
        (
            "pool.py",
            "A tiny connection pool.\n\nConnections are created lazily and reused.",
        ),
        (
            "server.go",
            "Package server runs a small HTTP server with graceful shutdown.",
        ),
        ("queue.js", "A bounded FIFO queue with async waiting."),
        ("cache.ts", "An LRU cache keyed by string."),
        ("ring.h", "A fixed-size ring buffer of bytes."),
        ("ring.c", "Ring buffer implementation."),
        ("shapes.cpp", "Shapes with areas."),
    ];
    for (name, doc) in cases {
        let f = fixture(name);
        let m = module_doc(&f).unwrap_or_else(|| panic!("{name}: no module doc"));
        assert_eq!(m.doc, doc, "{name}");
        assert!(!m.stripped.contains(doc.lines().next().unwrap()), "{name}");
        assert!(m.stripped.lines().count() < f.text.lines().count());
    }
    assert!(module_doc(&fixture("button.tsx")).is_none());

    let rust = SourceFile::from_text(
        "lib.rs",
        Language::Rust,
        "#![allow(x)]\n//! Runtime for\n//! [`async`](x) tasks.\n//!\n//! More.\n\npub fn f() {}\n",
    );
    let m = module_doc(&rust).unwrap();
    assert_eq!(m.doc, "Runtime for\n[`async`](x) tasks.\n\nMore.");
    assert_eq!(m.stripped, "#![allow(x)]\n\npub fn f() {}\n");
    assert_eq!(
        isg::source::first_sentence(&m.doc),
        "Runtime for async tasks."
    );
}

#[test]
fn empty_and_text_files() {
    let f = SourceFile::from_text("e.rs", Language::Rust, "");
    assert!(chunk_file(&f, 300).is_empty());
    let text: String = (0..100)
        .map(|i| {
            if i % 10 == 9 {
                "\n".to_string()
            } else {
                format!("line {i}\n")
            }
        })
        .collect();
    let f = SourceFile::from_text("notes.txt", Language::Text, text);
    let chunks = chunk_file(&f, 25);
    assert_covers(&f, &chunks, 25);
    // Cut after blank lines (lines 20 and 40 ...), not in the middle of paragraphs.
    assert!(
        chunks
            .iter()
            .all(|c| c.text.ends_with("\n\n") || c.end_line == 100)
    );
}

#[test]
fn deep_nesting_and_long_lines_do_not_break_chunking() {
    let deep = format!("fn f() {}{}\n", "{\n".repeat(3000), "}\n".repeat(3000));
    let long = format!("x = {}\n", "1 + ".repeat(50_000));
    for text in [deep, long] {
        for lang in LANGS {
            let f = SourceFile::from_text("x", lang, text.clone());
            let chunks = chunk_file(&f, 100);
            assert_covers(&f, &chunks, 100);
            for c in &chunks {
                let _ = view(c, View::Interface);
            }
        }
    }
}

const LANGS: [Language; 9] = [
    Language::Rust,
    Language::Python,
    Language::Go,
    Language::JavaScript,
    Language::TypeScript,
    Language::Tsx,
    Language::C,
    Language::Cpp,
    Language::Text,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any text in any language chunks without panicking and covers the file.
    #[test]
    fn arbitrary_text_is_covered(
        text in "([a-zé日\u{feff}{}();:=<>/*!#\"' \t]{0,12}\n?){0,200}",
        lang in 0usize..9,
        max_lines in 1usize..40,
    ) {
        let f = SourceFile::from_text("x", LANGS[lang], text);
        let chunks = chunk_file(&f, max_lines);
        assert_covers(&f, &chunks, max_lines);
        for c in &chunks {
            for v in View::LADDER {
                let _ = view(c, v);
            }
        }
        let _ = module_doc(&f);
    }

    /// Every fixture, cut to any limit, is covered.
    #[test]
    fn fixtures_are_covered_at_any_limit(index in 0usize..8, max_lines in 1usize..60) {
        let mut names: Vec<String> = std::fs::read_dir(fixtures())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let f = fixture(&names[index % names.len()]);
        let chunks = chunk_file(&f, max_lines);
        assert_covers(&f, &chunks, max_lines);
    }
}

#[test]
fn a_test_module_beside_code_is_one_line_of_the_interface() {
    let text = "/// A counter that wraps.\npub struct Wrapping(u8);\n\nimpl Wrapping {\n    /// Adds one.\n    pub fn bump(&mut self) { self.0 = self.0.wrapping_add(1); }\n}\n\n#[cfg(test)]\nmod checks {\n    use super::*;\n\n    #[test]\n    fn bump_wraps_at_the_top() {\n        let mut w = Wrapping(255);\n        w.bump();\n        assert_eq!(w.0, 0);\n    }\n}\n";
    let file = SourceFile::from_text("src/wrapping.rs", Language::Rust, text);
    let chunk = &chunk_file(&file, 300)[0];
    let shown = view(chunk, View::Interface);
    assert!(shown.contains("pub fn bump(&mut self) { ... }"), "{shown}");
    assert!(shown.contains("mod checks { ... }"), "{shown}");
    assert!(!shown.contains("bump_wraps_at_the_top"), "{shown}");

    // A file that is all tests keeps their names: they are what it is for.
    let tests_only = "#[cfg(test)]\nmod tests {\n    #[test]\n    fn bump_wraps_at_the_top() {\n        assert_eq!(255u8.wrapping_add(1), 0);\n    }\n}\n";
    let file = SourceFile::from_text("src/checks.rs", Language::Rust, tests_only);
    let chunk = &chunk_file(&file, 300)[0];
    let shown = view(chunk, View::Interface);
    assert!(shown.contains("fn bump_wraps_at_the_top()"), "{shown}");
}

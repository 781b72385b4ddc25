//! The scripts `index.html` searches with, run in Node.js against the Rust they reproduce:
//! the lexical terms (word splitting, camel case, stop words, Porter stems) are Rust's for
//! tricky text and every word of the README; the page's WordPiece tokenizer gives the
//! `tokenizers` crate's ids on punctuation, accents, CJK, emoji, control characters, special
//! tokens, long words and long lines; and the page's int8 encoder (`search-model.js`, written
//! from the converted model) gives vectors within cosine 0.99 of the ONNX encoder `isg search`
//! runs (each is printed, with the mean). Needs `node` (and, for the encoder, the embedding
//! model); under `CI=true` a missing one fails the test.

use crate::prereq;

use std::path::Path;
use std::process::Command;

use isg::llm::Embedder;
use isg::provision::EMBEDDING_MODEL;
use isg::search::page::{ENCODER_JS, RANK_JS, SEARCH_MODEL_FILE};

/// Loads the scripts named on the command line, then answers the JSON request in the last one.
const HARNESS: &str = r#"
const fs = require("fs"), vm = require("vm");
const args = process.argv.slice(2);
for (const f of args.slice(0, -1)) vm.runInThisContext(fs.readFileSync(f, "utf8"), { filename: f });
const req = JSON.parse(fs.readFileSync(args[args.length - 1], "utf8"));
const out = {};
if (req.terms) out.terms = req.terms.map(t => IsgRank.terms(t, new Set(req.stop)));
if (req.embed) {
  const t0 = Date.now();
  const m = new IsgEncoder.Model(globalThis.ISG_SEARCH_MODEL);
  out.load_ms = Date.now() - t0;
  out.ids = req.embed.map(t => m.tokenize(t));
  const t1 = Date.now();
  out.vectors = req.embed.map(t => Array.from(m.embed(t)));
  out.embed_ms = (Date.now() - t1) / req.embed.length;
}
process.stdout.write(JSON.stringify(out));
"#;

fn run_node(
    node: &Path,
    dir: &Path,
    scripts: &[&Path],
    req: &serde_json::Value,
) -> serde_json::Value {
    let harness = dir.join("harness.js");
    std::fs::write(&harness, HARNESS).unwrap();
    let req_path = dir.join("request.json");
    std::fs::write(&req_path, req.to_string()).unwrap();
    let out = Command::new(node)
        .arg("--stack-size=4000")
        .arg(&harness)
        .args(scripts)
        .arg(&req_path)
        .output()
        .expect("running node");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const TRICKY: &[&str] = &[
    "",
    "   ",
    "TcpStream::connect_timeout in net/tcp_stream.rs",
    "HTTPServer parseJSONValue io2 x86_64 __init__",
    "the retries are retried; caresses, ponies, hopping, relational generalization",
    "Café naïve façade Ångström Σίσυφος ΣΊΣΥΦΟΣ İstanbul straße",
    "日本語のテキスト と 中文 和 한국어",
    "emoji 🦀🚀 and 👩‍💻, math ∑x² ≤ 3½",
    "tabs\tand\nnewlines\r\nand\u{0}nul\u{200b}zero-width\u{feff}bom\u{85}nel",
    "[CLS] [SEP] [MASK] [UNK] [PAD] a[MASK]b [mask] [CLS",
    "punctuation!!! ?? ... ---- (a) {b} [c] <d> \"e\" 'f' `g` $h ^i |j ~k @l #m %n &o *p +q =r _s",
    "pneumonoultramicroscopicsilicovolcanoconiosisandevenlongerwordsthatgoonandonandonforeverandevermorewithoutend",
    "Ünïcödé̈ combining marks: e\u{301} a\u{308} n\u{303}",
    "\u{e000} private use \u{f8ff}",
];

fn long_line() -> String {
    "Spawns a task on the runtime and waits for its result. ".repeat(40)
}

#[test]
fn the_page_splits_words_and_stems_them_as_rust_does() {
    let node = require!(prereq::node());
    let tmp = tempfile::tempdir().unwrap();
    let rank = tmp.path().join("rank.js");
    std::fs::write(&rank, RANK_JS).unwrap();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut texts: Vec<String> = TRICKY.iter().map(|s| s.to_string()).collect();
    texts.push(long_line());
    // Every word of the README alone, then every line whole.
    let mut words: Vec<&str> = readme
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    words.sort();
    words.dedup();
    texts.extend(words.iter().map(|w| w.to_string()));
    texts.extend(readme.lines().map(str::to_string));
    let req = serde_json::json!({ "terms": texts, "stop": isg::search::lexical::STOP });
    let got = run_node(&node, tmp.path(), &[&rank], &req);
    let got = got["terms"].as_array().unwrap();
    let mut checked = 0;
    for (text, js) in texts.iter().zip(got) {
        let js: Vec<String> = serde_json::from_value(js.clone()).unwrap();
        assert_eq!(js, isg::search::lexical::terms(text), "terms of {text:?}");
        checked += js.len();
    }
    assert!(checked > 1000, "{checked} terms checked");
}

#[test]
fn the_page_encoder_gives_the_ids_and_vectors_of_isg_search() {
    let node = require!(prereq::node());
    let dir = require!(prereq::embedder());
    let tmp = tempfile::tempdir().unwrap();
    let written = isg::search::page_model::write_model(tmp.path(), &dir).unwrap();
    let bytes = written.expect("written the first time");
    assert!(
        isg::search::page_model::write_model(tmp.path(), &dir)
            .unwrap()
            .is_none(),
        "a file of the same model is left alone"
    );
    let model = tmp.path().join(SEARCH_MODEL_FILE);
    assert_eq!(std::fs::metadata(&model).unwrap().len() as usize, bytes);
    eprintln!("{SEARCH_MODEL_FILE}: {bytes} bytes");
    let (rank, enc) = (tmp.path().join("rank.js"), tmp.path().join("encoder.js"));
    std::fs::write(&rank, RANK_JS).unwrap();
    std::fs::write(&enc, ENCODER_JS).unwrap();

    let queries = [
        "try the network call again after an error",
        "make an image smaller",
        "Semaphore permits for async tasks",
        "How does the runtime schedule blocking work?",
        "tokio::sync::mpsc bounded channel with back-pressure",
        "read a file into a buffer without blocking the thread",
        "Utilities for tracking time.",
        "Mock version of std::fs::File;",
        "fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>",
    ];
    let mut texts: Vec<String> = TRICKY.iter().map(|s| s.to_string()).collect();
    texts.push(long_line());
    let n_tricky = texts.len();
    texts.extend(queries.iter().map(|q| q.to_string()));
    let req = serde_json::json!({ "embed": texts });
    let got = run_node(&node, tmp.path(), &[&rank, &enc, &model], &req);

    let mut embedder = Embedder::open(&dir, EMBEDDING_MODEL.max_tokens, 1).unwrap();
    for (text, ids) in texts.iter().zip(got["ids"].as_array().unwrap()) {
        let js: Vec<u32> = serde_json::from_value(ids.clone()).unwrap();
        assert_eq!(js, embedder.token_ids(text).unwrap(), "ids of {text:?}");
    }
    assert_eq!(
        got["ids"][n_tricky - 1].as_array().unwrap().len(),
        EMBEDDING_MODEL.max_tokens,
        "a long line is cut"
    );

    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let want = embedder.embed(&refs).unwrap();
    let mut cosines = Vec::new();
    for ((text, js), rust) in texts
        .iter()
        .zip(got["vectors"].as_array().unwrap())
        .zip(&want)
    {
        let js: Vec<f32> = serde_json::from_value(js.clone()).unwrap();
        assert_eq!(js.len(), rust.len());
        let cos: f32 = js.iter().zip(rust).map(|(a, b)| a * b).sum();
        eprintln!(
            "cosine {cos:.5}  {:?}",
            text.chars().take(60).collect::<String>()
        );
        assert!(cos >= 0.99, "cosine {cos} for {text:?}");
        cosines.push(cos);
    }
    let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
    let min = cosines.iter().copied().fold(1.0f32, f32::min);
    eprintln!(
        "{} lines: cosine mean {mean:.5}, min {min:.5}; node: load {} ms, {:.1} ms a line",
        cosines.len(),
        got["load_ms"],
        got["embed_ms"].as_f64().unwrap_or(0.0)
    );
}

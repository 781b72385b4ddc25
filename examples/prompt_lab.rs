//! Prompt lab: runs candidate prompt designs over a development set and scores them.
//!
//! `cargo run --release --example prompt_lab -- [--inputs DIR] [--refs FILE] [--out DIR]
//! [--score SCRIPT] DESIGN...` reads every reference path of `--refs` (default the eval-dev
//! set), chunks the matching file of `--inputs`, builds one prompt per file with each named
//! design, runs them through the engine in one batch, writes `OUT/DESIGN.jsonl` (path, summary,
//! raw answer, prompt tokens), `OUT/DESIGN-check.jsonl` (the answers as the product keeps them:
//! [`summary_for`]'s phrase, check, topic and fallback) and, when `--score` is given, runs that scoring script on it and
//! prints one table row per design. `DESIGN` names are listed by `--list`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use isg::llm::{ChatMessage, EngineConfig, Model, ModelSettings, Request, Sampling};
use isg::run::{fallback_line, summary_for};
use isg::source::{Chunk, Comments, Language, SourceFile, View, chunk_file, view};

/// Stands for the chunk while the template is rendered.
const SLOT: &str = "\u{1}SLOT\u{1}";

/// One candidate design.
#[derive(Clone)]
struct Design {
    name: &'static str,
    system: Option<&'static str>,
    instruction: &'static str,
    view: View,
    path: bool,
    items: bool,
    language: bool,
    shots: &'static [Shot],
    answer_prefix: &'static str,
    /// How the answer prefix is re-attached to the answer.
    reattach: Reattach,
    max_new: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Reattach {
    /// Put the prefix back in front of the answer as is.
    Keep,
    /// Drop the prefix and capitalize the answer.
    Drop,
}

/// A few-shot example: a synthetic file and the summary it should get.
struct Shot {
    path: &'static str,
    code: &'static str,
    answer: &'static str,
}

const SHOTS: &[Shot] = &[
    Shot {
        path: "src/cache/lru.rs",
        code: "use std::collections::HashMap;\n\n/// A cache that evicts the least recently used entry when it is full.\npub struct LruCache<K, V> {\n    map: HashMap<K, usize>,\n    entries: Vec<(K, V)>,\n    capacity: usize,\n}\n\nimpl<K: Eq + Hash, V> LruCache<K, V> {\n    /// Creates an empty cache holding at most `capacity` entries.\n    pub fn new(capacity: usize) -> Self {\n        todo!()\n    }\n\n    /// Returns the value for `key` and marks it as recently used.\n    pub fn get(&mut self, key: &K) -> Option<&V> {\n        todo!()\n    }\n\n    /// Inserts a value, evicting the oldest entry if the cache is full.\n    pub fn put(&mut self, key: K, value: V) {\n        todo!()\n    }\n}\n",
        answer: "A fixed-capacity cache that evicts the least recently used entry.",
    },
    Shot {
        path: "tests/config_parse.rs",
        code: "use myapp::config::{Config, ParseError};\n\n#[test]\nfn empty_file_gives_defaults() {\n    let c = Config::parse(\"\").unwrap();\n    assert_eq!(c, Config::default());\n}\n\n#[test]\nfn unknown_key_is_an_error() {\n    let e = Config::parse(\"colour = 1\").unwrap_err();\n    assert!(matches!(e, ParseError::UnknownKey { .. }));\n}\n",
        answer: "Tests for parsing configuration files.",
    },
    Shot {
        path: "src/net/retry.rs",
        code: "use std::time::Duration;\n\n/// How long to wait between attempts.\npub struct Backoff {\n    base: Duration,\n    max: Duration,\n}\n\n/// Runs `op` until it succeeds or `attempts` run out, sleeping longer after each failure.\npub async fn retry<T, E, F, Fut>(attempts: u32, backoff: Backoff, mut op: F) -> Result<T, E>\nwhere\n    F: FnMut() -> Fut,\n    Fut: Future<Output = Result<T, E>>,\n{\n    todo!()\n}\n",
        answer: "Retrying fallible network operations with exponential backoff.",
    },
];

const SYS_PLAIN: &str =
    "You are an expert programmer. You describe source code in one short, plain English sentence.";
const INSTR_PLAIN: &str = "Write a one-line summary of what the code below does or defines. \
Answer with exactly one sentence of plain text: no code, no markdown, no lists.";
const SYS_DOC: &str = "You write the first line of a source file's documentation: one short \
English phrase that says what the file is for. Never write code.";
const INSTR_DOC: &str = "What is this file for? Answer with one short phrase, like the first \
line of its documentation.";

fn base() -> Design {
    Design {
        name: "naive",
        system: Some(SYS_PLAIN),
        instruction: INSTR_PLAIN,
        view: View::Code(Comments::DocFirstLine),
        path: true,
        items: true,
        language: true,
        shots: &[],
        answer_prefix: "",
        reattach: Reattach::Keep,
        max_new: 40,
    }
}

fn designs() -> Vec<Design> {
    let b = base();
    let doc = Design {
        system: Some(SYS_DOC),
        instruction: INSTR_DOC,
        view: View::Interface,
        ..b.clone()
    };
    vec![
        b.clone(),
        Design {
            name: "naive-iface",
            view: View::Interface,
            ..b.clone()
        },
        Design {
            name: "doc-iface",
            ..doc.clone()
        },
        Design {
            name: "doc-iface-this-module",
            answer_prefix: "This module",
            ..doc.clone()
        },
        Design {
            name: "doc-iface-provides-drop",
            answer_prefix: "This file provides",
            reattach: Reattach::Drop,
            ..doc.clone()
        },
        Design {
            name: "shots-iface",
            shots: SHOTS,
            ..doc.clone()
        },
        Design {
            name: "shots-code",
            shots: SHOTS,
            view: View::Code(Comments::DocFirstLine),
            ..doc.clone()
        },
        Design {
            name: "shots-iface-nolang",
            shots: SHOTS,
            language: false,
            ..doc.clone()
        },
        Design {
            name: "shots-iface-noitems",
            shots: SHOTS,
            items: false,
            ..doc.clone()
        },
    ]
}

struct Case {
    path: String,
    chunk: Chunk,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let home = dirs::home_dir().unwrap_or_default();
    let inputs = flag("--inputs")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".cache/isg-eval/devset/inputs"));
    let refs = flag("--refs").unwrap_or_else(|| "/work/shared/eval-dev/references.jsonl".into());
    let out = PathBuf::from(flag("--out").unwrap_or_else(|| "/tmp/lab".into()));
    let score = flag("--score");
    let all = designs();
    if args.iter().any(|a| a == "--list") {
        for d in &all {
            println!("{}", d.name);
        }
        return Ok(());
    }
    let mut skip = false;
    let wanted: Vec<&str> = args
        .iter()
        .filter(|a| {
            if skip {
                skip = false;
                return false;
            }
            if a.starts_with("--") {
                skip = true;
                return false;
            }
            true
        })
        .map(String::as_str)
        .collect();
    let chosen: Vec<Design> = all
        .into_iter()
        .filter(|d| wanted.is_empty() || wanted.contains(&d.name))
        .collect();
    std::fs::create_dir_all(&out)?;
    let cases = load_cases(&inputs, Path::new(&refs))?;
    let settings = ModelSettings {
        engine: EngineConfig {
            parallel: 20,
            ..EngineConfig::default()
        },
        ..ModelSettings::default()
    };
    isg::provision::ensure_runtime(None)?;
    let dir = isg::provision::resolve_model(None, &Default::default())?;
    let model = Model::open(&dir, &settings)?;
    println!("| design | chrF | ROUGE-L | MiniLM | prompt tokens (shared + own) | rejected | s |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for d in &chosen {
        let row = run_design(&model, d, &cases, &out)?;
        let scores = match &score {
            Some(s) => run_score(s, &out.join(format!("{}.jsonl", d.name)))?,
            None => "- | - | -".into(),
        };
        println!(
            "| {} | {} | {:.0} + {:.0} | - | {:.1} |",
            d.name, scores, row.shared, row.own, row.seconds
        );
        let scores = match &score {
            Some(s) => run_score(s, &out.join(format!("{}-check.jsonl", d.name)))?,
            None => "- | - | -".into(),
        };
        println!(
            "| {}-check | {} | {:.0} + {:.0} | {} | {:.1} |",
            d.name, scores, row.shared, row.own, row.rejected, row.seconds
        );
    }
    Ok(())
}

struct Row {
    shared: f64,
    own: f64,
    rejected: usize,
    seconds: f64,
}

fn load_cases(inputs: &Path, refs: &Path) -> anyhow::Result<Vec<Case>> {
    let mut cases = Vec::new();
    for line in std::fs::read_to_string(refs)?.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let path = v["path"].as_str().unwrap_or_default().to_string();
        let text = std::fs::read_to_string(inputs.join(&path))?;
        let file = SourceFile::from_text(&path, Language::Rust, text);
        let chunk = chunk_file(&file, 300)
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("{path}: no chunk"))?;
        cases.push(Case { path, chunk });
    }
    Ok(cases)
}

fn chunk_part(d: &Design, path: &str, chunk: &Chunk, text: &str) -> String {
    let mut s = String::new();
    if d.path {
        s.push_str(&format!("File: {path}\n"));
    }
    if d.language {
        s.push_str(&format!("Language: {}\n", chunk.language.name()));
    }
    if d.items && !chunk.symbols.is_empty() {
        s.push_str(&format!("Items: {}\n", chunk.symbols.join(", ")));
    }
    s.push_str(&format!(
        "```{}\n{}\n```",
        chunk.language.name(),
        text.trim_end_matches('\n')
    ));
    s
}

fn messages(d: &Design) -> Vec<ChatMessage> {
    let mut m = Vec::new();
    if let Some(s) = d.system {
        m.push(ChatMessage::system(s));
    }
    for shot in d.shots {
        let file = SourceFile::from_text(shot.path, Language::Rust, shot.code);
        let chunk = &chunk_file(&file, 300)[0];
        let text = view(chunk, d.view);
        m.push(ChatMessage::user(format!(
            "{}\n\n{}",
            d.instruction,
            chunk_part(d, shot.path, chunk, &text)
        )));
        m.push(ChatMessage::assistant(shot.answer));
    }
    m.push(ChatMessage::user(format!("{}\n\n{SLOT}", d.instruction)));
    m
}

fn run_design(model: &Model, d: &Design, cases: &[Case], out: &Path) -> anyhow::Result<Row> {
    let tok = model.tokenizer();
    let rendered = tok.apply_chat_template(&messages(d), true)?;
    let (head, tail) = rendered
        .split_once(SLOT)
        .ok_or_else(|| anyhow::anyhow!("no slot"))?;
    let head_ids = tok.encode_prompt_text(head)?;
    let t0 = Instant::now();
    let mut pending = Vec::new();
    let mut own = 0usize;
    for c in cases {
        let text = view(&c.chunk, d.view);
        let suffix = format!(
            "{}{}{}",
            chunk_part(d, &c.path, &c.chunk, &text),
            tail,
            d.answer_prefix
        );
        let ids = tok.encode(&suffix, false)?;
        own += ids.len();
        let mut prompt = head_ids.clone();
        prompt.extend_from_slice(&ids);
        pending.push(model.engine().submit(Request {
            prompt,
            max_new_tokens: d.max_new,
            stop_at_newline: true,
            sampling: Sampling::Greedy,
            shared_prefix: head_ids.len(),
            ignore_eos: false,
            stop_when: None,
        }));
    }
    let mut lines = Vec::new();
    let mut checked_lines = Vec::new();
    let mut rejected = 0;
    for (c, p) in cases.iter().zip(pending) {
        let done = p.wait()?;
        let raw = tok.decode(&done.tokens, true)?;
        let answer = reattach(d, &raw);
        let checked = match summary_for(&answer, &c.chunk) {
            Ok(line) => line,
            Err(_) => {
                rejected += 1;
                fallback_line(&c.chunk)
            }
        };
        lines.push(serde_json::json!({
            "path": c.path, "summary": answer, "raw": raw,
            "prompt_tokens": done.prompt_tokens,
        }));
        checked_lines.push(serde_json::json!({
            "path": c.path, "summary": checked, "raw": raw,
            "prompt_tokens": done.prompt_tokens,
        }));
    }
    let seconds = t0.elapsed().as_secs_f64();
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(out.join(format!("{}.jsonl", d.name)), body)?;
    let body: String = checked_lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(out.join(format!("{}-check.jsonl", d.name)), body)?;
    let n = cases.len().max(1) as f64;
    Ok(Row {
        shared: head_ids.len() as f64,
        own: own as f64 / n,
        rejected,
        seconds,
    })
}

fn clean(raw: &str) -> String {
    let line = raw
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("```"))
        .unwrap_or("");
    let s = line.replace('`', "").replace("**", "");
    let s = s.trim_start_matches(['#', '-', '*', ' ', '>']);
    let s = s.trim_matches(['"', '\'']);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn reattach(d: &Design, raw: &str) -> String {
    let body = clean(raw);
    match d.reattach {
        Reattach::Keep if d.answer_prefix.is_empty() => body,
        Reattach::Keep => format!("{} {}", d.answer_prefix, body.trim_start()),
        Reattach::Drop => capitalize(&body),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn run_score(script: &str, preds: &Path) -> anyhow::Result<String> {
    let out = Command::new(script).arg(preds).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut v: HashMap<&str, &str> = HashMap::new();
    let words: Vec<&str> = text.split_whitespace().collect();
    for w in words.windows(2) {
        v.insert(w[0], w[1]);
    }
    Ok(format!(
        "{} | {} | {}",
        v.get("chrF").unwrap_or(&"?"),
        v.get("rougeL").unwrap_or(&"?"),
        v.get("minilm_cos").unwrap_or(&"?")
    ))
}

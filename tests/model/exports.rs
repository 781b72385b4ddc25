//! Models made by the exporters people use, run end to end: tiny random-weight Qwen2 and Llama
//! decoders exported by ONNX Runtime GenAI's model builder (int4, fp32; GroupQueryAttention, head
//! size left symbolic as `kv_cache_dim`) and by optimum (attention that grows the cache by
//! Concat), committed under tests/fixtures/exports/ by scripts/make-export-fixtures.sh with the
//! greedy tokens each exporting tool's own runtime produced. isg must produce the same tokens
//! through the engine and `isg generate`, alone and among 20 streams, pick the right cache
//! strategy, and `isg inspect --load` must say so; a folder whose configs contradict the weights
//! is refused with the reason, never with ONNX Runtime's message.

use crate::prereq;

use std::path::{Path, PathBuf};
use std::process::Command;

use isg::llm::{
    DecodeRow, EngineConfig, KvPool, KvStrategy, Model, ModelSettings, Request, Sampling,
    SessionRunner, SessionSettings,
};

const FOLDERS: [&str; 6] = [
    "qwen2-genai-int4",
    "qwen2-genai-fp32",
    "qwen2-optimum",
    "llama-genai-int4",
    "llama-genai-fp32",
    "llama-optimum",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/exports")
        .join(name)
}

struct Expected {
    prompt: String,
    prompt_ids: Vec<u32>,
    greedy_ids: Vec<u32>,
    greedy_text: String,
}

fn expected(name: &str) -> Expected {
    let path = fixture(name).join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ids = |key: &str| -> Vec<u32> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect()
    };
    Expected {
        prompt: v["prompt"].as_str().unwrap().to_string(),
        prompt_ids: ids("prompt_ids"),
        greedy_ids: ids("greedy_ids"),
        greedy_text: v["greedy_text"].as_str().unwrap().to_string(),
    }
}

fn open(name: &str, parallel: usize) -> Model {
    prereq::onnx_runtime().expect("ONNX Runtime, checked at the start of the test");
    let settings = ModelSettings {
        engine: EngineConfig {
            parallel,
            prefill_chunk: 5,
            max_context: 256,
            ..EngineConfig::default()
        },
        sessions: 1,
        threads: 1,
        ..ModelSettings::default()
    };
    Model::open(&fixture(name), &settings).unwrap_or_else(|e| panic!("open {name}: {e:#}"))
}

fn greedy(prompt: Vec<u32>, max_new: usize) -> Request {
    Request {
        prompt,
        max_new_tokens: max_new,
        stop_at_newline: false,
        sampling: Sampling::Greedy,
        shared_prefix: 0,
        ignore_eos: true,
        stop_when: None,
    }
}

fn strategy_of(name: &str) -> KvStrategy {
    if name.contains("genai") {
        KvStrategy::InPlace
    } else {
        KvStrategy::Growing
    }
}

#[test]
fn every_export_gives_its_tools_greedy_tokens_and_picks_its_strategy() {
    require!(prereq::onnx_runtime());
    for name in FOLDERS {
        let want = expected(name);
        let model = open(name, 4);
        assert_eq!(model.engine().io().strategy, strategy_of(name), "{name}");
        let got = model
            .generate(greedy(want.prompt_ids.clone(), want.greedy_ids.len()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.tokens, want.greedy_ids, "{name}");
    }
}

#[test]
fn the_builders_symbolic_head_size_comes_from_genai_config() {
    require!(prereq::onnx_runtime());
    let model = open("qwen2-genai-int4", 1);
    let io = model.engine().io();
    // config.json is absent from builder folders: 16 can only come from genai_config.json.
    assert!(!fixture("qwen2-genai-int4").join("config.json").exists());
    assert_eq!(
        (io.kv.layers, io.kv.kv_heads, io.kv.head_dim, io.vocab),
        (2, 2, 16, 400)
    );
    assert!(io.all_logits && !io.position_ids);
}

/// Twenty different prompts at once give, row by row, what each gives alone.
fn batch_equals_alone(name: &str) {
    let want = expected(name);
    let model = open(name, 20);
    let base = &want.prompt_ids;
    let prompts: Vec<Vec<u32>> = (0..20)
        .map(|i| {
            // Prompts of different lengths (rows of a decode step differ in length).
            let mut p: Vec<u32> = base[..base.len() - (i % 7)].to_vec();
            p.rotate_left(i % 3);
            p.extend((0..i % 5).map(|k| (k * 31 + i) as u32 % 400));
            p
        })
        .collect();
    let alone: Vec<Vec<u32>> = prompts
        .iter()
        .map(|p| model.generate(greedy(p.clone(), 10)).unwrap().tokens)
        .collect();
    let pending: Vec<_> = prompts
        .iter()
        .map(|p| model.submit(greedy(p.clone(), 10)))
        .collect();
    let together: Vec<Vec<u32>> = pending
        .into_iter()
        .map(|p| p.wait().unwrap().tokens)
        .collect();
    assert!(
        model.stats().peak_in_flight >= 10,
        "{name}: the batch never got wide: {:?}",
        model.stats()
    );
    for (i, (a, t)) in alone.iter().zip(&together).enumerate() {
        assert_eq!(a, t, "{name}: prompt {i} differs in a batch");
    }
    // The recorded prompt (row 0) also matches the exporting tool in the batch.
    assert_eq!(&together[0][..10], &want.greedy_ids[..10], "{name}");
}

#[test]
fn in_place_strategy_gives_the_same_tokens_alone_or_in_a_batch_of_20() {
    require!(prereq::onnx_runtime());
    batch_equals_alone("qwen2-genai-fp32");
}

#[test]
fn growing_strategy_gives_the_same_tokens_alone_or_in_a_batch_of_20() {
    require!(prereq::onnx_runtime());
    batch_equals_alone("qwen2-optimum");
    batch_equals_alone("llama-optimum");
}

fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = i;
        }
    }
    best as u32
}

fn load_decoder(name: &str) -> SessionRunner {
    let settings = SessionSettings {
        threads: 1,
        device: Default::default(),
        prepacked: None,
    };
    SessionRunner::load(&fixture(name).join("model.onnx"), &settings)
        .unwrap_or_else(|e| panic!("load {name}: {e}"))
}

/// Greedy tokens of `prompt` decoded alone in slot 0 of a fresh pool.
fn alone_tokens(dec: &mut SessionRunner, prompt: &[u32], steps: usize) -> Vec<u32> {
    let mut pool = KvPool::new(dec.io().kv, 1, 64).unwrap();
    let mut token = argmax(&dec.prefill(&mut pool, 0, 0, prompt).unwrap());
    let mut out = vec![token];
    for k in 0..steps {
        let row = DecodeRow {
            token,
            past: prompt.len() + k,
        };
        token = argmax(&dec.decode(&mut pool, &[row]).unwrap());
        out.push(token);
    }
    out
}

/// The growing strategy keeps a decode step's present as the next step's past: rows that go on
/// are not copied again, a slot given to a new prompt is copied alone, and every row still gets
/// the tokens it gets alone.
#[test]
fn growing_strategy_copies_only_rows_whose_slot_changed() {
    require!(prereq::onnx_runtime());
    let mut dec = load_decoder("qwen2-optimum");
    assert_eq!(dec.io().strategy, KvStrategy::Growing);
    let base = expected("qwen2-optimum").prompt_ids;
    let prompts: Vec<Vec<u32>> = vec![
        base.clone(),
        base[..base.len() - 4].to_vec(),
        base[2..].to_vec(),
    ];
    // Slot 1's first prompt is cut short after two steps and a new one takes the slot, as long
    // as the old row would be by then: only the slot's epoch tells them apart.
    let late: Vec<u32> = base[2..].iter().rev().copied().collect();
    assert_eq!(late.len(), prompts[1].len() + 2);
    let mut pool = KvPool::new(dec.io().kv, 3, 64).unwrap();
    let mut rows: Vec<DecodeRow> = prompts
        .iter()
        .enumerate()
        .map(|(slot, p)| DecodeRow {
            token: argmax(&dec.prefill(&mut pool, slot, 0, p).unwrap()),
            past: p.len(),
        })
        .collect();
    let mut got: Vec<Vec<u32>> = rows.iter().map(|r| vec![r.token]).collect();
    let mut late_got = Vec::new();
    let mut copied = Vec::new();
    for step in 0..6 {
        if step == 2 {
            pool.release(1);
            let token = argmax(&dec.prefill(&mut pool, 1, 0, &late).unwrap());
            rows[1] = DecodeRow {
                token,
                past: late.len(),
            };
            late_got.push(token);
        }
        let before = dec.staged_rows();
        let logits = dec.decode(&mut pool, &rows).unwrap();
        copied.push(dec.staged_rows() - before);
        let vocab = dec.io().vocab;
        for (i, row) in rows.iter_mut().enumerate() {
            row.token = argmax(&logits[i * vocab..(i + 1) * vocab]);
            row.past += 1;
            if i == 1 && step >= 2 {
                late_got.push(row.token);
            } else if i != 1 || step < 2 {
                got[i].push(row.token);
            }
        }
    }
    // The first step gathers the three rows, the step after slot 1 changed gathers that row only.
    assert_eq!(copied, vec![3, 0, 1, 0, 0, 0]);
    let mut fresh = load_decoder("qwen2-optimum");
    for (i, p) in prompts.iter().enumerate() {
        let n = got[i].len() - 1;
        assert_eq!(got[i], alone_tokens(&mut fresh, p, n), "row {i}");
    }
    assert_eq!(late_got, alone_tokens(&mut fresh, &late, 4), "the late row");
}

fn isg(args: &[&str]) -> (i32, String, String) {
    let rt = prereq::onnx_runtime().expect("ONNX Runtime, checked at the start of the test");
    let out = Command::new(env!("CARGO_BIN_EXE_isg"))
        .args(args)
        .env("ORT_DYLIB_PATH", &rt.library)
        .output()
        .expect("run isg");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn isg_generate_prints_the_tools_greedy_text() {
    require!(prereq::onnx_runtime());
    for name in ["qwen2-genai-int4", "llama-optimum"] {
        let want = expected(name);
        let dir = fixture(name);
        let n = want.greedy_ids.len().to_string();
        let (code, stdout, stderr) = isg(&[
            "generate",
            "--model",
            dir.to_str().unwrap(),
            "--raw",
            "--max-tokens",
            &n,
            &want.prompt,
        ]);
        assert_eq!(code, 0, "{name}: {stderr}");
        assert_eq!(stdout.trim_end(), want.greedy_text.trim_end(), "{name}");
        assert!(
            stderr.contains(&format!("generated {n} tokens")),
            "{stderr}"
        );
    }
}

#[test]
fn inspect_load_runs_two_steps_and_names_the_strategy() {
    require!(prereq::onnx_runtime());
    for name in FOLDERS {
        let dir = fixture(name);
        let (code, stdout, stderr) = isg(&["inspect", dir.to_str().unwrap(), "--load"]);
        assert_eq!(code, 0, "{name}: {stdout}{stderr}");
        let line = stdout
            .lines()
            .find(|l| l.starts_with("generate "))
            .unwrap_or_else(|| panic!("{name}: no generate line in {stdout}"));
        assert!(
            line.contains("ok: prefill of 11 tokens on 2 rows"),
            "{line}"
        );
        let kv = stdout.lines().find(|l| l.starts_with("kv cache ")).unwrap();
        let word = match strategy_of(name) {
            KvStrategy::InPlace => "in-place",
            KvStrategy::Growing => "growing",
        };
        assert!(kv.contains(word), "{name}: {kv}");
        // Opened again as `isg summarize` opens it by default: a tiny model fits the budget.
        let defaults = stdout.lines().find(|l| l.starts_with("defaults ")).unwrap();
        assert!(
            defaults.contains("2 sessions, 20 sequences, --max-memory 4G: fits, RSS"),
            "{name}: {defaults}"
        );
        let (code, stdout, _) = isg(&["inspect", dir.to_str().unwrap(), "--load", "--json"]);
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(v["ok"], true);
        let strategy = if word == "in-place" {
            "InPlace"
        } else {
            "Growing"
        };
        assert_eq!(v["load"]["generation"]["strategy"], strategy, "{name}");
        assert_eq!(v["load"]["default_run"]["sessions"], 2, "{name}");
        assert!(v["load"]["default_run"]["over_budget"].is_null(), "{name}");
    }
}

/// A copy of a fixture with its genai_config.json edited by `edit`.
fn with_genai_config(t: &Path, name: &str, edit: impl Fn(&mut serde_json::Value)) -> PathBuf {
    let src = fixture(name);
    let dir = t.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    let path = dir.join("genai_config.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    dir
}

#[test]
fn a_head_size_the_weights_contradict_is_refused_with_the_reason() {
    require!(prereq::onnx_runtime());
    let t = tempfile::tempdir().unwrap();
    let dir = with_genai_config(t.path(), "qwen2-genai-int4", |v| {
        v["model"]["decoder"]["head_size"] = 8.into();
    });
    let (code, stdout, stderr) = isg(&["inspect", dir.to_str().unwrap(), "--load"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("isg cannot generate with it")
            && stderr.contains("qkv_proj")
            && stderr.contains("head size 8")
            && !stderr.contains("  "),
        "{stderr}"
    );
    let (code, _, stderr) = isg(&[
        "generate",
        "--model",
        dir.to_str().unwrap(),
        "--raw",
        "hello",
    ]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("head size 8") && !stderr.contains("OrtValue"),
        "{stderr}"
    );
}

#[test]
fn a_symbolic_head_size_no_config_states_is_refused_with_the_fix() {
    require!(prereq::onnx_runtime());
    let t = tempfile::tempdir().unwrap();
    let dir = with_genai_config(t.path(), "llama-genai-fp32", |v| {
        v["model"]["decoder"]
            .as_object_mut()
            .unwrap()
            .remove("head_size");
    });
    let (code, stdout, stderr) = isg(&["inspect", dir.to_str().unwrap(), "--load"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("`kv_cache_dim`") && stderr.contains("head_size"),
        "{stderr}"
    );
}

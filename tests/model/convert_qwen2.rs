//! Qwen2.5-Coder converted by isg against independent implementations of the same GGUF:
//! Hugging Face transformers' tokenizer (the ids of a chat prompt, a fixture written by
//! `scripts/qwen2-reference.py`) and candle-transformers' quantized qwen2 (first-step logits and
//! 20 greedy steps), at 4 and 8 bits.
//!
//! The 0.5B model runs by default; the 1.5B model runs with
//! `ISG_TEST_QWEN15_GGUF=... cargo test --test model -- convert_qwen2:: --ignored`.

use crate::common;
use crate::prereq;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use common::*;
use isg::convert::{Bits, LogitsMode};
use isg::llm::ChatMessage;
use prereq::*;

/// Greedy steps compared after the prompt.
const STEPS: usize = 20;

/// The reference chat: its messages, the chat template's rendering and transformers' ids.
struct Reference {
    messages: Vec<ChatMessage>,
    prompt: String,
    ids: Vec<u32>,
}

fn reference() -> Reference {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qwen2-reference");
    let read = |f: &str| {
        let p = dir.join(f);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let messages: Vec<serde_json::Value> = serde_json::from_str(&read("messages.json")).unwrap();
    let messages = messages
        .iter()
        .map(|m| ChatMessage::new(m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
        .collect();
    Reference {
        messages,
        prompt: read("prompt.txt"),
        ids: serde_json::from_str(&read("prompt_ids.json")).unwrap(),
    }
}

/// isg's tokenizer converted from `gguf` renders the reference chat as transformers did and
/// gives transformers' ids for it.
fn check_tokenizer(gguf_path: &Path) {
    let r = reference();
    // The prompt exercises what the split pattern must get right.
    for needle in [
        "\t",
        "   \n",
        "\n\n\n",
        "\r\n",
        "12345",
        "²",
        "日本語",
        "🚀",
        "'s",
    ] {
        assert!(r.prompt.contains(needle), "fixture lost {needle:?}");
    }
    let gguf = isg::gguf::Gguf::open(gguf_path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let summary = isg::convert::tokenizer_files::write_tokenizer_files(&gguf, dir.path()).unwrap();
    assert_eq!(summary.pre_tokenizer.as_deref(), Some("qwen2"));
    let tok = isg::llm::TextTokenizer::load(dir.path()).unwrap();

    assert!(!tok.uses_fallback_chat_template());
    assert!(!tok.add_bos());
    assert_eq!(
        tok.eos_ids().first(),
        tok.token_to_id("<|im_end|>").as_ref()
    );
    assert_eq!(
        tok.apply_chat_template(&r.messages, true).unwrap(),
        r.prompt
    );
    let ids = tok.encode(&r.prompt, true).unwrap();
    if ids != r.ids {
        let at = ids.iter().zip(&r.ids).take_while(|(a, b)| a == b).count();
        panic!(
            "ids differ from position {at}: isg {:?}, transformers {:?}",
            &ids[at..(at + 8).min(ids.len())],
            &r.ids[at..(at + 8).min(r.ids.len())]
        );
    }
    assert_eq!(tok.encode_chat(&r.messages).unwrap(), r.ids);
    assert_eq!(tok.decode(&ids, false).unwrap(), r.prompt);
    eprintln!("{}: {} ids as transformers", gguf_path.display(), ids.len());
}

/// candle-transformers' quantized qwen2 on the GGUF: the logits after the prompt and after each
/// of its own greedy tokens.
struct CandleRun {
    /// `logits[i]` are the logits that choose `tokens[i]`.
    logits: Vec<Vec<f32>>,
    tokens: Vec<usize>,
}

/// candle's greedy run of the reference prompt, once per GGUF and process.
fn candle_run(gguf_path: &Path) -> Arc<CandleRun> {
    static RUNS: OnceLock<Mutex<HashMap<PathBuf, Arc<CandleRun>>>> = OnceLock::new();
    let mut runs = RUNS.get_or_init(Default::default).lock().unwrap();
    if let Some(r) = runs.get(gguf_path) {
        return r.clone();
    }
    use candle_core::quantized::gguf_file;
    use candle_core::{Device, Tensor};
    use candle_transformers::models::quantized_qwen2::ModelWeights;

    let start = Instant::now();
    let dev = Device::Cpu;
    let mut f = std::fs::File::open(gguf_path).unwrap();
    let content = gguf_file::Content::read(&mut f).unwrap();
    let mut model = ModelWeights::from_gguf(content, &mut f, &dev).unwrap();
    let forward = |model: &mut ModelWeights, ids: &[u32], pos: usize| -> Vec<f32> {
        let input = Tensor::new(ids, &dev).unwrap().unsqueeze(0).unwrap();
        model
            .forward(&input, pos)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec1()
            .unwrap()
    };
    let prompt = reference().ids;
    let mut logits = vec![forward(&mut model, &prompt, 0)];
    let mut tokens = vec![argmax(&logits[0])];
    for step in 1..STEPS {
        let next = forward(
            &mut model,
            &[tokens[step - 1] as u32],
            prompt.len() + step - 1,
        );
        tokens.push(argmax(&next));
        logits.push(next);
    }
    eprintln!(
        "candle quantized_qwen2: {} prompt tokens and {STEPS} greedy steps in {:.1} s, tokens {tokens:?}",
        prompt.len(),
        start.elapsed().as_secs_f64()
    );
    let run = Arc::new(CandleRun { logits, tokens });
    runs.insert(gguf_path.to_path_buf(), run.clone());
    run
}

/// Margin of the top logit over the runner-up.
fn top_margin(v: &[f32]) -> f32 {
    let top = argmax(v);
    let second = v
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != top)
        .map(|(_, &x)| x)
        .fold(f32::NEG_INFINITY, f32::max);
    v[top] - second
}

/// How the converted model's greedy run compares with candle's.
struct Agreement {
    /// Pearson correlation of the first-step logits.
    first_corr: f64,
    /// Largest first-step logit difference.
    first_diff: f32,
    /// The converted model's first-step top-1, and candle's.
    first_top: (usize, usize),
    /// Steps (of [`STEPS`]) where the converted model's top-1 is candle's token.
    steps_equal: usize,
    /// The first step where they differ.
    first_mismatch: Option<usize>,
    /// Steps where they differ other than by swapping their two top tokens within
    /// [`NEAR_TIE`] of each other.
    real_mismatches: usize,
}

/// Largest logit margin between two top tokens still called a tie between implementations at
/// 4 bits (requantized weights move single logits by up to 2.9; at 8 bits, by up to 0.6).
const NEAR_TIE: f32 = 1.0;

/// The runner-up's index.
fn second(v: &[f32]) -> usize {
    let top = argmax(v);
    (0..v.len()).filter(|&i| i != top).fold(usize::MAX, |b, i| {
        if b == usize::MAX || v[i] > v[b] { i } else { b }
    })
}

/// Runs the converted model at `bits` on the reference prompt, then on candle's greedy tokens
/// one at a time (so every step is compared on the same history), and prints the figures.
fn agreement(gguf_path: &Path, bits: Bits) -> Agreement {
    let expected = candle_run(gguf_path);
    let start = Instant::now();
    let dir = converted(gguf_path, bits, LogitsMode::Last);
    let converted_s = start.elapsed().as_secs_f64();
    let prompt: Vec<i64> = reference().ids.iter().map(|&i| i as i64).collect();
    let mut lm = Lm::open(&dir, 1, prompt.len() + STEPS + 4);
    let mut got = lm.prefill(&prompt, 512);
    assert_eq!(got.len(), expected.logits[0].len(), "vocabulary size");

    let first_corr = pearson(&got, &expected.logits[0]);
    let first_diff = max_abs_diff(&got, &expected.logits[0]);
    let first_top = argmax(&got);
    let (mut worst_corr, mut worst_diff) = (f64::INFINITY, 0f32);
    let (mut steps_equal, mut first_mismatch, mut real_mismatches) = (0, None, 0);
    for step in 0..STEPS {
        let want = &expected.logits[step];
        let (corr, diff) = (pearson(&got, want), max_abs_diff(&got, want));
        worst_corr = worst_corr.min(corr);
        worst_diff = worst_diff.max(diff);
        let (ours, theirs) = (argmax(&got), expected.tokens[step]);
        if ours == theirs {
            steps_equal += 1;
        } else {
            first_mismatch.get_or_insert(step);
            let swapped = second(&got) == theirs && second(want) == ours;
            if !(swapped && top_margin(&got) < NEAR_TIE && top_margin(want) < NEAR_TIE) {
                real_mismatches += 1;
            }
            eprintln!(
                "{} bits, step {step}: top-1 {ours} vs candle {theirs} (runners-up {} and {}): \
                 margins {:.3} (ours), {:.3} (candle); correlation {corr:.5}, max |Δ| {diff:.3}",
                bits.name(),
                second(&got),
                second(want),
                top_margin(&got),
                top_margin(want),
            );
        }
        if step + 1 < STEPS {
            got = lm.run(&[vec![theirs as i64]], &[true]).remove(0);
        }
    }
    eprintln!(
        "{}: {} bits (converted in {converted_s:.1} s): first step top-1 {} (candle {}, margin \
         {:.3}), correlation {first_corr:.5}, max |Δ| {first_diff:.3}; {steps_equal}/{STEPS} \
         greedy tokens equal; over all steps correlation ≥ {worst_corr:.5}, max |Δ| ≤ \
         {worst_diff:.3}",
        gguf_path.display(),
        bits.name(),
        first_top,
        expected.tokens[0],
        top_margin(&expected.logits[0]),
    );
    Agreement {
        first_corr,
        first_diff,
        first_top: (first_top, expected.tokens[0]),
        steps_equal,
        first_mismatch,
        real_mismatches,
    }
}

/// The converted model at `bits` against candle: Pearson ≥ 0.99 and the same top-1 on the
/// first step, and the same token at each of the 20 greedy steps.
fn check_candle(gguf_path: &Path, bits: Bits) {
    let a = agreement(gguf_path, bits);
    assert_eq!(
        a.first_top.0,
        a.first_top.1,
        "{} bits: first-step top-1",
        bits.name()
    );
    assert!(
        a.first_corr >= 0.99,
        "{} bits: first-step correlation {} (max |Δ| {})",
        bits.name(),
        a.first_corr,
        a.first_diff
    );
    assert_eq!(
        a.first_mismatch,
        None,
        "{} bits: {}/{STEPS} greedy tokens equal",
        bits.name(),
        a.steps_equal
    );
}

#[test]
fn qwen05_tokenizer_matches_transformers_on_a_chat_prompt() {
    let Some(gguf) = qwen_05b_gguf() else {
        return;
    };
    check_tokenizer(&gguf);
}

/// At 4 bits the converter carries Q4_0, Q4_1 and Q4_K blocks over exactly but requantizes
/// Q5_0, Q6_K and Q8_0 blocks (85% of the 0.5B GGUF's layer weights, 16% of the 1.5B's), which
/// costs accuracy. Measured (first-step correlation, greedy tokens equal): 0.5B 0.983 and 18/20,
/// 1.5B 0.9966 and 18/20; every difference was the two implementations swapping their top two
/// tokens, with margins up to 0.70. The full criteria hold at 8 bits (the default); this keeps
/// the 4-bit conversions from getting worse.
fn check_4bit(gguf_path: &Path) {
    let a = agreement(gguf_path, Bits::B4);
    assert!(
        a.first_corr >= 0.975,
        "first-step correlation {}",
        a.first_corr
    );
    assert!(
        a.steps_equal >= 17,
        "{}/{STEPS} greedy tokens equal",
        a.steps_equal
    );
    assert_eq!(a.real_mismatches, 0, "differences that are not near-ties");
}

#[test]
fn qwen05_int4_stays_close_to_candle() {
    let (Some(gguf), Some(_)) = (qwen_05b_gguf(), onnx_runtime()) else {
        return;
    };
    check_4bit(&gguf);
}

#[test]
fn qwen05_int8_agrees_with_candle_over_20_greedy_steps() {
    let (Some(gguf), Some(_)) = (qwen_05b_gguf(), onnx_runtime()) else {
        return;
    };
    check_candle(&gguf, Bits::B8);
}

/// 8-bit rows with `MatMulIntegerToFloat` (what `--bits auto` picks on CPUs with AVX-512 VNNI or AMX)
/// quantize activations per row as well as weights per row, so they are held to the 8-bit
/// criteria on the first step and to the 4-bit ones over the greedy steps.
#[test]
fn qwen05_int8_rows_agree_with_candle() {
    let (Some(gguf), Some(_)) = (qwen_05b_gguf(), onnx_runtime()) else {
        return;
    };
    let a = agreement(&gguf, Bits::I8);
    eprintln!(
        "i8: first-step correlation {} (max |Δ| {}), {}/{STEPS} greedy tokens equal",
        a.first_corr, a.first_diff, a.steps_equal
    );
    assert_eq!(a.first_top.0, a.first_top.1, "first-step top-1");
    assert!(
        a.first_corr >= 0.99,
        "first-step correlation {}",
        a.first_corr
    );
    assert!(
        a.steps_equal >= 17,
        "{}/{STEPS} greedy tokens equal",
        a.steps_equal
    );
    assert_eq!(a.real_mismatches, 0, "differences that are not near-ties");
}

/// Qwen2.5-Coder-1.5B-Instruct's GGUF from `ISG_TEST_QWEN15_GGUF` (for the opt-in tests).
fn qwen_15b_gguf() -> PathBuf {
    let p = std::env::var_os("ISG_TEST_QWEN15_GGUF")
        .map(PathBuf::from)
        .expect("set ISG_TEST_QWEN15_GGUF to qwen2.5-coder-1.5b-q4_k_m.gguf");
    assert!(
        p.is_file(),
        "ISG_TEST_QWEN15_GGUF={} is not a file",
        p.display()
    );
    p
}

#[test]
#[ignore = "needs the 1.5B GGUF in ISG_TEST_QWEN15_GGUF; about 3 GB of memory"]
fn qwen15_tokenizer_matches_transformers_on_a_chat_prompt() {
    check_tokenizer(&qwen_15b_gguf());
}

#[test]
#[ignore = "needs the 1.5B GGUF in ISG_TEST_QWEN15_GGUF; about 3 GB of memory"]
fn qwen15_int4_stays_close_to_candle() {
    require!(onnx_runtime());
    check_4bit(&qwen_15b_gguf());
}

#[test]
#[ignore = "needs the 1.5B GGUF in ISG_TEST_QWEN15_GGUF; about 4 GB of memory"]
fn qwen15_int8_agrees_with_candle_over_20_greedy_steps() {
    require!(onnx_runtime());
    check_candle(&qwen_15b_gguf(), Bits::B8);
}

/// Q4_K super-blocks (the 1.5B model's main format) become 4-bit blocks that dequantize to
/// exactly llama.cpp's values: no requantization at `--bits 4`.
#[test]
fn q4_k_blocks_carry_over_exactly_at_4_bits() {
    use isg::convert::weights::{Linear, WeightFormat, dequantize_nbits};
    use isg::gguf::GgmlType;

    let (k, n) = (512, 3);
    let mut x = 12345u64;
    let mut byte = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 56) as u8
    };
    let mut bytes = Vec::new();
    for b in 0..n * k / 256 {
        let d = half::f16::from_f32(0.001 + 0.0007 * b as f32);
        let dmin = half::f16::from_f32(0.002 + 0.0003 * b as f32);
        bytes.extend(d.to_le_bytes());
        bytes.extend(dmin.to_le_bytes());
        bytes.extend((0..140).map(|_| byte()));
    }
    let expected = isg::gguf::quant::dequantize(GgmlType::Q4K, &bytes, n * k).unwrap();
    let encoded = Linear::encode(GgmlType::Q4K, &bytes, k, n, WeightFormat::Int4, || {
        panic!("Q4_K must not pass through floats at 4 bits")
    })
    .unwrap();
    let Linear::NBits(q) = encoded else {
        panic!("expected MatMulNBits blocks");
    };
    assert_eq!(q.bits, 4);
    let got = dequantize_nbits(&q);
    let scale = expected.iter().fold(0f32, |a, &v| a.max(v.abs()));
    let d = max_abs_diff(&got, &expected);
    assert!(d <= scale * 1e-6, "max |Δ| {d} of values up to {scale}");
}

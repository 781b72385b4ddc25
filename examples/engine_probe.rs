use isg::llm::decoder::{Decoder, SessionSettings};
use isg::llm::engine::{Engine, EngineConfig, Request, StopVocab};
use isg::llm::sample::Sampling;
use std::time::Instant;

fn main() {
    isg::llm::runtime::ensure(None, false).unwrap();
    let model = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let ids: Vec<u32> = serde_json::from_str(
        &std::fs::read_to_string("/work/shared/fixtures/smollm2-llamacpp/prompt_ids.json").unwrap(),
    )
    .unwrap();
    let dec = Decoder::load(&model, &SessionSettings { threads: 0 }).unwrap();
    println!("load {:.2}s io {:?}", dec.load_seconds, dec.io());
    let eng = Engine::start(
        dec,
        StopVocab {
            eos: vec![2],
            newline: vec![],
        },
        EngineConfig {
            parallel: 20,
            prefill_chunk: 32,
            max_context: 2048,
            ..Default::default()
        },
        700 << 20,
    )
    .unwrap();
    let req = |p: Vec<u32>, n: usize| Request {
        prompt: p,
        max_new_tokens: n,
        stop_at_newline: false,
        sampling: Sampling::Greedy,
        shared_prefix: 0,
        ignore_eos: false,
    };
    let t = Instant::now();
    let alone = eng.generate(req(ids.clone(), 30)).unwrap();
    println!(
        "alone: {:?} {:?} in {:.2}s",
        alone.tokens,
        alone.finish,
        t.elapsed().as_secs_f64()
    );
    // 19 others of varied lengths
    let mut pend = vec![];
    for k in 0..20 {
        let mut p = ids.clone();
        if k > 0 {
            p.truncate(30 + k * 2);
        }
        pend.push(eng.submit(req(p, 30)));
    }
    let res: Vec<_> = pend.into_iter().map(|p| p.wait().unwrap()).collect();
    println!("batched first: {:?}", res[0].tokens);
    println!("same: {}", res[0].tokens == alone.tokens);
    println!("stats {:?}", eng.stats());
}

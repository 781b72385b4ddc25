//! `isg generate`: one completion, to check a model by hand.

use std::process::ExitCode;

use super::Global;
use isg::llm::{ChatMessage, EngineConfig, ModelSettings, Request, Sampling};

/// Flags of `isg generate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Catalog model name (see `isg models`), model folder or .onnx file (default: the default
    /// catalog model, set up on first use).
    #[arg(long, value_name = "M")]
    model: Option<String>,
    /// Which .onnx of a folder with several (e.g. model_q4).
    #[arg(long)]
    variant: Option<String>,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 128)]
    max_tokens: usize,
    /// Sampling temperature (0: greedy).
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    /// Nucleus mass for sampling.
    #[arg(long, default_value_t = 0.95)]
    top_p: f32,
    /// Seed for sampling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stop at the first line break.
    #[arg(long)]
    one_line: bool,
    /// Send the prompt as is, without the chat template.
    #[arg(long)]
    raw: bool,
    /// The user message.
    prompt: String,
}

/// Runs `isg generate`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let settings = ModelSettings {
        engine: EngineConfig {
            parallel: 1,
            max_context: 4096,
            ..EngineConfig::default()
        },
        variant: args.variant.clone(),
        ..global.model_settings()
    };
    let model = global.open_model(args.model.as_deref(), &settings)?;
    let tok = model.tokenizer();
    let prompt = if args.raw {
        tok.encode(&args.prompt, true)?
    } else {
        tok.encode_chat(&[ChatMessage::user(&args.prompt)])?
    };
    let sampling = if args.temperature > 0.0 {
        Sampling::Random {
            temperature: args.temperature,
            top_p: args.top_p,
            seed: args.seed,
        }
    } else {
        Sampling::Greedy
    };
    let out = model.engine().generate(Request {
        prompt,
        max_new_tokens: args.max_tokens,
        stop_at_newline: args.one_line,
        sampling,
        shared_prefix: 0,
        ignore_eos: false,
        stop_when: None,
    })?;
    let mut text = tok.decode(&out.tokens, true)?;
    if args.one_line {
        text = text.trim().lines().next().unwrap_or("").to_string();
    }
    println!("{}", text.trim_end());
    let decode_s = out.decode_ms / 1e3;
    eprintln!(
        "prompt {} tokens, generated {} tokens ({:?}), prefill {:.0} ms ({:.0} tok/s), decode {:.1} tok/s, load {:.2} s",
        out.prompt_tokens,
        out.tokens.len(),
        out.finish,
        out.prefill_ms,
        out.prompt_tokens as f64 / (out.prefill_ms / 1e3).max(1e-9),
        out.tokens.len() as f64 / decode_s.max(1e-9),
        model.load_seconds()
    );
    Ok(ExitCode::SUCCESS)
}

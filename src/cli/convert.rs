//! `isg convert`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::Global;
use isg::convert::width::{WidthChoice, write_record};
use isg::convert::{Bits, ConvertOptions, KvCacheType, LogitsMode};
use isg::provision::setup::auto_width;

/// Flags of `isg convert`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The GGUF model (llama or qwen2 family).
    pub model: PathBuf,
    /// The folder to write (model.onnx, model.onnx_data, configs, tokenizer).
    pub out_dir: PathBuf,
    /// Weight precision: 4 or 8 (MatMulNBits blocks of 32), i8 (8-bit rows multiplied by
    /// MatMulIntegerToFloat, activations quantized per row when the model runs), 16 or 32 (floats), or
    /// auto (4, 8 and i8 timed on this CPU, on the model's first-layer MLP, and the fastest kept;
    /// the choice, why and the timings go into OUT_DIR/isg-weights.txt; set
    /// ISG_SKIP_WIDTH_CALIBRATION=1 to pick by the CPU's features instead).
    #[arg(long, value_name = "BITS", default_value = "auto")]
    pub bits: String,
    /// Logits for the last position only, or for every position.
    #[arg(long, value_enum, default_value_t = LogitsArg::Last)]
    pub logits: LogitsArg,
    /// Element type of the KV cache.
    #[arg(long, value_enum, default_value_t = KvArg::F32)]
    pub kv_dtype: KvArg,
    /// Replace OUT_DIR if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `--logits`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum LogitsArg {
    /// `[batch, 1, vocab]`.
    Last,
    /// `[batch, sequence_length, vocab]`.
    All,
}

/// `--kv-dtype`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum KvArg {
    /// float32.
    F32,
    /// float16.
    F16,
}

/// Runs `isg convert`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let choice = match parse_bits(&args.bits)? {
        Some(bits) => WidthChoice::asked(bits),
        None => {
            if args.out_dir.exists() && !args.force {
                anyhow::bail!(
                    "{} already exists (pass --force to replace it)",
                    args.out_dir.display()
                );
            }
            // Timing needs ONNX Runtime; without it the CPU-feature rule decides (and says so).
            let _ = isg::llm::runtime::ensure(global.ort_lib.as_deref());
            auto_width(&args.model)
        }
    };
    let opts = ConvertOptions {
        bits: choice.bits,
        logits: match args.logits {
            LogitsArg::Last => LogitsMode::Last,
            LogitsArg::All => LogitsMode::All,
        },
        kv_dtype: match args.kv_dtype {
            KvArg::F32 => KvCacheType::F32,
            KvArg::F16 => KvCacheType::F16,
        },
        force: args.force,
    };
    let report = isg::convert::convert(&args.model, &args.out_dir, &opts)
        .with_context(|| format!("converting {}", args.model.display()))?;
    write_record(&args.out_dir, &choice)
        .with_context(|| format!("writing the width record into {}", args.out_dir.display()))?;
    println!("{report}");
    println!("weights {}: {}", choice.bits.describe(), choice.reason);
    if !report.tokenizer_written {
        eprintln!("note: no tokenizer files were written (tokenizer support is not built in)");
    }
    Ok(ExitCode::SUCCESS)
}

/// `--bits`: `auto` (`None`: picked for this CPU) or 4, 8, i8, 16, 32.
pub fn parse_bits(text: &str) -> anyhow::Result<Option<Bits>> {
    if text == "auto" {
        return Ok(None);
    }
    Bits::from_name(text)
        .map(Some)
        .with_context(|| format!("--bits {text} is not one of auto, 4, 8, i8, 16, 32"))
}

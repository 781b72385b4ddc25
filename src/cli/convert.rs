//! `isg convert`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::Global;
use isg::convert::{Bits, ConvertOptions, KvDtype, LogitsMode};

/// Flags of `isg convert`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The GGUF model (llama or qwen2 family).
    pub model: PathBuf,
    /// The folder to write (model.onnx, model.onnx_data, configs, tokenizer).
    pub out_dir: PathBuf,
    /// Weight precision: 4 or 8 (MatMulNBits blocks), 16 or 32 (floats).
    #[arg(long, default_value_t = isg::convert::DEFAULT_BITS.number())]
    pub bits: u32,
    /// Logits for the last position only, or for every position.
    #[arg(long, value_enum, default_value_t = LogitsArg::Last)]
    pub logits: LogitsArg,
    /// Element type of the KV cache.
    #[arg(long, value_enum, default_value_t = KvArg::F32)]
    pub kv_dtype: KvArg,
    /// Replace OUT_DIR if it exists.
    #[arg(long)]
    pub force: bool,
    /// How 8-bit matrices are multiplied: `nbits` (MatMulNBits blocks of 32) or `integer`
    /// (8-bit rows with MatMulInteger, activations quantized per row when the model runs).
    #[arg(long, value_enum, default_value_t = MatmulArg::Nbits)]
    pub matmul: MatmulArg,
}

/// `--matmul`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulArg {
    /// MatMulNBits blocks.
    Nbits,
    /// MatMulInteger on 8-bit rows.
    Integer,
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
pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let bits = Bits::from_number(args.bits)
        .with_context(|| format!("--bits {} is not one of 4, 8, 16, 32", args.bits))?;
    if args.matmul == MatmulArg::Integer && bits != Bits::B8 {
        anyhow::bail!("--matmul integer needs --bits 8 (it stores 8-bit rows)");
    }
    let opts = ConvertOptions {
        integer_matmul: args.matmul == MatmulArg::Integer,
        bits,
        logits: match args.logits {
            LogitsArg::Last => LogitsMode::Last,
            LogitsArg::All => LogitsMode::All,
        },
        kv_dtype: match args.kv_dtype {
            KvArg::F32 => KvDtype::F32,
            KvArg::F16 => KvDtype::F16,
        },
        force: args.force,
    };
    let report = isg::convert::convert(&args.model, &args.out_dir, &opts)
        .with_context(|| format!("converting {}", args.model.display()))?;
    println!("{report}");
    if !report.tokenizer_written {
        eprintln!("note: no tokenizer files were written (tokenizer support is not built in)");
    }
    Ok(ExitCode::SUCCESS)
}

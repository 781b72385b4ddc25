//! `isg map`: prints the rolled-up tree of an output folder cut to a token budget, counted with
//! the model's tokenizer, for pasting into an agent's context.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::Global;
use isg::output::{DEFAULT_MAP_TOKENS, MapFormat, importance, render_map};
use isg::output::{RUN_FILE, SUMMARIES_FILE, read_records, read_report};
use isg::run::DEFAULT_OUT_DIR;

/// Output formats of `isg map`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An indented Markdown list.
    Md,
    /// One JSON object.
    Json,
}

/// Flags of `isg map`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The output folder of `isg summarize` or `isg merge`.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_OUT_DIR)]
    pub out: PathBuf,
    /// The budget in tokens of the model's tokenizer.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAP_TOKENS)]
    pub tokens: usize,
    /// Markdown or JSON.
    #[arg(long, value_enum, default_value_t = Format::Md)]
    pub format: Format,
    /// A model folder (or its `tokenizer.json`) whose tokenizer counts the tokens; default: the
    /// model named in run.json, in isg's model cache.
    #[arg(long, value_name = "M")]
    pub model: Option<PathBuf>,
}

/// Runs `isg map`.
pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let report = read_report(&args.out.join(RUN_FILE)).with_context(|| {
        format!(
            "reading the output folder {}; run `isg summarize PATH --out {}` first",
            args.out.display(),
            args.out.display()
        )
    })?;
    let records = read_records(&args.out.join(SUMMARIES_FILE))?;
    let tokenizer_path = tokenizer_file(args.model.as_deref(), &report.model)?;
    let tokenizer = tokenizers::Tokenizer::from_file(&tokenizer_path)
        .map_err(|e| anyhow::anyhow!("loading the tokenizer {}: {e}", tokenizer_path.display()))?;
    let count = |text: &str| {
        tokenizer
            .encode(text, false)
            .map_or(usize::MAX, |e| e.len())
    };
    let imp = importance(Path::new(&report.root), &records);
    let format = match args.format {
        Format::Md => MapFormat::Markdown,
        Format::Json => MapFormat::Json,
    };
    let map = render_map(&records, &report, &imp, args.tokens, format, &count);
    print!("{}", map.text);
    eprintln!(
        "isg: map of {} tokens (budget {}, tokenizer {}): {} directory, {} file, {} chunk lines \
         shown; {} directory, {} file, {} chunk lines left out",
        map.tokens,
        args.tokens,
        tokenizer_path.display(),
        map.shown.dirs,
        map.shown.files,
        map.shown.chunks,
        map.left_out.dirs,
        map.left_out.files,
        map.left_out.chunks
    );
    if map.tokens > args.tokens {
        eprintln!(
            "error: even the root line takes {} tokens, more than --tokens {}",
            map.tokens, args.tokens
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The `tokenizer.json` to count with: `--model` (a folder, a `.onnx` file in it, or the
/// tokenizer file itself), else the folder of the model id `name-<hash>` under isg's models.
fn tokenizer_file(model: Option<&Path>, model_id: &str) -> anyhow::Result<PathBuf> {
    if let Some(m) = model {
        if m.is_file() && m.file_name().is_some_and(|n| n == "tokenizer.json") {
            return Ok(m.to_path_buf());
        }
        let dir = if m.is_file() {
            m.parent().unwrap_or(m)
        } else {
            m
        };
        for d in [Some(dir), dir.parent()].into_iter().flatten() {
            let t = d.join("tokenizer.json");
            if t.is_file() {
                return Ok(t);
            }
        }
        bail!(
            "{} holds no tokenizer.json; pass the model folder with --model",
            m.display()
        );
    }
    let name = match model_id.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name
        }
        _ => model_id,
    };
    let t = isg::provision::cache_dir()
        .join("models")
        .join(name)
        .join("tokenizer.json");
    if t.is_file() {
        return Ok(t);
    }
    bail!(
        "the output was made by model {model_id:?}, whose tokenizer is not at {}; pass the model \
         folder with --model",
        t.display()
    )
}

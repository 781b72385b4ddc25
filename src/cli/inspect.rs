//! `isg inspect`: describe a model and say whether it will load; with `--load`, really load it
//! and run a two-step generation (a short prefill on two rows, one batched decode step) the way
//! the engine will, printing which cache strategy isg uses.
//!
//! With `--load` it then opens the model as `isg summarize` does with its default settings (two
//! sessions, 20 sequences, `--max-memory 4G`) and says whether that fits the memory budget: a
//! model too large for the defaults gets a warning with the flag that fixes it.
//!
//! Exit status: 0 when the model is fine, 1 with one line per verdict when it is broken (or ONNX
//! Runtime refuses it, or isg cannot generate with it, under `--load`), 2 for usage errors.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use isg::onnx::{self, ModelReport, Verdict};
use serde::Serialize;

use super::Global;

/// Flags of `isg inspect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A `.onnx` file or a model folder.
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// Which `.onnx` of a folder with several, e.g. `model_q4` or `onnx/model_fp16`.
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// Also create an ONNX Runtime session from the file, report load time and memory, and run a
    /// two-step generation with isg's engine (prints the cache strategy).
    #[arg(long)]
    pub load: bool,
}

/// What `--load` measured.
#[derive(Debug, Serialize)]
struct LoadOutcome {
    /// ONNX Runtime library used.
    ort_library: PathBuf,
    /// Its version.
    ort_version: String,
    /// Seconds to create the session.
    seconds: f64,
    /// Resident memory after loading, bytes.
    rss_bytes: Option<u64>,
    /// Peak resident memory of the process, bytes.
    peak_rss_bytes: Option<u64>,
    /// ONNX Runtime's message when it failed.
    error: Option<String>,
    /// The two-step generation, when the session loaded and isg can drive it.
    generation: Option<isg::llm::Probe>,
    /// Why isg cannot generate with the model, with the fix.
    cannot_generate: Option<String>,
    /// Opening the model with `isg summarize`'s default settings, when the generation worked.
    default_run: Option<DefaultRun>,
}

/// What opening the model with `isg summarize`'s default settings gave.
#[derive(Debug, Serialize)]
struct DefaultRun {
    /// Sessions and sequences the defaults ask for, and the budget.
    sessions: usize,
    parallel: usize,
    max_memory_bytes: u64,
    /// Resident memory with those sessions loaded, bytes.
    rss_bytes: Option<u64>,
    /// The default budget cannot hold the model (a warning: a larger `--max-memory` fixes it).
    over_budget: Option<String>,
    /// Opening failed for another reason (an error: `isg summarize` would fail).
    error: Option<String>,
}

/// The `--json` output: the report's fields, then the outcome.
#[derive(Serialize)]
struct JsonOut<'a> {
    /// The path inspected, when no report could be made.
    #[serde(skip_serializing_if = "Option::is_none")]
    model_path: Option<&'a Path>,
    /// The verdicts, when no report could be made (otherwise they are in the report).
    #[serde(skip_serializing_if = "Option::is_none")]
    verdicts: Option<&'a [Verdict]>,
    #[serde(flatten)]
    report: Option<&'a ModelReport>,
    /// Whether the model is fine (and loaded, under `--load`).
    ok: bool,
    /// One line per verdict.
    problems: Vec<String>,
    /// What `--load` measured.
    load: Option<&'a LoadOutcome>,
}

/// Runs `isg inspect`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let (onnx_path, report, verdicts) =
        match onnx::locate_model(&args.model, args.variant.as_deref()) {
            Err(Verdict::VariantWithFile { .. }) => anyhow::bail!(
                "--variant only applies to a model folder, and {} is a file",
                args.model.display()
            ),
            Err(v) => (None, None, vec![v]),
            Ok(loc) => match onnx::inspect_location(&loc) {
                Ok(report) => {
                    let verdicts = report.verdicts.clone();
                    (Some(loc.onnx), Some(report), verdicts)
                }
                Err(e) => (Some(loc.onnx), e.report.map(|r| *r), e.verdicts),
            },
        };
    let load = match (&onnx_path, args.load) {
        (Some(path), true) => Some(load(global, path)?),
        _ => None,
    };
    let load = match load {
        Some(mut l) if l.generation.is_some() => {
            l.default_run = Some(default_run(global, &args.model, args.variant.as_deref()));
            Some(l)
        }
        other => other,
    };
    let load_failed = load.as_ref().is_some_and(|l| {
        l.error.is_some()
            || l.cannot_generate.is_some()
            || l.default_run.as_ref().is_some_and(|d| d.error.is_some())
    });
    let broken = !verdicts.is_empty() || load_failed;

    if args.json {
        let mut problems: Vec<String> = verdicts.iter().map(ToString::to_string).collect();
        problems.extend(load.as_ref().and_then(|l| l.cannot_generate.clone()));
        problems.extend(
            load.as_ref()
                .and_then(|l| l.default_run.as_ref())
                .and_then(|d| d.error.clone()),
        );
        let out = JsonOut {
            model_path: report
                .is_none()
                .then_some(onnx_path.as_deref().unwrap_or(&args.model)),
            verdicts: report.is_none().then_some(&verdicts[..]),
            report: report.as_ref(),
            ok: !broken,
            problems,
            load: load.as_ref(),
        };
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut stdout, &out)?;
        writeln!(stdout)?;
    } else {
        if let Some(r) = &report {
            print!("{r}");
        }
        if let Some(l) = &load {
            print_load(l);
        }
        print_diagnosis(&verdicts, load.as_ref(), onnx_path.as_deref());
    }
    Ok(if broken {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints isg's verdicts, then ONNX Runtime's own message under them.
fn print_diagnosis(verdicts: &[Verdict], load: Option<&LoadOutcome>, onnx: Option<&Path>) {
    let mut err = std::io::stderr().lock();
    for v in verdicts.iter() {
        let _ = writeln!(err, "error: {v}");
    }
    if let Some(msg) = load.and_then(|l| l.cannot_generate.as_deref()) {
        let _ = writeln!(err, "error: {msg}");
    }
    if let Some(d) = load.and_then(|l| l.default_run.as_ref()) {
        if let Some(msg) = &d.error {
            let _ = writeln!(err, "error: with the default settings: {msg}");
        }
        if let Some(msg) = &d.over_budget {
            let _ = writeln!(
                err,
                "warning: `isg summarize` with the default settings would refuse it: {msg}"
            );
        }
    }
    if let Some(msg) = load.and_then(|l| l.error.as_deref()) {
        if verdicts.is_empty() {
            let _ = writeln!(
                err,
                "error: {}: ONNX Runtime refused the model although isg's checks found nothing wrong",
                onnx.map(|p| p.display().to_string()).unwrap_or_default()
            );
        }
        let _ = writeln!(err, "  ONNX Runtime said: {}", msg.trim());
    }
}

fn print_load(l: &LoadOutcome) {
    let mb = |b: Option<u64>| {
        b.map(|b| format!("{} MB", onnx::thousands(b / 1_000_000)))
            .unwrap_or_else(|| "?".into())
    };
    let status = if l.error.is_some() { "failed" } else { "ok" };
    println!(
        "{:<13}{status} in {:.3} s, RSS {}, peak {} (ONNX Runtime {} from {})",
        "load",
        l.seconds,
        mb(l.rss_bytes),
        mb(l.peak_rss_bytes),
        l.ort_version,
        l.ort_library.display()
    );
    if let Some(g) = &l.generation {
        let tokens: Vec<String> = g
            .tokens
            .iter()
            .map(|t| format!("{} {}", t[0], t[1]))
            .collect();
        println!(
            "{:<13}ok: prefill of {} tokens on 2 rows, 1 batched decode step in {:.0} ms (greedy tokens: {})",
            "generate",
            g.prefill_tokens,
            g.ms,
            tokens.join(" | ")
        );
        println!("{:<13}{}", "kv cache", g.strategy.describe());
        if let Some(d) = &l.default_run {
            let budget = if d.max_memory_bytes % (1 << 30) == 0 {
                format!("{}G", d.max_memory_bytes >> 30)
            } else {
                format!("{}M", d.max_memory_bytes >> 20)
            };
            let settings = format!(
                "{} sessions, {} sequences, --max-memory {budget}",
                d.sessions, d.parallel
            );
            let verdict = if d.error.is_some() {
                "failed (see below)".to_string()
            } else if d.over_budget.is_some() {
                "over budget (see below)".to_string()
            } else {
                format!("fits, RSS {}", mb(d.rss_bytes))
            };
            println!("{:<13}{settings}: {verdict}", "defaults");
        }
    } else if l.cannot_generate.is_some() {
        println!("{:<13}failed", "generate");
    }
}

/// Creates an ONNX Runtime session from the file path, so external data resolves as it will
/// when isg runs the model.
fn load(global: &Global, onnx_path: &Path) -> anyhow::Result<LoadOutcome> {
    let rt = isg::provision::ensure_runtime(global.ort_lib.as_deref())
        .context("--load needs ONNX Runtime")?;
    isg::llm::device::ensure(global.device)?;
    let start = Instant::now();
    let result = isg::llm::open_session(onnx_path, global.device);
    let seconds = start.elapsed().as_secs_f64();
    let (rss_bytes, peak_rss_bytes) = (
        isg::process::resident_bytes(),
        isg::process::peak_resident_bytes(),
    );
    let (error, generation, cannot_generate) = match result {
        Err(e) => (Some(e), None, None),
        Ok(session) => match generate_twice(session, onnx_path) {
            Ok(g) => (None, Some(g), None),
            Err(why) => (None, None, Some(why)),
        },
    };
    Ok(LoadOutcome {
        ort_library: rt.library.clone(),
        ort_version: rt.version.clone(),
        seconds,
        rss_bytes,
        peak_rss_bytes,
        error,
        generation,
        cannot_generate,
        default_run: None,
    })
}

/// Opens the model the way `isg summarize` does with its default settings and reports whether
/// the default memory budget holds it.
fn default_run(global: &Global, model: &Path, variant: Option<&str>) -> DefaultRun {
    use isg::run::DEFAULT_SESSIONS;
    let mut settings = global.model_settings();
    settings.engine.parallel = isg::llm::EngineConfig::default().parallel;
    settings.sessions = DEFAULT_SESSIONS;
    settings.variant = variant.map(str::to_string);
    let mut run = DefaultRun {
        sessions: DEFAULT_SESSIONS,
        parallel: settings.engine.parallel,
        max_memory_bytes: settings.engine.max_memory,
        rss_bytes: None,
        over_budget: None,
        error: None,
    };
    match isg::llm::Model::open(model, &settings) {
        Ok(opened) => {
            run.rss_bytes = isg::process::resident_bytes();
            drop(opened);
        }
        Err(e) => match e.downcast_ref::<isg::llm::MemoryBudgetError>() {
            Some(budget) => run.over_budget = Some(budget.to_string()),
            None => run.error = Some(format!("{e:#}")),
        },
    }
    run
}

/// Hands the session to isg's decoder and runs the two-step generation; the error is one line
/// with the reason and the fix.
fn generate_twice(
    session: isg::llm::OpenedSession,
    onnx_path: &Path,
) -> Result<isg::llm::Probe, String> {
    use isg::llm::{DecoderError, ProbeError};
    let fix = "export it with ONNX Runtime GenAI's model builder (onnxruntime-genai 0.15 or later) or \
               with optimum (`optimum-cli export onnx --task text-generation-with-past`), or \
               convert a GGUF with `isg convert`";
    session.probe().map_err(|e| match e {
        ProbeError::Open(DecoderError::Unsupported { path, reason }) => {
            format!("{path}: isg cannot generate with it: {reason} ({fix})")
        }
        ProbeError::Open(other) => format!("{}: {other}", onnx_path.display()),
        ProbeError::Run(e) => format!(
            "{}: a two-step generation failed, so `isg generate` would too: {e} ({fix})",
            onnx_path.display()
        ),
    })
}

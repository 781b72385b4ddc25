//! `isg eval`: score the summarize pipeline against the module docs of a source tree, or score
//! a predictions file written by any tool.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::Global;
use super::run_args::RunArgs;
use isg::eval::{self, EvalReport, Means};

/// Flags of `isg eval`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The source tree whose documented files are summarized and scored.
    #[arg(required_unless_present = "predictions")]
    pub path: Option<PathBuf>,
    /// Work folder: `inputs/` (the files without their docs) and `run/` (the summarize
    /// outputs and cache, so a rerun only scores). Default: a temporary folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print every file's reference, summary and scores.
    #[arg(long)]
    pub per_file: bool,
    /// Also write the report (per file and means) as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Score this predictions file (`{"path", "summary"}` per line) against `--references`
    /// instead of running a model.
    #[arg(long, value_name = "FILE", requires = "references")]
    pub predictions: Option<PathBuf>,
    /// References (`{"path", "reference"}` per line): for `--predictions`, or with PATH to
    /// summarize a tree whose docs are already removed (such as a development set's `inputs/`)
    /// and score those paths.
    #[arg(long, value_name = "FILE")]
    pub references: Option<PathBuf>,
    /// The prompt design to evaluate (see the designs in `pipeline::prompt`).
    #[arg(long, value_name = "NAME", default_value = isg::run::DEFAULT_DESIGN)]
    pub design: String,
    /// Model, engine and prompt flags (as for `isg summarize`).
    #[command(flatten)]
    pub run: RunArgs,
}

/// Runs `isg eval`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if let (Some(preds), Some(refs)) = (&args.predictions, &args.references) {
        return score_file(&args, preds, refs);
    }
    let root = args
        .path
        .clone()
        .context("give a source tree to evaluate, or --predictions with --references")?;
    let mut settings = args.run.settings(root);
    settings.design = args.design.clone();
    let temp;
    let work = match &args.out {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::tempdir().context("creating a temporary work folder")?;
            temp.path().to_path_buf()
        }
    };
    let model = global.open_model(args.run.model.as_deref(), &args.run.model_settings(global))?;
    let report = match &args.references {
        Some(refs) => eval::evaluate_against(&model, &settings, refs, &work),
        None => eval::evaluate(&model, &settings, &work),
    }
    .with_context(|| format!("evaluating {}", settings.walk.root.display()))?;
    if args.per_file {
        for f in &report.files {
            print_case(&f.summary, Some(&f.baseline));
            if let Some(s) = report.file_shares.get(&f.summary.path) {
                println!("  {}", shares_line(s));
            }
        }
    }
    print_means(&report.summaries, &report.baseline);
    println!("{}", shares_line(&report.shares));
    println!(
        "prompt tokens per chunk {:.0} (second attempts {:.0}); predictions in {}",
        report.run.totals.prompt_tokens as f64 / report.run.totals.computed.max(1) as f64,
        report.run.totals.retry_prompt_tokens as f64 / report.run.totals.computed.max(1) as f64,
        work.join(eval::PREDICTIONS_FILE).display()
    );
    eprintln!(
        "isg: {} files in {:.1}s; model {}, prompt version {}",
        report.files.len(),
        report.run.totals.wall_seconds,
        report.run.model,
        report.run.prompt_version
    );
    if let Some(path) = &args.json {
        write_json(path, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `--predictions` with `--references`: scores a file, with the baseline beside it.
fn score_file(args: &Args, preds: &Path, refs: &Path) -> anyhow::Result<ExitCode> {
    let references = eval::read_pairs(refs, "reference")?;
    let predictions: HashMap<String, String> =
        eval::read_pairs(preds, "summary")?.into_iter().collect();
    let baseline: HashMap<String, String> = references
        .iter()
        .map(|(p, _)| (p.clone(), eval::file_name_summary(p)))
        .collect();
    let scores = eval::score_all(&references, &predictions);
    let base = eval::score_all(&references, &baseline);
    if args.per_file {
        for (s, b) in scores.iter().zip(&base) {
            print_case(s, Some(b));
        }
    }
    print_means(&eval::means(&scores), &eval::means(&base));
    if let Some(path) = &args.json {
        let v = serde_json::json!({ "files": scores, "baseline_files": base,
            "summaries": eval::means(&scores), "baseline": eval::means(&base) });
        std::fs::write(path, serde_json::to_string_pretty(&v)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_case(s: &eval::CaseScore, baseline: Option<&eval::CaseScore>) {
    println!("{}  chrF {:5.1}  ROUGE-L {:5.1}", s.path, s.chrf, s.rouge_l);
    println!("   ref: {}", s.reference);
    println!("   got: {}", s.summary);
    if let Some(b) = baseline {
        println!(
            "  base: {}  chrF {:5.1}  ROUGE-L {:5.1}",
            b.summary, b.chrf, b.rouge_l
        );
    }
}

fn print_means(summaries: &Means, baseline: &Means) {
    println!(
        "files {}  covered {}  chrF {:.1}  ROUGE-L {:.1}  |  file-name baseline: chrF {:.1}  ROUGE-L {:.1}",
        summaries.cases,
        summaries.covered,
        summaries.chrf,
        summaries.rouge_l,
        baseline.chrf,
        baseline.rouge_l
    );
}

/// "chunks 61  fallback 3.3%  distinct 98.4%  boilerplate 0.0%  grounded 100.0%  retried 8.2%".
fn shares_line(s: &eval::Shares) -> String {
    format!(
        "chunks {}  fallback {:.1}%  distinct {:.1}%  boilerplate {:.1}%  grounded {:.1}%  retried {:.1}%",
        s.chunks,
        100.0 * s.fallback,
        100.0 * s.distinct,
        100.0 * s.boilerplate,
        100.0 * s.grounded,
        100.0 * s.retried
    )
}

fn write_json(path: &Path, report: &EvalReport) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(report)? + "\n";
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

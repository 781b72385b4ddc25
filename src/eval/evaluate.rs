//! The evaluation run: module docs out, the product's summarize pipeline over the stripped
//! files, scores in.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::EvalError;
use super::baseline::file_name_summary;
use super::cases::{EvalCase, MIN_REFERENCE_WORDS, collect_cases, write_inputs};
use super::score::{CaseScore, Means, means, read_pairs, score_case};
use super::shares::{Shares, shares, shares_per_file};
use crate::output::{SUMMARIES_FILE, read_records};
use crate::pipeline::summarize;
use crate::record::{RunReport, SummaryRecord};
use crate::run::{Backend, SummarizeSettings};

/// Where an evaluation writes: `inputs/` (the stripped files) and `run/` (the summarize
/// outputs and its cache, so a rerun with the same settings only scores).
pub const INPUTS_DIR: &str = "inputs";
/// See [`INPUTS_DIR`].
pub const RUN_DIR: &str = "run";
/// The predictions file an evaluation writes in its work folder (`{"path", "summary"}` per
/// line, each file's first chunk), for `score.sh` or `isg eval --predictions`.
pub const PREDICTIONS_FILE: &str = "preds.jsonl";

/// One file's summary and the baseline, both scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileResult {
    /// The summary the pipeline wrote for the file's first chunk.
    pub summary: CaseScore,
    /// The file-name baseline.
    pub baseline: CaseScore,
}

/// What an evaluation found.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// The evaluated tree.
    pub root: PathBuf,
    /// Per file, in path order.
    pub files: Vec<FileResult>,
    /// Means of the summaries.
    pub summaries: Means,
    /// Means of the file-name baseline.
    pub baseline: Means,
    /// Shares over every chunk line of the run.
    pub shares: Shares,
    /// The same per file.
    pub file_shares: std::collections::BTreeMap<String, Shares>,
    /// The summarize run over the stripped files.
    pub run: RunReport,
}

/// Finds the files under `settings.walk.root` that have a module doc, writes them without it
/// to `work_dir/inputs`, summarizes that tree with `settings` (its root and output folder are
/// replaced by `work_dir/inputs` and `work_dir/run`) and scores each file's summary against its
/// doc's first sentence, beside the file-name baseline.
pub fn evaluate(
    backend: &dyn Backend,
    settings: &SummarizeSettings,
    work_dir: &Path,
) -> Result<EvalReport, EvalError> {
    let root = settings.walk.root.clone();
    let cases = collect_cases(&settings.walk)?;
    if cases.is_empty() {
        return Err(EvalError::NoCases(root, MIN_REFERENCE_WORDS));
    }
    let inputs = work_dir.join(INPUTS_DIR);
    if inputs.exists() {
        std::fs::remove_dir_all(&inputs).map_err(|e| EvalError::io("remove", &inputs, e))?;
    }
    write_inputs(&cases, &inputs)?;
    let mut run_settings = settings.clone();
    run_settings.walk.root = inputs;
    run_settings.out_dir = work_dir.join(RUN_DIR);
    let run = summarize(backend, &run_settings)?;
    report(root, &cases, run, &run_settings.out_dir, work_dir)
}

/// Summarizes `settings.walk.root` as it is (a tree whose docs are already stripped, such as
/// the development set's `inputs/`) into `work_dir/run` and scores each path of `references`
/// (`{"path", "reference"}` per line, paths relative to the root) by its first chunk's line.
pub fn evaluate_against(
    backend: &dyn Backend,
    settings: &SummarizeSettings,
    references: &Path,
    work_dir: &Path,
) -> Result<EvalReport, EvalError> {
    let root = settings.walk.root.clone();
    let cases: Vec<EvalCase> = read_pairs(references, "reference")?
        .into_iter()
        .map(|(path, reference)| EvalCase {
            language: crate::source::Language::from_path(Path::new(&path))
                .unwrap_or(crate::source::Language::Text),
            path,
            reference,
            stripped: String::new(),
        })
        .collect();
    if cases.is_empty() {
        return Err(EvalError::NoCases(
            references.to_path_buf(),
            MIN_REFERENCE_WORDS,
        ));
    }
    let mut run_settings = settings.clone();
    run_settings.out_dir = work_dir.join(RUN_DIR);
    let run = summarize(backend, &run_settings)?;
    report(root, &cases, run, &run_settings.out_dir, work_dir)
}

/// Scores a finished run's records and writes the predictions file.
fn report(
    root: PathBuf,
    cases: &[EvalCase],
    run: RunReport,
    out_dir: &Path,
    work_dir: &Path,
) -> Result<EvalReport, EvalError> {
    // Chunk lines are what is scored; file, directory and root lines are rolled up from them.
    let mut records = read_records(&out_dir.join(SUMMARIES_FILE))?;
    records.retain(|r| r.kind == crate::record::Kind::Chunk);
    let firsts = first_summaries(&records);
    let files = score_cases(cases, &firsts);
    let preds: String = cases
        .iter()
        .map(|c| {
            let s = firsts.get(&c.path).map(String::as_str).unwrap_or("");
            format!("{}\n", serde_json::json!({"path": c.path, "summary": s}))
        })
        .collect();
    let preds_path = work_dir.join(PREDICTIONS_FILE);
    std::fs::write(&preds_path, preds).map_err(|e| EvalError::io("write", &preds_path, e))?;
    Ok(EvalReport {
        root,
        summaries: means(&files.iter().map(|f| f.summary.clone()).collect::<Vec<_>>()),
        baseline: means(&files.iter().map(|f| f.baseline.clone()).collect::<Vec<_>>()),
        shares: shares(&records),
        file_shares: shares_per_file(&records),
        files,
        run,
    })
}

/// Each file's summary of its first chunk (the one that starts first).
pub fn first_summaries(records: &[SummaryRecord]) -> HashMap<String, String> {
    let mut best: HashMap<&str, &SummaryRecord> = HashMap::new();
    for r in records
        .iter()
        .filter(|r| r.kind == crate::record::Kind::Chunk)
    {
        let e = best.entry(&r.path).or_insert(r);
        if r.start_line < e.start_line {
            *e = r;
        }
    }
    best.into_iter()
        .map(|(p, r)| (p.to_string(), r.summary.clone()))
        .collect()
}

/// Scores every case's summary and baseline.
pub fn score_cases(cases: &[EvalCase], summaries: &HashMap<String, String>) -> Vec<FileResult> {
    cases
        .iter()
        .map(|c| {
            let s = summaries.get(&c.path).map(String::as_str).unwrap_or("");
            FileResult {
                summary: score_case(&c.path, &c.reference, s),
                baseline: score_case(&c.path, &c.reference, &file_name_summary(&c.path)),
            }
        })
        .collect()
}

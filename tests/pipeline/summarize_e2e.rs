//! `isg summarize` end to end with the real default model on a slice of the tokio crate: the
//! outputs' structure and one-line summaries, and resuming after SIGKILL with exactly one record
//! per chunk and no cached chunk computed again.
//!
//! These tests run the `isg` binary on the default catalog model (or `$ISG_TEST_MODEL`), set up
//! through the same path as `isg setup` before the binary starts. When the model or the tokio
//! crate cannot be had they are skipped, except under `CI=true`, where they fail (see
//! [`prereq`]).

use crate::prereq;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use isg::record::{Kind, SummaryRecord};

/// The chunk records of an output folder (file, directory and root lines are rolled up from
/// them and tested on their own).
fn read_records(path: &std::path::Path) -> Result<Vec<SummaryRecord>, isg::record::PipelineError> {
    Ok(isg::output::read_records(path)?
        .into_iter()
        .filter(|r| r.kind == Kind::Chunk)
        .collect())
}

fn isg() -> Command {
    Command::new(env!("CARGO_BIN_EXE_isg"))
}

fn summarize_args(tokio: &Path, model: &Path, out: &Path, include: &str) -> Vec<String> {
    vec![
        "summarize".into(),
        tokio.display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--include".into(),
        include.into(),
        "--quiet".into(),
        "--model".into(),
        model.display().to_string(),
    ]
}

fn keys(records: &[isg::record::SummaryRecord]) -> Vec<(String, usize)> {
    records
        .iter()
        .map(|r| (r.path.clone(), r.start_line))
        .collect()
}

#[test]
fn summarizes_a_tokio_slice() {
    let tokio = require!(prereq::tokio_source());
    let model = require!(prereq::catalog_model());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let status = isg()
        .args(summarize_args(&tokio, &model, &out, "src/time/**"))
        .status()
        .unwrap();
    assert!(status.success(), "{status}");

    let records = read_records(&out.join("summaries.jsonl")).unwrap();
    assert!(records.len() >= 5, "{}", records.len());
    let mut sorted = keys(&records);
    sorted.sort();
    assert_eq!(keys(&records), sorted, "source order");
    let distinct: BTreeSet<_> = sorted.iter().collect();
    assert_eq!(distinct.len(), records.len(), "one record per chunk");
    let mut with_text = 0;
    for r in &records {
        assert!(r.path.starts_with("src/time/"), "{}", r.path);
        assert!(r.error.is_none(), "{r:?}");
        assert!(
            !r.summary.contains('\n') && !r.summary.contains('`'),
            "{r:?}"
        );
        assert!(r.summary.len() < 400, "{r:?}");
        // A file of one chunk with a module doc takes its line from the doc, with no request.
        assert!(
            (r.prompt_tokens > 0 && r.generated_tokens > 0)
                || (r.origin.as_deref() == Some("module_doc") && r.prompt_tokens == 0),
            "{r:?}"
        );
        assert!(!r.model.is_empty() && r.hash.len() == 64);
        if !r.summary.is_empty() {
            with_text += 1;
        }
    }
    assert!(
        with_text * 10 >= records.len() * 8,
        "{with_text} of {}",
        records.len()
    );

    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["totals"]["chunks"], records.len());
    assert!(run["totals"]["prefill_tok_s"].as_f64().unwrap() > 0.0);
    assert!(run["totals"]["peak_rss_bytes"].as_u64().unwrap() > 0);
    let md = std::fs::read_to_string(out.join("SUMMARY.md")).unwrap();
    assert!(md.contains("- **time/**"), "{md}");
    // A file of one chunk shows its line once, on the file; every other chunk has its own.
    let one_chunk_files = records
        .iter()
        .filter(|r| records.iter().filter(|o| o.path == r.path).count() == 1)
        .count();
    assert_eq!(
        md.lines()
            .filter(|l| l.trim_start().starts_with("- L"))
            .count(),
        records.len() - one_chunk_files
    );
}

#[test]
fn resumes_after_sigkill() {
    let tokio = require!(prereq::tokio_source());
    let model = require!(prereq::catalog_model());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let args = summarize_args(&tokio, &model, &out, "src/time/**");
    let cache = out.join(".isg-cache/cache.jsonl");

    let mut child = isg().args(&args).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    let lines = |p: &Path| {
        std::fs::read_to_string(p)
            .map(|t| t.matches('\n').count())
            .unwrap_or(0)
    };
    while lines(&cache) < 4 {
        assert!(Instant::now() < deadline, "no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // What the killed run left: one record per finished chunk, none twice.
    let partial = read_records(&out.join("summaries.jsonl")).unwrap();
    let distinct: BTreeSet<_> = keys(&partial).into_iter().collect();
    assert_eq!(distinct.len(), partial.len());
    let done_before = lines(&cache);

    let status = isg().args(&args).status().unwrap();
    assert!(status.success(), "{status}");
    let records = read_records(&out.join("summaries.jsonl")).unwrap();
    let distinct: BTreeSet<_> = keys(&records).into_iter().collect();
    assert_eq!(
        distinct.len(),
        records.len(),
        "exactly one record per chunk"
    );
    for p in &partial {
        let r = records
            .iter()
            .find(|r| r.path == p.path && r.start_line == p.start_line)
            .unwrap();
        // Lines taken from a module doc are read again, never asked of the model.
        assert!(
            r.cached || r.origin.is_some(),
            "{}:{} was computed again",
            r.path,
            r.start_line
        );
        assert_eq!(r.summary, p.summary);
    }
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert!(run["totals"]["cached"].as_u64().unwrap() as usize >= done_before.min(partial.len()));
    assert_eq!(
        run["totals"]["cached"].as_u64().unwrap() + run["totals"]["computed"].as_u64().unwrap(),
        records.len() as u64
    );
    // The cache gained exactly what this run asked the model: chunk lines (not those taken
    // from module docs) and rolled-up lines.
    assert_eq!(
        lines(&cache),
        done_before + run["totals"]["computed"].as_u64().unwrap() as usize
            - run["totals"]["authored"].as_u64().unwrap() as usize
            + run["rollup"]["computed"].as_u64().unwrap() as usize
    );
}

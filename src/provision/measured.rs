//! The figures measured for the catalog's models, as `scripts/measure-models.sh` last wrote
//! them into `measurements.json` beside this file: summary quality on the development set and
//! engine speed, each with what it was measured with (prompt and roll-up versions, weight
//! width, date, CPU and its flags), so `isg models` can tell current figures from stale ones.

use serde::{Deserialize, Serialize};

/// The measurements file, compiled in.
const MEASUREMENTS_JSON: &str = include_str!("measurements.json");

/// One model measured once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Catalog name.
    pub model: String,
    /// The chunk prompt version the quality was measured with.
    pub prompt_version: String,
    /// The roll-up prompt version.
    pub rollup_version: String,
    /// Weight width of the converted folder (`i8`, `4`, `8`).
    pub bits: String,
    /// When (`YYYY-MM-DD`).
    pub date: String,
    /// The CPU's model name (`lscpu`).
    pub cpu: String,
    /// The CPU's flags that pick kernels: `avx2`, `avx512_vnni`, `amx_int8` where present.
    pub cpu_flags: String,
    /// Whether the quality run took a second look at poorly supported lines (`--second-look`).
    #[serde(default)]
    pub second_look: bool,
    /// Answers asked of each prompt in the quality run (`--candidates`): 1 for a plain run,
    /// more for the slower tier that keeps one of several.
    #[serde(default = "one")]
    pub candidates: usize,
    /// The files scored (`eval-dev`: 59 tokio files).
    pub set: String,
    /// chrF of each file's first chunk line against the authors' first sentence.
    pub chrf: f64,
    /// ROUGE-L F1, 0 to 100.
    pub rouge_l: f64,
    /// all-MiniLM-L6-v2 cosine.
    pub minilm: f64,
    /// Share of chunk lines built from the code because the model's answers were rejected.
    pub chunk_fallback: f64,
    /// Share of directory and root lines that are fallbacks.
    pub dir_fallback: f64,
    /// Seconds the evaluation run took when it computed every line (a rerun from the cache
    /// takes seconds).
    pub eval_seconds: f64,
    /// Peak resident memory of the evaluation run, in GB, where it was recorded.
    #[serde(default)]
    pub eval_peak_rss_gb: Option<f64>,
    /// Streams in flight in the speed run (`isg bench --parallel`).
    pub parallel: usize,
    /// ONNX Runtime sessions sharing them (`--sessions`).
    #[serde(default)]
    pub sessions: usize,
    /// Requests per minute at 450 prompt and 20 new tokens; none for a tier of several answers,
    /// whose speed is its evaluation time against the plain run's (the engine is the same).
    #[serde(default)]
    pub requests_per_min: Option<f64>,
    /// Prefill tokens per second (as `requests_per_min`).
    #[serde(default)]
    pub prefill_tok_s: Option<f64>,
    /// Decode tokens per second (as `requests_per_min`).
    #[serde(default)]
    pub decode_tok_s: Option<f64>,
    /// Peak resident memory of the speed run, in GB (as `requests_per_min`).
    #[serde(default)]
    pub peak_rss_gb: Option<f64>,
}

fn one() -> usize {
    1
}

/// Every measurement compiled in; an unreadable file gives none (a test keeps it readable).
pub fn measurements() -> Vec<Measurement> {
    parse(MEASUREMENTS_JSON).unwrap_or_default()
}

/// Parses a measurements file (a JSON array of [`Measurement`]).
pub fn parse(text: &str) -> Result<Vec<Measurement>, serde_json::Error> {
    serde_json::from_str(text)
}

/// The latest measurement of `model` in a plain run, one answer per prompt (by date; the last
/// written wins a tie).
pub fn latest(model: &str) -> Option<Measurement> {
    latest_of(&measurements(), model, 1)
}

/// The latest measurement of `model` with each number of answers per prompt above one, fewest
/// first: the slower tiers (`--candidates N`).
pub fn tiers(model: &str) -> Vec<Measurement> {
    let all = measurements();
    let mut counts: Vec<usize> = all
        .iter()
        .filter(|m| m.model == model && m.candidates > 1)
        .map(|m| m.candidates)
        .collect();
    counts.sort_unstable();
    counts.dedup();
    counts
        .into_iter()
        .filter_map(|n| latest_of(&all, model, n))
        .collect()
}

fn latest_of(all: &[Measurement], model: &str, candidates: usize) -> Option<Measurement> {
    all.iter()
        .filter(|m| m.model == model && m.candidates == candidates)
        .fold(None, |best: Option<&Measurement>, m| match best {
            Some(b) if b.date > m.date => Some(b),
            _ => Some(m),
        })
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_file_parses_and_names_catalog_models() {
        let all = parse(MEASUREMENTS_JSON).expect("measurements.json parses");
        for m in &all {
            assert!(
                crate::provision::catalog::find(&m.model).is_some(),
                "{} is not in the catalog",
                m.model
            );
            assert!(m.date.len() == 10 && !m.prompt_version.is_empty(), "{m:?}");
            assert!(m.candidates >= 1, "{m:?}");
            if m.candidates == 1 {
                assert!(m.requests_per_min.is_some(), "a plain run has speed: {m:?}");
            }
        }
    }

    #[test]
    fn plain_runs_and_tiers_are_told_apart() {
        let text = r#"[
          {"model": "m", "prompt_version": "7", "rollup_version": "r", "bits": "i8",
           "date": "2026-12-01", "cpu": "c", "cpu_flags": "avx2", "set": "eval-dev",
           "chrf": 26.0, "rouge_l": 28.0, "minilm": 0.5, "chunk_fallback": 0.0,
           "dir_fallback": 0.0, "eval_seconds": 40.0, "parallel": 20, "sessions": 2,
           "requests_per_min": 70.0, "prefill_tok_s": 700.0, "decode_tok_s": 140.0,
           "peak_rss_gb": 1.8},
          {"model": "m", "prompt_version": "7", "rollup_version": "r", "bits": "i8",
           "date": "2026-12-02", "cpu": "c", "cpu_flags": "avx2", "set": "eval-dev",
           "candidates": 8, "chrf": 29.0, "rouge_l": 29.0, "minilm": 0.56,
           "chunk_fallback": 0.0, "dir_fallback": 0.0, "eval_seconds": 90.0,
           "eval_peak_rss_gb": 1.9, "parallel": 20, "sessions": 2}
        ]"#;
        let all = parse(text).expect("parses");
        assert_eq!(
            all[0].candidates, 1,
            "an entry without the field is a plain run"
        );
        assert_eq!(latest_of(&all, "m", 1).unwrap().chrf, 26.0);
        let tier = latest_of(&all, "m", 8).unwrap();
        assert_eq!((tier.chrf, tier.requests_per_min), (29.0, None));
    }
}

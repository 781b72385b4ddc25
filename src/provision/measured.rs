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
    /// Streams in flight in the speed run (`isg bench --parallel`).
    pub parallel: usize,
    /// ONNX Runtime sessions sharing them (`--sessions`).
    #[serde(default)]
    pub sessions: usize,
    /// Requests per minute at 450 prompt and 20 new tokens.
    pub requests_per_min: f64,
    /// Prefill tokens per second.
    pub prefill_tok_s: f64,
    /// Decode tokens per second.
    pub decode_tok_s: f64,
    /// Peak resident memory of the speed run, in GB.
    pub peak_rss_gb: f64,
}

/// Every measurement compiled in; an unreadable file gives none (a test keeps it readable).
pub fn measurements() -> Vec<Measurement> {
    parse(MEASUREMENTS_JSON).unwrap_or_default()
}

/// Parses a measurements file (a JSON array of [`Measurement`]).
pub fn parse(text: &str) -> Result<Vec<Measurement>, serde_json::Error> {
    serde_json::from_str(text)
}

/// The latest measurement of `model` (by date; the last written wins a tie).
pub fn latest(model: &str) -> Option<Measurement> {
    measurements()
        .into_iter()
        .filter(|m| m.model == model)
        .fold(None, |best: Option<Measurement>, m| match best {
            Some(b) if b.date > m.date => Some(b),
            _ => Some(m),
        })
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
        }
    }
}

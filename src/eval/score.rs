//! Scoring summaries against references: per case chrF and ROUGE-L F1 (a missing or empty
//! summary scores 0, as `score.sh` does), and their means over all cases.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::EvalError;
use super::rouge::rouge_l;
use crate::chrf::chrf;

/// One summary scored against its reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseScore {
    /// The file's path.
    pub path: String,
    /// The authors' sentence.
    pub reference: String,
    /// The summary scored (empty when there was none).
    pub summary: String,
    /// chrF, 0 to 100.
    pub chrf: f64,
    /// ROUGE-L F1, 0 to 100.
    pub rouge_l: f64,
}

/// Means over a set of cases.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Means {
    /// Cases scored.
    pub cases: usize,
    /// Cases with a non-empty summary.
    pub covered: usize,
    /// Mean chrF, 0 to 100.
    pub chrf: f64,
    /// Mean ROUGE-L F1, 0 to 100.
    pub rouge_l: f64,
}

/// Scores `summary` against `reference`; an empty summary scores 0 on both.
pub fn score_case(path: &str, reference: &str, summary: &str) -> CaseScore {
    let (c, r) = if summary.is_empty() {
        (0.0, 0.0)
    } else {
        (
            chrf(summary, reference),
            100.0 * rouge_l(reference, summary),
        )
    };
    CaseScore {
        path: path.to_string(),
        reference: reference.to_string(),
        summary: summary.to_string(),
        chrf: c,
        rouge_l: r,
    }
}

/// Scores every `(path, reference)` against the summary `summaries` holds for its path.
pub fn score_all(
    references: &[(String, String)],
    summaries: &HashMap<String, String>,
) -> Vec<CaseScore> {
    references
        .iter()
        .map(|(path, reference)| {
            let s = summaries.get(path).map(String::as_str).unwrap_or("");
            score_case(path, reference, s)
        })
        .collect()
}

/// The means of `scores`.
pub fn means(scores: &[CaseScore]) -> Means {
    let n = scores.len();
    if n == 0 {
        return Means::default();
    }
    Means {
        cases: n,
        covered: scores.iter().filter(|s| !s.summary.is_empty()).count(),
        chrf: scores.iter().map(|s| s.chrf).sum::<f64>() / n as f64,
        rouge_l: scores.iter().map(|s| s.rouge_l).sum::<f64>() / n as f64,
    }
}

/// Reads `(path, field)` pairs from a JSONL file of objects (`field` is `summary` for
/// predictions, `reference` for references). A missing or null `field` reads as empty. Blank
/// lines are skipped.
pub fn read_pairs(path: &Path, field: &'static str) -> Result<Vec<(String, String)>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::io("read", path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| EvalError::Record {
            path: path.to_path_buf(),
            line: i + 1,
            field,
            message,
        };
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let p = v
            .get("path")
            .and_then(|p| p.as_str())
            .ok_or_else(|| bad("no string \"path\"".into()))?;
        let s = v.get(field).and_then(|s| s.as_str()).unwrap_or("");
        out.push((p.to_string(), s.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_summaries_score_zero_and_count_as_uncovered() {
        let refs = vec![
            (
                "a.rs".to_string(),
                "Utilities for tracking time.".to_string(),
            ),
            (
                "b.rs".to_string(),
                "Unix domain socket helpers.".to_string(),
            ),
        ];
        let mut preds = HashMap::new();
        preds.insert(
            "a.rs".to_string(),
            "Utilities for tracking time.".to_string(),
        );
        let scores = score_all(&refs, &preds);
        assert_eq!(scores[1].chrf, 0.0);
        let m = means(&scores);
        assert_eq!((m.cases, m.covered), (2, 1));
        assert!((m.chrf - 50.0).abs() < 1e-9);
        assert!((m.rouge_l - 50.0).abs() < 1e-9);
    }
}

//! Shares over a run's chunk lines that say whether a reader can trust them: how many were
//! built from the chunk instead of the model (fallback), how many are distinct, how many are
//! boilerplate that would fit any file, and how many are grounded (every code name they use
//! occurs in the chunk or its path).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::record::SummaryRecord;
use crate::run::is_boilerplate;

/// The shares of a set of chunk lines, each from 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Shares {
    /// Chunk lines counted.
    pub chunks: usize,
    /// Lines built from the chunk because no answer was kept.
    pub fallback: f64,
    /// Distinct lines over all lines.
    pub distinct: f64,
    /// Lines with a phrase that fits any file ("a Rust library for", "documentation").
    pub boilerplate: f64,
    /// Lines whose code names all occur in their chunk or its path.
    pub grounded: f64,
    /// Chunks asked a second time.
    pub retried: f64,
}

/// The shares of `records`.
pub fn shares(records: &[SummaryRecord]) -> Shares {
    let n = records.len();
    if n == 0 {
        return Shares::default();
    }
    let share = |k: usize| k as f64 / n as f64;
    let distinct: HashSet<&str> = records.iter().map(|r| r.summary.as_str()).collect();
    Shares {
        chunks: n,
        fallback: share(records.iter().filter(|r| r.fallback).count()),
        distinct: share(distinct.len()),
        boilerplate: share(
            records
                .iter()
                .filter(|r| is_boilerplate(&r.summary))
                .count(),
        ),
        grounded: share(records.iter().filter(|r| r.grounded).count()),
        retried: share(records.iter().filter(|r| r.attempts > 1).count()),
    }
}

/// The shares of each file's records, by path.
pub fn shares_per_file(records: &[SummaryRecord]) -> BTreeMap<String, Shares> {
    let mut by_path: BTreeMap<String, Vec<SummaryRecord>> = BTreeMap::new();
    for r in records {
        by_path.entry(r.path.clone()).or_default().push(r.clone());
    }
    by_path
        .into_iter()
        .map(|(p, rs)| (p, shares(&rs)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str, summary: &str, fallback: bool, grounded: bool) -> SummaryRecord {
        SummaryRecord {
            kind: crate::record::Kind::Chunk,
            path: path.into(),
            start_line: 1,
            end_line: 2,
            language: "rust".into(),
            symbols: vec![],
            summary: summary.into(),
            hash: String::new(),
            model: "m".into(),
            prompt_tokens: 0,
            generated_tokens: 0,
            ms: 0.0,
            view: "interface".into(),
            reduction: Default::default(),
            elided_lines: None,
            cached: false,
            rejected: None,
            attempts: if fallback { 2 } else { 1 },
            grounded,
            fallback,
            error: None,
            topic: String::new(),
            origin: None,
            origin_file: None,
        }
    }

    #[test]
    fn counts_each_share() {
        let recs = vec![
            record("a.rs", "Timers for the runtime.", false, true),
            record("a.rs", "Timers for the runtime.", false, true),
            record("b.rs", "A Rust library for sockets.", false, true),
            record("b.rs", "Defines `Socket`.", true, false),
        ];
        let s = shares(&recs);
        assert_eq!(s.chunks, 4);
        assert_eq!(s.fallback, 0.25);
        assert_eq!(s.distinct, 0.75);
        assert_eq!(s.boilerplate, 0.25);
        assert_eq!(s.grounded, 0.75);
        assert_eq!(s.retried, 0.25);
        let per = shares_per_file(&recs);
        assert_eq!(per["a.rs"].distinct, 0.5);
        assert_eq!(per["b.rs"].fallback, 0.5);
        assert_eq!(shares(&[]).chunks, 0);
    }
}

//! ROUGE-L F1 as Google's `rouge-score` computes it with `use_stemmer=True`: both texts are
//! lowercased, every run of characters other than `a-z0-9` becomes a space, tokens longer than
//! three characters are reduced by the Porter stemmer (NLTK's, see [`crate::porter`]), and the
//! F1 of the longest common subsequence's precision and recall is returned.

use crate::porter;

/// ROUGE-L F1 of `prediction` against `reference`, from 0 to 1.
pub fn rouge_l(reference: &str, prediction: &str) -> f64 {
    let r = tokens(reference);
    let p = tokens(prediction);
    if r.is_empty() || p.is_empty() {
        return 0.0;
    }
    let lcs = lcs_len(&r, &p) as f64;
    let precision = lcs / p.len() as f64;
    let recall = lcs / r.len() as f64;
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

/// `rouge-score`'s tokens of `text`, stemmed.
pub fn tokens(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let spaced: String = lower
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                ' '
            }
        })
        .collect();
    spaced
        .split_whitespace()
        .map(|t| {
            if t.len() > 3 {
                porter::stem(t)
            } else {
                t.to_string()
            }
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// Length of the longest common subsequence.
fn lcs_len(a: &[String], b: &[String]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_lowercases() {
        assert_eq!(
            tokens("Utilities for tracking Time."),
            vec!["util", "for", "track", "time"]
        );
    }

    #[test]
    fn known_pair() {
        // rouge-score 0.1.2: RougeScorer(["rougeL"], use_stemmer=True)
        //   .score("Utilities for tracking time.", "Tracks the time utility.")["rougeL"].fmeasure
        let f = rouge_l("Utilities for tracking time.", "Tracks the time utility.");
        assert!((f - 0.5).abs() < 1e-9, "{f}");
        //   .score("A multi-producer, single-consumer queue for sending values between
        //   asynchronous tasks.", "A queue of values sent between tasks.")
        let f = rouge_l(
            "A multi-producer, single-consumer queue for sending values between asynchronous tasks.",
            "A queue of values sent between tasks.",
        );
        assert!((f - 0.526_315_789_473_684_2).abs() < 1e-9, "{f}");
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(rouge_l("a b", ""), 0.0);
    }
}

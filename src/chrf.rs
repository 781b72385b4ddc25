//! Sentence chrF exactly as sacreBLEU's `CHRF().sentence_score(hypothesis, [reference])`
//! computes it with its defaults: character n-grams of orders 1 to 6, whitespace removed, no
//! lowercasing, no word n-grams, β = 2, and sacreBLEU's effective-order averaging (orders where
//! the hypothesis or the reference has no n-gram are left out of the averages of precision and
//! recall; the F-score is taken of the averages).

use std::collections::HashMap;

/// Highest character n-gram order.
pub const CHAR_ORDER: usize = 6;
/// Weight of recall against precision.
pub const BETA: f64 = 2.0;

/// chrF of `hypothesis` against one `reference`, from 0 to 100.
pub fn chrf(hypothesis: &str, reference: &str) -> f64 {
    let hyp = without_whitespace(hypothesis);
    let reference = without_whitespace(reference);
    let factor = BETA * BETA;
    let (mut avg_prec, mut avg_rec, mut effective) = (0.0, 0.0, 0usize);
    for n in 1..=CHAR_ORDER {
        let h = ngrams(&hyp, n);
        let r = ngrams(&reference, n);
        let n_hyp: usize = h.values().sum();
        let n_ref: usize = r.values().sum();
        if n_hyp == 0 || n_ref == 0 {
            continue;
        }
        let n_match: usize = h
            .iter()
            .map(|(g, &c)| c.min(r.get(g).copied().unwrap_or(0)))
            .sum();
        avg_prec += n_match as f64 / n_hyp as f64;
        avg_rec += n_match as f64 / n_ref as f64;
        effective += 1;
    }
    if effective == 0 {
        return 0.0;
    }
    avg_prec /= effective as f64;
    avg_rec /= effective as f64;
    if avg_prec + avg_rec == 0.0 {
        return 0.0;
    }
    100.0 * (1.0 + factor) * avg_prec * avg_rec / (factor * avg_prec + avg_rec)
}

/// The text's characters with every whitespace character removed (Python's `str.split()`
/// whitespace, which is Unicode's).
fn without_whitespace(s: &str) -> Vec<char> {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Counts of the character n-grams of order `n`.
fn ngrams(chars: &[char], n: usize) -> HashMap<&[char], usize> {
    let mut out = HashMap::new();
    if chars.len() >= n {
        for w in chars.windows(n) {
            *out.entry(w).or_insert(0) += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_text_scores_100() {
        assert!(
            (chrf(
                "Utilities for tracking time.",
                "Utilities for tracking time."
            ) - 100.0)
                .abs()
                < 1e-9
        );
    }

    #[test]
    fn disjoint_text_scores_0() {
        assert_eq!(chrf("xyz", "abc"), 0.0);
        assert_eq!(chrf("", "abc"), 0.0);
    }

    #[test]
    fn whitespace_is_ignored() {
        assert_eq!(chrf("a b  c", "abc"), chrf("abc", "abc"));
    }

    #[test]
    fn matches_sacrebleu_on_a_known_pair() {
        // sacrebleu 2.x: CHRF().sentence_score("The time module.", ["Utilities for tracking time."])
        let s = chrf("The time module.", "Utilities for tracking time.");
        assert!((s - 11.351_820_652).abs() < 1e-6, "{s}");
    }
}

//! Choosing one line among several accepted answers to the same prompt.
//!
//! In: the lines the judge accepted, in the order they were asked (the greedy answer first),
//! and the chunk's vocabulary ([`vocabulary`](super::support::vocabulary)). Out: the index of
//! the line to keep. Each line scores its mean chrF against the other lines (agreement: a line
//! that says what most answers say is less likely to be the one that went astray) plus
//! [`SUPPORT_WEIGHT`] times the share of its content words the chunk itself uses
//! ([`support_share`]): between two lines the answers agree on equally, the one in the code's
//! own words is kept. Ties go to the earlier line.

use std::collections::HashSet;

use super::support::support_share;
use crate::chrf::chrf;

/// Points (on chrF's 0 to 100 scale) a line gains for all its content words being the chunk's.
pub const SUPPORT_WEIGHT: f64 = 40.0;

/// The support given to a line without content words: neither for it nor against it.
const NEUTRAL_SUPPORT: f64 = 0.5;

/// The index of the line to keep among `lines` (0 when there are fewer than two).
pub fn choose(lines: &[String], vocab: &HashSet<String>) -> usize {
    if lines.len() < 2 {
        return 0;
    }
    let mut best = (f64::NEG_INFINITY, 0);
    for (i, line) in lines.iter().enumerate() {
        let agreement = lines
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, other)| chrf(line, other))
            .sum::<f64>()
            / (lines.len() - 1) as f64;
        let support = support_share(line, vocab).unwrap_or(NEUTRAL_SUPPORT);
        let score = agreement + SUPPORT_WEIGHT * support;
        if score > best.0 + 1e-9 {
            best = (score, i);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::support::vocabulary;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_line_most_answers_agree_on_is_kept() {
        let v = vocabulary("pub struct Sender; pub fn channel() {}", "src/sync/mpsc.rs");
        let got = choose(
            &lines(&[
                "A weather forecast client.",
                "Multi-producer channel senders.",
                "A multi-producer channel and its senders.",
                "Channel senders for many producers.",
            ]),
            &v,
        );
        assert!(got >= 1, "the odd line out was kept: {got}");
    }

    #[test]
    fn between_equally_agreed_lines_the_code_s_own_words_win() {
        let text = "/// Reads GGUF tensors and writes ONNX initializers.\nfn gguf_to_onnx() {}";
        let v = vocabulary(text, "src/convert/weights.rs");
        // Two lines that agree with each other equally; only the second uses the chunk's words.
        let got = choose(
            &lines(&["Converting model files.", "Converting GGUF tensors."]),
            &v,
        );
        assert_eq!(got, 1);
    }

    #[test]
    fn one_line_or_none_is_index_zero_and_ties_keep_the_first() {
        let v = vocabulary("fn f() {}", "a.rs");
        assert_eq!(choose(&[], &v), 0);
        assert_eq!(choose(&lines(&["Only line."]), &v), 0);
        assert_eq!(choose(&lines(&["Same line.", "Same line."]), &v), 0);
    }
}

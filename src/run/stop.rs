//! When to stop generating: the summarizer keeps only the first sentence of an answer, so a
//! request stops as soon as that sentence is written, or as soon as the answer is certain to be
//! rejected whatever follows. A property test checks that stopping there never changes what is
//! kept.

use super::clean::{first_line_so_far, phrase};
use super::judge::{names_path, normalized_words, repeats_words};
use crate::source::sentence_end;

/// Whether a partial answer already holds all that the summarizer keeps of it: its first line
/// of text has a complete first sentence (a `.`, `!` or `?` followed by a space). Whatever the
/// model would write next cannot change the summary, so generation can stop there.
pub fn first_sentence_done(raw: &str) -> bool {
    let Some(cleaned) = first_line_so_far(raw) else {
        return false;
    };
    // A stop at the very end may still be followed by more of the sentence ("3.5").
    sentence_end(&cleaned).is_some_and(|end| end < cleaned.len())
}

/// Whether a partial answer's fate is already decided: [`first_sentence_done`], or its first
/// sentence, without the word being written, already repeats itself or names a path, so the
/// judge will reject it whatever follows. Stops a stuck model early.
pub fn answer_settled(raw: &str) -> bool {
    if first_sentence_done(raw) {
        return true;
    }
    let Some(cleaned) = first_line_so_far(raw) else {
        return false;
    };
    let p = phrase(&cleaned);
    let words: Vec<&str> = p.split_whitespace().collect();
    if words.len() < 8 {
        return false;
    }
    // The word being written may still grow; the ones before it are final.
    let complete = &words[..words.len() - 1];
    if complete
        .iter()
        .any(|w| w.contains('/') || w.contains(".rs") || w.contains(".py"))
        && names_path(&complete.join(" "))
    {
        return true;
    }
    repeats_words(&normalized_words(&complete.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::super::compose::summary_for;
    use super::*;
    use crate::source::{Language, SourceFile, chunk_file};
    use proptest::strategy::Strategy;

    #[test]
    fn sentence_done_waits_for_the_space_after_the_stop() {
        assert!(!first_sentence_done(""));
        assert!(!first_sentence_done("\n```\n"));
        assert!(!first_sentence_done("Timers for the runtime."));
        assert!(first_sentence_done("Timers for the runtime. It"));
        assert!(first_sentence_done("```\nTimers? Yes"));
        assert!(!first_sentence_done("\"Timers. For\""));
        assert!(!first_sentence_done("tokio::time::Sleep"));
    }

    proptest::proptest! {
        /// Stopping where `answer_settled` says never changes the kept summary.
        #[test]
        fn stopping_at_the_first_sentence_keeps_the_summary(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::string::string_regex("[A-Za-z]{1,8}").unwrap(),
                    proptest::sample::select(vec![
                        "the ", "file ", "is ", "a ", "timer ", "timer-", "of ", "module ",
                        "Sleep ", "sleep_until ", "Instant ",
                    ]).prop_map(String::from),
                    proptest::sample::select(vec![
                        " ", ". ", ".", "! ", "? ", "\n", "```", "`", "**", "\"", "'", "“", "”",
                        "Summary:", "This file is a ", "- ", "# ", "e.g.", "src/x.rs", "I/O ",
                    ]).prop_map(String::from),
                ],
                0..40,
            )
        ) {
            let file = SourceFile::from_text(
                "src/time/mod.rs",
                Language::Rust,
                "pub fn sleep_until(deadline: Instant) -> Sleep { todo!() }\n",
            );
            let chunk = chunk_file(&file, 300).remove(0);
            let raw: String = parts.concat();
            let mut cut = None;
            for (i, _) in raw.char_indices().skip(1) {
                if answer_settled(&raw[..i]) {
                    cut = Some(i);
                    break;
                }
            }
            if let Some(i) = cut {
                // The same summary, accepted or rejected alike (a rejected answer may be cut
                // for one reason before it would show another).
                let at_cut = summary_for(&raw[..i], &chunk);
                let full = summary_for(&raw, &chunk);
                proptest::prop_assert_eq!(at_cut.is_ok(), full.is_ok(), "cut at {}", i);
                if let (Ok(a), Ok(b)) = (at_cut, full) {
                    proptest::prop_assert_eq!(a, b, "cut at {}", i);
                }
            }
        }
    }
}

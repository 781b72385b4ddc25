//! `isg eval`'s metrics reproduce the development set's `score.sh` (sacreBLEU's chrF and
//! `rouge-score`'s ROUGE-L with stemming) on fixed prediction files.

use std::collections::HashMap;
use std::path::Path;

use isg::eval::{file_name_summary, means, read_pairs, score_all};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/eval")
        .join(name)
}

/// Means of chrF and ROUGE-L of a predictions fixture against the references fixture.
fn score(preds: &str) -> (usize, usize, f64, f64) {
    let refs = read_pairs(&fixture("references.jsonl"), "reference").unwrap();
    let preds: HashMap<String, String> = read_pairs(&fixture(preds), "summary")
        .unwrap()
        .into_iter()
        .collect();
    let m = means(&score_all(&refs, &preds));
    (m.cases, m.covered, m.chrf, m.rouge_l)
}

// The expected means were computed by score.sh's own code (sacrebleu CHRF().sentence_score
// and rouge_score RougeScorer(["rougeL"], use_stemmer=True), full precision), and checked
// against what `score.sh` printed for the same files:
//   filename_baseline.jsonl: "cases 59  covered 59  chrF 11.9  rougeL 17.1  minilm_cos 0.463"
//   model_answers.jsonl:     "cases 59  covered 57  chrF 18.8  rougeL 16.1  minilm_cos 0.389"

#[test]
fn file_name_baseline_matches_score_sh() {
    let (cases, covered, chrf, rouge) = score("filename_baseline.jsonl");
    assert_eq!((cases, covered), (59, 59));
    assert!((chrf - 11.864_014_663_100_912).abs() < 1e-9, "chrF {chrf}");
    assert!(
        (rouge - 17.133_360_569_266_554).abs() < 1e-9,
        "ROUGE-L {rouge}"
    );
    assert_eq!(format!("{chrf:.1} {rouge:.1}"), "11.9 17.1");
}

#[test]
fn model_answers_with_empty_missing_and_unicode_match_score_sh() {
    let (cases, covered, chrf, rouge) = score("model_answers.jsonl");
    assert_eq!((cases, covered), (59, 57));
    assert!((chrf - 18.821_483_478_370_183).abs() < 1e-9, "chrF {chrf}");
    assert!(
        (rouge - 16.147_715_752_390_212).abs() < 1e-9,
        "ROUGE-L {rouge}"
    );
    assert_eq!(format!("{chrf:.1} {rouge:.1}"), "18.8 16.1");
}

#[test]
fn baseline_fixture_is_the_file_name_template() {
    for (path, summary) in read_pairs(&fixture("filename_baseline.jsonl"), "summary").unwrap() {
        assert_eq!(summary, file_name_summary(&path), "{path}");
    }
}

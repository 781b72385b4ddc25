//! Evaluation cases: the files of a tree that document themselves, each with its module doc's
//! first sentence as the reference summary and its text with the doc removed as the input.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::EvalError;
use crate::source::{self, Language, WalkSettings, first_sentence, module_doc};

/// References shorter than this many words say too little to score against ("Tests.").
pub const MIN_REFERENCE_WORDS: usize = 3;

/// One file to summarize and the sentence its authors wrote about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalCase {
    /// The path relative to the root, with `/` separators.
    pub path: String,
    /// The file's language.
    pub language: Language,
    /// The module doc's first sentence.
    pub reference: String,
    /// The file without its module doc.
    pub stripped: String,
}

/// The cases of a walked tree: every file with a module doc whose first sentence has at least
/// [`MIN_REFERENCE_WORDS`] words and whose text without the doc is not blank, in path order.
pub fn collect_cases(settings: &WalkSettings) -> Result<Vec<EvalCase>, EvalError> {
    let walk = source::walk(settings)?;
    let mut cases = Vec::new();
    for file in &walk.files {
        let Some(doc) = module_doc(file) else {
            continue;
        };
        let reference = first_sentence(&doc.doc);
        if reference.split_whitespace().count() < MIN_REFERENCE_WORDS {
            continue;
        }
        if doc.stripped.trim().is_empty() {
            continue;
        }
        cases.push(EvalCase {
            path: file.path.clone(),
            language: file.language,
            reference,
            stripped: doc.stripped,
        });
    }
    Ok(cases)
}

/// Writes each case's stripped text under `dir` at its relative path.
pub fn write_inputs(cases: &[EvalCase], dir: &Path) -> Result<(), EvalError> {
    for c in cases {
        let dst = dir.join(&c.path);
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).map_err(|e| EvalError::io("create", parent, e))?;
        }
        std::fs::write(&dst, &c.stripped).map_err(|e| EvalError::io("write", &dst, e))?;
    }
    Ok(())
}

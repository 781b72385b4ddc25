//! BPE merges for a SentencePiece (`tokenizer.ggml.model = "llama"`) vocabulary.
//!
//! A SentencePiece BPE model has no merge list: llama.cpp repeatedly joins the adjacent pair
//! whose joined piece is in the vocabulary with the highest score. A Hugging Face BPE model whose
//! merges are every (left, right) split of every piece, ranked by the joined piece's score
//! (highest first), makes the same choices; this is how Hugging Face's own Llama converter
//! builds its `tokenizer.json`.

use std::collections::HashMap;

use super::vocab::{GgufVocab, TokenType};

/// The merges, best first, as (left, right) pieces.
pub(super) fn merges_from_scores(vocab: &GgufVocab, scores: &[f32]) -> Vec<(String, String)> {
    let mut index: HashMap<&str, u32> = HashMap::with_capacity(vocab.tokens.len());
    for (id, piece) in vocab.tokens.iter().enumerate() {
        // The first occurrence wins, as in the vocabulary map that is written.
        index.entry(piece.as_str()).or_insert(id as u32);
    }
    // (score, joined id, left id, right id)
    let mut found: Vec<(f32, u32, u32, u32)> = Vec::new();
    for (id, piece) in vocab.tokens.iter().enumerate() {
        if !matches!(
            vocab.types[id],
            TokenType::Normal | TokenType::UserDefined | TokenType::Undefined
        ) || index.get(piece.as_str()) != Some(&(id as u32))
        {
            continue;
        }
        for (split, _) in piece.char_indices().skip(1) {
            let (l, r) = piece.split_at(split);
            if let (Some(&li), Some(&ri)) = (index.get(l), index.get(r)) {
                found.push((scores[id], id as u32, li, ri));
            }
        }
    }
    found.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    found
        .into_iter()
        .map(|(_, _, l, r)| (vocab.token(l).to_owned(), vocab.token(r).to_owned()))
        .collect()
}

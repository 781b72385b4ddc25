//! The lexical half of the ranking: BM25 over the words of each line's path and symbols.
//!
//! [`terms`] cuts text into lower-case, stemmed words: identifiers split at `_`, `::`, `/`,
//! `.` and camel-case humps (`TcpStream` gives `tcp`, `stream`), stop words and one-letter words
//! dropped. [`Bm25`] indexes one bag of terms per document and scores a query against each.

use std::collections::HashMap;

/// Words too common to tell lines apart.
pub const STOP: &[&str] = &[
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "by",
    "for",
    "from",
    "has",
    "have",
    "how",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "of",
    "on",
    "or",
    "that",
    "the",
    "this",
    "to",
    "was",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "with",
    "does",
    "do",
    "can",
    "not",
    "but",
    "mod",
    "fn",
    "impl",
    "struct",
    "enum",
    "trait",
    "type",
    "rs",
    "py",
    "go",
    "js",
    "ts",
    "src",
    "lib",
    "module",
    "file",
    "directory",
    "function",
    "functions",
    "method",
    "methods",
    "code",
    "pub",
    "self",
    "use",
    "used",
    "uses",
    "using",
];

/// The terms of `text`, in order, with repeats.
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        for part in split_camel(word) {
            let lower = part.to_lowercase();
            if lower.chars().count() < 2 || lower.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            if STOP.contains(&lower.as_str()) {
                continue;
            }
            out.push(crate::porter::stem(&lower));
        }
    }
    out
}

/// `TcpStreamExt` → `Tcp`, `Stream`, `Ext`; `HTTPServer` → `HTTP`, `Server`; `io2` stays whole.
fn split_camel(word: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..chars.len() {
        let (pos, c) = chars[i];
        let prev = chars[i - 1].1;
        let next_lower = chars.get(i + 1).is_some_and(|(_, n)| n.is_lowercase());
        let boundary = (c.is_uppercase() && prev.is_lowercase())
            || (c.is_uppercase() && prev.is_uppercase() && next_lower);
        if boundary {
            parts.push(&word[start..pos]);
            start = pos;
        }
    }
    if start < word.len() {
        parts.push(&word[start..]);
    }
    parts
}

/// A BM25 index: term frequencies per document, document frequencies, lengths.
#[derive(Debug, Clone, Default)]
pub struct Bm25 {
    docs: Vec<HashMap<String, f32>>,
    lengths: Vec<f32>,
    df: HashMap<String, usize>,
    avg_len: f32,
}

/// BM25's term-frequency saturation.
pub const K1: f32 = 1.2;
/// BM25's length normalization.
pub const B: f32 = 0.75;

impl Bm25 {
    /// Indexes one bag of `(term, weight)` pairs per document (a weight counts as that many
    /// occurrences, so a file name can count more than a word deep in a symbol).
    pub fn new(bags: Vec<Vec<(String, f32)>>) -> Bm25 {
        let mut docs = Vec::with_capacity(bags.len());
        let mut lengths = Vec::with_capacity(bags.len());
        let mut df: HashMap<String, usize> = HashMap::new();
        for bag in bags {
            let mut tf: HashMap<String, f32> = HashMap::new();
            let mut len = 0.0;
            for (t, w) in bag {
                *tf.entry(t).or_default() += w;
                len += w;
            }
            for t in tf.keys() {
                *df.entry(t.clone()).or_default() += 1;
            }
            docs.push(tf);
            lengths.push(len);
        }
        let avg_len = if lengths.is_empty() {
            1.0
        } else {
            (lengths.iter().sum::<f32>() / lengths.len() as f32).max(1.0)
        };
        Bm25 {
            docs,
            lengths,
            df,
            avg_len,
        }
    }

    /// The BM25 score of every document for the query terms (each distinct term once).
    pub fn scores(&self, query: &[String]) -> Vec<f32> {
        let n = self.docs.len() as f32;
        let mut seen: Vec<&String> = Vec::new();
        let mut out = vec![0.0; self.docs.len()];
        for t in query {
            if seen.contains(&t) {
                continue;
            }
            seen.push(t);
            let Some(&df) = self.df.get(t) else { continue };
            let idf = ((n - df as f32 + 0.5) / (df as f32 + 0.5) + 1.0).ln();
            for (i, doc) in self.docs.iter().enumerate() {
                if let Some(&tf) = doc.get(t) {
                    let norm = K1 * (1.0 - B + B * self.lengths[i] / self.avg_len);
                    out[i] += idf * tf * (K1 + 1.0) / (tf + norm);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_into_stemmed_words() {
        assert_eq!(
            terms("TcpStream::connect_timeout in net/tcp_stream.rs"),
            [
                "tcp", "stream", "connect", "timeout", "net", "tcp", "stream"
            ]
        );
        assert_eq!(terms("HTTPServer"), ["http", "server"]);
        assert_eq!(terms("the retries are retried"), ["retri", "retri"]);
    }

    #[test]
    fn rarer_terms_weigh_more() {
        let bag = |s: &str| terms(s).into_iter().map(|t| (t, 1.0)).collect();
        let idx = Bm25::new(vec![
            bag("stream buffer"),
            bag("stream throttle"),
            bag("stream map"),
        ]);
        let s = idx.scores(&terms("throttle a stream"));
        assert!(s[1] > s[0] && s[1] > s[2], "{s:?}");
        assert_eq!(s[0], s[2]);
        assert!(
            idx.scores(&terms("nothing matches"))
                .iter()
                .all(|&x| x == 0.0)
        );
    }
}

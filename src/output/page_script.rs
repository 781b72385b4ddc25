//! The search code `index.html` carries (the files in `src/output/assets/`): the lexical half
//! and the ranking, the query's tokenizer and encoder, and the search box. It ranks with the
//! index and encoder files that [`crate::search::page`] writes beside the page; the page and
//! its index carry the same [`records_key`], so an index left by another run is never used.

use sha2::{Digest, Sha256};

use crate::record::SummaryRecord;

/// The page's search code: the lexical half and the ranking, the tokenizer and encoder, and
/// the search box. Inlined into `index.html`; none of it contains `</script`.
pub const PAGE_SCRIPT: &str = concat!(
    include_str!("assets/rank.js"),
    include_str!("assets/encoder.js"),
    include_str!("assets/page.js")
);

/// The ranking and lexical code alone (for tests that run it outside a page).
pub const RANK_JS: &str = include_str!("assets/rank.js");

/// The tokenizer and encoder alone (for tests that run it outside a page).
pub const ENCODER_JS: &str = include_str!("assets/encoder.js");

/// A digest of what the page's search shows of `records` (kinds, paths, spans, lines, topics,
/// items): the page and its index agree on it when they were written from the same records.
pub fn records_key(records: &[SummaryRecord]) -> String {
    let mut h = Sha256::new();
    for r in records {
        for field in [
            r.kind.name(),
            &r.path,
            &r.start_line.to_string(),
            &r.end_line.to_string(),
            r.shown_line(),
            &r.topic,
            &r.symbols.join("\u{1}"),
            if r.failed() { "failed" } else { "" },
        ] {
            h.update(field.as_bytes());
            h.update([0]);
        }
        h.update([b'\n']);
    }
    hex::encode(&h.finalize()[..12])
}

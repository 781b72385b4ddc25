//! Turning generated ids into text as they arrive.

use super::TextTokenizer;
use crate::llm::text_error::TextTokenizerError;

/// An incremental decoder: feed it ids one at a time with [`TextDecoder::push`], get back the
/// text they complete.
///
/// A token can end in the middle of a UTF-8 character (byte-level and byte-fallback
/// vocabularies split rare characters into bytes) and some decoders change a piece depending on
/// what precedes it (SentencePiece's leading space). The decoder therefore decodes a short
/// window of recent ids and releases only text that is final: text ending in an incomplete
/// character (decoded as U+FFFD) is held back until the next id completes it, or until
/// [`TextDecoder::finish`]. The concatenation of everything returned equals
/// `decode(all ids)` for the decoders `isg` writes and the hub's byte-level and SentencePiece
/// tokenizers.
#[derive(Debug, Clone)]
pub struct TextDecoder {
    tokenizer: TextTokenizer,
    skip_special: bool,
    /// Ids from the start of the context window on.
    ids: Vec<u32>,
    /// `ids[..read]` has been released as text.
    read: usize,
}

impl TextDecoder {
    /// A decoder with no ids yet. `skip_special` drops special tokens as
    /// [`TextTokenizer::decode`] does.
    pub fn new(tokenizer: TextTokenizer, skip_special: bool) -> TextDecoder {
        TextDecoder {
            tokenizer,
            skip_special,
            ids: Vec::new(),
            read: 0,
        }
    }

    /// Adds one id; returns the text it completes (`None` while a character is incomplete).
    pub fn push(&mut self, id: u32) -> Result<Option<String>, TextTokenizerError> {
        self.ids.push(id);
        let before = self
            .tokenizer
            .decode(&self.ids[..self.read], self.skip_special)?;
        let after = self.tokenizer.decode(&self.ids, self.skip_special)?;
        if after.len() <= before.len() || after.ends_with('\u{FFFD}') {
            return Ok(None);
        }
        let Some(new) = after
            .get(before.len()..)
            .filter(|_| after.starts_with(&before))
        else {
            // The window re-decoded differently (a decoder that rewrites earlier text): release
            // nothing now, everything at the end.
            return Ok(None);
        };
        let new = new.to_owned();
        // Keep the last released id as context for the next piece.
        let keep_from = self.ids.len() - 1;
        self.ids.drain(..keep_from);
        self.read = self.ids.len();
        Ok(Some(new))
    }

    /// Releases whatever is held back (an incomplete character becomes U+FFFD).
    pub fn finish(&mut self) -> Result<String, TextTokenizerError> {
        let before = self
            .tokenizer
            .decode(&self.ids[..self.read], self.skip_special)?;
        let after = self.tokenizer.decode(&self.ids, self.skip_special)?;
        self.ids.clear();
        self.read = 0;
        Ok(match after.strip_prefix(before.as_str()) {
            Some(rest) => rest.to_owned(),
            None => after,
        })
    }
}

//! Line positions of a text: a line is the text up to and including a `\n`, and a last line
//! without one counts too (so `"a\nb"` and `"a\nb\n"` both have two lines, `""` has none).

/// Byte offsets of the line starts of a text.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    /// Indexes `text`.
    pub(crate) fn new(text: &str) -> LineIndex {
        let mut starts = Vec::with_capacity(text.len() / 32 + 1);
        if !text.is_empty() {
            starts.push(0);
        }
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' && i + 1 < text.len() {
                starts.push(i + 1);
            }
        }
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    /// The number of lines.
    pub(crate) fn count(&self) -> usize {
        self.starts.len()
    }

    /// The 0-based line that holds byte `offset` (the last line for offsets past the end).
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// The byte range of lines `first..=last` (0-based), newline of the last one included.
    pub(crate) fn byte_range(&self, first: usize, last: usize) -> (usize, usize) {
        let start = self.starts.get(first).copied().unwrap_or(self.len);
        let end = self.starts.get(last + 1).copied().unwrap_or(self.len);
        (start, end.max(start))
    }

    /// The text of line `line` (0-based) without its line ending.
    pub(crate) fn line<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let (a, b) = self.byte_range(line, line);
        text.get(a..b)
            .unwrap_or("")
            .trim_end_matches('\n')
            .trim_end_matches('\r')
    }
}

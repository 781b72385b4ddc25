//! Comment text: markers stripped, the first sentence of a doc comment, and its one-line form.

/// The text of a comment or docstring without its markers (`///`, `//!`, `//`, `#`, `/**`,
/// `*/`, leading `*`, Python quotes), one line per source line.
pub fn comment_body(comment: &str) -> String {
    let mut t = comment.trim();
    // Python strings: optional prefix letters, then triple or single quotes.
    let unprefixed = t.trim_start_matches(['r', 'R', 'u', 'U', 'b', 'B', 'f', 'F']);
    for q in ["\"\"\"", "'''", "\"", "'"] {
        if unprefixed.starts_with(q) && unprefixed.len() >= 2 * q.len() && unprefixed.ends_with(q) {
            t = &unprefixed[q.len()..unprefixed.len() - q.len()];
            return dedent(t);
        }
    }
    if let Some(rest) = t.strip_prefix("/*") {
        let rest = rest.strip_suffix("*/").unwrap_or(rest);
        let rest = rest.trim_start_matches(['*', '!']);
        let lines: Vec<&str> = rest
            .lines()
            .map(|l| {
                let l = l.trim();
                let l = l.strip_prefix('*').unwrap_or(l);
                l.strip_prefix(' ').unwrap_or(l)
            })
            .collect();
        return lines.join("\n");
    }
    t.lines()
        .map(|l| {
            let l = l.trim_start();
            let l = ["///", "//!", "//", "#"]
                .iter()
                .find_map(|m| l.strip_prefix(m))
                .unwrap_or(l);
            l.strip_prefix(' ').unwrap_or(l).trim_end()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn dedent(t: &str) -> String {
    let lines: Vec<&str> = t.lines().collect();
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.trim()
            } else {
                l.get(indent..).unwrap_or(l.trim()).trim_end()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where the first sentence of `text` ends: just after the first `.`, `!` or `?` that is
/// followed by a space or the end of the text; `None` when no stop is.
pub fn sentence_end(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    (0..b.len())
        .find(|&i| matches!(b[i], b'.' | b'!' | b'?') && (i + 1 == b.len() || b[i + 1] == b' '))
        .map(|i| i + 1)
}

/// The first sentence of a doc text (markers already stripped or not): leading blank lines,
/// headings and code fences are skipped, the first paragraph is joined into one line, markdown
/// links are reduced to their text, emphasis stars and backticks are dropped, and the text is
/// cut after the first `.`, `!` or `?` followed by a space or the end (after the second when
/// the first sentence is one word). Capped at 240 characters.
pub fn first_sentence(doc: &str) -> String {
    let body = comment_body(doc);
    let mut parts: Vec<&str> = Vec::new();
    for line in body.lines() {
        let s = line.trim();
        if s.is_empty() {
            if parts.is_empty() {
                continue;
            }
            break;
        }
        if s.starts_with('#') || s.starts_with("```") || s.starts_with('@') {
            if parts.is_empty() {
                continue;
            }
            break;
        }
        parts.push(s);
    }
    let joined = simplify_markdown(&parts.join(" "), &body);
    let mut end = sentence_end(&joined).unwrap_or(joined.len());
    // A one-word sentence ("Unstable.", "Note:") says too little alone: the next one joins it.
    if joined[..end].split_whitespace().count() < 2 {
        end += sentence_end(&joined[end..]).unwrap_or(joined.len() - end);
    }
    let sentence = joined[..end].trim();
    if sentence.chars().count() > 240 {
        let cut: String = sentence.chars().take(240).collect();
        format!("{}...", cut.trim_end())
    } else {
        sentence.to_string()
    }
}

/// `[text](url)`, `[text][label]` and `[text][]` → `text`; `[`x`]` and `[path::X]` (rustdoc's
/// links to items) → `x`, and so is `[some text]` when `doc` defines it (`[some text]: url`);
/// backticks dropped. Other brackets stay: `a[i]` indexes and `[1, 2]` is a list.
fn simplify_markdown(s: &str, doc: &str) -> String {
    // Asked only of a bare `[text]` that is not an item, so the doc is lowered only then.
    let defined = |text: &str| {
        doc.to_lowercase()
            .contains(&format!("[{}]:", text.to_lowercase()))
    };
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let indexes = out
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ')' || c == ']');
        let link = match after.find(']') {
            Some(close) if !indexes && !after[..close].contains('[') => {
                let text = &after[..close];
                let tail = &after[close + 1..];
                // The target after the text: `(url)` inline, `[label]` or `[]` by reference.
                let target = |open: char, shut: char| {
                    tail.strip_prefix(open)
                        .and_then(|t| closing(t, open, shut).map(|i| &t[i + 1..]))
                };
                match target('(', ')').or_else(|| target('[', ']')) {
                    Some(t) => Some((text, t)),
                    None if is_item_link(text) || defined(text) => Some((text, tail)),
                    None => None,
                }
            }
            _ => None,
        };
        match link {
            Some((text, t)) => {
                out.push_str(text);
                rest = t;
            }
            None => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    drop_emphasis(&out).replace('`', "")
}

/// The byte index in `t` of the `shut` that closes an `open` already passed, nested pairs
/// skipped: the `)` of `(https://x/Matching_(graph))`.
fn closing(t: &str, open: char, shut: char) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in t.char_indices() {
        if c == open {
            depth += 1;
        } else if c == shut {
            if depth == 0 {
                return Some(i);
            }
            depth -= 1;
        }
    }
    None
}

/// Markdown emphasis (`*a*`, `**a**`, `***a***`) without its stars, outside code in backticks:
/// a run of stars that opens a word is dropped with the first run of the same length that
/// closes one. Stars that are not such a pair stay (`a * b`, `*const T` alone).
fn drop_emphasis(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut code = false;
    // (start, length, opens, closes) of each run of stars outside code.
    let mut runs: Vec<(usize, usize, bool, bool)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '`' {
            code = !code;
            i += 1;
            continue;
        }
        if chars[i] != '*' || code {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i] == '*' {
            i += 1;
        }
        let before = start.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i).copied();
        let opens = after.is_some_and(|c| !c.is_whitespace())
            && before.is_none_or(|c| c.is_whitespace() || "([{\"'".contains(c));
        let closes = before.is_some_and(|c| !c.is_whitespace())
            && after.is_none_or(|c| c.is_whitespace() || ".,;:!?)]}'\"".contains(c));
        runs.push((start, i - start, opens, closes));
    }
    let mut drop = vec![false; chars.len()];
    let mut k = 0;
    while k < runs.len() {
        let (start, len, opens, _) = runs[k];
        let pair = opens
            .then(|| (k + 1..runs.len()).find(|&m| runs[m].1 == len && runs[m].3))
            .flatten();
        match pair {
            Some(m) => {
                drop[start..start + len].fill(true);
                drop[runs[m].0..runs[m].0 + len].fill(true);
                k = m + 1;
            }
            None => k += 1,
        }
    }
    chars
        .iter()
        .zip(&drop)
        .filter(|(_, d)| !**d)
        .map(|(c, _)| c)
        .collect()
}

/// Whether the text of a bare `[text]` names an item, as rustdoc links it: code in backticks,
/// or one word or path (`Vec`, `crate::io::Read`, `Self::new()`).
fn is_item_link(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with('`') && t.ends_with('`') && t.len() > 2)
        || (!t.is_empty()
            && t.chars().all(|c| {
                c.is_alphanumeric() || matches!(c, '_' | ':' | '!' | '(' | ')' | '<' | '>' | '@')
            }))
}

/// A doc comment reduced to one line in its own style: `/// First sentence.`,
/// `/** First sentence. */`, `"""First sentence."""`, `# First sentence.`.
pub(crate) fn one_line_doc(comment: &str) -> String {
    let sentence = first_sentence(comment);
    let t = comment.trim_start();
    let unprefixed = t.trim_start_matches(['r', 'R', 'u', 'U', 'b', 'B', 'f', 'F']);
    for q in ["\"\"\"", "'''", "\"", "'"] {
        if unprefixed.starts_with(q) {
            return format!("{q}{sentence}{q}");
        }
    }
    for (open, close) in [("/**", " */"), ("/*!", " */"), ("/*", " */")] {
        if t.starts_with(open) {
            return format!("{open} {sentence}{close}");
        }
    }
    for m in ["///", "//!", "//", "#"] {
        if t.starts_with(m) {
            return format!("{m} {sentence}");
        }
    }
    sentence
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_of_every_form_keep_only_their_text() {
        assert_eq!(
            first_sentence(
                "//! Algorithms for the [Maximum Flow Problem][max_flow].\n//!\n//! [max_flow]: https://x"
            ),
            "Algorithms for the Maximum Flow Problem."
        );
        assert_eq!(
            first_sentence("/// See [`Graph`][] and [the docs](https://x) for [`Node`]."),
            "See Graph and the docs for Node."
        );
        assert_eq!(
            first_sentence("/// Wraps [Vec] and [`std::io::Read`], see [crate::io::copy]."),
            "Wraps Vec and std::io::Read, see crate::io::copy."
        );
        assert_eq!(
            first_sentence(
                "/// Compute the [*matching*](https://w/Matching_(graph)#Defs) of a graph."
            ),
            "Compute the matching of a graph."
        );
        assert_eq!(
            first_sentence("//! ***Unstable.*** Graph generation.\n//!\n//! More."),
            "Unstable. Graph generation."
        );
        assert_eq!(
            first_sentence("/// Reads **all** of `*const T` and a * b."),
            "Reads all of *const T and a * b."
        );
        // Brackets that are not links stay as they are.
        assert_eq!(
            first_sentence("/// Indexes a[i] and v[0][1] of [1, 2]."),
            "Indexes a[i] and v[0][1] of [1, 2]."
        );
        assert_eq!(
            first_sentence(
                "//! Types for [inclusive ranges].\n//!\n//! [Inclusive Ranges]: https://x"
            ),
            "Types for inclusive ranges."
        );
    }
}

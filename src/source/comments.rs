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
/// links are reduced to their text, backticks are dropped, and the text is cut after the first
/// `.`, `!` or `?` followed by a space or the end. Capped at 240 characters.
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
    let joined = simplify_markdown(&parts.join(" "));
    let end = sentence_end(&joined).unwrap_or(joined.len());
    let sentence = joined[..end].trim();
    if sentence.chars().count() > 240 {
        let cut: String = sentence.chars().take(240).collect();
        format!("{}...", cut.trim_end())
    } else {
        sentence.to_string()
    }
}

/// `[text](url)` → `text`, `[`x`]` → `x`, backticks dropped.
fn simplify_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if !after[..close].contains('[') => {
                out.push_str(&after[..close]);
                let tail = &after[close + 1..];
                rest = match tail
                    .strip_prefix('(')
                    .and_then(|t| t.find(')').map(|i| &t[i + 1..]))
                {
                    Some(t) => t,
                    None => tail,
                };
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.replace('`', "")
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

//! Fitting a chunk's prompt into the token budget by the reduction ladder.
//!
//! The requested view is tried first, then each smaller view of
//! [`View::reduced`](crate::source::View::reduced) (any code view → interface → names). When
//! even names do not fit, the interface view (or the names, if those were asked for) is cut to
//! its first lines with an explicit `…elided N lines…` marker, keeping as many lines as fit.
//! Nothing is cut silently: [`Fitted`] says which view was sent and how it was shortened.
//!
//! The cost follows the budget, not the chunk: a view much longer than the budget is judged
//! from a prefix (a 10 MB minified line is never tokenized whole only to learn that it does
//! not fit), and the number of lines kept is found by doubling from one line before bisecting,
//! so no text much larger than the one sent is tokenized.

use super::prompt::{Place, PromptTemplate};
use crate::record::Reduction;
use crate::source::{Chunk, View, view};

/// A chunk's per-chunk prompt ids and how they were obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    /// Token ids of the chunk's part of the prompt and the template's tail.
    pub ids: Vec<u32>,
    /// The view sent.
    pub view: View,
    /// Whether and how the prompt was shortened.
    pub reduction: Reduction,
    /// Lines cut when `reduction` is [`Reduction::Elided`].
    pub elided_lines: Option<usize>,
    /// Lines of the view before the cut, when `reduction` is [`Reduction::Elided`].
    pub total_lines: Option<usize>,
}

impl Fitted {
    /// The share of the view's lines a cut kept; `None` when nothing was cut.
    pub fn kept_share(&self) -> Option<f64> {
        let (cut, total) = (self.elided_lines?, self.total_lines?);
        Some(if total == 0 {
            1.0
        } else {
            (total - cut) as f64 / total as f64
        })
    }
}

/// Why a chunk's prompt cannot be made to fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FitError {
    /// The tokenizer failed.
    #[error("tokenizing the prompt: {0}")]
    Tokenize(String),
    /// Even the path, the item names and the elision marker exceed the budget.
    #[error(
        "the chunk's context alone needs {need} tokens, over the budget of {budget}; raise --max-prompt-tokens"
    )]
    TooLong {
        /// Tokens of the smallest prompt.
        need: usize,
        /// Tokens allowed for the chunk's part.
        budget: usize,
    },
}

/// A view longer than this many bytes per token of budget is first judged from a prefix that
/// long (code runs at 3 to 4 bytes per token, so the prefix alone is far over the budget).
const PROBE_BYTES_PER_TOKEN: usize = 16;
/// Tokens a prefix cut at a line end may count beyond what the same lines count in the whole
/// text (the pieces either side of the cut).
const PROBE_SLACK: usize = 8;

/// The marker that replaces cut lines.
pub fn elision_marker(lines: usize) -> String {
    format!("…elided {lines} lines…")
}

/// Fits `chunk` (at `place` in its file) into `budget` tokens (the per-chunk part only; the
/// shared head is not counted here), starting from `requested`.
///
/// Before the names view replaces an interface that is too long, the interface cut to its
/// first lines is tried: when it keeps at least [`MIN_KEPT_SHARE`] of the lines it is sent,
/// since the start of a file (its documentation, its first types) says more than a list of
/// names.
pub fn fit(
    chunk: &Chunk,
    place: Place,
    requested: View,
    template: &PromptTemplate,
    budget: usize,
    encode: &dyn Fn(&str) -> Result<Vec<u32>, String>,
) -> Result<Fitted, FitError> {
    let tokens =
        |text: &str| encode(&template.suffix(chunk, place, text)).map_err(FitError::Tokenize);
    for (step, v) in requested.ladder_from().into_iter().enumerate() {
        if v == View::Names && requested != View::Names {
            let cut = cut_to_fit(chunk, View::Interface, budget, &tokens)?;
            if let Some(kept) = cut.kept_share()
                && kept >= MIN_KEPT_SHARE
            {
                return Ok(cut);
            }
        }
        let text = view(chunk, v);
        if surely_over(&text, budget, &tokens)? {
            continue;
        }
        let ids = tokens(&text)?;
        if ids.len() <= budget {
            let reduction = if step == 0 {
                Reduction::None
            } else {
                Reduction::View
            };
            return Ok(Fitted {
                ids,
                view: v,
                reduction,
                elided_lines: None,
                total_lines: None,
            });
        }
    }
    let cut_view = if requested == View::Names {
        View::Names
    } else {
        View::Interface
    };
    cut_to_fit(chunk, cut_view, budget, &tokens)
}

/// The least share of the interface's lines a cut interface must keep to be sent instead of
/// the names view.
pub const MIN_KEPT_SHARE: f64 = 0.5;

/// `v` cut to its first lines, with an elision marker, keeping as many lines as fit.
fn cut_to_fit(
    chunk: &Chunk,
    v: View,
    budget: usize,
    tokens: &dyn Fn(&str) -> Result<Vec<u32>, FitError>,
) -> Result<Fitted, FitError> {
    let text = view(chunk, v);
    let lines: Vec<&str> = text.lines().collect();
    let with = |keep: usize| {
        let mut t = lines[..keep].join("\n");
        if !t.is_empty() {
            t.push('\n');
        }
        t.push_str(&elision_marker(lines.len() - keep));
        t
    };
    // Largest `keep` that fits: fitting is monotone in the number of lines kept.
    let smallest = tokens(&with(0))?;
    if smallest.len() > budget {
        return Err(FitError::TooLong {
            need: smallest.len(),
            budget,
        });
    }
    // `lo` lines fit; double until a count does not (or every line fits), then bisect, so the
    // largest text tokenized is about twice the one sent.
    let (mut lo, mut best) = (0usize, smallest);
    let mut step = 1;
    let mut hi = loop {
        let probe = (lo + step).min(lines.len());
        if probe == lo {
            break lo;
        }
        let ids = tokens(&with(probe))?;
        if ids.len() > budget {
            break probe - 1;
        }
        lo = probe;
        best = ids;
        step *= 2;
    };
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let ids = tokens(&with(mid))?;
        if ids.len() <= budget {
            lo = mid;
            best = ids;
        } else {
            hi = mid - 1;
        }
    }
    Ok(Fitted {
        ids: best,
        view: v,
        reduction: Reduction::Elided,
        elided_lines: Some(lines.len() - lo),
        total_lines: Some(lines.len()),
    })
}

/// Whether `text` is surely over `budget` tokens, judged from its first
/// `budget * PROBE_BYTES_PER_TOKEN` bytes (cut at a line end) when it is longer than that;
/// `false` means only that the whole text has to be tokenized to know.
fn surely_over(
    text: &str,
    budget: usize,
    tokens: &dyn Fn(&str) -> Result<Vec<u32>, FitError>,
) -> Result<bool, FitError> {
    let probe = budget.saturating_mul(PROBE_BYTES_PER_TOKEN);
    if text.len() <= probe {
        return Ok(false);
    }
    let mut cut = probe;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = text[..cut].rfind('\n').map_or(cut, |i| i + 1);
    Ok(tokens(&text[..cut])?.len() > budget + PROBE_SLACK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Comments, Language, SourceFile, chunk_file};

    /// Counts whitespace-separated words as tokens: enough to exercise the budget logic.
    fn words(text: &str) -> Result<Vec<u32>, String> {
        Ok(text.split_whitespace().map(|_| 0).collect())
    }

    fn template() -> PromptTemplate {
        PromptTemplate {
            head: "<head>".into(),
            tail: "\n<end>".into(),
            design: crate::run::design(crate::run::DEFAULT_DESIGN).unwrap(),
        }
    }

    fn chunk() -> Chunk {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/run/cache.rs"))
                .unwrap();
        let file = SourceFile::from_text("src/run/cache.rs", Language::Rust, text);
        chunk_file(&file, 10_000).remove(0)
    }

    #[test]
    fn goes_down_the_ladder() {
        let c = chunk();
        let code = View::Code(Comments::DocFirstLine);
        let t = template();
        let size = |v: View| {
            words(&t.suffix(&c, Place::WHOLE, &view(&c, v)))
                .unwrap()
                .len()
        };
        let (full, iface, names) = (size(code), size(View::Interface), size(View::Names));
        assert!(full > iface && iface > names, "{full} {iface} {names}");

        let f = fit(&c, Place::WHOLE, code, &t, full, &words).unwrap();
        assert_eq!((f.view, f.reduction), (code, Reduction::None));
        let f = fit(&c, Place::WHOLE, code, &t, full - 1, &words).unwrap();
        assert_eq!((f.view, f.reduction), (View::Interface, Reduction::View));
        // Just short of the interface: its cut keeps nearly every line, so it beats the names.
        let f = fit(&c, Place::WHOLE, code, &t, iface - 1, &words).unwrap();
        assert_eq!((f.view, f.reduction), (View::Interface, Reduction::Elided));
        assert!(f.kept_share().unwrap() > 0.9, "{:?}", f.kept_share());
        // Room for the names only: a cut would keep under half the interface, so names go.
        assert!(iface > 3 * names, "{iface} {names}");
        let f = fit(&c, Place::WHOLE, code, &t, names, &words).unwrap();
        assert_eq!((f.view, f.reduction), (View::Names, Reduction::View));

        let f = fit(&c, Place::WHOLE, code, &t, names - 1, &words).unwrap();
        assert_eq!((f.view, f.reduction), (View::Interface, Reduction::Elided));
        assert!(f.ids.len() < names);
        let elided = f.elided_lines.unwrap();
        let total = view(&c, View::Interface).lines().count();
        assert!(elided > 0 && elided <= total, "{elided} of {total}");
    }

    #[test]
    fn refuses_when_nothing_fits() {
        let c = chunk();
        assert!(matches!(
            fit(&c, Place::WHOLE, View::Interface, &template(), 3, &words),
            Err(FitError::TooLong { .. })
        ));
    }

    /// A 1 MB minified chunk against a budget of 2,000 tokens: the prompt is the interface cut
    /// to the most lines that fit, exactly as a full search finds, and no text tokenized on the
    /// way is more than a small multiple of the budget (the whole view is never tokenized).
    #[test]
    fn a_huge_chunk_is_fitted_without_tokenizing_it_whole() {
        let mut js = String::new();
        let mut i = 0;
        while js.len() < 1_000_000 {
            js.push_str(&format!(
                "function f{i}(a, b) {{ var c = a + b * {i}; return [a, b, c] }};"
            ));
            i += 1;
        }
        let file = SourceFile::from_text("bundle.min.js", Language::JavaScript, js);
        let c = chunk_file(&file, 300).remove(0);
        let t = template();
        let longest = std::cell::Cell::new(0usize);
        let counting = |text: &str| {
            longest.set(longest.get().max(text.len()));
            words(text)
        };
        let budget = 2000;
        let code = View::Code(Comments::DocFirstLine);
        let f = fit(&c, Place::WHOLE, code, &t, budget, &counting).unwrap();
        assert_eq!((f.view, f.reduction), (View::Interface, Reduction::Elided));
        assert!(f.ids.len() <= budget, "{}", f.ids.len());
        // The most lines that fit: one more does not.
        let interface = view(&c, View::Interface);
        let lines: Vec<&str> = interface.lines().collect();
        let elided = f.elided_lines.unwrap();
        let kept = lines.len() - elided;
        assert!(kept > 0 && elided > 0, "{kept} kept, {elided} elided");
        let one_more = format!(
            "{}\n{}",
            lines[..kept + 1].join("\n"),
            elision_marker(elided - 1)
        );
        assert!(words(&t.suffix(&c, Place::WHOLE, &one_more)).unwrap().len() > budget);
        assert!(
            longest.get() < budget * PROBE_BYTES_PER_TOKEN * 2,
            "tokenized {} bytes of a {} byte chunk",
            longest.get(),
            c.text.len()
        );
    }
}

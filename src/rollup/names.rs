//! Whether a roll-up answer lists its children's names instead of saying what they are for.
//!
//! A small model asked about a directory often answers with the names it was shown: "The
//! runtime time management: wheel, entry, mod, tests, handle, source." The names stand beside
//! the line in every view of the map, so the list tells a reader nothing and costs an agent
//! tokens. A trailing list of names is cut ("The runtime time management."); an answer that is
//! nothing but names is rejected (and asked again).

/// The name of the rejection in records.
pub const NAMES_ONLY: &str = "names";

/// Items a list needs before it counts as a list.
const MIN_ITEMS: usize = 3;

/// Names a list needs before any is cut from it.
const MIN_NAMES: usize = 2;

/// Words the part before the list needs to stand alone as a line.
const MIN_HEAD_WORDS: usize = 2;

/// What [`name_list`] found in an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed {
    /// No list of names: the line stands as it is.
    Plain,
    /// A list of names after a colon, cut: the line without it.
    Cut(String),
    /// Nothing but names.
    OnlyNames,
}

/// A child's name as [`normal`] spells it: a file or folder name (`wheel/`, `entry.rs`), or
/// an item's last word without its kind (`fn Throttle::get_ref` is `get_ref`, `struct
/// Throttle` is `throttle`).
fn normal_name(s: &str) -> String {
    normal(s.split_whitespace().last().unwrap_or(""))
}

/// A name or list item in one spelling: the last path or `::` segment, no extension, no
/// leading article or conjunction, lower case, `_` and `-` as spaces.
fn normal(s: &str) -> String {
    let s = s.trim().trim_end_matches(['.', ';', '/']).trim();
    let s = s.rsplit("::").next().unwrap_or(s);
    let s = s.rsplit('/').next().unwrap_or(s);
    let s = match s.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 4 => stem,
        _ => s,
    };
    let mut t = s.to_lowercase().replace(['_', '-'], " ");
    for lead in ["and ", "or ", "the ", "a ", "an "] {
        if let Some(rest) = t.strip_prefix(lead) {
            t = rest.to_string();
        }
    }
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The items of a list as written: split at commas, the last also at " and " / " or ", a
/// leading "and " dropped.
fn items(list: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for part in list.split(',') {
        let part = part.trim();
        let part = part
            .strip_prefix("and ")
            .or_else(|| part.strip_prefix("or "))
            .unwrap_or(part);
        match part.split_once(" and ").or_else(|| part.split_once(" or ")) {
            Some((a, b)) if !a.trim().is_empty() => {
                out.push(a.trim());
                out.push(b.trim());
            }
            _ => out.push(part),
        }
    }
    out.retain(|i| !normal(i).is_empty());
    out
}

/// Items joined back: "a", "a and b", "a, b and c".
fn join(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What a list says once the names are out of it: `None` when it holds too few names to
/// count, else the items that are not names (empty when most of it is names).
fn without_names<'a>(list: &'a str, names: &[String]) -> Option<Vec<&'a str>> {
    let items: Vec<(&str, bool)> = items(list)
        .into_iter()
        .map(|i| (i, names.contains(&normal(i))))
        .collect();
    let known = items.iter().filter(|(_, name)| *name).count();
    if items.len() < MIN_ITEMS || known < MIN_NAMES {
        return None;
    }
    if known * 3 >= items.len() * 2 {
        return Some(Vec::new());
    }
    Some(
        items
            .into_iter()
            .filter(|(_, name)| !name)
            .map(|(i, _)| i)
            .collect(),
    )
}

/// Looks for a list of `names` (the children's file, folder or item names) in `line`.
pub fn name_list(line: &str, names: &[String]) -> Listed {
    let names: Vec<String> = names.iter().map(|n| normal_name(n)).collect();
    let body = line.trim().trim_end_matches(['.', '!', '?']);
    if let Some((head, list)) = body.split_once(": ")
        && let Some(rest) = without_names(list, &names)
    {
        let words = head
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphabetic))
            .count();
        return match (rest.is_empty(), words >= MIN_HEAD_WORDS) {
            (false, _) => Listed::Cut(format!("{}: {}.", head.trim(), join(&rest))),
            (true, true) => Listed::Cut(format!("{}.", head.trim())),
            (true, false) => Listed::OnlyNames,
        };
    }
    match without_names(body, &names) {
        None => Listed::Plain,
        Some(rest) if rest.is_empty() => Listed::OnlyNames,
        Some(rest) => Listed::Cut(format!("{}.", join(&rest))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_trailing_list_of_child_names_is_cut() {
        let kids = names(&[
            "wheel/",
            "entry.rs",
            "mod.rs",
            "tests/",
            "handle.rs",
            "source.rs",
        ]);
        assert_eq!(
            name_list(
                "The runtime time management: wheel, entry, mod, tests, handle, source.",
                &kids
            ),
            Listed::Cut("The runtime time management.".into())
        );
        let kids = names(&[
            "cancellation_queue/",
            "registration_queue/",
            "wake_queue/",
            "context.rs",
            "timer.rs",
        ]);
        assert_eq!(
            name_list(
                "The time driver: cancellation queue, registration queue, wake queue, and context.",
                &kids
            ),
            Listed::Cut("The time driver.".into())
        );
    }

    #[test]
    fn a_line_of_names_alone_is_rejected() {
        let kids = names(&[
            "atomic_waker.rs",
            "notify.rs",
            "semaphore_batch.rs",
            "loom_list.rs",
        ]);
        assert_eq!(
            name_list("Atomic-waker, notify, semaphore_batch, loom_list.", &kids),
            Listed::OnlyNames
        );
        assert_eq!(
            name_list(
                "Utilities: atomic_waker, notify and semaphore_batch.",
                &kids
            ),
            Listed::OnlyNames
        );
        // A file's items.
        let items = names(&[
            "fn Throttle::get_ref",
            "fn Throttle::get_mut",
            "fn Throttle::into_inner",
            "struct Throttle",
            "impl Stream for Interval",
        ]);
        assert_eq!(
            name_list("A throttled stream: get_ref, get_mut, into_inner.", &items),
            Listed::Cut("A throttled stream.".into())
        );
        assert_eq!(
            name_list("Throttle, Interval and get_ref.", &items),
            Listed::OnlyNames
        );
    }

    #[test]
    fn names_among_what_parts_do_are_dropped() {
        let kids = names(&[
            "sync_broadcast.rs",
            "rt_threaded.rs",
            "rt_basic.rs",
            "io_read.rs",
        ]);
        assert_eq!(
            name_list(
                "Tests for mpsc channels, runtime shutdown, sync_broadcast, rt_threaded.",
                &kids
            ),
            Listed::Cut("Tests for mpsc channels and runtime shutdown.".into())
        );
        assert_eq!(
            name_list(
                "Runtime tests: reading, rt_basic, io_read and shutdown.",
                &kids
            ),
            Listed::Cut("Runtime tests: reading and shutdown.".into())
        );
    }

    #[test]
    fn lists_of_what_parts_do_are_left_alone() {
        let kids = names(&["btree.rs", "wal.rs", "page_cache.rs"]);
        for line in [
            "The storage engine: a B-tree index, the write-ahead log and a page cache.",
            "A storage engine built on a B-tree.",
            "Traits: AsyncRead, AsyncWrite, AsyncSeek.",
            "Btree and wal.",
            "The storage engine: btree, a log and a cache.",
        ] {
            assert_eq!(name_list(line, &kids), Listed::Plain, "{line}");
        }
    }
}

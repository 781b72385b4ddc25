//! Shared by the browser tests: headless Chromium run on a page, and what its dumped DOM says
//! (an entry's classes, the ranked results, the count line).

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Runs headless Chromium with `args` and returns its standard output (the DOM with
/// `--dump-dom`).
pub fn browser(chromium: &Path, profile: &Path, args: &[&str]) -> String {
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("running chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The DOM of `page` opened with the search `query` in its URL (`#q=...`).
pub fn dom_for(chromium: &Path, profile: &Path, page: &Path, query: &str) -> String {
    let q: String = query
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let url = format!("file://{}#q={q}", page.display());
    browser(chromium, profile, &["--dump-dom", &url])
}

/// The `class` attribute of the `<li>` with `id`.
pub fn class_of<'a>(dom: &'a str, id: &str) -> &'a str {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id} in the page"));
    let open = dom[..at].rfind("<li").unwrap();
    let tag = &dom[open..at + dom[at..].find('>').unwrap()];
    let start = tag.find("class=\"").unwrap() + 7;
    &tag[start..start + tag[start..].find('"').unwrap()]
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(unescape(&tag[start..start + tag[start..].find('"')?]))
}

/// One ranked line the page lists.
#[derive(Debug, Clone, PartialEq)]
pub struct PageHit {
    /// `chunk`, `file` or `dir`.
    pub kind: String,
    /// The path.
    pub path: String,
    /// `START-END`, none for a directory.
    pub lines: Option<String>,
    /// The score shown (4 decimals).
    pub score: f32,
    /// The id of the tree entry (`n12`).
    pub node: String,
}

/// The ranked lines of `#results`, best first.
pub fn results_of(dom: &str) -> Vec<PageHit> {
    let Some(start) = dom.find("<ol id=\"results\"") else {
        return Vec::new();
    };
    let list = &dom[start..start + dom[start..].find("</ol>").unwrap()];
    let mut out = Vec::new();
    let mut rest = list;
    while let Some(at) = rest.find("<li ") {
        let tag = &rest[at..at + rest[at..].find('>').unwrap()];
        out.push(PageHit {
            kind: attr(tag, "data-kind").unwrap_or_default(),
            path: attr(tag, "data-path").unwrap_or_default(),
            lines: attr(tag, "data-lines"),
            score: attr(tag, "data-score")
                .and_then(|s| s.parse().ok())
                .unwrap_or(f32::NAN),
            node: attr(tag, "data-node").unwrap_or_default(),
        });
        rest = &rest[at + 4..];
    }
    out
}

/// The text of the element with `id` (no markup inside).
pub fn text_of(dom: &str, id: &str) -> String {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id} in the page"));
    let start = at + dom[at..].find('>').unwrap() + 1;
    unescape(&dom[start..start + dom[start..].find('<').unwrap()])
}

/// The query time the page reports (`data-ms` of `#count`), in milliseconds.
pub fn query_ms(dom: &str) -> Option<f64> {
    let at = dom.find("id=\"count\"")?;
    let open = dom[..at].rfind('<')?;
    let tag = &dom[open..at + dom[at..].find('>')?];
    attr(tag, "data-ms")?.parse().ok()
}

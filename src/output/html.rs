//! `index.html`: the tree of lines for people, one self-contained file (inline CSS and script,
//! nothing fetched). Directories and files fold open and shut; each entry shows its span
//! (lines, or files and lines below a directory), its items and its line; fallback and failed
//! lines are marked. The search box ranks the lines as `isg search` does, with the index and
//! encoder it loads from the files beside it (see [`crate::search::page`]), lists the best and
//! marks them in the tree, opening their ancestors; `index.html#q=Semaphore` opens with that
//! search.
//!
//! The tree travels as JSON inside the page (every `<` escaped, so no text can end the
//! script); the script builds the entries with `textContent`, never parsing text as HTML.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::sink::{SummarySink, write_atomic};
use crate::record::PipelineError;
use crate::record::RunReport;
use crate::record::Tree;
use crate::record::{Kind, SummaryRecord};

/// The file's name in the output folder.
pub const INDEX_HTML_FILE: &str = "index.html";

/// Writes `index.html`.
pub struct HtmlSink {
    path: PathBuf,
}

impl HtmlSink {
    /// A sink writing `out_dir/index.html`.
    pub fn new(out_dir: &Path) -> HtmlSink {
        HtmlSink {
            path: out_dir.join(INDEX_HTML_FILE),
        }
    }
}

impl SummarySink for HtmlSink {
    fn finish(
        &mut self,
        records: &[SummaryRecord],
        report: &RunReport,
    ) -> Result<(), PipelineError> {
        write_atomic(&self.path, render_html(records, report).as_bytes())
    }
}

/// One entry as the page's script reads it.
#[derive(Serialize)]
struct Entry {
    /// `root`, `dir`, `file`, `chunk`.
    k: &'static str,
    /// Name shown (`sync/`, `mutex.rs`, `L10–L80`).
    n: String,
    /// Path.
    p: String,
    /// Span: `L1–L400`, or `12 files, 3,400 lines`.
    sp: String,
    /// Item names.
    i: Vec<String>,
    /// The line.
    s: String,
    /// `ok`, `fallback` or `failed`.
    st: &'static str,
    /// Why, for a fallback or failure.
    w: String,
    /// Children, by index.
    c: Vec<usize>,
}

/// The page for `records` (any kinds, any order).
pub fn render_html(records: &[SummaryRecord], report: &RunReport) -> String {
    let tree = Tree::build(records);
    let entries: Vec<Entry> = tree
        .nodes
        .iter()
        .map(|node| {
            // A one-chunk file without a file record shows its chunk's line.
            let rec = node
                .record
                .or_else(|| {
                    (node.kind == Kind::File && node.children.len() == 1)
                        .then(|| tree.nodes[node.children[0]].record)
                        .flatten()
                })
                .map(|i| &records[i]);
            let (st, w) = match rec {
                Some(r) if r.error.is_some() => ("failed", r.error.clone().unwrap_or_default()),
                Some(r) if r.fallback => (
                    "fallback",
                    format!(
                        "answer rejected as {}",
                        r.rejected.clone().unwrap_or_default()
                    ),
                ),
                Some(_) => ("ok", String::new()),
                None => ("none", String::new()),
            };
            let sp = match node.kind {
                Kind::Chunk | Kind::File => rec
                    .map(|r| format!("L{}–L{}", r.start_line, r.end_line))
                    .unwrap_or_default(),
                Kind::Dir | Kind::Root => format!(
                    "{} file{}, {} lines",
                    node.files,
                    if node.files == 1 { "" } else { "s" },
                    node.lines
                ),
            };
            let items = match node.kind {
                Kind::Chunk | Kind::File => rec.map(|r| r.symbols.clone()).unwrap_or_default(),
                Kind::Dir | Kind::Root => Vec::new(),
            };
            Entry {
                k: node.kind.name(),
                n: if node.kind == Kind::Root {
                    root_label(report)
                } else {
                    node.name.clone()
                },
                p: node.path.clone(),
                sp,
                i: items,
                s: rec.map(|r| r.shown_line().to_string()).unwrap_or_default(),
                st,
                w,
                // A one-chunk file is one entry.
                c: if node.kind == Kind::File && node.children.len() == 1 {
                    Vec::new()
                } else {
                    node.children.clone()
                },
            }
        })
        .collect();
    let json = serde_json::to_string(&entries)
        .unwrap_or_else(|_| "[]".into())
        .replace('<', "\\u003c");
    let title = format!("isg map of {}", root_label(report));
    let meta = format!(
        "{} files, model {}, prompt version {}",
        tree.nodes[0].files, report.model, report.prompt_version
    );
    PAGE.replace("{{SEARCH_JS}}", super::page_script::PAGE_SCRIPT)
        .replace("{{KEY}}", &super::page_script::records_key(records))
        .replace("{{TITLE}}", &escape(&title))
        .replace("{{META}}", &escape(&meta))
        .replace("{{DATA}}", &json)
}

/// The root's name for people.
fn root_label(report: &RunReport) -> String {
    if report.root.is_empty() {
        ".".into()
    } else {
        report.root.clone()
    }
}

/// Text made safe inside HTML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page; `{{SEARCH_JS}}`, `{{KEY}}`, `{{TITLE}}`, `{{META}}` and `{{DATA}}` are filled in.
const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{TITLE}}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 70rem; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
.meta { color: #666; margin-bottom: .8rem; }
#q { width: 100%; box-sizing: border-box; font-size: 1rem; padding: .45rem .6rem; border: 1px solid #bbb; border-radius: 6px; }
#count { color: #666; margin: .35rem 0 .8rem; min-height: 1.2em; }
ul { list-style: none; margin: 0; padding-left: 1.3rem; }
#tree > ul { padding-left: 0; }
li { margin: .15rem 0; }
summary { cursor: pointer; }
.name { font-weight: 600; font-family: ui-monospace, monospace; }
.dir > details > summary .name, .root > details > summary .name { color: #0b57d0; }
.span { color: #777; font-size: .85em; margin-left: .4rem; }
.items { color: #555; font-family: ui-monospace, monospace; font-size: .85em; margin-left: .4rem; }
.line { display: block; margin-left: 1.1rem; }
.chunk .line { margin-left: 0; display: inline; }
.chunk .line::before { content: " — "; color: #999; }
.fallback > .row .line, .fallback > details > summary .line { color: #8a5a00; }
.failed > .row .line, .failed > details > summary .line { color: #b3261e; }
.badge { font-size: .75em; border-radius: 4px; padding: 0 .3rem; margin-left: .4rem; }
.fallback .badge.b { background: #fff0c2; color: #8a5a00; }
.failed .badge.b { background: #fde2e1; color: #b3261e; }
.hidden { display: none; }
.hit > .row, .hit > details > summary { background: #fff7a8; }
.mode { color: #666; font-size: .85em; margin: .3rem 0 0; }
#results { margin: 0 0 1rem; padding-left: 1.6rem; }
#results li { margin: .25rem 0; }
#results .line { margin-left: 0; }
</style>
</head>
<body>
<h1>{{TITLE}}</h1>
<div class="meta">{{META}}</div>
<input id="q" type="search" placeholder="Search by meaning, words and item names" autocomplete="off">
<div id="mode" class="mode"></div>
<div id="count"></div>
<ol id="results"></ol>
<div id="tree"></div>
<script id="data" type="application/json" data-key="{{KEY}}">{{DATA}}</script>
<script>
{{SEARCH_JS}}
</script>
<script>
(function () {
  "use strict";
  var nodes = JSON.parse(document.getElementById("data").textContent);
  var els = new Array(nodes.length), dets = new Array(nodes.length), parent = new Array(nodes.length);
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function row(n, into) {
    into.appendChild(el("span", "name", n.n));
    if (n.sp) into.appendChild(el("span", "span", n.sp));
    if (n.i.length) {
      var shown = n.i.slice(0, 8).join(", ") + (n.i.length > 8 ? " and " + (n.i.length - 8) + " more" : "");
      into.appendChild(el("span", "items", shown));
    }
    if (n.st === "fallback" || n.st === "failed") {
      var b = el("span", "badge b", n.st);
      b.title = n.w;
      into.appendChild(b);
    }
    if (n.s) into.appendChild(el("span", "line", n.s));
  }
  function build(i, depth) {
    var n = nodes[i], li = el("li", n.k + " " + n.st);
    li.id = "n" + i;
    els[i] = li;
    if (n.c.length) {
      var d = el("details"), s = el("summary");
      d.open = depth < 2;
      row(n, s);
      d.appendChild(s);
      var ul = el("ul");
      n.c.forEach(function (c) { parent[c] = i; ul.appendChild(build(c, depth + 1)); });
      d.appendChild(ul);
      li.appendChild(d);
      dets[i] = d;
    } else {
      var r = el("div", "row");
      row(n, r);
      li.appendChild(r);
    }
    return li;
  }
  var top = el("ul");
  if (nodes.length) top.appendChild(build(0, 0));
  document.getElementById("tree").appendChild(top);
  IsgPageSearch({
    nodes: nodes, els: els, dets: dets, parent: parent,
    key: document.getElementById("data").getAttribute("data-key"),
    input: document.getElementById("q"), count: document.getElementById("count"),
    results: document.getElementById("results"), mode: document.getElementById("mode")
  });
})();
</script>
</body>
</html>
"##;

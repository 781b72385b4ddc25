//! Finding code by meaning in an output folder: the sentence encoder, `isg search`, `isg mcp` with
//! a real client, and `index.html` in a browser.
//!
//! One test binary: each file below was a test binary of its own; the shared helpers are
//! declared once here.

#[macro_use]
#[path = "../prereq/mod.rs"]
mod prereq;
#[path = "../pipeline_common/mod.rs"]
mod pipeline_common;
#[path = "../search_common/mod.rs"]
mod search_common;

mod browser_common;
mod index_html_browser;
mod mcp_server;
mod search_cli;
mod search_embed;
mod search_page_js;

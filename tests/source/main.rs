//! Walking, chunking, item names, views and module docs, on small files of every language and on
//! the whole tokio crate.
//!
//! One test binary: each file below was a test binary of its own; the shared helpers are
//! declared once here.

#[macro_use]
#[path = "../prereq/mod.rs"]
mod prereq;

mod source_chunk;
mod source_tokio;
mod source_walk;

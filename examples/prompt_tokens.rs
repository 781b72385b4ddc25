//! Prompt tokens per chunk of each prompt design on a source tree, without running a model.
//!
//! `cargo run --release --example prompt_tokens -- MODEL_DIR TREE [DESIGN...]` walks TREE,
//! chunks it as `isg summarize` does, renders every design's prompt with the model folder's
//! tokenizer and chat template, fits each chunk with the default view and prints, per design,
//! the shared head's tokens and the mean per-chunk tokens (what each request prefills beyond
//! the shared head). No design named: all of them.

use std::path::PathBuf;

use isg::llm::{ChatMessage, TextTokenizer};
use isg::run::DEFAULT_VIEW;
use isg::run::fit;
use isg::run::places;
use isg::run::{DESIGNS, PromptTemplate, template_messages};
use isg::source::{DEFAULT_MAX_LINES, WalkSettings, chunk_files, walk};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(model), Some(tree)) = (args.first(), args.get(1)) else {
        anyhow::bail!("usage: prompt_tokens MODEL_DIR TREE [DESIGN...]");
    };
    let tok = TextTokenizer::load(&PathBuf::from(model))?;
    let files = walk(&WalkSettings::new(tree))?.files;
    let chunks = chunk_files(&files, DEFAULT_MAX_LINES);
    let places = places(&chunks);
    println!(
        "{} files, {} chunks of {tree}\n| design | shared head | per chunk (mean) | per chunk (total) | p50 / p90 / p99 / max | tokens over 256 / 384 / 512 |\n| --- | --- | --- | --- | --- | --- |",
        files.len(),
        chunks.len()
    );
    for d in DESIGNS
        .iter()
        .filter(|d| args.len() < 3 || args[2..].iter().any(|a| a == d.name))
    {
        let messages: Vec<ChatMessage> = template_messages(d)
            .into_iter()
            .map(|m| ChatMessage::new(m.role, m.content))
            .collect();
        let rendered = tok.apply_chat_template(&messages, true)?;
        let template = PromptTemplate::from_rendered(&rendered, d)?;
        let head = tok.encode_prompt_text(&template.head)?.len();
        let encode = |s: &str| tok.encode(s, false).map_err(|e| e.to_string());
        let mut sizes = Vec::with_capacity(chunks.len());
        for (c, p) in chunks.iter().zip(&places) {
            sizes.push(
                fit(c, *p, DEFAULT_VIEW, &template, 30_000, &encode)?
                    .ids
                    .len(),
            );
        }
        let total: usize = sizes.iter().sum();
        if std::env::var_os("PROMPT_TOKENS_TOP").is_some() {
            let mut top: Vec<(usize, String)> = sizes
                .iter()
                .zip(&chunks)
                .map(|(n, c)| (*n, format!("{}:{}-{}", c.path, c.start_line, c.end_line)))
                .collect();
            top.sort_unstable_by(|a, b| b.cmp(a));
            for (n, at) in top.iter().take(12) {
                eprintln!("{n:6} {at}");
            }
        }
        sizes.sort_unstable();
        let at = |q: f64| {
            sizes
                .get(((sizes.len() as f64 - 1.0) * q) as usize)
                .copied()
                .unwrap_or(0)
        };
        let over = |cap: usize| sizes.iter().map(|&n| n.saturating_sub(cap)).sum::<usize>();
        println!(
            "| {} | {head} | {:.0} | {total} | {} / {} / {} / {} | {} / {} / {} |",
            d.name,
            total as f64 / chunks.len().max(1) as f64,
            at(0.5),
            at(0.9),
            at(0.99),
            at(1.0),
            over(256),
            over(384),
            over(512),
        );
    }
    Ok(())
}

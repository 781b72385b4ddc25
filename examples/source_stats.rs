//! Walks a tree, chunks it and prints figures: files, lines, chunks, mean chunk lines, and the
//! characters of each view. `cargo run --release --example source_stats -- PATH [MAX_LINES] [--show N]`

use std::time::Instant;

use isg::source::{self, View, WalkSettings};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = args.first().cloned().unwrap_or_else(|| ".".to_string());
    let max_lines = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(source::DEFAULT_MAX_LINES);
    let show: Option<usize> = args
        .iter()
        .position(|a| a == "--show")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok());
    let t0 = Instant::now();
    let walk = source::walk(&WalkSettings::new(&root)).expect("walk");
    let t1 = Instant::now();
    let chunks = source::chunk_files(&walk.files, max_lines);
    let t2 = Instant::now();
    let lines: usize = walk.files.iter().map(|f| f.text.lines().count()).sum();
    println!(
        "files {} skipped {} lines {} chunks {} mean chunk lines {:.1}",
        walk.files.len(),
        walk.skipped.len(),
        lines,
        chunks.len(),
        lines as f64 / chunks.len().max(1) as f64
    );
    println!("walk {:?} chunk {:?}", t1 - t0, t2 - t1);
    for v in View::LADDER {
        let chars: usize = chunks
            .iter()
            .map(|c| source::view(c, v).chars().count())
            .sum();
        println!("view {:<26} {:>10} chars", v.name(), chars);
    }
    for s in &walk.skipped {
        println!("skip {s}");
    }
    if let Some(i) = show {
        let c = &chunks[i.min(chunks.len() - 1)];
        println!(
            "== {} {}-{} {:?} parent {:?}",
            c.path, c.start_line, c.end_line, c.symbols, c.parent
        );
        for v in View::LADDER {
            println!("---- {}\n{}", v.name(), source::view(c, v));
        }
    }
}

//! Hostile inputs through the real `isg` binary (stand-in model, `ISG_TEST_BACKEND=echo`), at
//! sizes that fit CI: a single-line minified JavaScript file, 5,000 levels of nested braces in
//! four languages, a 200,000-line file, a folder of 5,000 small files, NUL bytes, CRLF and
//! Latin-1 files, symlink loops, a FIFO and a device file, and files that vanish or change
//! type between the listing and the read (the run stopped there with `ISG_TEST_STOP_AT`). None
//! may crash or hang; each file is summarized within the limits, or skipped (or recorded
//! failed) with its reason. Chunking a file of many items into many chunks, and the interface
//! view of a long minified line, are checked at sizes where a cost per chunk that grows with
//! the whole file would take minutes.
//! `scripts/hostile-inputs.sh` runs the full sizes (10 MB, 1,000,000 lines, 100,000 files)
//! and prints time and peak memory.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use isg::output::read_records;
use isg::source::{Language, SkipReason, SourceFile, WalkSettings, chunk_file, walk_between};

fn isg(root: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_isg"));
    c.arg("summarize")
        .arg(root)
        .arg("--out")
        .arg(out)
        .args(["--quiet", "--parallel", "4"])
        .args(extra)
        .env("ISG_TEST_BACKEND", "echo");
    let t = Instant::now();
    let got = c.output().unwrap();
    eprintln!(
        "{}: {:.2}s, exit {:?}",
        root.display(),
        t.elapsed().as_secs_f64(),
        got.status.code()
    );
    got
}

fn run_json(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap()
}

/// Skip reasons by path.
fn skips(out: &Path) -> BTreeMap<String, String> {
    run_json(out)["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn assert_ok(got: &Output) {
    assert!(
        got.status.success(),
        "{}\n{}",
        got.status,
        String::from_utf8_lossy(&got.stderr)
    );
}

#[test]
fn a_minified_single_line_file_is_summarized_within_the_prompt_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    std::fs::create_dir_all(&root).unwrap();
    let mut js = String::new();
    let mut i = 0;
    while js.len() < 1_000_000 {
        js.push_str(&format!(
            "function f{i}(a,b){{var c=a+b*{i};return [a,b,c].map(function(x){{return x*{i}}})}};"
        ));
        i += 1;
    }
    std::fs::write(root.join("bundle.min.js"), &js).unwrap();
    let out = tmp.path().join("out");
    let t = Instant::now();
    let got = isg(&root, &out, &["--max-prompt-tokens", "4000"]);
    assert!(t.elapsed() < Duration::from_secs(120), "{:?}", t.elapsed());
    // The one line is elided until the prompt fits: summarized, never sent whole, never a crash.
    assert_ok(&got);
    let records: Vec<_> = read_records(&out.join("summaries.jsonl"))
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == isg::record::Kind::Chunk)
        .collect();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert!(r.error.is_none() && !r.summary.is_empty(), "{r:?}");
    assert!(r.prompt_tokens <= 4000, "{}", r.prompt_tokens);
    assert!(r.elided_lines.is_some_and(|n| n > 0), "{r:?}");
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    std::fs::create_dir_all(&root).unwrap();
    let n = 5000;
    let open = "{\n".repeat(n);
    let close = "}\n".repeat(n);
    std::fs::write(
        root.join("deep.rs"),
        format!("fn deep() {{\n{open}let x = 1;\n{close}}}\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("deep.js"),
        format!("function deep() {{\n{open}let x = 1;\n{close}}}\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("deep.c"),
        format!("int deep(void) {{\n{open}int x = 1;\n{close}return 0; }}\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("deep.py"),
        format!("x = {}1{}\n", "(".repeat(n), ")".repeat(n)),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let got = isg(&root, &out, &[]);
    assert_ok(&got);
    let records = read_records(&out.join("summaries.jsonl")).unwrap();
    for f in ["deep.rs", "deep.js", "deep.c", "deep.py"] {
        assert!(records.iter().any(|r| r.path == f), "{f} has no record");
    }
}

#[test]
fn a_file_of_200000_lines_and_a_folder_of_5000_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    std::fs::create_dir_all(root.join("many")).unwrap();
    let mut long = String::new();
    for i in 0..200_000 {
        if i % 50 == 0 {
            long.push_str(&format!("def f{i}():\n"));
        } else {
            long.push_str(&format!("    x{i} = {i}\n"));
        }
    }
    std::fs::write(root.join("long.py"), &long).unwrap();
    for i in 0..5000 {
        std::fs::write(
            root.join(format!("many/f{i}.py")),
            format!("\"\"\"Module {i}.\"\"\"\n\ndef f{i}(x):\n    return x + {i}\n"),
        )
        .unwrap();
    }
    let out = tmp.path().join("out");
    let t = Instant::now();
    let got = isg(&root, &out, &["--max-file-bytes", "8000000"]);
    assert_ok(&got);
    let run = run_json(&out);
    assert_eq!(run["totals"]["files"], 5001);
    let records = read_records(&out.join("summaries.jsonl")).unwrap();
    let long_chunks: Vec<_> = records
        .iter()
        .filter(|r| r.path == "long.py" && r.kind == isg::record::Kind::Chunk)
        .collect();
    assert!(long_chunks.len() >= 200_000 / 300, "{}", long_chunks.len());
    assert!(long_chunks.iter().all(|r| r.end_line - r.start_line < 300));
    assert_eq!(long_chunks.last().unwrap().end_line, 200_000);
    eprintln!(
        "200,000 lines + 5,000 files: {:.1}s, peak RSS {} MB",
        t.elapsed().as_secs_f64(),
        run["totals"]["peak_rss_bytes"].as_u64().unwrap() >> 20
    );
    assert!(t.elapsed() < Duration::from_secs(120));
}

#[test]
fn odd_bytes_loops_and_special_files_are_skipped_with_their_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    std::fs::create_dir_all(root.join("loop")).unwrap();
    std::fs::write(root.join("nul.rs"), b"fn a() {}\n\0\0binary\n").unwrap();
    std::fs::write(root.join("crlf.rs"), "fn crlf() -> u32 {\r\n    1\r\n}\r\n").unwrap();
    std::fs::write(
        root.join("latin1.rs"),
        b"// caf\xe9 cr\xe8me\nfn latin1() {}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("..", root.join("loop/up")).unwrap();
    std::os::unix::fs::symlink("self.rs", root.join("self.rs")).unwrap();
    std::fs::write(root.join("ok.rs"), "fn ok() -> u32 { 2 }\n").unwrap();
    let fifo = root.join("pipe.rs");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    // A character device in the tree: a symlink to /dev/null is one after following links.
    std::os::unix::fs::symlink("/dev/null", root.join("null.rs")).unwrap();

    let out = tmp.path().join("out");
    let got = isg(&root, &out, &[]);
    assert_ok(&got);
    let skipped = skips(&out);
    assert_eq!(skipped.get("nul.rs").map(String::as_str), Some("binary"));
    assert_eq!(
        skipped.get("latin1.rs").map(String::as_str),
        Some("invalid_utf8")
    );
    assert_eq!(
        skipped.get("pipe.rs").map(String::as_str),
        Some("special_file")
    );
    assert_eq!(
        skipped.get("null.rs").map(String::as_str),
        Some("special_file")
    );
    assert!(skipped.values().any(|r| r == "symlink_loop"), "{skipped:?}");
    // A symlink to itself never resolves: a loop, not a broken link.
    assert_eq!(
        skipped.get("self.rs").map(String::as_str),
        Some("symlink_loop")
    );
    let records = read_records(&out.join("summaries.jsonl")).unwrap();
    let paths: Vec<&str> = records.iter().map(|r| r.path.as_str()).collect();
    assert!(
        paths.contains(&"crlf.rs") && paths.contains(&"ok.rs"),
        "{paths:?}"
    );
    let crlf = records.iter().find(|r| r.path == "crlf.rs").unwrap();
    assert_eq!((crlf.start_line, crlf.end_line), (1, 3));
}

/// Files that vanish or change between the listing and the read. The run stops itself once the
/// tree is listed (`ISG_TEST_STOP_AT=listed`), the test changes the tree, and the run goes on:
/// it finishes, reads what is still a readable file and skips the rest with their reason.
#[test]
fn files_that_vanish_or_change_between_the_walk_and_the_read_are_skipped_with_their_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    std::fs::create_dir_all(&root).unwrap();
    for name in [
        "keep.rs",
        "gone.rs",
        "to_dir.rs",
        "to_fifo.rs",
        "dangling.rs",
        "grown.rs",
    ] {
        std::fs::write(
            root.join(name),
            format!("fn {}() {{}}\n", &name[..name.len() - 3]),
        )
        .unwrap();
    }
    let out = tmp.path().join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_isg"))
        .arg("summarize")
        .arg(&root)
        .arg("--out")
        .arg(&out)
        .args(["--quiet", "--max-file-bytes", "1000"])
        .env("ISG_TEST_BACKEND", "echo")
        .env("ISG_TEST_STOP_AT", "listed")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: waitpid on our own child with a valid status pointer.
    let waited = unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED) };
    assert_eq!(waited, pid);
    assert!(
        libc::WIFSTOPPED(status),
        "the run did not stop at the `listed` point (status {status:#x})"
    );

    std::fs::remove_file(root.join("gone.rs")).unwrap();
    std::fs::remove_file(root.join("to_dir.rs")).unwrap();
    std::fs::create_dir(root.join("to_dir.rs")).unwrap();
    std::fs::remove_file(root.join("to_fifo.rs")).unwrap();
    let fifo = std::ffi::CString::new(root.join("to_fifo.rs").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a valid C string.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    std::fs::remove_file(root.join("dangling.rs")).unwrap();
    std::os::unix::fs::symlink("nowhere.rs", root.join("dangling.rs")).unwrap();
    std::fs::write(root.join("grown.rs"), "// grown\n".repeat(200)).unwrap();

    // SAFETY: kill(2) on our own stopped child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    let got = child.wait_with_output().unwrap();
    assert_ok(&got);
    let skipped = skips(&out);
    let expect = [
        ("gone.rs", "vanished"),
        ("to_dir.rs", "special_file"),
        ("to_fifo.rs", "special_file"),
        ("dangling.rs", "broken_symlink"),
        ("grown.rs", "too_large"),
    ];
    for (path, reason) in expect {
        assert_eq!(
            skipped.get(path).map(String::as_str),
            Some(reason),
            "{path}: {skipped:?}"
        );
    }
    let run = run_json(&out);
    let kinds: BTreeMap<String, String> = run["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| {
            Some((
                s["path"].as_str()?.to_string(),
                s["kind"].as_str()?.to_string(),
            ))
        })
        .collect();
    assert_eq!(
        kinds.get("to_dir.rs").map(String::as_str),
        Some("directory")
    );
    assert_eq!(kinds.get("to_fifo.rs").map(String::as_str), Some("fifo"));
    let records = read_records(&out.join("summaries.jsonl")).unwrap();
    let paths: Vec<&str> = records.iter().map(|r| r.path.as_str()).collect();
    assert!(paths.contains(&"keep.rs"), "{paths:?}");
    assert!(expect.iter().all(|(p, _)| !paths.contains(p)), "{paths:?}");
}

/// The same seam in the library: a file deleted between the listing and the read is a skip
/// with the reason `vanished`, the others are read.
#[test]
fn the_walk_skips_a_file_deleted_after_it_was_listed() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.rs"), "fn a() {}\n").unwrap();
    std::fs::write(tmp.path().join("b.rs"), "fn b() {}\n").unwrap();
    let w = walk_between(&WalkSettings::new(tmp.path()), || {
        std::fs::remove_file(tmp.path().join("b.rs")).unwrap();
    })
    .unwrap();
    let files: Vec<&str> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(files, ["a.rs"]);
    assert_eq!(w.skipped.len(), 1, "{:?}", w.skipped);
    assert_eq!(w.skipped[0].path, "b.rs");
    assert_eq!(w.skipped[0].reason, SkipReason::Vanished);
}

/// Chunking costs what each chunk's own items cost: a file of 150,000 one-line functions cut
/// into 150,000 chunks of one line (three scans of every item of the file for every chunk are
/// 67 billion visits, minutes; the limit below only catches that).
#[test]
fn a_file_of_150000_items_in_150000_chunks_is_chunked_in_linear_time() {
    let n = 150_000;
    let text: String = (0..n)
        .map(|i| format!("def f{i}(): return {i}\n"))
        .collect();
    let file = SourceFile::from_text("many.py", Language::Python, text);
    let t = Instant::now();
    let chunks = chunk_file(&file, 1);
    let took = t.elapsed();
    assert_eq!(chunks.len(), n);
    for (k, c) in chunks.iter().enumerate() {
        assert_eq!((c.start_line, c.end_line), (k + 1, k + 1));
        assert_eq!(c.symbols, [format!("def f{k}")]);
        assert_eq!(c.interface.lines().count(), 1, "{}", c.interface);
    }
    eprintln!(
        "{n} items in {} chunks: {:.2}s",
        chunks.len(),
        took.as_secs_f64()
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
}

/// A 4 MB minified line of 50,000 functions: the interface view shows each function's
/// signature on a short line, without copying the whole line once per item (which is 400 GB
/// of copying, minutes; the limit below only catches that).
#[test]
fn the_interface_of_a_4mb_minified_line_is_built_without_copying_the_line_per_item() {
    let mut js = String::new();
    let mut i = 0;
    while js.len() < 4_000_000 {
        js.push_str(&format!(
            "function f{i}(a,b){{var c=a+b*{i};if(c>{i}){{return c-{i}}}return [a,b,c]}};"
        ));
        i += 1;
    }
    let file = SourceFile::from_text("bundle.min.js", Language::JavaScript, js);
    let t = Instant::now();
    let chunks = chunk_file(&file, 300);
    let took = t.elapsed();
    assert_eq!(chunks.len(), 1);
    let c = &chunks[0];
    assert_eq!(c.symbols.len(), i);
    assert_eq!(c.symbols.last().unwrap(), &format!("function f{}", i - 1));
    let lines: Vec<&str> = c.interface.lines().collect();
    assert!(
        lines.len() >= i,
        "{} interface lines for {i} functions",
        lines.len()
    );
    assert!(
        lines.iter().all(|l| l.chars().count() <= 210),
        "a line was not cut"
    );
    assert!(lines[0].starts_with("function f0(a,b)"), "{}", lines[0]);
    // The fallback line names the functions without comparing every name with every other.
    let fallback = isg::run::fallback_line(c);
    assert!(fallback.contains("f0"), "{fallback}");
    eprintln!(
        "4 MB minified line, {i} functions: {:.2}s",
        took.as_secs_f64()
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
}

/// A file of 250,000 one-line functions in 834 chunks: its file line lists every name once, in
/// source order, and collecting them costs one look-up per name (comparing each with all the
/// names before it is 31 billion comparisons, minutes; the limit below only catches that).
#[test]
fn the_file_line_of_a_file_of_250000_names_collects_them_in_linear_time() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    std::fs::create_dir_all(&root).unwrap();
    let n: usize = 250_000;
    let text: String = (0..n)
        .map(|i| format!("def f{i}(): return {i}\n"))
        .collect();
    std::fs::write(root.join("names.py"), text).unwrap();
    let out = tmp.path().join("out");
    let t = Instant::now();
    let got = isg(&root, &out, &["--max-file-bytes", "16000000"]);
    let took = t.elapsed();
    assert_ok(&got);
    let records = read_records(&out.join("summaries.jsonl")).unwrap();
    let chunks = records
        .iter()
        .filter(|r| r.kind == isg::record::Kind::Chunk)
        .count();
    assert_eq!(chunks, n.div_ceil(300));
    let file = records
        .iter()
        .find(|r| r.kind == isg::record::Kind::File && r.path == "names.py")
        .expect("a file record for names.py");
    assert_eq!(file.symbols.len(), n);
    assert!(
        file.symbols
            .iter()
            .enumerate()
            .all(|(i, s)| *s == format!("def f{i}")),
        "names out of order"
    );
    eprintln!(
        "250,000 names in {chunks} chunks: {:.2}s",
        took.as_secs_f64()
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
}

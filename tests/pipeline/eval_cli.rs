//! `isg eval` end to end: scoring a predictions file without a model, and evaluating a small
//! tree of documented files in three languages with the real default model. The model test
//! sets the model up when it is missing and fails under `CI=true` if that is not possible.

use crate::prereq;

use std::path::Path;
use std::process::Command;

fn isg() -> Command {
    Command::new(env!("CARGO_BIN_EXE_isg"))
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/eval")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn scores_a_predictions_file_like_score_sh() {
    let out = isg()
        .args(["eval", "--predictions"])
        .arg(fixture("filename_baseline.jsonl"))
        .arg("--references")
        .arg(fixture("references.jsonl"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // score.sh printed "chrF 11.9  rougeL 17.1" for this file; the baseline is the same file.
    assert!(
        text.contains(
            "files 59  covered 59  chrF 11.9  ROUGE-L 17.1  |  file-name baseline: chrF 11.9  ROUGE-L 17.1"
        ),
        "{text}"
    );
}

#[test]
fn evaluates_a_small_tree_with_the_real_model() {
    let model = require!(prereq::catalog_model());
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let files = [
        (
            "src/clock.rs",
            "//! A monotonic clock that can be paused in tests.\n//!\n//! More text.\n\nuse std::time::Instant;\n\n/// A clock.\npub struct Clock {\n    start: Instant,\n    paused: bool,\n}\n\nimpl Clock {\n    /// Creates a running clock.\n    pub fn new() -> Clock {\n        Clock { start: Instant::now(), paused: false }\n    }\n\n    /// Stops time.\n    pub fn pause(&mut self) {\n        self.paused = true;\n    }\n}\n",
            "A monotonic clock that can be paused in tests.",
        ),
        (
            "pkg/retry.py",
            "\"\"\"Retry failed HTTP requests with exponential backoff.\n\nDetails.\n\"\"\"\n\nimport time\n\n\ndef retry(fn, attempts=3):\n    \"\"\"Call fn until it succeeds.\"\"\"\n    for i in range(attempts):\n        try:\n            return fn()\n        except IOError:\n            time.sleep(2 ** i)\n    return fn()\n",
            "Retry failed HTTP requests with exponential backoff.",
        ),
        (
            "queue/queue.go",
            "// Package queue implements a bounded FIFO queue of jobs.\npackage queue\n\n// Queue holds jobs.\ntype Queue struct {\n\titems []string\n\tmax   int\n}\n\n// Push adds a job.\nfunc (q *Queue) Push(s string) bool {\n\tif len(q.items) >= q.max {\n\t\treturn false\n\t}\n\tq.items = append(q.items, s)\n\treturn true\n}\n",
            "Package queue implements a bounded FIFO queue of jobs.",
        ),
    ];
    for (path, text, _) in &files {
        let p = tree.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let work = tmp.path().join("work");
    let json = tmp.path().join("report.json");
    let out = isg()
        .arg("eval")
        .arg(&tree)
        .arg("--out")
        .arg(&work)
        .arg("--json")
        .arg(&json)
        .arg("--model")
        .arg(&model)
        .args(["--per-file", "--quiet", "--parallel", "3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("files 3  covered 3"), "{stdout}");
    assert!(stdout.contains("file-name baseline"), "{stdout}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let got = report["files"].as_array().unwrap();
    assert_eq!(got.len(), 3);
    for (path, _, reference) in &files {
        let f = got
            .iter()
            .find(|f| f["summary"]["path"] == *path)
            .unwrap_or_else(|| panic!("{path} missing from {report}"));
        assert_eq!(f["summary"]["reference"], *reference);
        let summary = f["summary"]["summary"].as_str().unwrap();
        assert!(
            !summary.is_empty() && !summary.contains('\n'),
            "{summary:?}"
        );
        // The line stands on its own: no "The <x> module:" opening.
        assert!(!summary.contains(" module: "), "{summary:?}");
        assert!(
            summary.chars().next().is_some_and(char::is_uppercase),
            "{summary:?}"
        );
        assert_eq!(
            f["baseline"]["summary"],
            isg::eval::file_name_summary(path),
            "{path}"
        );
        // The model read the file without its doc.
        let input = std::fs::read_to_string(work.join("inputs").join(path)).unwrap();
        assert!(!input.contains(reference.trim_end_matches('.')), "{input}");
        assert!(
            !input.contains("//!") && !input.contains("\"\"\"Retry"),
            "{input}"
        );
    }
}

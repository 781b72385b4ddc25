//! The Slurm recipe: README's copy of the job file is the file `scripts/slurm-demo.sh` submits,
//! and, with `ISG_TEST_SLURM=1` (root, and apt-get when Slurm is absent), the demo itself: a
//! one-node cluster, a sharded run with one shard cancelled and resubmitted, a refused merge of
//! an incomplete set of shards, and the merge checked against a single-machine run.

use std::path::PathBuf;
use std::process::Command;

const JOB_FILE: &str = "scripts/slurm/isg-shard.sbatch";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The contents of README's fenced code blocks.
fn fenced_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.split_inclusive('\n') {
        if line.trim_end().starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some(String::new()),
            }
        } else if let Some(block) = current.as_mut() {
            block.push_str(line);
        }
    }
    blocks
}

#[test]
fn readme_shows_the_job_file_the_demo_submits() {
    let job = std::fs::read_to_string(repo().join(JOB_FILE)).unwrap();
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        fenced_blocks(&readme).contains(&job),
        "README.md has no verbatim copy of {JOB_FILE}: paste the file into the Slurm recipe's code block"
    );
    let demo = std::fs::read_to_string(repo().join("scripts/slurm-demo.sh")).unwrap();
    assert!(
        demo.contains("job_file=\"$here/slurm/isg-shard.sbatch\""),
        "scripts/slurm-demo.sh does not submit {JOB_FILE}"
    );
}

#[test]
fn slurm_demo_runs_end_to_end() {
    if std::env::var("ISG_TEST_SLURM").as_deref() != Ok("1") {
        eprintln!(
            "skipped: slurm_demo_runs_end_to_end: not asked for (set ISG_TEST_SLURM=1 to run scripts/slurm-demo.sh)"
        );
        return;
    }
    let out = Command::new("bash")
        .arg(repo().join("scripts/slurm-demo.sh"))
        .env("ISG_BIN", env!("CARGO_BIN_EXE_isg"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "{}\n{stdout}\n{stderr}", out.status);
    let mut expected = vec![
        "merged summaries equal the single-machine run",
        "slurm-demo: all checks passed",
    ];
    if std::env::var("ISG_SLURM_KILL").as_deref() != Ok("0") {
        expected.push("(resumed;");
    }
    if std::env::var("ISG_SLURM_SHARDS").as_deref() != Ok("1") {
        expected.push("refused: error: merging into");
    }
    for e in expected {
        assert!(stdout.contains(e), "no {e:?} in:\n{stdout}");
    }
}

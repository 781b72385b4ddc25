//! Models built by the tests, loaded by ONNX Runtime: a good one computes the right numbers and
//! `isg inspect --load` reports load time and memory; a broken one shows isg's verdict with ONNX
//! Runtime's own message under it. These tests need the ONNX Runtime library: without it they are
//! skipped, except under `CI=true`, where they fail (see [`prereq`]).

use crate::onnx_models;
use crate::prereq;

use std::path::Path;
use std::process::Command;

use onnx_models::*;
use ort::session::Session;
use ort::value::Tensor;

fn isg_inspect(path: &Path, extra: &[&str]) -> (i32, String, String) {
    let rt = prereq::onnx_runtime().expect("ONNX Runtime, checked at the start of the test");
    let out = Command::new(env!("CARGO_BIN_EXE_isg"))
        .arg("inspect")
        .arg(path)
        .args(extra)
        .env("ORT_DYLIB_PATH", &rt.library)
        .output()
        .expect("run isg");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn linear_model_with_external_data_computes_the_right_numbers() {
    require!(prereq::onnx_runtime());
    let rt = prereq::onnx_runtime().expect("ONNX Runtime, checked at the start of the test");
    let t = tempfile::tempdir().unwrap();
    let model = write_linear(&t.path().join("m"));
    isg::onnx::preflight(&model).expect("the model passes the checks");
    let mut session = Session::builder(&rt.environment)
        .unwrap()
        .commit_from_file(&model)
        .expect("ONNX Runtime loads the model and its external data");
    let rows = [[1.0f32, 2.0, 3.0, 4.0], [-0.5, 0.0, 8.0, 0.125]];
    let x = Tensor::from_array(([2usize, 4], rows.concat())).unwrap();
    let outputs = session.run(ort::inputs!["X" => x]).unwrap();
    let (shape, y) = outputs["Y"].try_extract_tensor::<f32>().unwrap();
    assert_eq!(&shape[..], &[2, 3]);
    for (r, row) in rows.iter().enumerate() {
        let want = linear_ref(*row);
        for j in 0..3 {
            assert!(
                (y[r * 3 + j] - want[j]).abs() < 1e-5,
                "row {r}: {:?} != {want:?}",
                &y[r * 3..r * 3 + 3]
            );
        }
    }
}

/// A model ONNX Runtime loads but isg cannot generate with: the load line still reports time and
/// memory, and the verdict says why generation is impossible (the engine's conventions are checked
/// under `--load`, so nothing `inspect --load` passes fails on the first `generate`).
#[test]
fn load_reports_time_and_memory_and_a_non_decoder_is_a_verdict() {
    require!(prereq::onnx_runtime());
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("m");
    write_linear(&dir);
    write_folder_files(&dir, 1);
    let (code, stdout, stderr) = isg_inspect(&dir, &["--load"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("load "))
        .expect("a load line");
    assert!(
        line.contains("ok in ") && line.contains(" s, RSS ") && line.contains("peak"),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "ONNX Runtime {}",
            prereq::onnx_runtime()
                .expect("ONNX Runtime, checked at the start of the test")
                .version
        )),
        "{line}"
    );
    assert!(
        stderr.contains("isg cannot generate with it: it has no `input_ids` input")
            && stderr.contains("optimum-cli export onnx"),
        "{stderr}"
    );

    let (code, stdout, _) = isg_inspect(&dir, &["--load", "--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["load"]["seconds"].as_f64().unwrap() >= 0.0);
    assert!(v["load"]["rss_bytes"].as_u64().unwrap() > 1_000_000);
    assert!(v["load"]["error"].is_null());
    assert!(
        v["load"]["cannot_generate"]
            .as_str()
            .unwrap()
            .contains("`input_ids`")
    );
}

#[test]
fn onnx_runtime_message_is_shown_under_the_verdict() {
    require!(prereq::onnx_runtime());
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("m");
    write_linear(&dir);
    write_folder_files(&dir, 1);
    std::fs::write(dir.join("model.onnx_data"), &linear_data()[..60]).unwrap();
    let (code, stdout, stderr) = isg_inspect(&dir, &["--load"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("load ") && l.contains("failed")),
        "{stdout}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with("error: ")
            && lines[0].contains("initializer \"B\" needs bytes up to 76")
    );
    // ONNX Runtime's own words, indented under isg's diagnosis.
    assert!(lines[1].starts_with("  ONNX Runtime said: "), "{stderr}");
    assert!(lines[1].contains("out of bounds"), "{stderr}");

    // A symlink escaping the folder: isg says why before ONNX Runtime does.
    let other = t.path().join("elsewhere.bin");
    std::fs::write(&other, linear_data()).unwrap();
    std::fs::remove_file(dir.join("model.onnx_data")).unwrap();
    std::os::unix::fs::symlink(&other, dir.join("model.onnx_data")).unwrap();
    let (code, _, stderr) = isg_inspect(&dir, &["--load"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is a symbolic link to"), "{stderr}");
    assert!(
        stderr.contains("ONNX Runtime said: ") && stderr.contains("escapes model directory"),
        "{stderr}"
    );
}

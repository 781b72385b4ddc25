//! `isg inspect` run as a user runs it: each broken model gets its one-line verdict and exit
//! status 1, good models exit 0, usage errors exit 2.

use crate::onnx_models;

use std::path::Path;
use std::process::{Command, Output};

use onnx_models::*;
use prost::Message;

fn isg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isg"))
        .args(args)
        .env(
            "ISG_HOME",
            std::env::temp_dir().join("isg-inspect-tests-home"),
        )
        .output()
        .expect("run isg")
}

fn inspect(path: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["inspect", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = isg(&args);
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts exit status 1 and that stderr has exactly the verdict lines expected.
fn assert_verdicts(path: &Path, extra: &[&str], expected: &[&str]) -> String {
    let (code, stdout, stderr) = inspect(path, extra);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(lines.len(), expected.len(), "stderr:\n{stderr}");
    for (line, want) in lines.iter().zip(expected) {
        assert!(line.contains(want), "expected {want:?} in {line:?}");
    }
    stderr
}

fn linear_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("linear");
    write_linear(&dir);
    write_folder_files(&dir, 1);
    (t, dir)
}

#[test]
fn good_model_file_reports_and_exits_0() {
    let (_t, dir) = linear_dir();
    let (code, stdout, stderr) = inspect(&dir.join("model.onnx"), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert!(stdout.contains("producer     isg-tests 1.0"), "{stdout}");
    assert!(stdout.contains("opsets       ai.onnx 17"), "{stdout}");
    assert!(stdout.contains("X  float[batch, 4]"), "{stdout}");
    assert!(stdout.contains("Y  float[batch, 3]"), "{stdout}");
    assert!(stdout.contains("2 nodes: Add 1, MatMul 1"), "{stdout}");
    assert!(
        stdout.contains("2 (0 bytes inline, 60 bytes external in 2 tensors)"),
        "{stdout}"
    );
    let resolved = dir.join("model.onnx_data");
    assert!(
        stdout.contains(&format!(
            "model.onnx_data -> {}: 2 tensors, needs 76 bytes, has 76: ok",
            resolved.display()
        )),
        "{stdout}"
    );
}

#[test]
fn json_output_is_one_object_with_the_accounting() {
    let (_t, dir) = linear_dir();
    let (code, stdout, _) = inspect(&dir.join("model.onnx"), &["--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(v["ok"], true);
    assert_eq!(v["ir_version"], 8);
    assert_eq!(v["producer_name"], "isg-tests");
    assert_eq!(v["inputs"][0]["shape"], serde_json::json!(["batch", "4"]));
    assert_eq!(v["initializers"]["external_bytes"], 60);
    let f = &v["external_files"][0];
    assert_eq!(f["location"], "model.onnx_data");
    assert_eq!(f["bytes_required"], DATA_LEN);
    assert_eq!(f["bytes_present"], DATA_LEN);
    assert_eq!(f["status"], "ok");
    assert_eq!(v["problems"], serde_json::json!([]));
}

#[test]
fn missing_data_file_names_where_it_was_looked_for() {
    let (_t, dir) = linear_dir();
    std::fs::remove_file(dir.join("model.onnx_data")).unwrap();
    let looked = dir.join("model.onnx_data");
    assert_verdicts(
        &dir,
        &[],
        &[&format!(
            "external data file \"model.onnx_data\" is missing (looked for {}; 2 initializers \
             need it): download model.onnx_data next to model.onnx",
            looked.display()
        )],
    );
    let (_, stdout, _) = inspect(&dir, &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["verdicts"][0]["kind"], "missing_data_file");
    assert_eq!(v["external_files"][0]["status"], "missing");
}

#[test]
fn short_data_file_names_the_first_tensor_that_does_not_fit() {
    let (_t, dir) = linear_dir();
    let data = dir.join("model.onnx_data");
    std::fs::write(&data, &linear_data()[..60]).unwrap();
    assert_verdicts(
        &dir,
        &[],
        &[&format!(
            "{}: initializer \"B\" needs bytes up to 76 but the file has 60: incomplete \
             download? download model.onnx_data again",
            data.display()
        )],
    );
    // W does not fit either once the file is cut inside it: W comes first in offset order.
    std::fs::write(&data, &linear_data()[..10]).unwrap();
    assert_verdicts(
        &dir,
        &[],
        &["initializer \"W\" needs bytes up to 48 but the file has 10"],
    );
}

#[test]
fn short_data_file_with_large_numbers_uses_thousands_separators() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let mut m = linear_model("model.onnx_data");
    let graph = m.graph.as_mut().unwrap();
    graph.initializer[1] = external_tensor("B", &[3], "model.onnx_data", 1_403_123_700, 12);
    std::fs::write(dir.join("model.onnx"), m.encode_to_vec()).unwrap();
    // A sparse file: no disk space used.
    let f = std::fs::File::create(dir.join("model.onnx_data")).unwrap();
    f.set_len(531_000_000).unwrap();
    assert_verdicts(
        &dir.join("model.onnx"),
        &[],
        &[
            "initializer \"B\" needs bytes up to 1,403,123,712 but the file has 531,000,000: \
           incomplete download?",
        ],
    );
}

#[test]
fn locations_onnx_runtime_rejects_are_verdicts() {
    let t = tempfile::tempdir().unwrap();
    // `..` climbing out of the model's folder.
    let sub = t.path().join("up/sub");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        sub.join("model.onnx"),
        linear_model("../model.onnx_data").encode_to_vec(),
    )
    .unwrap();
    std::fs::write(t.path().join("up/model.onnx_data"), linear_data()).unwrap();
    write_folder_files(&sub, 1);
    assert_verdicts(
        &sub,
        &[],
        &[
            "external data location \"../model.onnx_data\" climbs out of the model's folder with \
           `..`; ONNX Runtime 1.24+ rejects it",
        ],
    );
    // An absolute path.
    let (_t2, good) = linear_dir();
    let abs_dir = t.path().join("abs");
    let abs = good.join("model.onnx_data");
    write_folder_files(&abs_dir, 1);
    std::fs::write(
        abs_dir.join("model.onnx"),
        linear_model(abs.to_str().unwrap()).encode_to_vec(),
    )
    .unwrap();
    assert_verdicts(
        &abs_dir,
        &[],
        &["is an absolute path; ONNX Runtime 1.24+ rejects it"],
    );
    // A symlink to a file in another folder.
    let link_dir = t.path().join("link");
    write_folder_files(&link_dir, 1);
    std::fs::write(
        link_dir.join("model.onnx"),
        linear_model("model.onnx_data").encode_to_vec(),
    )
    .unwrap();
    std::os::unix::fs::symlink(&abs, link_dir.join("model.onnx_data")).unwrap();
    assert_verdicts(
        &link_dir,
        &[],
        &[&format!(
            "external data file is a symbolic link to {}, outside the model's folder {}; ONNX \
             Runtime 1.24+ rejects",
            abs.canonicalize().unwrap().display(),
            link_dir.canonicalize().unwrap().display()
        )],
    );
}

#[test]
fn symlinks_that_stay_inside_the_real_folder_are_fine() {
    // Hub caches link every file of a snapshot to a blob; ONNX Runtime accepts that because the
    // model file's real folder holds the data's real file too.
    let t = tempfile::tempdir().unwrap();
    let snap = t.path().join("snapshots/abc");
    let blobs = t.path().join("blobs");
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(
        blobs.join("1"),
        linear_model("model.onnx_data").encode_to_vec(),
    )
    .unwrap();
    std::fs::write(blobs.join("2"), linear_data()).unwrap();
    std::os::unix::fs::symlink("../../blobs/1", snap.join("model.onnx")).unwrap();
    std::os::unix::fs::symlink("../../blobs/2", snap.join("model.onnx_data")).unwrap();
    write_folder_files(&snap, 1);
    let (code, stdout, stderr) = inspect(&snap, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn corrupt_truncated_and_lfs_pointer_models_are_verdicts() {
    let (_t, dir) = linear_dir();
    let model = dir.join("model.onnx");
    let good = std::fs::read(&model).unwrap();
    std::fs::write(&model, &good[..good.len() / 2]).unwrap();
    assert_verdicts(
        &model,
        &[],
        &["not a readable ONNX model (protobuf decoding failed"],
    );
    std::fs::write(&model, b"\x00\x01garbage").unwrap();
    let stderr = assert_verdicts(
        &model,
        &[],
        &["the file is corrupt or truncated; download or export it again"],
    );
    assert!(stderr.contains(&model.display().to_string()));
    std::fs::write(&model, b"").unwrap();
    assert_verdicts(
        &model,
        &[],
        &["not a readable ONNX model (the file is empty)"],
    );
    std::fs::write(
        &model,
        "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n",
    )
    .unwrap();
    assert_verdicts(
        &model,
        &[],
        &["is a Git LFS pointer (67 bytes), not the model: run `git lfs pull`"],
    );
}

#[test]
fn folders_without_a_model_or_with_several_are_verdicts() {
    let t = tempfile::tempdir().unwrap();
    let empty = t.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert_verdicts(
        &empty,
        &[],
        &["no .onnx model in this folder (looked for *.onnx and onnx/*.onnx)"],
    );

    // onnx-community layout: one file per precision under onnx/.
    let hub = t.path().join("hub");
    write_folder_files(&hub, 2);
    write_decoder_stub(&hub.join("onnx/model.onnx"), 2);
    write_decoder_stub(&hub.join("onnx/model_fp16.onnx"), 2);
    write_decoder_stub(&hub.join("onnx/model_q4.onnx"), 2);
    assert_verdicts(
        &hub,
        &[],
        &[
            "several models and no choice: onnx/model, onnx/model_fp16, onnx/model_q4: pick one \
           with --variant NAME",
        ],
    );
    for variant in ["model_q4", "onnx/model_fp16", "onnx/model.onnx"] {
        let (code, stdout, stderr) = inspect(&hub, &["--variant", variant]);
        assert_eq!(code, 0, "{variant}: {stdout}{stderr}");
        assert!(stdout.contains("picked: --variant"), "{stdout}");
    }
    let (_, stdout, _) = inspect(&hub, &["--variant", "model_q4"]);
    assert!(stdout.contains("onnx/model_q4.onnx"), "{stdout}");
    assert!(stdout.contains("com.microsoft:MatMulNBits 1"), "{stdout}");
    assert!(stdout.contains("past_key_values.{0..1}.key"), "{stdout}");
    assert_verdicts(
        &hub,
        &["--variant", "model_int8"],
        &["no model named \"model_int8\"; candidates: onnx/model, onnx/model_fp16, onnx/model_q4"],
    );
}

#[test]
fn genai_config_names_the_decoder() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("genai");
    write_folder_files(&dir, 2);
    write_decoder_stub(&dir.join("decoder.onnx"), 2);
    write_decoder_stub(&dir.join("other.onnx"), 2);
    let genai = r#"{"model":{"decoder":{"filename":"decoder.onnx","num_hidden_layers":2}}}"#;
    std::fs::write(dir.join("genai_config.json"), genai).unwrap();
    let (code, stdout, stderr) = inspect(&dir, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("picked: genai_config.json"), "{stdout}");
    assert!(stdout.contains("decoder.onnx ("), "{stdout}");

    std::fs::remove_file(dir.join("decoder.onnx")).unwrap();
    assert_verdicts(
        &dir,
        &[],
        &["genai_config.json: model.decoder.filename is \"decoder.onnx\" but"],
    );
}

#[test]
fn folder_files_and_layer_count_are_checked() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("m");
    write_folder_files(&dir, 3);
    write_decoder_stub(&dir.join("model.onnx"), 2);
    let config = dir.join("config.json");
    assert_verdicts(
        &dir,
        &[],
        &[&format!(
            "the graph has 2 past_key_values.*.key inputs but {} says num_hidden_layers = 3",
            config.display()
        )],
    );
    std::fs::write(
        dir.join("genai_config.json"),
        r#"{"model":{"decoder":{"num_hidden_layers":4}}}"#,
    )
    .unwrap();
    write_folder_files(&dir, 2);
    assert_verdicts(&dir, &[], &["says model.decoder.num_hidden_layers = 4"]);
    std::fs::remove_file(dir.join("genai_config.json")).unwrap();
    let (code, stdout, stderr) = inspect(&dir, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("2 configured, 2 past_key_values.*.key inputs"),
        "{stdout}"
    );

    std::fs::write(dir.join("tokenizer.json"), "{\"truncated\": ").unwrap();
    assert_verdicts(&dir, &[], &["tokenizer.json: not valid JSON"]);
    std::fs::remove_file(dir.join("tokenizer.json")).unwrap();
    std::fs::remove_file(&config).unwrap();
    assert_verdicts(
        &dir,
        &[],
        &[
            "tokenizer.json is missing",
            "neither config.json nor genai_config.json is present",
        ],
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(isg(&["inspect"]).status.code(), Some(2));
    let (_t, dir) = linear_dir();
    let (code, _, stderr) = inspect(&dir.join("model.onnx"), &["--variant", "model_q4"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--variant only applies to a model folder"),
        "{stderr}"
    );
}

#[test]
fn a_path_that_does_not_exist_is_a_verdict() {
    let t = tempfile::tempdir().unwrap();
    assert_verdicts(&t.path().join("nope"), &[], &["no such file or folder"]);
}

//! `--device`: CPU runs, and asking for CUDA where it cannot be had is a one-line error naming
//! what is missing, never a quiet CPU run.

use crate::prereq;

use std::process::{Command, Output};

use isg::llm::device::{self, BUILT_WITH_CUDA, CUDA_PROVIDER};

fn isg(args: &[&str]) -> Output {
    let rt = prereq::onnx_runtime().expect("ONNX Runtime, checked at the start of the test");
    Command::new(env!("CARGO_BIN_EXE_isg"))
        .arg("--ort-lib")
        .arg(&rt.library)
        .args(args)
        .output()
        .expect("isg runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn the_library_lists_its_execution_providers() {
    require!(prereq::onnx_runtime());
    prereq::onnx_runtime().expect("ONNX Runtime, checked at the start of the test");
    let providers = device::available_providers().expect("the list is available");
    assert!(
        providers.iter().any(|p| p == "CPUExecutionProvider"),
        "{providers:?}"
    );
}

/// The error a CUDA request must produce with this build and the library the tests use.
fn expected_cuda_error() -> Option<String> {
    prereq::onnx_runtime().expect("ONNX Runtime, checked at the start of the test");
    device::ensure(device::Device::Cuda)
        .err()
        .map(|e| e.to_string())
}

#[test]
fn cuda_request_without_support_is_a_clear_error_not_a_cpu_run() {
    require!(prereq::onnx_runtime());
    let Some(expected) = expected_cuda_error() else {
        // A CUDA build with the GPU library: the request is allowed; nothing to refuse here.
        let providers = device::available_providers().expect("the list is available");
        assert!(
            providers.iter().any(|p| p == CUDA_PROVIDER),
            "{providers:?}"
        );
        return;
    };
    if !BUILT_WITH_CUDA {
        assert!(expected.contains("--features cuda"), "{expected}");
    } else {
        assert!(expected.contains(CUDA_PROVIDER) || expected.contains("onnxruntime-gpu"));
    }
    // The check runs before any model is looked for, so a folder that does not exist is fine:
    // the device error must come first.
    let out = isg(&[
        "generate",
        "--device",
        "cuda",
        "--model",
        "/nonexistent/model",
        "hello",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(&expected), "{err}");
    assert!(text(&out.stdout).is_empty(), "nothing generated");

    let out = isg(&["doctor", "--device", "cuda"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains(&expected),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn cpu_is_the_default_and_doctor_reports_the_providers() {
    require!(prereq::onnx_runtime());
    let out = isg(&["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("doctor prints JSON");
    assert_eq!(v["device"], "cpu");
    assert_eq!(v["cuda_build"], BUILT_WITH_CUDA);
    let providers = v["execution_providers"].as_array().expect("a list");
    assert!(providers.iter().any(|p| p == "CPUExecutionProvider"), "{v}");
}

#[test]
fn unknown_device_is_a_usage_error() {
    require!(prereq::onnx_runtime());
    let out = Command::new(env!("CARGO_BIN_EXE_isg"))
        .args(["doctor", "--device", "tpu"])
        .output()
        .expect("isg runs");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("cpu") && err.contains("cuda"), "{err}");
}

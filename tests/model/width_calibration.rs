//! `--bits auto` by measurement: `isg convert` on SmolLM2-135M times the candidate widths on
//! its first-layer MLP through ONNX Runtime, converts at the fastest, and records the choice
//! and every timing in `isg-weights.txt`; with the skip variable set it follows the CPU-feature
//! rule and says so.

use crate::prereq;

use std::process::Command;

use isg::convert::calibrate::{CANDIDATES, DECODE_ROWS, PREFILL_ROWS, SKIP_ENV, decide};
use isg::convert::width::{ChoiceSource, CpuFeatures, choose_bits, read_record};
use prereq::*;

fn convert_auto(gguf: &std::path::Path, out: &std::path::Path, skip: bool) -> String {
    let rt = require_runtime();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isg"));
    cmd.arg("--ort-lib")
        .arg(&rt.library)
        .arg("convert")
        .arg(gguf)
        .arg(out);
    if skip {
        cmd.env(SKIP_ENV, "1");
    } else {
        cmd.env_remove(SKIP_ENV);
    }
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn require_runtime() -> &'static isg::llm::RuntimeInfo {
    onnx_runtime().expect("checked by the test first")
}

#[test]
fn convert_with_bits_auto_times_every_width_and_keeps_the_fastest() {
    require!(onnx_runtime());
    let gguf = require!(smollm2_gguf());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("smollm2");
    let stdout = convert_auto(&gguf, &out, false);

    let record = read_record(&out).expect("isg-weights.txt written");
    assert_eq!(record.source, ChoiceSource::Measured, "{record:?}");
    let timed: Vec<_> = record.timings.iter().map(|t| t.bits).collect();
    assert_eq!(timed, CANDIDATES.to_vec());
    for t in &record.timings {
        assert!(t.is_valid(), "{t:?}");
        assert!(t.prefill_ms > 0.0 && t.decode_ms > 0.0, "{t:?}");
        assert_eq!((t.prefill_rows, t.decode_rows), (PREFILL_ROWS, DECODE_ROWS));
        // A prefill-sized run does more work than a decode-sized one.
        assert!(t.prefill_ms > t.decode_ms, "{t:?}");
    }
    let again = decide(&record.timings).unwrap();
    assert_eq!(record.bits, again.bits, "the recorded width is the fastest");
    assert!(record.reason.starts_with("measured fastest"), "{record:?}");
    assert!(out.join("model.onnx").is_file());
    assert!(
        stdout.contains(&format!("weights {}", record.bits.describe())),
        "{stdout}"
    );
}

#[test]
fn skipping_the_measurement_follows_the_cpu_rule_and_says_so() {
    require!(onnx_runtime());
    let gguf = require!(smollm2_gguf());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("smollm2");
    convert_auto(&gguf, &out, true);
    let record = read_record(&out).expect("isg-weights.txt written");
    let rule = choose_bits(&CpuFeatures::detect());
    assert_eq!(record.bits, rule.bits);
    assert_eq!(record.source, ChoiceSource::CpuFeatures);
    assert!(record.timings.is_empty());
    assert!(record.reason.contains(SKIP_ENV), "{}", record.reason);
}

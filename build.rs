//! Generates the ONNX protobuf types from the `onnx.proto` that the `onnx-protobuf` crate carries.
//!
//! The schema is compiled with `protox` (a protobuf compiler written in Rust), so no system
//! `protoc` is needed, and the Rust types are written with `prost-build`.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let proto = find_onnx_proto();
    println!("cargo:rerun-if-changed=build.rs");
    let include = proto.parent().expect("proto has a parent").to_path_buf();
    let fds = protox::compile([&proto], [&include]).expect("compile onnx.proto");
    let mut config = prost_build::Config::new();
    // Tensor payloads stay as `Bytes` so large inline initializers are not copied twice.
    config.bytes(["."]);
    config
        .compile_fds(fds)
        .expect("generate Rust types for onnx.proto");
}

/// Version of the `onnx-protobuf` build dependency whose schema is used.
const SCHEMA_CRATE: &str = "onnx-protobuf-0.2.3";

/// Locates `protos/onnx.proto` inside the `onnx-protobuf` package: first in cargo's registry
/// sources (where cargo unpacked it to build it as a build dependency), else wherever
/// `cargo metadata` says it lives (vendor directory, git checkout).
fn find_onnx_proto() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(src) = cargo_home.map(|h| h.join("registry").join("src"))
        && let Ok(indexes) = std::fs::read_dir(&src)
    {
        for index in indexes.flatten() {
            let proto = index.path().join(SCHEMA_CRATE).join("protos/onnx.proto");
            if proto.is_file() {
                return proto;
            }
        }
    }
    from_cargo_metadata()
}

fn from_cargo_metadata() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
        ])
        .arg(std::env::var("TARGET").expect("TARGET"))
        .arg("--manifest-path")
        .arg(PathBuf::from(&manifest).join("Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("parse cargo metadata");
    let packages = meta["packages"].as_array().expect("packages array");
    for p in packages {
        if p["name"] == "onnx-protobuf" {
            let manifest_path = PathBuf::from(p["manifest_path"].as_str().expect("manifest_path"));
            let proto = manifest_path
                .parent()
                .expect("package dir")
                .join("protos/onnx.proto");
            if proto.is_file() {
                return proto;
            }
        }
    }
    panic!(
        "onnx.proto not found: the onnx-protobuf build dependency should carry protos/onnx.proto"
    );
}

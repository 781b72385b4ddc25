//! The reader against hostile input: every prefix, random bytes, random corruption, deep nesting
//! and absurd sizes give a model or a verdict, never a panic; plus the library API the model
//! loader uses ([`isg::onnx::preflight`]).

use crate::onnx_models;

use std::path::Path;
use std::time::Instant;

use bytes::Bytes;
use isg::onnx::proto::{AttributeProto, GraphProto, NodeProto, TensorProto};
use isg::onnx::{self, Verdict};
use onnx_models::*;
use prost::Message;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn decoder_bytes(dir: &Path) -> Vec<u8> {
    let p = dir.join("stub.onnx");
    write_decoder_stub(&p, 3);
    std::fs::read(p).unwrap()
}

/// Inspects `bytes` written as `dir/model.onnx` (next to the linear model's data file).
fn inspect_bytes(dir: &Path, bytes: &[u8]) -> Result<onnx::ModelReport, onnx::InspectError> {
    let path = dir.join("model.onnx");
    std::fs::write(&path, bytes).unwrap();
    onnx::inspect(&path, None)
}

#[test]
fn every_strict_prefix_of_a_model_is_a_verdict() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::write(dir.join("model.onnx_data"), linear_data()).unwrap();
    for full in [
        linear_model("model.onnx_data").encode_to_vec(),
        decoder_bytes(dir),
    ] {
        assert!(inspect_bytes(dir, &full).unwrap().is_ok());
        for len in 0..full.len() {
            let verdicts = match inspect_bytes(dir, &full[..len]) {
                Err(e) => e.verdicts,
                Ok(r) => r.verdicts,
            };
            assert!(
                !verdicts.is_empty(),
                "a {len}-byte prefix of a {}-byte model passed",
                full.len()
            );
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut models = 0;
    for _ in 0..20_000 {
        let len = rng.below(512);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if let Ok(m) = onnx::decode_model(Bytes::from(bytes)) {
            models += 1;
            let _ = m.encode_to_vec();
        }
    }
    // Random bytes almost never form a model with a graph, an IR version and an opset.
    assert!(models < 20, "{models} random inputs decoded as models");
}

#[test]
fn corrupted_models_never_panic() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::write(dir.join("model.onnx_data"), linear_data()).unwrap();
    let mut rng = Rng(42);
    let originals = [
        linear_model("model.onnx_data").encode_to_vec(),
        decoder_bytes(dir),
    ];
    let mut broken = 0;
    for round in 0..3_000 {
        let mut bytes = originals[round % 2].clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(bytes.len());
            match rng.below(3) {
                0 => bytes[i] = rng.next() as u8,
                1 => bytes[i] ^= 1 << rng.below(8),
                _ => bytes.insert(i, rng.next() as u8),
            }
        }
        // The decoder alone for every round, the whole inspection (graph walk, external data,
        // folder checks) for every tenth.
        let decoded = onnx::decode_model(Bytes::from(bytes.clone()));
        if round % 10 == 0 {
            match inspect_bytes(dir, &bytes) {
                Err(_) => broken += 1,
                Ok(r) if !r.is_ok() => broken += 1,
                Ok(_) => {}
            }
        } else if decoded.is_err() {
            broken += 1;
        }
    }
    assert!(broken > 100, "only {broken} corrupted models were rejected");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    fn nested(depth: usize) -> GraphProto {
        let mut g = GraphProto {
            node: vec![node("Relu", "", &["x"], &["y"])],
            ..Default::default()
        };
        for _ in 0..depth {
            let mut n = node("If", "", &["c"], &["y"]);
            n.attribute.push(AttributeProto {
                name: "then_branch".into(),
                g: Some(g),
                ..Default::default()
            });
            g = GraphProto {
                node: vec![n],
                ..Default::default()
            };
        }
        g
    }
    let shallow = model(nested(20), &[]).encode_to_vec();
    let m = onnx::decode_model(Bytes::from(shallow)).expect("20 levels decode");
    assert_eq!(m.graph.unwrap().node[0].op_type, "If");
    let deep = model(nested(2_000), &[]).encode_to_vec();
    let err = onnx::decode_model(Bytes::from(deep)).expect_err("2,000 levels are refused");
    assert!(format!("{err:?}").contains("recursion"), "{err:?}");
}

#[test]
fn absurd_lengths_and_sizes_are_verdicts() {
    // Field 7 (graph), length-delimited, claiming 2^62 bytes.
    let mut bytes = vec![0x3a];
    bytes.extend([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
    assert!(onnx::decode_model(Bytes::from(bytes)).is_err());

    // A tensor claiming i64::MAX × 2 elements at offset u64::MAX: no overflow, a short-file verdict.
    let t = tempfile::tempdir().unwrap();
    let mut m = linear_model("model.onnx_data");
    let g = m.graph.as_mut().unwrap();
    g.initializer[0] = external_tensor("W", &[i64::MAX, 2], "model.onnx_data", u64::MAX, 0);
    g.initializer[0].external_data.pop();
    g.initializer[1].dims = vec![-3];
    std::fs::write(t.path().join("model.onnx_data"), linear_data()).unwrap();
    let r = inspect_bytes(t.path(), &m.encode_to_vec()).unwrap();
    assert!(
        r.verdicts.iter().any(
            |v| matches!(v, Verdict::ShortDataFile { tensor, needs: u64::MAX, .. } if tensor == "W")
        ),
        "{:?}",
        r.verdicts
    );
    assert_eq!(onnx::tensor_bytes(&g_tensor(&[i64::MAX, 4])), None);
    assert_eq!(onnx::tensor_bytes(&g_tensor(&[2, 3])), Some(24));
}

fn g_tensor(dims: &[i64]) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: 1,
        ..Default::default()
    }
}

#[test]
fn subgraph_initializers_constants_and_contrib_ops_are_counted() {
    let t = tempfile::tempdir().unwrap();
    let body = GraphProto {
        node: vec![
            node("Constant", "", &[], &["k"]),
            node("MatMulNBits", "com.microsoft", &["x", "k"], &["y"]),
        ],
        initializer: vec![TensorProto {
            name: "inner".into(),
            dims: vec![4],
            data_type: 1,
            raw_data: Bytes::from(vec![0u8; 16]),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut graph = linear_model("model.onnx_data").graph.unwrap();
    let mut if_node = node("If", "", &["c"], &["z"]);
    if_node.attribute.push(AttributeProto {
        name: "then_branch".into(),
        g: Some(body),
        ..Default::default()
    });
    graph.node.push(if_node);
    let m = model(graph, &[("com.microsoft", 1)]);
    std::fs::write(t.path().join("model.onnx_data"), linear_data()).unwrap();
    let r = inspect_bytes(t.path(), &m.encode_to_vec()).unwrap();
    assert!(r.is_ok(), "{:?}", r.verdicts);
    assert_eq!(r.initializers.count, 2);
    assert_eq!(r.initializers.in_subgraphs, 1);
    assert_eq!(r.initializers.constants, 1);
    assert_eq!(r.initializers.inline_bytes, 16);
    assert_eq!(r.node_count, 5);
    assert!(
        r.ops
            .iter()
            .any(|o| o.domain == "com.microsoft" && o.op_type == "MatMulNBits")
    );

    // The same graph without the com.microsoft opset import is refused.
    let mut m2 = m.clone();
    m2.opset_import.pop();
    m2.graph.as_mut().unwrap().node.push(NodeProto {
        op_type: "GroupQueryAttention".into(),
        domain: "com.microsoft".into(),
        ..Default::default()
    });
    let r = inspect_bytes(t.path(), &m2.encode_to_vec()).unwrap();
    assert!(
        r.verdicts.iter().any(|v| v
            .to_string()
            .contains("nodes use domain com.microsoft but the model imports no opset for it")),
        "{:?}",
        r.verdicts
    );
}

#[test]
fn preflight_returns_typed_verdicts_for_the_loader() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("m");
    let model_path = write_linear(&dir);
    let report = onnx::preflight(&model_path).expect("a good model passes");
    assert_eq!(report.weights_bytes(), 60);
    assert_eq!(
        onnx::locate_model_file(&dir, None).unwrap(),
        dir.join("model.onnx")
    );

    // The loader's use: `?` into anyhow, the verdict lines as the message.
    let loader = |p: &Path| -> anyhow::Result<u64> {
        let onnx = onnx::locate_model_file(p, None)?;
        Ok(onnx::preflight(&onnx)?.weights_bytes())
    };
    assert_eq!(loader(&dir).unwrap(), 60);

    std::fs::remove_file(dir.join("model.onnx_data")).unwrap();
    let message = loader(&dir).unwrap_err().to_string();
    assert!(
        message.contains("external data file \"model.onnx_data\" is missing"),
        "{message}"
    );
    let err = onnx::preflight(&model_path).expect_err("missing data is refused");
    assert!(
        matches!(
            &err.verdicts[..],
            [Verdict::MissingDataFile { tensors: 2, .. }]
        ),
        "{err}"
    );
    assert!(err.report.is_some());
    assert!(
        err.to_string()
            .contains("download model.onnx_data next to model.onnx")
    );
}

#[test]
fn gigabytes_of_external_data_are_inspected_in_well_under_a_second() {
    // 1,000 tensors of 4 MiB each in a 4 GiB sparse file: only sizes are read.
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let mut m = linear_model("model.onnx_data");
    let g = m.graph.as_mut().unwrap();
    let per = 4 << 20;
    g.initializer = (0..1_000u64)
        .map(|i| {
            external_tensor(
                &format!("w{i}"),
                &[1 << 20],
                "model.onnx_data",
                i * per,
                per,
            )
        })
        .collect();
    std::fs::write(dir.join("model.onnx"), m.encode_to_vec()).unwrap();
    let f = std::fs::File::create(dir.join("model.onnx_data")).unwrap();
    f.set_len(1_000 * per).unwrap();
    let start = Instant::now();
    let r = onnx::inspect(&dir.join("model.onnx"), None).unwrap();
    let took = start.elapsed();
    assert!(r.is_ok(), "{:?}", r.verdicts);
    assert_eq!(r.initializers.external_bytes, 1_000 * per);
    assert_eq!(r.external_files[0].bytes_present, Some(1_000 * per));
    assert!(took.as_millis() < 500, "inspect took {took:?}");
}

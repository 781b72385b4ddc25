//! Small ONNX models written with isg's own protobuf types, for the tests of the onnx module.
//!
//! [`write_linear`] writes `Y = X·W + B` (X: `[batch, 4]`, W: `[4, 3]`, B: `[3]`, all float) as
//! `model.onnx` with W and B in an external data file; [`write_decoder_stub`] writes a graph with
//! `past_key_values.{i}.key/value` inputs and model-folder files around it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use isg::onnx::proto::tensor_proto::{DataLocation, DataType};
use isg::onnx::proto::tensor_shape_proto::{Dimension, dimension};
use isg::onnx::proto::type_proto::{self, Tensor};
use isg::onnx::proto::{
    GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};
use prost::Message;

/// The weights of the linear model, row-major `[4, 3]`.
pub const W: [f32; 12] = [
    1.0, 2.0, 3.0, //
    -1.0, 0.5, 0.0, //
    0.25, -2.0, 4.0, //
    10.0, 0.0, -0.5,
];
/// The bias of the linear model.
pub const B: [f32; 3] = [0.5, -1.0, 2.0];
/// Byte offset of B in the data file (W takes bytes 0..48).
pub const B_OFFSET: u64 = 64;
/// Size of the data file written by [`write_linear`].
pub const DATA_LEN: u64 = B_OFFSET + 12;

/// Expected output of the linear model for one input row.
pub fn linear_ref(x: [f32; 4]) -> [f32; 3] {
    let mut y = B;
    for (j, yj) in y.iter_mut().enumerate() {
        for (i, xi) in x.iter().enumerate() {
            *yj += xi * W[i * 3 + j];
        }
    }
    y
}

fn dim(s: &str) -> Dimension {
    Dimension {
        denotation: String::new(),
        value: Some(match s.parse::<i64>() {
            Ok(v) => dimension::Value::DimValue(v),
            Err(_) => dimension::Value::DimParam(s.into()),
        }),
    }
}

/// A float (or other `elem`) tensor value with the given dims (numbers or symbolic names).
pub fn value(name: &str, elem: DataType, dims: &[&str]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            denotation: String::new(),
            value: Some(type_proto::Value::TensorType(Tensor {
                elem_type: elem as i32,
                shape: Some(TensorShapeProto {
                    dim: dims.iter().map(|d| dim(d)).collect(),
                }),
            })),
        }),
        ..Default::default()
    }
}

/// A float tensor stored in `location` at `offset`, `length` bytes.
pub fn external_tensor(
    name: &str,
    dims: &[i64],
    location: &str,
    offset: u64,
    length: u64,
) -> TensorProto {
    let kv = |k: &str, v: String| StringStringEntryProto {
        key: k.into(),
        value: v,
    };
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        data_location: DataLocation::External as i32,
        external_data: vec![
            kv("location", location.into()),
            kv("offset", offset.to_string()),
            kv("length", length.to_string()),
        ],
        ..Default::default()
    }
}

/// A node.
pub fn node(op: &str, domain: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        domain: domain.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        name: format!("{op}_{}", outputs.first().unwrap_or(&"")),
        ..Default::default()
    }
}

/// A model around `graph` with opset 17 of the default domain (plus `extra` opsets).
pub fn model(graph: GraphProto, extra: &[(&str, i64)]) -> ModelProto {
    let mut opset_import = vec![OperatorSetIdProto {
        domain: String::new(),
        version: 17,
    }];
    for (d, v) in extra {
        opset_import.push(OperatorSetIdProto {
            domain: d.to_string(),
            version: *v,
        });
    }
    ModelProto {
        ir_version: 8,
        producer_name: "isg-tests".into(),
        producer_version: "1.0".into(),
        opset_import,
        graph: Some(graph),
        ..Default::default()
    }
}

/// The linear model's protobuf with its weights in `location`.
pub fn linear_model(location: &str) -> ModelProto {
    let graph = GraphProto {
        name: "linear".into(),
        node: vec![
            node("MatMul", "", &["X", "W"], &["XW"]),
            node("Add", "", &["XW", "B"], &["Y"]),
        ],
        initializer: vec![
            external_tensor("W", &[4, 3], location, 0, 48),
            external_tensor("B", &[3], location, B_OFFSET, 12),
        ],
        input: vec![value("X", DataType::Float, &["batch", "4"])],
        output: vec![value("Y", DataType::Float, &["batch", "3"])],
        ..Default::default()
    };
    model(graph, &[])
}

/// The bytes of the linear model's data file: W at 0, zero padding, B at [`B_OFFSET`].
pub fn linear_data() -> Vec<u8> {
    let mut data = Vec::with_capacity(DATA_LEN as usize);
    data.extend(W.iter().flat_map(|v| v.to_le_bytes()));
    data.resize(B_OFFSET as usize, 0);
    data.extend(B.iter().flat_map(|v| v.to_le_bytes()));
    data
}

/// Writes `dir/model.onnx` and `dir/model.onnx_data` for the linear model; returns the model path.
pub fn write_linear(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("model.onnx");
    std::fs::write(&path, linear_model("model.onnx_data").encode_to_vec()).unwrap();
    std::fs::write(dir.join("model.onnx_data"), linear_data()).unwrap();
    path
}

/// Writes a decoder-shaped graph with `layers` pairs of past key/value inputs to `path`.
pub fn write_decoder_stub(path: &Path, layers: usize) {
    let mut inputs = vec![value("input_ids", DataType::Int64, &["batch", "seq"])];
    for i in 0..layers {
        for kv in ["key", "value"] {
            inputs.push(value(
                &format!("past_key_values.{i}.{kv}"),
                DataType::Float16,
                &["batch", "3", "past", "64"],
            ));
        }
    }
    let graph = GraphProto {
        name: "decoder".into(),
        node: vec![
            node("Identity", "", &["input_ids"], &["ids"]),
            node("MatMulNBits", "com.microsoft", &["ids"], &["logits"]),
        ],
        input: inputs,
        output: vec![value("logits", DataType::Float, &["batch", "seq", "49152"])],
        ..Default::default()
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, model(graph, &[("com.microsoft", 1)]).encode_to_vec()).unwrap();
}

/// Writes `tokenizer.json` and a `config.json` saying `layers` hidden layers into `dir`.
pub fn write_folder_files(dir: &Path, layers: usize) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("tokenizer.json"),
        r#"{"version":"1.0","model":{"type":"BPE"}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("config.json"),
        format!(r#"{{"model_type":"llama","num_hidden_layers":{layers}}}"#),
    )
    .unwrap();
}

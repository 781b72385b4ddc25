//! Building ONNX graphs: nodes, typed graph inputs and outputs, and initializers whose bytes
//! stream into one external data file.
//!
//! [`GraphBuilder`] collects nodes and initializers; every initializer larger than
//! [`INLINE_LIMIT`] bytes is appended to the external data file at an aligned offset (4096 for
//! tensors of 64 KiB and more, so ONNX Runtime can map them, 64 otherwise) and referenced from
//! the graph by `location`, `offset` and `length`. [`GraphBuilder::finish`] returns the
//! [`ModelProto`] and closes the data file.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use bytes::Bytes;

use super::proto::tensor_proto::{DataLocation, DataType};
use super::proto::tensor_shape_proto::{Dimension, dimension};
use super::proto::type_proto;
use super::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto::AttributeType,
};

/// Initializers up to this many bytes stay inside `model.onnx`.
pub const INLINE_LIMIT: usize = 1024;

/// One dimension of a graph input or output.
#[derive(Debug, Clone)]
pub enum Dim {
    /// A fixed size.
    Fixed(i64),
    /// A named symbolic size (`batch`, `sequence_length`, ...).
    Sym(String),
}

impl Dim {
    /// A symbolic dimension.
    pub fn sym(name: &str) -> Dim {
        Dim::Sym(name.to_string())
    }
}

/// A node attribute value.
#[derive(Debug, Clone)]
pub enum Attr {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f32),
    /// A list of integers.
    Ints(Vec<i64>),
    /// A string.
    Str(String),
}

/// Accumulates a graph and writes its large initializers to an external data file.
pub struct GraphBuilder {
    nodes: Vec<NodeProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
    initializers: Vec<TensorProto>,
    data: BufWriter<File>,
    location: String,
    offset: u64,
    next_id: usize,
}

impl GraphBuilder {
    /// Starts a graph whose external data goes to `data_path`, referenced as `location`
    /// (a file name relative to the model file).
    pub fn new(data_path: &Path, location: &str) -> io::Result<GraphBuilder> {
        Ok(GraphBuilder {
            nodes: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            initializers: Vec::new(),
            data: BufWriter::with_capacity(1 << 20, File::create(data_path)?),
            location: location.to_string(),
            offset: 0,
            next_id: 0,
        })
    }

    /// Bytes written to the external data file so far.
    pub fn data_len(&self) -> u64 {
        self.offset
    }

    /// Declares a graph input.
    pub fn input(&mut self, name: &str, elem: DataType, dims: &[Dim]) {
        self.inputs.push(value_info(name, elem, dims));
    }

    /// Declares a graph output.
    pub fn output(&mut self, name: &str, elem: DataType, dims: &[Dim]) {
        self.outputs.push(value_info(name, elem, dims));
    }

    /// A fresh name with the given prefix.
    pub fn fresh(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_{}", self.next_id)
    }

    /// Adds a node with explicit output names (an empty input name is an omitted optional input).
    pub fn node_named(
        &mut self,
        op: &str,
        domain: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: &[(&str, Attr)],
    ) {
        let name = format!("{op}_{}", self.nodes.len());
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            name,
            op_type: op.to_string(),
            domain: domain.to_string(),
            attribute: attrs.iter().map(|(n, a)| attribute(n, a)).collect(),
            ..Default::default()
        });
    }

    /// Adds a node with `n_outputs` fresh output names and returns them.
    pub fn node(
        &mut self,
        op: &str,
        domain: &str,
        inputs: &[&str],
        n_outputs: usize,
        attrs: &[(&str, Attr)],
    ) -> Vec<String> {
        let outs: Vec<String> = (0..n_outputs).map(|_| self.fresh(op)).collect();
        let refs: Vec<&str> = outs.iter().map(String::as_str).collect();
        self.node_named(op, domain, inputs, &refs, attrs);
        outs
    }

    /// Adds a standard-domain node with one output and returns its name.
    pub fn op(&mut self, op: &str, inputs: &[&str], attrs: &[(&str, Attr)]) -> String {
        self.node(op, "", inputs, 1, attrs).remove(0)
    }

    /// Adds an initializer from raw little-endian bytes and returns its name.
    pub fn initializer(
        &mut self,
        name: &str,
        elem: DataType,
        dims: &[i64],
        bytes: &[u8],
    ) -> io::Result<String> {
        let mut t = TensorProto {
            name: name.to_string(),
            dims: dims.to_vec(),
            data_type: elem as i32,
            ..Default::default()
        };
        if bytes.len() <= INLINE_LIMIT {
            t.raw_data = Bytes::copy_from_slice(bytes);
        } else {
            let align = if bytes.len() >= 64 << 10 { 4096 } else { 64 };
            let start = self.offset.div_ceil(align) * align;
            let pad = (start - self.offset) as usize;
            self.data.write_all(&vec![0u8; pad])?;
            self.data.write_all(bytes)?;
            self.offset = start + bytes.len() as u64;
            let entry = |k: &str, v: String| StringStringEntryProto {
                key: k.to_string(),
                value: v,
            };
            t.data_location = DataLocation::External as i32;
            t.external_data = vec![
                entry("location", self.location.clone()),
                entry("offset", start.to_string()),
                entry("length", bytes.len().to_string()),
            ];
        }
        self.initializers.push(t);
        Ok(name.to_string())
    }

    /// Adds an `f32` initializer.
    pub fn init_f32(&mut self, name: &str, dims: &[i64], v: &[f32]) -> io::Result<String> {
        self.initializer(
            name,
            DataType::Float,
            dims,
            &le_bytes(v, |x| x.to_le_bytes()),
        )
    }

    /// Adds an `i64` initializer (small constants: shapes, axes, indices).
    pub fn init_i64(&mut self, name: &str, dims: &[i64], v: &[i64]) -> io::Result<String> {
        self.initializer(
            name,
            DataType::Int64,
            dims,
            &le_bytes(v, |x| x.to_le_bytes()),
        )
    }

    /// Adds a 1-D `i64` constant with a fresh name.
    pub fn const_i64(&mut self, v: &[i64]) -> io::Result<String> {
        let name = self.fresh("const");
        self.init_i64(&name, &[v.len() as i64], v)
    }

    /// Flushes the data file and returns the model with the given opset imports
    /// (`(domain, version)`, `""` for the standard domain).
    pub fn finish(mut self, graph_name: &str, opsets: &[(&str, i64)]) -> io::Result<ModelProto> {
        self.data.flush()?;
        self.data.get_ref().sync_all()?;
        let graph = GraphProto {
            node: self.nodes,
            name: graph_name.to_string(),
            initializer: self.initializers,
            input: self.inputs,
            output: self.outputs,
            ..Default::default()
        };
        Ok(ModelProto {
            ir_version: 10,
            opset_import: opsets
                .iter()
                .map(|(d, v)| OperatorSetIdProto {
                    domain: d.to_string(),
                    version: *v,
                })
                .collect(),
            producer_name: "isg".into(),
            producer_version: env!("CARGO_PKG_VERSION").into(),
            graph: Some(graph),
            ..Default::default()
        })
    }
}

/// Concatenates the little-endian bytes of every value.
pub fn le_bytes<T: Copy, const N: usize>(v: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * N);
    for &x in v {
        out.extend_from_slice(&f(x));
    }
    out
}

fn value_info(name: &str, elem: DataType, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Fixed(n) => dimension::Value::DimValue(*n),
                Dim::Sym(s) => dimension::Value::DimParam(s.clone()),
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: elem as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn attribute(name: &str, a: &Attr) -> AttributeProto {
    let mut p = AttributeProto {
        name: name.to_string(),
        ..Default::default()
    };
    match a {
        Attr::Int(i) => {
            p.i = *i;
            p.r#type = AttributeType::Int as i32;
        }
        Attr::Float(f) => {
            p.f = *f;
            p.r#type = AttributeType::Float as i32;
        }
        Attr::Ints(v) => {
            p.ints = v.clone();
            p.r#type = AttributeType::Ints as i32;
        }
        Attr::Str(s) => {
            p.s = Bytes::copy_from_slice(s.as_bytes());
            p.r#type = AttributeType::String as i32;
        }
    }
    p
}

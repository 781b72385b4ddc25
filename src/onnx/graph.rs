//! Walking a decoded model: inputs and outputs, the op histogram, initializer totals and every
//! tensor stored in an external data file ([`ExternalRef`]), without reading any tensor payload.

use std::collections::{BTreeMap, HashSet};

use super::proto::tensor_proto::{DataLocation, DataType};
use super::proto::tensor_shape_proto::dimension;
use super::proto::type_proto;
use super::proto::{GraphProto, ModelProto, TensorProto, TypeProto, ValueInfoProto};
use super::report::{InitializerSummary, OpCount, Opset, ValueReport};

/// Name the default ONNX domain is reported under.
pub const DEFAULT_DOMAIN: &str = "ai.onnx";

/// One tensor whose bytes live in an external data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalRef {
    /// Tensor name.
    pub tensor: String,
    /// `location` entry, if any.
    pub location: Option<String>,
    /// `offset` entry (0 when absent).
    pub offset: u64,
    /// `length` entry, if any.
    pub length: Option<u64>,
    /// Bytes the tensor's dims and element type need, when computable.
    pub expected: Option<u64>,
    /// An `offset` or `length` entry that is not a number.
    pub malformed: Option<String>,
}

impl ExternalRef {
    /// Bytes the tensor occupies in the file: `length`, else what its shape needs.
    pub fn size(&self) -> u64 {
        self.length.or(self.expected).unwrap_or(0)
    }

    /// One past the tensor's last byte in the file.
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.size())
    }
}

/// Everything learned from the graph itself.
#[derive(Debug, Clone, Default)]
pub struct GraphFacts {
    /// Imported operator sets.
    pub opsets: Vec<Opset>,
    /// Graph inputs that are not initializers.
    pub inputs: Vec<ValueReport>,
    /// Graph outputs.
    pub outputs: Vec<ValueReport>,
    /// The op histogram, most frequent first.
    pub ops: Vec<OpCount>,
    /// Nodes counted.
    pub node_count: usize,
    /// Initializer totals.
    pub initializers: InitializerSummary,
    /// Externally stored tensors, in graph order.
    pub external: Vec<ExternalRef>,
    /// Domains used by main-graph nodes that have no opset import.
    pub unimported_domains: Vec<String>,
}

/// Collects the facts of `model` (decoded by [`super::read::decode_model`]).
pub fn facts(model: &ModelProto) -> GraphFacts {
    let mut f = GraphFacts {
        opsets: model
            .opset_import
            .iter()
            .map(|o| Opset {
                domain: domain_name(&o.domain).to_string(),
                version: o.version,
            })
            .collect(),
        ..GraphFacts::default()
    };
    let Some(graph) = &model.graph else {
        return f;
    };
    let init_names: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    f.inputs = graph
        .input
        .iter()
        .filter(|i| !init_names.contains(i.name.as_str()))
        .map(value_report)
        .collect();
    f.outputs = graph.output.iter().map(value_report).collect();

    let mut hist: BTreeMap<(String, String), usize> = BTreeMap::new();
    walk(graph, false, &mut hist, &mut f);
    f.node_count = hist.values().sum();
    let mut ops: Vec<OpCount> = hist
        .into_iter()
        .map(|((domain, op_type), count)| OpCount {
            domain,
            op_type,
            count,
        })
        .collect();
    ops.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.op_type.cmp(&b.op_type))
    });
    f.ops = ops;

    let imported: HashSet<&str> = f.opsets.iter().map(|o| o.domain.as_str()).collect();
    let functions: HashSet<&str> = model.functions.iter().map(|x| x.domain.as_str()).collect();
    let mut missing: Vec<String> = graph
        .node
        .iter()
        .map(|n| domain_name(&n.domain))
        .filter(|d| !imported.contains(d) && !functions.contains(d))
        .map(str::to_string)
        .collect();
    missing.sort();
    missing.dedup();
    f.unimported_domains = missing;
    f
}

/// Adds the nodes and tensors of `graph` (and, recursively, its subgraphs) to `f`. Recursion is
/// bounded by prost's decoding depth limit.
fn walk(
    graph: &GraphProto,
    sub: bool,
    hist: &mut BTreeMap<(String, String), usize>,
    f: &mut GraphFacts,
) {
    for t in &graph.initializer {
        count_tensor(t, sub, f);
    }
    for s in &graph.sparse_initializer {
        for t in s.values.iter().chain(s.indices.iter()) {
            count_tensor(t, sub, f);
        }
    }
    for node in &graph.node {
        let domain = domain_name(&node.domain).to_string();
        if node.op_type == "Constant" && domain == DEFAULT_DOMAIN {
            f.initializers.constants += 1;
        }
        *hist.entry((domain, node.op_type.clone())).or_default() += 1;
        for attr in &node.attribute {
            for t in attr.t.iter().chain(attr.tensors.iter()) {
                account_bytes(t, f);
                if sub {
                    f.initializers.in_subgraphs += 1;
                }
            }
            for g in attr.g.iter().chain(attr.graphs.iter()) {
                walk(g, true, hist, f);
            }
        }
    }
}

fn count_tensor(t: &TensorProto, sub: bool, f: &mut GraphFacts) {
    if sub {
        f.initializers.in_subgraphs += 1;
    } else {
        f.initializers.count += 1;
    }
    account_bytes(t, f);
}

/// Adds a tensor's bytes to the inline or external total (and records external references).
fn account_bytes(t: &TensorProto, f: &mut GraphFacts) {
    let expected = tensor_bytes(t);
    if t.data_location == DataLocation::External as i32 {
        let r = external_ref(t, expected);
        f.initializers.external_bytes = f.initializers.external_bytes.saturating_add(r.size());
        f.initializers.external_count += 1;
        f.external.push(r);
    } else {
        let inline = if !t.raw_data.is_empty() {
            t.raw_data.len() as u64
        } else if t.data_type == DataType::String as i32 {
            t.string_data.iter().map(|s| s.len() as u64).sum()
        } else {
            expected.unwrap_or(0)
        };
        f.initializers.inline_bytes = f.initializers.inline_bytes.saturating_add(inline);
    }
}

fn external_ref(t: &TensorProto, expected: Option<u64>) -> ExternalRef {
    let mut r = ExternalRef {
        tensor: t.name.clone(),
        location: None,
        offset: 0,
        length: None,
        expected,
        malformed: None,
    };
    for e in &t.external_data {
        match e.key.as_str() {
            "location" => r.location = Some(e.value.clone()),
            "offset" | "length" => match e.value.trim().parse::<u64>() {
                Ok(v) if e.key == "offset" => r.offset = v,
                Ok(v) => r.length = Some(v),
                Err(_) => r.malformed = Some(format!("{} {:?}", e.key, e.value)),
            },
            _ => {}
        }
    }
    r
}

/// Bytes a tensor's dims and element type need (`None` for strings, unknown types, negative dims
/// or overflow).
pub fn tensor_bytes(t: &TensorProto) -> Option<u64> {
    let bits = elem_bits(t.data_type)?;
    let mut n: u64 = 1;
    for &d in &t.dims {
        n = n.checked_mul(u64::try_from(d).ok()?)?;
    }
    Some(n.checked_mul(bits)?.div_ceil(8))
}

/// Bits per element of an ONNX element type.
fn elem_bits(data_type: i32) -> Option<u64> {
    use DataType as D;
    Some(match D::try_from(data_type).ok()? {
        D::Uint4 | D::Int4 => 4,
        D::Uint8 | D::Int8 | D::Bool => 8,
        D::Float8e4m3fn | D::Float8e4m3fnuz | D::Float8e5m2 | D::Float8e5m2fnuz => 8,
        D::Uint16 | D::Int16 | D::Float16 | D::Bfloat16 => 16,
        D::Float | D::Int32 | D::Uint32 => 32,
        D::Double | D::Int64 | D::Uint64 | D::Complex64 => 64,
        D::Complex128 => 128,
        D::String | D::Undefined => return None,
    })
}

/// The reported name of a domain: `ai.onnx` for the default one.
pub fn domain_name(domain: &str) -> &str {
    if domain.is_empty() || domain == "ai.onnx" {
        DEFAULT_DOMAIN
    } else {
        domain
    }
}

/// Lower-case name of an element type (`float`, `float16`, `int64`, ...).
pub fn elem_type_name(data_type: i32) -> String {
    match DataType::try_from(data_type) {
        Ok(DataType::Undefined) | Err(_) => format!("type{data_type}"),
        Ok(d) => d.as_str_name().to_ascii_lowercase(),
    }
}

fn value_report(v: &ValueInfoProto) -> ValueReport {
    let (elem_type, shape) = match &v.r#type {
        Some(t) => describe_type(t),
        None => ("unknown".into(), None),
    };
    ValueReport {
        name: v.name.clone(),
        elem_type,
        shape,
    }
}

fn describe_type(t: &TypeProto) -> (String, Option<Vec<String>>) {
    use type_proto::Value as V;
    match &t.value {
        Some(V::TensorType(tt)) => (
            elem_type_name(tt.elem_type),
            tt.shape.as_ref().map(|s| {
                s.dim
                    .iter()
                    .map(|d| match &d.value {
                        Some(dimension::Value::DimValue(v)) => v.to_string(),
                        Some(dimension::Value::DimParam(p)) if !p.is_empty() => p.clone(),
                        _ => "?".into(),
                    })
                    .collect()
            }),
        ),
        Some(V::SparseTensorType(st)) => {
            (format!("sparse({})", elem_type_name(st.elem_type)), None)
        }
        Some(V::SequenceType(s)) => (format!("seq({})", inner(s.elem_type.as_deref())), None),
        Some(V::OptionalType(o)) => (format!("optional({})", inner(o.elem_type.as_deref())), None),
        Some(V::MapType(m)) => (
            format!(
                "map({}, {})",
                elem_type_name(m.key_type),
                inner(m.value_type.as_deref())
            ),
            None,
        ),
        None => ("unknown".into(), None),
    }
}

fn inner(t: Option<&TypeProto>) -> String {
    t.map(|t| describe_type(t).0)
        .unwrap_or_else(|| "unknown".into())
}

//! Decoder discovery: what a decoder-only ONNX model expects, from three sources that must agree.
//!
//! In flow the session's own input and output metadata (names, shapes, element types), the
//! graph's nodes (which attention op it uses, the width of the first layer's key projection) and
//! every config the folder has (`config.json`, `genai_config.json`, `generation_config.json` is
//! read by the tokenizer for end-of-sequence ids). Out comes a [`DecoderIo`]: layers, KV heads,
//! head size, element type, `position_ids`, logits width and whether logits hold every position,
//! and the [`KvStrategy`] the engine drives the cache with. A dimension the graph leaves symbolic
//! (ONNX Runtime GenAI's builders 0.15–0.18 call the head size `kv_cache_dim`) is taken from the
//! configs and checked against the weights; a disagreement is an error naming both sources.

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::{TensorElementType, ValueType};
use serde_json::Value;

use super::kv::{KvDtype, KvShape};
use crate::onnx::proto::{ModelProto, NodeProto, attribute_proto::AttributeType};

/// What the decoder learned about the model's inputs and outputs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DecoderIo {
    /// Cache geometry.
    pub kv: KvShape,
    /// Vocabulary size (last dimension of `logits`).
    pub vocab: usize,
    /// `logits` holds every position (else only the last one).
    pub all_logits: bool,
    /// The model takes `position_ids`.
    pub position_ids: bool,
    /// The model takes `use_cache_branch`.
    pub use_cache_branch: bool,
    /// Name pattern of the cache inputs, with `{}` for the layer and `{kv}` for key/value.
    pub past_name: String,
    /// Name pattern of the cache outputs.
    pub present_name: String,
    /// How the cache crosses a run.
    pub strategy: KvStrategy,
}

/// How the engine keeps a sequence's cache across runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum KvStrategy {
    /// The attention op (`GroupQueryAttention`) writes new positions into the past buffer, which
    /// is bound as both past input and present output: nothing is copied.
    InPlace,
    /// The attention concatenates past and new positions (`Concat`, as optimum and onnx-community
    /// exports do): the rows' caches are gathered into a past tensor, the new positions are
    /// copied back from the present output after each run, and a decode step's present serves
    /// as the next step's past for the rows that go on.
    Growing,
}

impl KvStrategy {
    /// One line for people: the strategy and why it was chosen.
    pub fn describe(self) -> &'static str {
        match self {
            KvStrategy::InPlace => {
                "in-place (GroupQueryAttention writes new positions into the bound cache)"
            }
            KvStrategy::Growing => {
                "growing (attention concatenates past and new positions; each decode step's output cache is the next step's input, a row is copied in again only when its slot changes)"
            }
        }
    }
}

/// Model dimensions a folder's configs state, each with the file and key it came from.
#[derive(Debug, Default)]
struct ConfigDims {
    head_size: Vec<(usize, String)>,
    kv_heads: Vec<(usize, String)>,
    heads: Vec<(usize, String)>,
    layers: Vec<(usize, String)>,
    /// `hidden_size / num_attention_heads`, used only when no config states the head size.
    derived_head_size: Option<(usize, String)>,
}

/// The folders whose configs describe `model`: its own, and the one above when the model sits in
/// an `onnx/` subfolder (onnx-community layout).
fn config_dirs(model: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = model.parent() {
        dirs.push(dir.to_path_buf());
        if dir.file_name().is_some_and(|n| n == "onnx")
            && let Some(up) = dir.parent()
        {
            dirs.push(up.to_path_buf());
        }
    }
    dirs
}

fn read_json(path: &Path) -> Result<Option<Value>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
            format!(
                "{} is not valid JSON ({e}); fix or remove it",
                path.display()
            )
        }),
        Err(_) => Ok(None),
    }
}

fn read_configs(model: &Path) -> Result<ConfigDims, String> {
    let mut dims = ConfigDims::default();
    let num = |v: &Value, key: &str| v.get(key).and_then(Value::as_u64).map(|n| n as usize);
    for dir in config_dirs(model) {
        if let Some(c) = read_json(&dir.join("genai_config.json"))? {
            let file = dir.join("genai_config.json").display().to_string();
            if let Some(d) = c.pointer("/model/decoder") {
                let put = |list: &mut Vec<(usize, String)>, key: &str| {
                    if let Some(n) = num(d, key) {
                        list.push((n, format!("{file} model.decoder.{key}")));
                    }
                };
                put(&mut dims.head_size, "head_size");
                put(&mut dims.kv_heads, "num_key_value_heads");
                put(&mut dims.heads, "num_attention_heads");
                put(&mut dims.layers, "num_hidden_layers");
            }
        }
        if let Some(c) = read_json(&dir.join("config.json"))? {
            let file = dir.join("config.json").display().to_string();
            // Multimodal configs keep the decoder's numbers under `text_config`.
            let c = c.get("text_config").cloned().unwrap_or(c);
            let put = |list: &mut Vec<(usize, String)>, key: &str| {
                if let Some(n) = num(&c, key) {
                    list.push((n, format!("{file} {key}")));
                }
            };
            put(&mut dims.head_size, "head_dim");
            put(&mut dims.kv_heads, "num_key_value_heads");
            put(&mut dims.heads, "num_attention_heads");
            put(&mut dims.layers, "num_hidden_layers");
            if let (Some(h), Some(n)) = (num(&c, "hidden_size"), num(&c, "num_attention_heads"))
                && n > 0
                && h % n == 0
                && dims.derived_head_size.is_none()
            {
                dims.derived_head_size =
                    Some((h / n, format!("{file} hidden_size / num_attention_heads")));
            }
        }
    }
    Ok(dims)
}

/// What the graph's nodes say about attention.
#[derive(Debug, Default)]
pub(crate) struct GraphHints {
    /// A `GroupQueryAttention` node exists.
    pub gqa: bool,
    /// Its `kv_num_heads` attribute.
    pub gqa_kv_heads: Option<usize>,
    /// Its `num_heads` attribute.
    pub gqa_heads: Option<usize>,
    /// Output width of the first layer's key projection, with the node it came from.
    pub k_width: Option<(usize, String)>,
    /// Output width of the first layer's packed query/key/value projection.
    pub qkv_width: Option<(usize, String)>,
}

/// Reads the attention facts off the graph (main graph and subgraphs).
pub(crate) fn graph_hints(model: &ModelProto) -> GraphHints {
    let mut h = GraphHints::default();
    let Some(graph) = &model.graph else { return h };
    let init_dims = |name: &str| {
        graph
            .initializer
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.dims.clone())
    };
    let int_attr = |n: &NodeProto, name: &str| {
        n.attribute
            .iter()
            .find(|a| a.name == name && a.r#type == AttributeType::Int as i32)
            .map(|a| a.i)
            .filter(|&i| i > 0)
            .map(|i| i as usize)
    };
    let mut stack: Vec<&NodeProto> = graph.node.iter().collect();
    while let Some(n) = stack.pop() {
        for a in &n.attribute {
            for g in a.g.iter().chain(a.graphs.iter()) {
                stack.extend(g.node.iter());
            }
        }
        if n.op_type == "GroupQueryAttention" {
            h.gqa = true;
            h.gqa_kv_heads = h.gqa_kv_heads.or(int_attr(n, "kv_num_heads"));
            h.gqa_heads = h.gqa_heads.or(int_attr(n, "num_heads"));
        }
        let name = n.name.as_str();
        let first_layer = name.contains("layers.0/") || name.contains("layers.0.");
        if !first_layer || !matches!(n.op_type.as_str(), "MatMul" | "MatMulNBits") {
            continue;
        }
        let width = if n.op_type == "MatMulNBits" {
            int_attr(n, "N")
        } else {
            n.input
                .get(1)
                .and_then(|b| init_dims(b))
                .and_then(|d| d.last().copied())
                .filter(|&w| w > 0)
                .map(|w| w as usize)
        };
        let Some(width) = width else { continue };
        if name.contains("qkv_proj") {
            h.qkv_width.get_or_insert((width, name.to_string()));
        } else if name.contains("k_proj") {
            h.k_width.get_or_insert((width, name.to_string()));
        }
    }
    h
}

/// One cache dimension: the graph's value when it is fixed, else the configs' (which must agree
/// with each other and with the graph).
fn resolve(
    what: &str,
    graph: i64,
    symbol: &str,
    stated: &[(usize, String)],
    fallback: Option<&(usize, String)>,
) -> Result<(usize, String), String> {
    let graph_value = (graph > 0).then_some(graph as usize);
    let mut chosen = graph_value.map(|v| (v, "the graph".to_string()));
    for (v, source) in stated.iter().chain(fallback.filter(|_| stated.is_empty())) {
        match &chosen {
            None => chosen = Some((*v, source.clone())),
            Some((c, from)) if c != v => {
                return Err(format!(
                    "its {what} is {c} in {from} but {v} in {source}; fix the config that is wrong"
                ));
            }
            Some(_) => {}
        }
    }
    chosen.ok_or_else(|| {
        format!(
            "its cache inputs leave the {what} symbolic (`{symbol}`) and no config states it; add \
             `head_dim`/`num_key_value_heads` to config.json or `head_size`/`num_key_value_heads` \
             under model.decoder in genai_config.json"
        )
    })
}

/// Reads the decoder conventions off the session's inputs and outputs, the graph and the folder's
/// configs.
pub(crate) fn discover(
    session: &Session,
    model_path: &Path,
    hints: &GraphHints,
) -> Result<DecoderIo, String> {
    let inputs = session.inputs();
    let outputs = session.outputs();
    let has_in = |n: &str| inputs.iter().any(|i| i.name() == n);
    for required in ["input_ids", "attention_mask"] {
        if !has_in(required) {
            return Err(format!("it has no `{required}` input"));
        }
    }
    let (past_name, present_name) = if has_in("past_key_values.0.key") {
        ("past_key_values.{}.{kv}", "present.{}.{kv}")
    } else if has_in("past_key_values.0.decoder.key") {
        ("past_key_values.{}.decoder.{kv}", "present.{}.decoder.{kv}")
    } else {
        return Err("it has no `past_key_values.0.key` input (a decoder with a KV cache)".into());
    };
    let name_of = |pattern: &str, layer: usize, kv: &str| {
        pattern
            .replace("{}", &layer.to_string())
            .replace("{kv}", kv)
    };
    let layers = (0..)
        .take_while(|&l| has_in(&name_of(past_name, l, "key")))
        .count();
    for l in 0..layers {
        for kv in ["key", "value"] {
            let out = name_of(present_name, l, kv);
            if !outputs.iter().any(|o| o.name() == out) {
                return Err(format!("it has no `{out}` output for its cache input"));
            }
        }
    }
    let first = inputs
        .iter()
        .find(|i| i.name() == name_of(past_name, 0, "key"))
        .expect("checked above");
    let (dtype, shape, symbols) = match first.dtype() {
        ValueType::Tensor {
            ty,
            shape,
            dimension_symbols,
        } => (*ty, shape.clone(), dimension_symbols.clone()),
        other => return Err(format!("its cache input is not a tensor: {other:?}")),
    };
    let dtype = match dtype {
        TensorElementType::Float32 => KvDtype::F32,
        TensorElementType::Float16 => KvDtype::F16,
        other => {
            return Err(format!(
                "its cache element type {other:?} is not float32 or float16"
            ));
        }
    };
    if shape.len() != 4 {
        return Err(format!(
            "its cache input shape {shape:?} is not [batch, kv_heads, past, head_size]"
        ));
    }
    let symbol = |i: usize| symbols.get(i).cloned().unwrap_or_default();
    let configs = read_configs(model_path)?;
    let mut kv_stated = configs.kv_heads.clone();
    if let Some(k) = hints.gqa_kv_heads {
        kv_stated.push((k, "the graph's GroupQueryAttention kv_num_heads".into()));
    }
    let (kv_heads, _) = resolve("KV head count", shape[1], &symbol(1), &kv_stated, None)?;
    let (head_dim, head_from) = resolve(
        "head size",
        shape[3],
        &symbol(3),
        &configs.head_size,
        configs.derived_head_size.as_ref(),
    )?;
    for (n, source) in &configs.layers {
        if *n != layers {
            return Err(format!(
                "it has {layers} layers of cache inputs but {source} says {n}; fix the config"
            ));
        }
    }
    // The weights have the last word: the key projection yields kv_heads * head_size values.
    if let Some((width, node)) = &hints.k_width
        && *width != kv_heads * head_dim
    {
        return Err(format!(
            "its key projection `{node}` yields {width} values, not {kv_heads} KV heads × head size {head_dim} (from {head_from}); fix the head size in the config"
        ));
    }
    let heads = hints.gqa_heads.or(configs.heads.first().map(|h| h.0));
    if let (Some((width, node)), Some(heads)) = (&hints.qkv_width, heads)
        && *width != (heads + 2 * kv_heads) * head_dim
    {
        return Err(format!(
            "its packed projection `{node}` yields {width} values, not ({heads} heads + 2 × {kv_heads} KV heads) × head size {head_dim} (from {head_from}); fix the head size in the config"
        ));
    }
    let logits = outputs
        .iter()
        .find(|o| o.name() == "logits")
        .ok_or("it has no `logits` output")?;
    let lshape = match logits.dtype() {
        ValueType::Tensor { ty, shape, .. } => {
            if *ty != TensorElementType::Float32 {
                return Err(format!(
                    "its `logits` are {ty:?}; isg reads float32 logits (export with float32 logits)"
                ));
            }
            shape.clone()
        }
        _ => return Err("`logits` is not a tensor".into()),
    };
    if lshape.len() != 3 || lshape[2] <= 0 {
        return Err(format!(
            "`logits` shape {lshape:?} is not [batch, sequence, vocab] with a fixed vocabulary"
        ));
    }
    let strategy = if hints.gqa {
        KvStrategy::InPlace
    } else {
        KvStrategy::Growing
    };
    Ok(DecoderIo {
        kv: KvShape {
            layers,
            kv_heads,
            head_dim,
            dtype,
        },
        vocab: lshape[2] as usize,
        all_logits: lshape[1] != 1,
        position_ids: has_in("position_ids"),
        use_cache_branch: has_in("use_cache_branch"),
        past_name: past_name.into(),
        present_name: present_name.into(),
        strategy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symbolic_dimension_takes_the_configs_value() {
        let stated = vec![(64, "genai_config.json model.decoder.head_size".to_string())];
        let (v, from) = resolve("head size", -1, "kv_cache_dim", &stated, None).unwrap();
        assert_eq!(v, 64);
        assert!(from.contains("genai_config.json"));
    }

    #[test]
    fn configs_that_disagree_with_the_graph_are_an_error() {
        let stated = vec![(32, "config.json head_dim".to_string())];
        let e = resolve("head size", 64, "", &stated, None).unwrap_err();
        assert!(
            e.contains("64 in the graph but 32 in config.json head_dim"),
            "{e}"
        );
    }

    #[test]
    fn a_symbolic_dimension_without_config_names_the_fix() {
        let e = resolve("head size", -1, "kv_cache_dim", &[], None).unwrap_err();
        assert!(
            e.contains("`kv_cache_dim`") && e.contains("genai_config.json"),
            "{e}"
        );
    }

    #[test]
    fn the_derived_head_size_is_only_a_fallback() {
        let derived = (
            48,
            "config.json hidden_size / num_attention_heads".to_string(),
        );
        let stated = vec![(64, "config.json head_dim".to_string())];
        let (v, _) = resolve("head size", -1, "d", &stated, Some(&derived)).unwrap();
        assert_eq!(v, 64);
        let (v, _) = resolve("head size", -1, "d", &[], Some(&derived)).unwrap();
        assert_eq!(v, 48);
    }
}

//! `search-model.js`: the sentence encoder `isg search` runs, for `index.html` to run on the
//! query in the browser.
//!
//! [`render_model`] reads the converted encoder of the embedding model's folder (the
//! initializers of `model.onnx` and `model.onnx_data`, so the page runs the very weights ONNX
//! Runtime runs), `config.json` and `tokenizer.json`, and writes one script assigning
//! `globalThis.ISG_SEARCH_MODEL`: the sizes, the WordPiece vocabulary and settings, the
//! character classes the Rust tokenizer uses (control, punctuation, non-spacing mark and
//! whitespace code points, as ranges, so the page splits text with the same Unicode tables),
//! and the weights: every matrix as int8 with one f32 scale per row (`round(w / scale)`,
//! `scale = max |w| / 127`), vectors (biases, layer norms) as f32, all in one base64 blob.
//! Positions past the tokens a line is cut to are left out.
//!
//! The file's first line names [`model_key`] (the model's setup marker and [`MODEL_FORMAT`]);
//! [`write_model`] leaves a file with the same key alone, so it is written once per model.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use unicode_categories::UnicodeCategories;

use super::SearchError;
use super::vectors::encoder_id;
use crate::convert::bert::BertConfig;
use crate::onnx::proto::tensor_proto::{DataLocation, DataType};
use crate::output::write_atomic;
use crate::provision::EMBEDDING_MODEL;

/// The version of what [`render_model`] writes; a file of another version is written again.
pub const MODEL_FORMAT: u32 = 1;

fn bad(path: &Path, message: impl Into<String>) -> SearchError {
    SearchError::PageModel {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The key of the encoder script made from `model_dir`: its setup marker (model, weights and
/// tokenizer SHA-256s, conversion version), the tokens a line is cut to and [`MODEL_FORMAT`].
pub fn model_key(model_dir: &Path) -> Result<String, SearchError> {
    let marker = model_dir.join(crate::provision::setup::SETUP_MARKER);
    let text = std::fs::read(&marker).map_err(|e| SearchError::io(&marker, e))?;
    let mut h = Sha256::new();
    h.update(format!("isg page model {MODEL_FORMAT}\n").as_bytes());
    h.update(&text);
    h.update(format!("\nmax tokens {}\n", EMBEDDING_MODEL.max_tokens).as_bytes());
    Ok(hex::encode(&h.finalize()[..12]))
}

fn first_line(key: &str) -> String {
    format!("// isg search model {key}\n")
}

/// Writes `out_dir/search-model.js` from `model_dir` unless the file there has the same key.
/// Returns its size when it was written.
pub fn write_model(out_dir: &Path, model_dir: &Path) -> Result<Option<usize>, SearchError> {
    let key = model_key(model_dir)?;
    let path = out_dir.join(SEARCH_MODEL_FILE);
    let want = first_line(&key);
    let mut head = vec![0u8; want.len()];
    let same = std::fs::File::open(&path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head == want.as_bytes();
    if same {
        return Ok(None);
    }
    let text = render_model(model_dir, &key)?;
    write_atomic(&path, text.as_bytes())?;
    Ok(Some(text.len()))
}

/// Tensors by name: shape and values.
type Tensors = HashMap<String, (Vec<usize>, Vec<f32>)>;

/// The f32 initializers of `model_dir/model.onnx`.
fn onnx_weights(model_dir: &Path) -> Result<Tensors, SearchError> {
    let onnx = model_dir.join("model.onnx");
    let model = crate::onnx::read_model(&onnx).map_err(|v| bad(&onnx, v.to_string()))?;
    let graph = model.graph.unwrap_or_default();
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    let mut out = HashMap::new();
    for t in graph.initializer {
        if t.data_type != DataType::Float as i32 {
            continue;
        }
        let shape: Vec<usize> = t.dims.iter().map(|&d| d.max(0) as usize).collect();
        let count: usize = shape.iter().product();
        let bytes: Vec<u8> = if t.data_location == DataLocation::External as i32 {
            let field = |k: &str| {
                t.external_data
                    .iter()
                    .find(|e| e.key == k)
                    .map(|e| e.value.clone())
            };
            let location = field("location")
                .ok_or_else(|| bad(&onnx, format!("{}: external data without a file", t.name)))?;
            let offset: usize = field("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
            let length: usize = field("length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(count * 4);
            if !files.contains_key(&location) {
                let p = model_dir.join(&location);
                let data = std::fs::read(&p).map_err(|e| SearchError::io(&p, e))?;
                files.insert(location.clone(), data);
            }
            let data = &files[&location];
            data.get(offset..offset.saturating_add(length))
                .ok_or_else(|| {
                    bad(
                        &onnx,
                        format!("{}: data past the end of {location}", t.name),
                    )
                })?
                .to_vec()
        } else if !t.raw_data.is_empty() {
            t.raw_data.to_vec()
        } else {
            t.float_data.iter().flat_map(|x| x.to_le_bytes()).collect()
        };
        if bytes.len() != count * 4 {
            return Err(bad(
                &onnx,
                format!("{}: {} bytes for shape {shape:?}", t.name, bytes.len()),
            ));
        }
        let values = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        out.insert(t.name, (shape, values));
    }
    Ok(out)
}

/// Where a tensor lies in the blob.
#[derive(Serialize)]
struct TensorAt {
    /// `i8` (a matrix: `rows` f32 scales at `offset`, then the int8 values at `q`) or `f32`.
    #[serde(rename = "type")]
    kind: &'static str,
    shape: Vec<usize>,
    offset: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    q: Option<usize>,
}

struct Blob {
    bytes: Vec<u8>,
    tensors: Vec<(String, TensorAt)>,
}

impl Blob {
    fn align(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }

    fn f32(&mut self, name: &str, shape: Vec<usize>, v: &[f32]) {
        self.align();
        let offset = self.bytes.len();
        self.bytes.extend(v.iter().flat_map(|x| x.to_le_bytes()));
        self.tensors.push((
            name.into(),
            TensorAt {
                kind: "f32",
                shape,
                offset,
                q: None,
            },
        ));
    }

    /// A `[rows, cols]` matrix as int8, one scale per row.
    fn i8(&mut self, name: &str, rows: usize, cols: usize, v: &[f32]) {
        self.align();
        let offset = self.bytes.len();
        let mut q = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            let row = &v[r * cols..(r + 1) * cols];
            let max = row.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
            self.bytes.extend(scale.to_le_bytes());
            q.extend(
                row.iter()
                    .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8 as u8),
            );
        }
        let at = self.bytes.len();
        self.bytes.extend(q);
        self.tensors.push((
            name.into(),
            TensorAt {
                kind: "i8",
                shape: vec![rows, cols],
                offset,
                q: Some(at),
            },
        ));
    }
}

/// The encoder's sizes, as the page reads them.
#[derive(Serialize)]
struct PageConfig {
    hidden: usize,
    layers: usize,
    heads: usize,
    intermediate: usize,
    eps: f32,
    max_tokens: usize,
}

/// The tokenizer, as the page reads it.
#[derive(Serialize)]
struct PageTokenizer {
    vocab: Vec<String>,
    unk: String,
    prefix: String,
    max_word_chars: usize,
    cls: u32,
    sep: u32,
    /// Special tokens matched in the raw text, before normalization: content and id.
    added: Vec<(String, u32)>,
    clean_text: bool,
    chinese: bool,
    strip_accents: bool,
    lowercase: bool,
    /// Code point ranges `[lo, hi, lo, hi, ...]`.
    other: Vec<u32>,
    punct: Vec<u32>,
    mn: Vec<u32>,
    ws: Vec<u32>,
}

#[derive(Serialize)]
struct ModelFile {
    format: u32,
    key: String,
    encoder: String,
    config: PageConfig,
    tokenizer: PageTokenizer,
    tensors: serde_json::Map<String, serde_json::Value>,
    data: String,
}

/// The code points where `f` holds, as inclusive ranges, flattened.
fn ranges(f: impl Fn(char) -> bool) -> Vec<u32> {
    let mut out = Vec::new();
    let mut open: Option<u32> = None;
    for cp in 0..=0x10FFFFu32 {
        let yes = char::from_u32(cp).is_some_and(&f);
        match (yes, open) {
            (true, None) => open = Some(cp),
            (false, Some(lo)) => {
                out.extend([lo, cp - 1]);
                open = None;
            }
            _ => {}
        }
    }
    if let Some(lo) = open {
        out.extend([lo, 0x10FFFF]);
    }
    out
}

fn tokenizer(path: &Path) -> Result<PageTokenizer, SearchError> {
    let text = std::fs::read_to_string(path).map_err(|e| SearchError::io(path, e))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(path, e.to_string()))?;
    let model = &v["model"];
    if model["type"] != "WordPiece" {
        return Err(bad(path, "the page only runs WordPiece tokenizers"));
    }
    let norm = &v["normalizer"];
    if norm["type"] != "BertNormalizer" || v["pre_tokenizer"]["type"] != "BertPreTokenizer" {
        return Err(bad(
            path,
            "the page only runs BERT normalizers and pre-tokenizers",
        ));
    }
    let vocab_map = model["vocab"]
        .as_object()
        .ok_or_else(|| bad(path, "no vocabulary"))?;
    let mut vocab = vec![String::new(); vocab_map.len()];
    for (tok, id) in vocab_map {
        let id = id.as_u64().unwrap_or(u64::MAX) as usize;
        let slot = vocab.get_mut(id).ok_or_else(|| {
            bad(
                path,
                format!("token {tok:?} has id {id}, past the vocabulary"),
            )
        })?;
        *slot = tok.clone();
    }
    let special = |name: &str| -> Result<u32, SearchError> {
        v["post_processor"]["special_tokens"][name]["ids"][0]
            .as_u64()
            .map(|x| x as u32)
            .ok_or_else(|| bad(path, format!("no {name} in the post-processor")))
    };
    let single = v["post_processor"]["single"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let special_of = |i: usize| single.get(i).and_then(|s| s["SpecialToken"]["id"].as_str());
    if v["post_processor"]["type"] != "TemplateProcessing"
        || single.len() != 3
        || single[1].get("Sequence").is_none()
    {
        return Err(bad(
            path,
            "the page only adds one special token before and after a line",
        ));
    }
    let (cls_name, sep_name) = (
        special_of(0).unwrap_or_default().to_string(),
        special_of(2).unwrap_or_default().to_string(),
    );
    let mut added = Vec::new();
    for t in v["added_tokens"].as_array().into_iter().flatten() {
        if t["normalized"] != false
            || t["single_word"] == true
            || t["lstrip"] == true
            || t["rstrip"] == true
        {
            return Err(bad(
                path,
                format!(
                    "added token {} is matched in a way the page does not reproduce",
                    t["content"]
                ),
            ));
        }
        added.push((
            t["content"].as_str().unwrap_or_default().to_string(),
            t["id"].as_u64().unwrap_or(0) as u32,
        ));
    }
    let lowercase = norm["lowercase"].as_bool().unwrap_or(true);
    Ok(PageTokenizer {
        vocab,
        unk: model["unk_token"].as_str().unwrap_or("[UNK]").to_string(),
        prefix: model["continuing_subword_prefix"]
            .as_str()
            .unwrap_or("##")
            .to_string(),
        max_word_chars: model["max_input_chars_per_word"].as_u64().unwrap_or(100) as usize,
        cls: special(&cls_name)?,
        sep: special(&sep_name)?,
        added,
        clean_text: norm["clean_text"].as_bool().unwrap_or(true),
        chinese: norm["handle_chinese_chars"].as_bool().unwrap_or(true),
        strip_accents: norm["strip_accents"].as_bool().unwrap_or(lowercase),
        lowercase,
        other: ranges(|c| c.is_other()),
        punct: ranges(|c| c.is_ascii_punctuation() || c.is_punctuation()),
        mn: ranges(|c| c.is_mark_nonspacing()),
        ws: ranges(char::is_whitespace),
    })
}

/// The text of `search-model.js` for the encoder in `model_dir`, whose key is `key`.
pub fn render_model(model_dir: &Path, key: &str) -> Result<String, SearchError> {
    let cfg_path = model_dir.join("config.json");
    let cfg = BertConfig::read(&cfg_path).map_err(|e| bad(&cfg_path, e.to_string()))?;
    let tok = tokenizer(&model_dir.join("tokenizer.json"))?;
    let w = onnx_weights(model_dir)?;
    let onnx = model_dir.join("model.onnx");
    let prefix = if w.contains_key("bert.embeddings.word_embeddings.weight") {
        "bert."
    } else {
        ""
    };
    let get = |name: &str, want: &[usize]| -> Result<&Vec<f32>, SearchError> {
        let full = format!("{prefix}{name}");
        match w.get(&full) {
            Some((shape, v)) if shape == want => Ok(v),
            Some((shape, _)) => Err(bad(
                &onnx,
                format!("{full} has shape {shape:?}, expected {want:?}"),
            )),
            None => Err(bad(&onnx, format!("{full} is missing"))),
        }
    };
    let (h, f) = (cfg.hidden, cfg.intermediate);
    let vocab = tok.vocab.len();
    let positions = cfg.max_positions.min(EMBEDDING_MODEL.max_tokens);
    let mut blob = Blob {
        bytes: Vec::new(),
        tensors: Vec::new(),
    };
    blob.i8(
        "word",
        vocab,
        h,
        get("embeddings.word_embeddings.weight", &[vocab, h])?,
    );
    let pos = get(
        "embeddings.position_embeddings.weight",
        &[cfg.max_positions, h],
    )?;
    blob.i8("pos", positions, h, &pos[..positions * h]);
    blob.f32(
        "type0",
        vec![h],
        get("embeddings.token_type_embeddings.weight.row0", &[h])?,
    );
    blob.f32(
        "emb.ln.g",
        vec![h],
        get("embeddings.LayerNorm.weight", &[h])?,
    );
    blob.f32("emb.ln.b", vec![h], get("embeddings.LayerNorm.bias", &[h])?);
    for i in 0..cfg.layers {
        let a = format!("encoder.layer.{i}.");
        for (short, name, n_in, n_out) in [
            ("q", "attention.self.query", h, h),
            ("k", "attention.self.key", h, h),
            ("v", "attention.self.value", h, h),
            ("o", "attention.output.dense", h, h),
            ("ff1", "intermediate.dense", h, f),
            ("ff2", "output.dense", f, h),
        ] {
            // Stored transposed ([in, out]) for MatMul; the page reads rows of [out, in].
            let t = get(&format!("{a}{name}.weight.T"), &[n_in, n_out])?;
            let mut m = vec![0f32; t.len()];
            for r in 0..n_in {
                for c in 0..n_out {
                    m[c * n_in + r] = t[r * n_out + c];
                }
            }
            blob.i8(&format!("L{i}.{short}.w"), n_out, n_in, &m);
            blob.f32(
                &format!("L{i}.{short}.b"),
                vec![n_out],
                get(&format!("{a}{name}.bias"), &[n_out])?,
            );
        }
        for (short, name) in [
            ("ln1", "attention.output.LayerNorm"),
            ("ln2", "output.LayerNorm"),
        ] {
            blob.f32(
                &format!("L{i}.{short}.g"),
                vec![h],
                get(&format!("{a}{name}.weight"), &[h])?,
            );
            blob.f32(
                &format!("L{i}.{short}.b"),
                vec![h],
                get(&format!("{a}{name}.bias"), &[h])?,
            );
        }
    }
    let mut tensors = serde_json::Map::new();
    for (name, at) in &blob.tensors {
        tensors.insert(
            name.clone(),
            serde_json::to_value(at).unwrap_or(serde_json::Value::Null),
        );
    }
    let file = ModelFile {
        format: MODEL_FORMAT,
        key: key.to_string(),
        encoder: encoder_id(),
        config: PageConfig {
            hidden: h,
            layers: cfg.layers,
            heads: cfg.heads,
            intermediate: f,
            eps: cfg.eps,
            max_tokens: EMBEDDING_MODEL.max_tokens,
        },
        tokenizer: tok,
        tensors,
        data: base64(&blob.bytes),
    };
    let json = serde_json::to_string(&file).map_err(|e| bad(model_dir, e.to_string()))?;
    Ok(format!(
        "{}// The sentence encoder of index.html's search ({}), written by isg {}; do not edit.\n\
         globalThis.ISG_SEARCH_MODEL = {json};\n",
        first_line(key),
        EMBEDDING_MODEL.name,
        env!("CARGO_PKG_VERSION")
    ))
}

/// The encoder script's name in the output folder.
pub const SEARCH_MODEL_FILE: &str = "search-model.js";

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        out.push(ABC[(n >> 18) as usize & 63]);
        out.push(ABC[(n >> 12) as usize & 63]);
        out.push(if c.len() > 1 {
            ABC[(n >> 6) as usize & 63]
        } else {
            b'='
        });
        out.push(if c.len() > 2 {
            ABC[n as usize & 63]
        } else {
            b'='
        });
    }
    String::from_utf8(out).unwrap_or_default()
}

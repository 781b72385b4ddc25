//! Test helpers for converted models: converting a GGUF (found with [`crate::prereq`]) once per
//! test process, and a minimal greedy loop over an ONNX Runtime session with the KV cache bound as
//! both past and present (the engine's layout).
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use isg::convert::{Bits, ConvertOptions, KvCacheType, LogitsMode};
use ort::memory::{Allocator, MemoryInfo};
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

/// This process's folder for converted models (0.1 to 2.2 GB each).
static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn remove_scratch() {
    if let Some(dir) = SCRATCH.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// `<cargo's test tmp dir>/converted/<pid>`: a static is never dropped, so a `TempDir` here would
/// leak its models; the folder is removed when the process exits, and folders of processes that
/// no longer run (killed test runs) are removed when the next one starts.
fn scratch() -> &'static Path {
    SCRATCH.get_or_init(|| {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("converted");
        if let Ok(entries) = std::fs::read_dir(&base) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.parse::<u32>().is_ok() && !Path::new("/proc").join(&name).exists() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the test scratch folder");
        // SAFETY: registers a plain function that only removes a folder.
        unsafe {
            libc::atexit(remove_scratch);
        }
        dir
    })
}

/// Converts `gguf` once per process and options into this process's scratch folder.
pub fn converted(gguf: &Path, bits: Bits, logits: LogitsMode) -> PathBuf {
    static DIRS: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let key = format!("{}-{}-{:?}", gguf.display(), bits.name(), logits);
    let mut dirs = DIRS.get_or_init(Default::default).lock().unwrap();
    if let Some(d) = dirs.get(&key) {
        return d.clone();
    }
    let out = scratch().join(format!("m{}", dirs.len()));
    let opts = ConvertOptions {
        bits,
        logits,
        kv_dtype: KvCacheType::F32,
        force: false,
    };
    let report = isg::convert::convert(gguf, &out, &opts).expect("convert");
    eprintln!("{report}");
    dirs.insert(key, out.clone());
    out
}

/// A converted model in a session, with an `f32` KV cache of `batch` rows of `capacity`.
pub struct Lm {
    session: Session,
    layers: usize,
    kv_heads: usize,
    head_dim: usize,
    batch: usize,
    capacity: usize,
    vocab: usize,
    /// One tensor per layer and key/value, allocated by ONNX Runtime: owned tensors are bound
    /// as both past and present without a copy (a borrowed buffer would be cloned by `ort`).
    kv: Vec<Tensor<f32>>,
    /// Valid cached positions per row.
    pub lens: Vec<usize>,
}

impl Lm {
    /// Opens `dir/model.onnx` with two threads.
    pub fn open(dir: &Path, batch: usize, capacity: usize) -> Lm {
        let rt = crate::prereq::onnx_runtime().expect("runtime loaded");
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
        let get = |k: &str| config[k].as_u64().unwrap() as usize;
        let (layers, kv_heads, head_dim) = (
            get("num_hidden_layers"),
            get("num_key_value_heads"),
            get("head_dim"),
        );
        let session = Session::builder(&rt.environment)
            .unwrap()
            .with_optimization_level(GraphOptimizationLevel::All)
            .unwrap()
            .with_intra_threads(2)
            .unwrap()
            .commit_from_file(dir.join("model.onnx"))
            .unwrap();
        let kv = (0..2 * layers)
            .map(|_| {
                let mut t = Tensor::<f32>::new(
                    &Allocator::default(),
                    [batch, kv_heads, capacity, head_dim],
                )
                .unwrap();
                t.extract_tensor_mut().1.fill(0.0);
                t
            })
            .collect();
        Lm {
            session,
            layers,
            kv_heads,
            head_dim,
            batch,
            capacity,
            vocab: get("vocab_size"),
            kv,
            lens: vec![0; batch],
        }
    }

    /// Runs `tokens[b]` (all rows the same length) after each row's cache; rows whose
    /// `active[b]` is false get padding and keep their length. Returns the logits as
    /// `[batch][positions * vocab]`.
    pub fn run(&mut self, tokens: &[Vec<i64>], active: &[bool]) -> Vec<Vec<f32>> {
        let seq = tokens[0].len();
        let new_lens: Vec<usize> = (0..self.batch)
            .map(|b| self.lens[b] + if active[b] { seq } else { 0 })
            .collect();
        let total = *new_lens.iter().max().unwrap();
        assert!(total <= self.capacity);
        let mut mask = vec![0i64; self.batch * total];
        for b in 0..self.batch {
            // A row that does not advance still needs one valid position for the kernel.
            let n = new_lens[b].max(1);
            mask[b * total..b * total + n]
                .iter_mut()
                .for_each(|m| *m = 1);
        }
        let ids: Vec<i64> = tokens.iter().flatten().copied().collect();
        let mut binding = self.session.create_binding().unwrap();
        let ids = Tensor::from_array(([self.batch, seq], ids)).unwrap();
        binding.bind_input("input_ids", &ids).unwrap();
        let mask = Tensor::from_array(([self.batch, total], mask)).unwrap();
        binding.bind_input("attention_mask", &mask).unwrap();
        for l in 0..self.layers {
            for (k, kind) in ["key", "value"].iter().enumerate() {
                let t = &mut self.kv[2 * l + k];
                binding
                    .bind_input(format!("past_key_values.{l}.{kind}"), &*t)
                    .unwrap();
                binding
                    .bind_output(format!("present.{l}.{kind}"), &mut *t)
                    .unwrap();
            }
        }
        binding
            .bind_output_to_device("logits", &MemoryInfo::default())
            .unwrap();
        let outputs = self.session.run_binding(&binding).unwrap();
        let (shape, data) = outputs["logits"].try_extract_tensor::<f32>().unwrap();
        let per_row = (shape[1] * shape[2]) as usize;
        let rows = data.chunks(per_row).map(<[f32]>::to_vec).collect();
        drop(outputs);
        self.lens = new_lens;
        rows
    }

    /// Copies row 0 of `other`'s cache (same model and capacity) into row `b` of this one.
    pub fn copy_row_from(&mut self, b: usize, other: &Lm) {
        let row = self.kv_heads * self.capacity * self.head_dim;
        for (dst, src) in self.kv.iter_mut().zip(&other.kv) {
            let src = src.extract_tensor().1;
            dst.extract_tensor_mut().1[b * row..(b + 1) * row].copy_from_slice(&src[..row]);
        }
        self.lens[b] = other.lens[0];
    }

    /// Prefills one row (batch 1) in pieces of `piece` tokens; returns the last logits row.
    pub fn prefill(&mut self, ids: &[i64], piece: usize) -> Vec<f32> {
        let mut last = Vec::new();
        for chunk in ids.chunks(piece) {
            last = self.run(&[chunk.to_vec()], &[true]).remove(0);
        }
        last[last.len() - self.vocab..].to_vec()
    }
}

/// Index of the largest value.
pub fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &x)| {
            if x > bv { (i, x) } else { (bi, bv) }
        })
        .0
}

/// Largest absolute difference.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Pearson correlation.
pub fn pearson(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len() as f64;
    let ma = a.iter().map(|&x| x as f64).sum::<f64>() / n;
    let mb = b.iter().map(|&x| x as f64).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (x as f64 - ma, y as f64 - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    sab / (saa * sbb).sqrt()
}

/// The llama.cpp fixture: prompt ids and first-step logits.
pub fn fixture() -> (Vec<i64>, Vec<f32>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2-llamacpp");
    let ids: Vec<i64> =
        serde_json::from_slice(&std::fs::read(dir.join("prompt_ids.json")).unwrap()).unwrap();
    let bytes = std::fs::read(dir.join("first_logits.f32")).unwrap();
    let logits = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    (ids, logits)
}

/// A chat prompt in the fixture's ChatML layout around `text`, tokenized word by word from the
/// GGUF vocabulary (good enough for test prompts; the real tokenizer lives elsewhere).
pub fn chat_prompt(gguf: &isg::gguf::Gguf, text: &str) -> Vec<i64> {
    let (fixture_ids, _) = fixture();
    let tokens = gguf
        .get("tokenizer.ggml.tokens")
        .unwrap()
        .as_array()
        .unwrap();
    let index: HashMap<&str, i64> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str().unwrap(), i as i64))
        .collect();
    let mut ids = fixture_ids[..24].to_vec(); // system turn, then "<|im_start|>user\n"
    for (w, word) in text.split(' ').enumerate() {
        let piece = if w == 0 {
            word.to_string()
        } else {
            format!("Ġ{word}")
        };
        match index.get(piece.as_str()) {
            Some(&id) => ids.push(id),
            None => {
                if w > 0 {
                    ids.push(index["Ġ"]);
                }
                ids.extend(word.chars().map(|ch| index[ch.to_string().as_str()]));
            }
        }
    }
    ids.extend_from_slice(&fixture_ids[62..]); // "<|im_end|>\n<|im_start|>assistant\n"
    ids
}

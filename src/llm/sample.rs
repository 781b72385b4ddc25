//! Choosing the next token from logits: greedy by default (deterministic, so results can be
//! cached), or temperature with nucleus (top-p) sampling from a seeded generator.

/// How to pick tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub enum Sampling {
    /// Always the most likely token (ties go to the lowest id).
    #[default]
    Greedy,
    /// Sample from the softmax at `temperature`, restricted to the smallest set of tokens whose
    /// probability reaches `top_p`, with a generator seeded by `seed`.
    Random {
        /// Softmax temperature (> 0).
        temperature: f32,
        /// Nucleus mass in (0, 1].
        top_p: f32,
        /// Seed of the per-request generator.
        seed: u64,
    },
}

/// Index of the largest value (the first one on ties); 0 for an empty slice.
pub fn argmax(logits: &[f32]) -> usize {
    let mut best = 0;
    let mut best_v = f32::NEG_INFINITY;
    for (i, &v) in logits.iter().enumerate() {
        if v > best_v {
            best = i;
            best_v = v;
        }
    }
    best
}

/// Per-request sampler state.
#[derive(Debug, Clone)]
pub struct Sampler {
    mode: Sampling,
    state: u64,
}

impl Sampler {
    /// A sampler for one request.
    pub fn new(mode: Sampling) -> Sampler {
        let seed = match mode {
            Sampling::Random { seed, .. } => seed,
            Sampling::Greedy => 0,
        };
        Sampler {
            mode,
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
        }
    }

    fn next_f32(&mut self) -> f32 {
        // splitmix64
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Picks the next token from one row of logits.
    pub fn pick(&mut self, logits: &[f32]) -> u32 {
        match self.mode {
            Sampling::Greedy => argmax(logits) as u32,
            Sampling::Random {
                temperature, top_p, ..
            } => {
                if temperature <= 0.0 {
                    return argmax(logits) as u32;
                }
                let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                let mut probs: Vec<(u32, f32)> = logits
                    .iter()
                    .enumerate()
                    .map(|(i, &l)| (i as u32, ((l - max) / temperature).exp()))
                    .collect();
                let sum: f32 = probs.iter().map(|p| p.1).sum();
                probs.sort_by(|a, b| b.1.total_cmp(&a.1));
                let mut kept = 0.0;
                let mut cut = probs.len();
                for (i, p) in probs.iter().enumerate() {
                    kept += p.1 / sum;
                    if kept >= top_p.clamp(0.0, 1.0) {
                        cut = i + 1;
                        break;
                    }
                }
                probs.truncate(cut);
                let total: f32 = probs.iter().map(|p| p.1).sum();
                let mut r = self.next_f32() * total;
                for (id, p) in &probs {
                    if r < *p {
                        return *id;
                    }
                    r -= p;
                }
                probs.last().map(|p| p.0).unwrap_or(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_takes_the_first_maximum() {
        assert_eq!(argmax(&[0.1, 3.0, 3.0, -1.0]), 1);
        assert_eq!(Sampler::new(Sampling::Greedy).pick(&[0.0, 1.0, 5.0]), 2);
    }

    #[test]
    fn seeded_sampling_repeats_and_respects_top_p() {
        let logits = [2.0, 1.9, -5.0, -6.0];
        let mode = Sampling::Random {
            temperature: 1.0,
            top_p: 0.9,
            seed: 7,
        };
        let a: Vec<u32> = {
            let mut s = Sampler::new(mode);
            (0..50).map(|_| s.pick(&logits)).collect()
        };
        let b: Vec<u32> = {
            let mut s = Sampler::new(mode);
            (0..50).map(|_| s.pick(&logits)).collect()
        };
        assert_eq!(a, b, "same seed, same tokens");
        assert!(
            a.iter().all(|&t| t < 2),
            "tokens outside the nucleus were drawn: {a:?}"
        );
        assert!(
            a.contains(&0) && a.contains(&1),
            "both nucleus tokens appear: {a:?}"
        );
    }
}

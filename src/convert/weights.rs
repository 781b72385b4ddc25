//! Encoding a GGUF weight matrix for ONNX: `MatMulNBits` blocks (4 or 8 bits, 32 values per
//! block) or plain floats.
//!
//! Every encoding is kept with one row per output feature (`N` rows of `K` inputs, GGUF's own
//! order), so rows can be reordered ([`Linear::permute_rows`]) and matrices that share an input
//! can be stacked ([`Linear::concat`]) before they are written.
//!
//! Q4_0 and Q4_1 blocks go to 4 bits without passing through float: the nibbles are only
//! reordered. `MatMulNBits` computes `(q - z) * d` with an integer zero point `z`; Q4_0 is
//! exactly `(q - 8) * d`. Q4_1 is `q * d + m`: we take `z = round(-m / d)` clamped to `0..=15`
//! and keep the remainder `c = m + z * d` of every block in a small `[K/32, N]` correction matrix
//! that the graph applies as `blocksum(x) @ c` (exact, and far faster on the CPU kernel than a
//! float zero point). Q4_K sub-blocks have Q4_1's form and go the same way. Other formats
//! (Q8_0, Q5_0, other k-quants, floats) are dequantized and requantized to 4 bits with a
//! per-block minimum and scale (round to nearest), which costs accuracy; 8 bits keeps Q8_0
//! exact and is symmetric otherwise.

use half::f16;

use crate::gguf::GgmlType;

/// Values per `MatMulNBits` block.
pub const BLOCK: usize = 32;

/// How a matrix is stored in the graph.
#[derive(Debug, Clone)]
pub enum Linear {
    /// `MatMulNBits` blocks.
    NBits(NBits),
    /// Signed 8-bit values with one scale per row, multiplied by `MatMulIntegerToFloat` against
    /// activations quantized row by row when the graph runs.
    Rows(Int8Rows),
    /// Floats, `[N, K]` row-major; written as `f32` or `f16`.
    Float {
        /// Inputs per row.
        k: usize,
        /// Rows (outputs).
        n: usize,
        /// Values.
        values: Vec<f32>,
    },
}

/// A `MatMulNBits` weight.
#[derive(Debug, Clone)]
pub struct NBits {
    /// 4 or 8.
    pub bits: u8,
    /// Inputs per row (a multiple of [`BLOCK`]).
    pub k: usize,
    /// Rows (outputs).
    pub n: usize,
    /// `[N, K/32, 32 * bits / 8]` packed values (4 bits: element `2i` in the low nibble).
    pub packed: Vec<u8>,
    /// `[N, K/32]` block scales.
    pub scales: Vec<f32>,
    /// `[N, K/32]` zero points, one byte each here (packed two per byte when written for 4 bits);
    /// `None` means the operator's default (`2^(bits-1)`).
    pub zero_points: Option<Vec<u8>>,
    /// `[N, K/32]` per-block additive correction (Q4_1), applied as `blocksum(x) @ correction^T`.
    pub correction: Option<Vec<f32>>,
}

impl NBits {
    fn blocks(&self) -> usize {
        self.k / BLOCK
    }

    fn blob(&self) -> usize {
        BLOCK * self.bits as usize / 8
    }

    /// Zero points as `MatMulNBits` takes them: `[N, ceil(K/32 * bits / 8)]` bytes.
    pub fn packed_zero_points(&self) -> Option<Vec<u8>> {
        let zp = self.zero_points.as_ref()?;
        if self.bits == 8 {
            return Some(zp.clone());
        }
        let nb = self.blocks();
        let per_row = nb.div_ceil(2);
        let mut out = vec![0u8; self.n * per_row];
        for r in 0..self.n {
            for b in 0..nb {
                let z = zp[r * nb + b] & 0xF;
                out[r * per_row + b / 2] |= if b % 2 == 0 { z } else { z << 4 };
            }
        }
        Some(out)
    }
}

/// A matrix of signed 8-bit values with one symmetric scale per row (output feature).
#[derive(Debug, Clone)]
pub struct Int8Rows {
    /// Inputs per row.
    pub k: usize,
    /// Rows (outputs).
    pub n: usize,
    /// `[N, K]` values in `-127..=127`.
    pub values: Vec<i8>,
    /// `[N]` scales: row `r` is `values[r] * scales[r]`.
    pub scales: Vec<f32>,
}

/// Quantizes `[N, K]` floats to 8 bits with one symmetric scale per row (round to nearest).
pub fn quantize_rows(values: &[f32], k: usize, n: usize) -> Int8Rows {
    let mut q = Vec::with_capacity(n * k);
    let mut scales = Vec::with_capacity(n);
    for row in values.chunks_exact(k).take(n) {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = if max > 0.0 { max / 127.0 } else { 1.0 };
        scales.push(d);
        q.extend(
            row.iter()
                .map(|v| (v / d).round().clamp(-127.0, 127.0) as i8),
        );
    }
    Int8Rows {
        k,
        n,
        values: q,
        scales,
    }
}

/// What precision to store weights in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightFormat {
    /// `MatMulNBits` with 4-bit blocks.
    Int4,
    /// `MatMulNBits` with 8-bit blocks.
    Int8,
    /// 8-bit rows for `MatMulIntegerToFloat` ([`Int8Rows`]).
    Int8Rows,
    /// Floats (`f32`, optionally written as `f16`).
    Float,
}

impl Linear {
    /// Encodes a `[N, K]` GGUF matrix (`dims = [K, N]`) of type `ty` stored as `bytes`.
    /// `dequant` is called when the values must pass through `f32`.
    pub fn encode(
        ty: GgmlType,
        bytes: &[u8],
        k: usize,
        n: usize,
        format: WeightFormat,
        dequant: impl FnOnce() -> Option<Vec<f32>>,
    ) -> Option<Linear> {
        if !k.is_multiple_of(BLOCK) && format != WeightFormat::Float {
            return Linear::encode(ty, bytes, k, n, WeightFormat::Float, dequant);
        }
        Some(match (format, ty) {
            (WeightFormat::Int4, GgmlType::Q4_0) => Linear::NBits(from_q4(bytes, k, n, false)),
            (WeightFormat::Int4, GgmlType::Q4_1) => Linear::NBits(from_q4(bytes, k, n, true)),
            (WeightFormat::Int4, GgmlType::Q4K) => Linear::NBits(from_q4_k(bytes, k, n)),
            (WeightFormat::Int4, _) => Linear::NBits(quantize4(&dequant()?, k, n)),
            (WeightFormat::Int8, GgmlType::Q8_0) => Linear::NBits(from_q8_0(bytes, k, n)),
            (WeightFormat::Int8, _) => Linear::NBits(quantize8(&dequant()?, k, n)),
            (WeightFormat::Int8Rows, _) => Linear::Rows(quantize_rows(&dequant()?, k, n)),
            (WeightFormat::Float, _) => Linear::Float {
                k,
                n,
                values: dequant()?,
            },
        })
    }

    /// Inputs per row.
    pub fn k(&self) -> usize {
        match self {
            Linear::NBits(q) => q.k,
            Linear::Rows(r) => r.k,
            Linear::Float { k, .. } => *k,
        }
    }

    /// Rows (outputs).
    pub fn n(&self) -> usize {
        match self {
            Linear::NBits(q) => q.n,
            Linear::Rows(r) => r.n,
            Linear::Float { n, .. } => *n,
        }
    }

    /// Reorders rows: row `i` of the result is row `perm[i]` of `self`.
    pub fn permute_rows(&mut self, perm: &[usize]) {
        fn apply<T: Copy>(v: &mut Vec<T>, width: usize, perm: &[usize]) {
            let mut out = Vec::with_capacity(v.len());
            for &p in perm {
                out.extend_from_slice(&v[p * width..(p + 1) * width]);
            }
            *v = out;
        }
        match self {
            Linear::NBits(q) => {
                let (nb, blob) = (q.blocks(), q.blob());
                apply(&mut q.packed, nb * blob, perm);
                apply(&mut q.scales, nb, perm);
                if let Some(z) = &mut q.zero_points {
                    apply(z, nb, perm);
                }
                if let Some(c) = &mut q.correction {
                    apply(c, nb, perm);
                }
            }
            Linear::Rows(r) => {
                apply(&mut r.values, r.k, perm);
                apply(&mut r.scales, 1, perm);
            }
            Linear::Float { k, values, .. } => apply(values, *k, perm),
        }
    }

    /// Stacks matrices with the same input size and encoding (rows of `parts[0]` first).
    /// Returns `None` when their encodings differ.
    pub fn concat(parts: Vec<Linear>) -> Option<Linear> {
        let mut it = parts.into_iter();
        let mut acc = it.next()?;
        for p in it {
            match (&mut acc, p) {
                (Linear::NBits(a), Linear::NBits(b)) if a.bits == b.bits && a.k == b.k => {
                    a.n += b.n;
                    a.packed.extend(b.packed);
                    a.scales.extend(b.scales);
                    let nb = a.blocks();
                    let (an, bn) = (a.n - b.n, b.n);
                    a.zero_points = merge(a.zero_points.take(), b.zero_points, an, bn, nb, {
                        if a.bits == 4 { 8 } else { 128 }
                    });
                    a.correction = merge(a.correction.take(), b.correction, an, bn, nb, 0.0);
                }
                (Linear::Rows(a), Linear::Rows(b)) if a.k == b.k => {
                    a.n += b.n;
                    a.values.extend(b.values);
                    a.scales.extend(b.scales);
                }
                (
                    Linear::Float { k, n, values },
                    Linear::Float {
                        k: k2,
                        n: n2,
                        values: v2,
                    },
                ) if *k == k2 => {
                    *n += n2;
                    values.extend(v2);
                }
                _ => return None,
            }
        }
        Some(acc)
    }
}

/// Concatenates optional per-row arrays, filling a missing side with its neutral value.
fn merge<T: Copy>(
    a: Option<Vec<T>>,
    b: Option<Vec<T>>,
    an: usize,
    bn: usize,
    width: usize,
    neutral: T,
) -> Option<Vec<T>> {
    if a.is_none() && b.is_none() {
        return None;
    }
    let mut out = a.unwrap_or_else(|| vec![neutral; an * width]);
    out.extend(b.unwrap_or_else(|| vec![neutral; bn * width]));
    Some(out)
}

fn f16_at(b: &[u8], i: usize) -> f32 {
    f16::from_le_bytes([b[i], b[i + 1]]).to_f32()
}

/// Q4_0 / Q4_1 blocks to `MatMulNBits` 4-bit blocks, nibbles reordered, no rounding.
fn from_q4(bytes: &[u8], k: usize, n: usize, with_min: bool) -> NBits {
    let nb = k / BLOCK;
    let size = if with_min { 20 } else { 18 };
    let qs_at = if with_min { 4 } else { 2 };
    let mut packed = Vec::with_capacity(n * nb * 16);
    let mut scales = Vec::with_capacity(n * nb);
    let mut zps = Vec::with_capacity(if with_min { n * nb } else { 0 });
    let mut corr = Vec::with_capacity(if with_min { n * nb } else { 0 });
    for blk in bytes.chunks_exact(size) {
        let d = f16_at(blk, 0);
        let qs = &blk[qs_at..qs_at + 16];
        // GGUF: byte j holds element j (low) and j + 16 (high). MatMulNBits: byte i holds
        // elements 2i (low) and 2i + 1 (high).
        let mut vals = [0u8; 32];
        for j in 0..16 {
            vals[j] = qs[j] & 0xF;
            vals[j + 16] = qs[j] >> 4;
        }
        for i in 0..16 {
            packed.push(vals[2 * i] | (vals[2 * i + 1] << 4));
        }
        scales.push(d);
        if with_min {
            let m = f16_at(blk, 2);
            let z = if d != 0.0 {
                (-m / d).round().clamp(0.0, 15.0)
            } else {
                0.0
            };
            zps.push(z as u8);
            corr.push(m + z * d);
        }
    }
    NBits {
        bits: 4,
        k,
        n,
        packed,
        scales,
        zero_points: with_min.then_some(zps),
        correction: with_min.then_some(corr),
    }
}

/// Q4_K super-blocks to `MatMulNBits` 4-bit blocks, no rounding of the values: each of the
/// eight 32-value sub-blocks is `q * (d * sc) - dmin * m`, Q4_1's form, so it gets Q4_1's
/// integer zero point and exact correction.
fn from_q4_k(bytes: &[u8], k: usize, n: usize) -> NBits {
    let nb = k / BLOCK;
    let mut packed = Vec::with_capacity(n * nb * 16);
    let (mut scales, mut zps, mut corr) = (
        Vec::with_capacity(n * nb),
        Vec::with_capacity(n * nb),
        Vec::with_capacity(n * nb),
    );
    for blk in bytes.chunks_exact(144) {
        let (d, dmin) = (f16_at(blk, 0), f16_at(blk, 2));
        let table = &blk[4..16];
        for sub in 0..8 {
            // Bytes 32j..32j+32 of `qs` hold sub-block 2j in their low nibbles and 2j + 1 in
            // their high nibbles.
            let qs = &blk[16 + 32 * (sub / 2)..16 + 32 * (sub / 2 + 1)];
            let shift = 4 * (sub % 2);
            for i in 0..16 {
                let (lo, hi) = ((qs[2 * i] >> shift) & 0xF, (qs[2 * i + 1] >> shift) & 0xF);
                packed.push(lo | (hi << 4));
            }
            let (sc, m) = crate::gguf::quant::scale_min_k4(sub, table);
            let (scale, min) = (d * sc as f32, -dmin * m as f32);
            let z = if scale != 0.0 {
                (-min / scale).round().clamp(0.0, 15.0)
            } else {
                0.0
            };
            scales.push(scale);
            zps.push(z as u8);
            corr.push(min + z * scale);
        }
    }
    NBits {
        bits: 4,
        k,
        n,
        packed,
        scales,
        zero_points: Some(zps),
        correction: Some(corr),
    }
}

/// Q8_0 blocks to `MatMulNBits` 8-bit blocks: `q + 128` with the default zero point 128.
fn from_q8_0(bytes: &[u8], k: usize, n: usize) -> NBits {
    let mut packed = Vec::with_capacity(n * k);
    let mut scales = Vec::with_capacity(n * k / BLOCK);
    for blk in bytes.chunks_exact(34) {
        scales.push(f16_at(blk, 0));
        packed.extend(blk[2..34].iter().map(|&q| (q as i8 as i16 + 128) as u8));
    }
    NBits {
        bits: 8,
        k,
        n,
        packed,
        scales,
        zero_points: None,
        correction: None,
    }
}

/// Round-to-nearest 4-bit blocks with a per-block minimum (an integer zero point).
pub fn quantize4(values: &[f32], k: usize, n: usize) -> NBits {
    let nb = k / BLOCK;
    let mut packed = Vec::with_capacity(n * nb * 16);
    let mut scales = Vec::with_capacity(n * nb);
    let mut zps = Vec::with_capacity(n * nb);
    for blk in values.chunks_exact(BLOCK) {
        let min = blk.iter().copied().fold(0f32, f32::min);
        let max = blk.iter().copied().fold(0f32, f32::max);
        let d = (max - min) / 15.0;
        let inv = if d != 0.0 { 1.0 / d } else { 0.0 };
        let z = (-min * inv).round().clamp(0.0, 15.0);
        let q: Vec<u8> = blk
            .iter()
            .map(|&x| (x * inv + z).round().clamp(0.0, 15.0) as u8)
            .collect();
        for i in 0..16 {
            packed.push(q[2 * i] | (q[2 * i + 1] << 4));
        }
        scales.push(d);
        zps.push(z as u8);
    }
    NBits {
        bits: 4,
        k,
        n,
        packed,
        scales,
        zero_points: Some(zps),
        correction: None,
    }
}

/// Round-to-nearest symmetric 8-bit blocks (default zero point 128).
pub fn quantize8(values: &[f32], k: usize, n: usize) -> NBits {
    let mut packed = Vec::with_capacity(n * k);
    let mut scales = Vec::with_capacity(n * k / BLOCK);
    for blk in values.chunks_exact(BLOCK) {
        let amax = blk.iter().fold(0f32, |a, &x| a.max(x.abs()));
        let d = amax / 127.0;
        let inv = if d != 0.0 { 1.0 / d } else { 0.0 };
        packed.extend(
            blk.iter()
                .map(|&x| ((x * inv).round().clamp(-127.0, 127.0) as i16 + 128) as u8),
        );
        scales.push(d);
    }
    NBits {
        bits: 8,
        k,
        n,
        packed,
        scales,
        zero_points: None,
        correction: None,
    }
}

/// Dequantizes a `MatMulNBits` weight back to `[N, K]` floats (for tests and checks).
pub fn dequantize_nbits(q: &NBits) -> Vec<f32> {
    let (nb, blob) = (q.blocks(), q.blob());
    let mut out = Vec::with_capacity(q.n * q.k);
    for r in 0..q.n {
        for b in 0..nb {
            let i = r * nb + b;
            let d = q.scales[i];
            let z = match &q.zero_points {
                Some(z) => z[i] as f32,
                None => (1u32 << (q.bits - 1)) as f32,
            };
            let c = q.correction.as_ref().map_or(0.0, |c| c[i]);
            let bytes = &q.packed[i * blob..(i + 1) * blob];
            if q.bits == 4 {
                for &byte in bytes {
                    out.push(((byte & 0xF) as f32 - z) * d + c);
                    out.push(((byte >> 4) as f32 - z) * d + c);
                }
            } else {
                out.extend(bytes.iter().map(|&byte| (byte as f32 - z) * d + c));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_within_half_a_step() {
        let (k, n) = (8, 3);
        let values: Vec<f32> = (0..k * n)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.13)
            .collect();
        let mut values = values;
        values[8..16].iter_mut().for_each(|v| *v = 0.0); // an all-zero row
        let r = quantize_rows(&values, k, n);
        assert_eq!((r.values.len(), r.scales.len()), (k * n, n));
        for row in 0..n {
            for c in 0..k {
                let back = r.values[row * k + c] as f32 * r.scales[row];
                let v = values[row * k + c];
                assert!((back - v).abs() <= r.scales[row] / 2.0 + 1e-6, "{row} {c}");
            }
            let peak = r.values[row * k..(row + 1) * k]
                .iter()
                .map(|q| q.unsigned_abs())
                .max();
            assert!(
                row == 1 || peak == Some(127),
                "row {row} uses the full range"
            );
        }
    }

    #[test]
    fn rows_permute_and_concat_keep_scales_with_their_rows() {
        let a = Linear::Rows(quantize_rows(&[1.0, 2.0, -4.0, 8.0], 2, 2));
        let b = Linear::Rows(quantize_rows(&[0.5, 0.25], 2, 1));
        let mut c = Linear::concat(vec![a, b]).unwrap();
        c.permute_rows(&[2, 0, 1]);
        let Linear::Rows(r) = c else { panic!("rows") };
        assert_eq!(r.n, 3);
        assert_eq!(&r.values[0..2], &[127, 64]);
        assert_eq!(r.scales[0], 0.5 / 127.0);
        assert_eq!(r.scales[2], 8.0 / 127.0);
        assert!(
            Linear::concat(vec![
                Linear::Rows(r),
                Linear::Float {
                    k: 2,
                    n: 1,
                    values: vec![0.0; 2]
                }
            ])
            .is_none()
        );
    }
}

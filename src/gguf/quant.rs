//! ggml element and block formats, and their conversion to `f32`.
//!
//! Each quantized format stores a run of values (a block, 32 or 256 of them) as a few scales
//! and packed small integers. The layouts and formulas follow ggml's reference code
//! (`ggml-quants.c`); [`dequantize`] decodes a whole tensor.

use half::{bf16, f16};

/// The element or block format of a tensor.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GgmlType {
    /// 32-bit float.
    F32,
    /// 16-bit IEEE float.
    F16,
    /// bfloat16.
    BF16,
    /// 32 values: f16 scale `d`, 4-bit `q`; `x = d * (q - 8)`.
    Q4_0,
    /// 32 values: f16 scale `d` and minimum `m`, 4-bit `q`; `x = d * q + m`.
    Q4_1,
    /// 32 values: f16 scale, 5-bit `q`; `x = d * (q - 16)`.
    Q5_0,
    /// 32 values: f16 scale and minimum, 5-bit `q`.
    Q5_1,
    /// 32 values: f16 scale, 8-bit signed `q`.
    Q8_0,
    /// 32 values: f16 scale and sum, 8-bit signed `q` (intermediate format).
    Q8_1,
    /// 256-value super-blocks of 2-bit values.
    Q2K,
    /// 256-value super-blocks of 3-bit values.
    Q3K,
    /// 256-value super-blocks of 4-bit values with 6-bit sub-block scales and minimums.
    Q4K,
    /// 256-value super-blocks of 5-bit values.
    Q5K,
    /// 256-value super-blocks of 6-bit values with 8-bit sub-block scales.
    Q6K,
    /// 256-value super-blocks of 8-bit values (intermediate format).
    Q8K,
    /// 8-bit signed integer.
    I8,
    /// 16-bit signed integer.
    I16,
    /// 32-bit signed integer.
    I32,
    /// 64-bit signed integer.
    I64,
    /// 64-bit float.
    F64,
    /// Any other ggml type id (i-quants and future formats).
    Other(u32),
}

impl GgmlType {
    /// The type for a ggml type id.
    pub fn from_u32(id: u32) -> GgmlType {
        use GgmlType::*;
        match id {
            0 => F32,
            1 => F16,
            2 => Q4_0,
            3 => Q4_1,
            6 => Q5_0,
            7 => Q5_1,
            8 => Q8_0,
            9 => Q8_1,
            10 => Q2K,
            11 => Q3K,
            12 => Q4K,
            13 => Q5K,
            14 => Q6K,
            15 => Q8K,
            24 => I8,
            25 => I16,
            26 => I32,
            27 => I64,
            28 => F64,
            30 => BF16,
            other => Other(other),
        }
    }

    /// The ggml type id.
    pub fn id(self) -> u32 {
        use GgmlType::*;
        match self {
            F32 => 0,
            F16 => 1,
            Q4_0 => 2,
            Q4_1 => 3,
            Q5_0 => 6,
            Q5_1 => 7,
            Q8_0 => 8,
            Q8_1 => 9,
            Q2K => 10,
            Q3K => 11,
            Q4K => 12,
            Q5K => 13,
            Q6K => 14,
            Q8K => 15,
            I8 => 24,
            I16 => 25,
            I32 => 26,
            I64 => 27,
            F64 => 28,
            BF16 => 30,
            Other(id) => id,
        }
    }

    /// A readable name, as llama.cpp prints it.
    pub fn name(self) -> String {
        use GgmlType::*;
        match self {
            F32 => "F32".into(),
            F16 => "F16".into(),
            BF16 => "BF16".into(),
            Q4_0 => "Q4_0".into(),
            Q4_1 => "Q4_1".into(),
            Q5_0 => "Q5_0".into(),
            Q5_1 => "Q5_1".into(),
            Q8_0 => "Q8_0".into(),
            Q8_1 => "Q8_1".into(),
            Q2K => "Q2_K".into(),
            Q3K => "Q3_K".into(),
            Q4K => "Q4_K".into(),
            Q5K => "Q5_K".into(),
            Q6K => "Q6_K".into(),
            Q8K => "Q8_K".into(),
            I8 => "I8".into(),
            I16 => "I16".into(),
            I32 => "I32".into(),
            I64 => "I64".into(),
            F64 => "F64".into(),
            Other(id) => format!("ggml type {id}"),
        }
    }

    /// `(values per block, bytes per block)`, or `None` for an unknown type.
    pub fn block_layout(self) -> Option<(u64, u64)> {
        use GgmlType::*;
        Some(match self {
            F32 | I32 => (1, 4),
            F16 | BF16 | I16 => (1, 2),
            I8 => (1, 1),
            I64 | F64 => (1, 8),
            Q4_0 => (32, 18),
            Q4_1 => (32, 20),
            Q5_0 => (32, 22),
            Q5_1 => (32, 24),
            Q8_0 => (32, 34),
            Q8_1 => (32, 36),
            Q2K => (256, 84),
            Q3K => (256, 110),
            Q4K => (256, 144),
            Q5K => (256, 176),
            Q6K => (256, 210),
            Q8K => (256, 292),
            Other(_) => return None,
        })
    }

    /// Bytes taken by `n` values, or `None` if `n` is not a whole number of blocks.
    pub fn byte_size(self, n: u64) -> Option<u64> {
        let (per, bytes) = self.block_layout()?;
        if !n.is_multiple_of(per) {
            return None;
        }
        (n / per).checked_mul(bytes)
    }
}

fn f16_at(b: &[u8], i: usize) -> f32 {
    f16::from_le_bytes([b[i], b[i + 1]]).to_f32()
}

/// Decodes `n` values of type `ty` from `bytes`; `None` if the type is not decodable or the
/// byte count does not match.
pub fn dequantize(ty: GgmlType, bytes: &[u8], n: usize) -> Option<Vec<f32>> {
    if ty.byte_size(n as u64)? != bytes.len() as u64 {
        return None;
    }
    let mut out = vec![0f32; n];
    let (per, size) = ty.block_layout()?;
    let (per, size) = (per as usize, size as usize);
    let blocks = bytes.chunks_exact(size).zip(out.chunks_exact_mut(per));
    use GgmlType::*;
    match ty {
        F32 => blocks.for_each(|(b, y)| y[0] = f32::from_le_bytes(b.try_into().unwrap())),
        F16 => blocks.for_each(|(b, y)| y[0] = f16_at(b, 0)),
        BF16 => blocks.for_each(|(b, y)| y[0] = bf16::from_le_bytes([b[0], b[1]]).to_f32()),
        Q4_0 => blocks.for_each(|(b, y)| block_q4_0(b, y)),
        Q4_1 => blocks.for_each(|(b, y)| block_q4_1(b, y)),
        Q5_0 => blocks.for_each(|(b, y)| block_q5_0(b, y)),
        Q5_1 => blocks.for_each(|(b, y)| block_q5_1(b, y)),
        Q8_0 => blocks.for_each(|(b, y)| block_q8_0(b, y)),
        Q2K => blocks.for_each(|(b, y)| block_q2_k(b, y)),
        Q3K => blocks.for_each(|(b, y)| block_q3_k(b, y)),
        Q4K => blocks.for_each(|(b, y)| block_q4_k(b, y)),
        Q5K => blocks.for_each(|(b, y)| block_q5_k(b, y)),
        Q6K => blocks.for_each(|(b, y)| block_q6_k(b, y)),
        _ => return None,
    }
    Some(out)
}

/// Q4_0: `d: f16, qs: [u8; 16]`; low nibbles are values 0..16, high nibbles 16..32.
fn block_q4_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    for (j, &q) in b[2..18].iter().enumerate() {
        y[j] = ((q & 0xF) as i32 - 8) as f32 * d;
        y[j + 16] = ((q >> 4) as i32 - 8) as f32 * d;
    }
}

/// Q4_1: `d: f16, m: f16, qs: [u8; 16]`.
fn block_q4_1(b: &[u8], y: &mut [f32]) {
    let (d, m) = (f16_at(b, 0), f16_at(b, 2));
    for (j, &q) in b[4..20].iter().enumerate() {
        y[j] = (q & 0xF) as f32 * d + m;
        y[j + 16] = (q >> 4) as f32 * d + m;
    }
}

/// Q5_0: `d: f16, qh: u32, qs: [u8; 16]`; bit `j` of `qh` is the fifth bit of value `j`.
fn block_q5_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    for (j, &q) in b[6..22].iter().enumerate() {
        let h0 = ((qh >> j) << 4) & 0x10;
        let h1 = (qh >> (j + 12)) & 0x10;
        y[j] = (((q as u32 & 0xF) | h0) as i32 - 16) as f32 * d;
        y[j + 16] = (((q as u32 >> 4) | h1) as i32 - 16) as f32 * d;
    }
}

/// Q5_1: `d: f16, m: f16, qh: u32, qs: [u8; 16]`.
fn block_q5_1(b: &[u8], y: &mut [f32]) {
    let (d, m) = (f16_at(b, 0), f16_at(b, 2));
    let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    for (j, &q) in b[8..24].iter().enumerate() {
        let h0 = ((qh >> j) << 4) & 0x10;
        let h1 = (qh >> (j + 12)) & 0x10;
        y[j] = ((q as u32 & 0xF) | h0) as f32 * d + m;
        y[j + 16] = ((q as u32 >> 4) | h1) as f32 * d + m;
    }
}

/// Q8_0: `d: f16, qs: [i8; 32]`.
fn block_q8_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    for (j, &q) in b[2..34].iter().enumerate() {
        y[j] = q as i8 as f32 * d;
    }
}

/// Q2_K: `scales: [u8; 16], qs: [u8; 64], d: f16, dmin: f16`.
fn block_q2_k(b: &[u8], y: &mut [f32]) {
    let scales = &b[0..16];
    let (d, min) = (f16_at(b, 80), f16_at(b, 82));
    let mut out = 0;
    let mut is = 0;
    for n in 0..2 {
        let q = &b[16 + 32 * n..16 + 32 * (n + 1)];
        for shift in [0, 2, 4, 6] {
            for half in 0..2 {
                let sc = scales[is];
                is += 1;
                let (dl, ml) = (d * (sc & 0xF) as f32, min * (sc >> 4) as f32);
                for l in 0..16 {
                    y[out] = dl * ((q[l + 16 * half] >> shift) & 3) as f32 - ml;
                    out += 1;
                }
            }
        }
    }
}

/// Q3_K: `hmask: [u8; 32], qs: [u8; 64], scales: [u8; 12], d: f16`.
fn block_q3_k(b: &[u8], y: &mut [f32]) {
    let hm = &b[0..32];
    let d_all = f16_at(b, 108);
    const KMASK1: u32 = 0x0303_0303;
    const KMASK2: u32 = 0x0f0f_0f0f;
    let mut aux = [0u32; 4];
    for (i, a) in aux.iter_mut().take(3).enumerate() {
        *a = u32::from_le_bytes(b[96 + 4 * i..100 + 4 * i].try_into().unwrap());
    }
    let tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & KMASK2) | (((tmp >> 4) & KMASK1) << 4);
    aux[3] = ((aux[1] >> 4) & KMASK2) | (((tmp >> 6) & KMASK1) << 4);
    aux[0] = (aux[0] & KMASK2) | ((tmp & KMASK1) << 4);
    aux[1] = (aux[1] & KMASK2) | (((tmp >> 2) & KMASK1) << 4);
    let scales: Vec<i8> = aux
        .iter()
        .flat_map(|a| a.to_le_bytes())
        .map(|x| x as i8)
        .collect();
    let mut out = 0;
    let mut is = 0;
    let mut m = 1u8;
    for n in 0..2 {
        let q = &b[32 + 32 * n..32 + 32 * (n + 1)];
        for shift in [0, 2, 4, 6] {
            for half in 0..2 {
                let dl = d_all * (scales[is] as i32 - 32) as f32;
                is += 1;
                for l in 0..16 {
                    let k = l + 16 * half;
                    let hi = if hm[k] & m != 0 { 0 } else { 4 };
                    y[out] = dl * (((q[k] >> shift) & 3) as i32 - hi) as f32;
                    out += 1;
                }
            }
            m <<= 1;
        }
    }
}

/// The 6-bit scale and minimum of sub-block `j` in the 12-byte packed table of Q4_K and Q5_K.
pub(crate) fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

/// Q4_K: `d: f16, dmin: f16, scales: [u8; 12], qs: [u8; 128]`.
fn block_q4_k(b: &[u8], y: &mut [f32]) {
    let (d, min) = (f16_at(b, 0), f16_at(b, 2));
    let scales = &b[4..16];
    for j in 0..4 {
        let q = &b[16 + 32 * j..16 + 32 * (j + 1)];
        let (sc1, m1) = scale_min_k4(2 * j, scales);
        let (sc2, m2) = scale_min_k4(2 * j + 1, scales);
        let (d1, m1) = (d * sc1 as f32, min * m1 as f32);
        let (d2, m2) = (d * sc2 as f32, min * m2 as f32);
        let y = &mut y[64 * j..64 * (j + 1)];
        for l in 0..32 {
            y[l] = d1 * (q[l] & 0xF) as f32 - m1;
            y[l + 32] = d2 * (q[l] >> 4) as f32 - m2;
        }
    }
}

/// Q5_K: `d: f16, dmin: f16, scales: [u8; 12], qh: [u8; 32], qs: [u8; 128]`.
fn block_q5_k(b: &[u8], y: &mut [f32]) {
    let (d, min) = (f16_at(b, 0), f16_at(b, 2));
    let scales = &b[4..16];
    let qh = &b[16..48];
    for j in 0..4 {
        let ql = &b[48 + 32 * j..48 + 32 * (j + 1)];
        let (u1, u2) = (1u8 << (2 * j), 2u8 << (2 * j));
        let (sc1, m1) = scale_min_k4(2 * j, scales);
        let (sc2, m2) = scale_min_k4(2 * j + 1, scales);
        let (d1, m1) = (d * sc1 as f32, min * m1 as f32);
        let (d2, m2) = (d * sc2 as f32, min * m2 as f32);
        let y = &mut y[64 * j..64 * (j + 1)];
        for l in 0..32 {
            let h1 = if qh[l] & u1 != 0 { 16 } else { 0 };
            let h2 = if qh[l] & u2 != 0 { 16 } else { 0 };
            y[l] = d1 * ((ql[l] & 0xF) + h1) as f32 - m1;
            y[l + 32] = d2 * ((ql[l] >> 4) + h2) as f32 - m2;
        }
    }
}

/// Q6_K: `ql: [u8; 128], qh: [u8; 64], scales: [i8; 16], d: f16`.
fn block_q6_k(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 208);
    for n in 0..2 {
        let ql = &b[64 * n..64 * (n + 1)];
        let qh = &b[128 + 32 * n..128 + 32 * (n + 1)];
        let sc = &b[192 + 8 * n..192 + 8 * (n + 1)];
        let y = &mut y[128 * n..128 * (n + 1)];
        for l in 0..32 {
            let is = l / 16;
            let q1 = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) as i32 - 32;
            let q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32;
            let q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32;
            let q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i32 - 32;
            y[l] = d * (sc[is] as i8) as f32 * q1 as f32;
            y[l + 32] = d * (sc[is + 2] as i8) as f32 * q2 as f32;
            y[l + 64] = d * (sc[is + 4] as i8) as f32 * q3 as f32;
            y[l + 96] = d * (sc[is + 6] as i8) as f32 * q4 as f32;
        }
    }
}

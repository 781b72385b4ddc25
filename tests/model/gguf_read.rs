//! The GGUF reader: round trip of every metadata type, tensor table and data, and clear errors
//! (never panics) on malformed files.

use isg::gguf::{GgmlType, Gguf, GgufError, GgufWriter, Value};

fn sample() -> GgufWriter {
    let mut w = GgufWriter::new();
    w.meta("general.architecture", Value::String("llama".into()))
        .meta("a.u8", Value::U8(7))
        .meta("a.i8", Value::I8(-7))
        .meta("a.u16", Value::U16(700))
        .meta("a.i16", Value::I16(-700))
        .meta("a.u32", Value::U32(70_000))
        .meta("a.i32", Value::I32(-70_000))
        .meta("a.u64", Value::U64(1 << 40))
        .meta("a.i64", Value::I64(-(1 << 40)))
        .meta("a.f32", Value::F32(1.5))
        .meta("a.f64", Value::F64(-2.25))
        .meta("a.bool", Value::Bool(true))
        .meta(
            "a.arr",
            Value::Array(vec![Value::String("x".into()), Value::String("yz".into())]),
        )
        .tensor_f32("t.f32", &[3, 2], &[1., 2., 3., 4., 5., 6.]);
    // One Q4_0 block: d = 0.5, nibbles 0..16 low, 15..0 high.
    let mut q = half::f16::from_f32(0.5).to_le_bytes().to_vec();
    q.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
    w.tensor("t.q4_0", &[32], GgmlType::Q4_0, q);
    w
}

fn write(w: &GgufWriter) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.gguf");
    let mut f = std::fs::File::create(&path).unwrap();
    w.write_to(&mut f).unwrap();
    (dir, path)
}

#[test]
fn reads_every_metadata_type_and_tensors() {
    let (_d, path) = write(&sample());
    let g = Gguf::open(&path).unwrap();
    assert_eq!(g.version, 3);
    assert_eq!(g.architecture(), Some("llama"));
    assert_eq!(g.get("a.u8").unwrap().as_u64(), Some(7));
    assert_eq!(g.get("a.i8").unwrap().as_i64(), Some(-7));
    assert_eq!(g.get("a.i8").unwrap().as_u64(), None);
    assert_eq!(g.get("a.u16"), Some(&Value::U16(700)));
    assert_eq!(g.get("a.i16").unwrap().as_i64(), Some(-700));
    assert_eq!(g.get("a.u32").unwrap().as_u64(), Some(70_000));
    assert_eq!(g.get("a.i32").unwrap().as_i64(), Some(-70_000));
    assert_eq!(g.get("a.u64").unwrap().as_u64(), Some(1 << 40));
    assert_eq!(g.get("a.i64").unwrap().as_i64(), Some(-(1 << 40)));
    assert_eq!(g.get("a.f32").unwrap().as_f64(), Some(1.5));
    assert_eq!(g.get("a.f64").unwrap().as_f64(), Some(-2.25));
    assert_eq!(g.get("a.bool").unwrap().as_bool(), Some(true));
    let arr = g.get("a.arr").unwrap().as_array().unwrap();
    assert_eq!(arr[1].as_str(), Some("yz"));
    let t = g.tensor("t.f32").unwrap();
    assert_eq!(t.dims, vec![3, 2]);
    assert_eq!(g.dequantize(t).unwrap(), vec![1., 2., 3., 4., 5., 6.]);
    let q = g.dequantize(g.tensor("t.q4_0").unwrap()).unwrap();
    let want: Vec<f32> = (0..16)
        .map(|j| (j as f32 - 8.) * 0.5)
        .chain((0..16).map(|j| (7 - j) as f32 * 0.5))
        .collect();
    assert_eq!(q, want);
}

#[test]
fn malformed_files_give_errors_naming_the_file() {
    let mut good = Vec::new();
    sample().write_to(&mut good).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.gguf");
    let check = |bytes: &[u8]| -> GgufError {
        std::fs::write(&path, bytes).unwrap();
        let e = Gguf::open(&path).unwrap_err();
        assert!(e.to_string().contains("bad.gguf"), "{e}");
        e
    };
    // Wrong magic, unknown version, empty file.
    let mut b = good.clone();
    b[0] = b'X';
    assert!(matches!(check(&b), GgufError::BadMagic { .. }));
    let mut b = good.clone();
    b[4] = 9;
    assert!(matches!(check(&b), GgufError::UnsupportedVersion { .. }));
    assert!(matches!(check(&[]), GgufError::Truncated { .. }));
    // Every truncation point before the end of the last tensor fails cleanly.
    std::fs::write(&path, &good).unwrap();
    let end = {
        let g = Gguf::open(&path).unwrap();
        let t = g.tensor("t.q4_0").unwrap();
        (g.data_offset + t.offset + 18) as usize
    };
    for n in 0..end {
        let _ = check(&good[..n]);
    }
    // Absurd counts: tensor count and metadata count near u64::MAX.
    let mut b = good.clone();
    b[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(check(&b), GgufError::Malformed { .. }));
    let mut b = good.clone();
    b[16..24].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    assert!(matches!(check(&b), GgufError::Malformed { .. }));
    // A huge string length in the first key.
    let mut b = good.clone();
    b[24..32].copy_from_slice(&(1u64 << 62).to_le_bytes());
    assert!(matches!(check(&b), GgufError::Malformed { .. }));
    // Random byte flips never panic.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..2000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut b = good.clone();
        let i = (seed as usize) % b.len();
        b[i] = (seed >> 32) as u8;
        std::fs::write(&path, &b).unwrap();
        if let Ok(g) = Gguf::open(&path) {
            for t in &g.tensors {
                let _ = g.dequantize(t);
            }
        }
    }
}

/// Every block format decodes to what candle (an independent port of ggml's reference code)
/// decodes from the same bytes.
#[test]
fn block_formats_match_candle() {
    use candle_core::Device;
    use candle_core::quantized::gguf_file;

    // (type, values per block, bytes per block, offsets of f16 scale fields)
    let formats: [(GgmlType, usize, usize, &[usize]); 10] = [
        (GgmlType::Q4_0, 32, 18, &[0]),
        (GgmlType::Q4_1, 32, 20, &[0, 2]),
        (GgmlType::Q5_0, 32, 22, &[0]),
        (GgmlType::Q5_1, 32, 24, &[0, 2]),
        (GgmlType::Q8_0, 32, 34, &[0]),
        (GgmlType::Q2K, 256, 84, &[80, 82]),
        (GgmlType::Q3K, 256, 110, &[108]),
        (GgmlType::Q4K, 256, 144, &[0, 2]),
        (GgmlType::Q5K, 256, 176, &[0, 2]),
        (GgmlType::Q6K, 256, 210, &[208]),
    ];
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut byte = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 24) as u8
    };
    let mut w = GgufWriter::new();
    let rows = 4u64;
    for (ty, per, size, scales) in formats {
        let n_blocks = 512 / per * rows as usize;
        let mut data: Vec<u8> = (0..n_blocks * size).map(|_| byte()).collect();
        for b in 0..n_blocks {
            for &off in scales {
                let v = half::f16::from_f32((byte() as f32 - 128.0) / 512.0);
                data[b * size + off..b * size + off + 2].copy_from_slice(&v.to_le_bytes());
            }
        }
        w.tensor(&ty.name(), &[512, rows], ty, data);
    }
    let (_d, path) = write(&w);
    let ours = Gguf::open(&path).unwrap();
    let mut f = std::fs::File::open(&path).unwrap();
    let content = gguf_file::Content::read(&mut f).unwrap();
    for (ty, ..) in formats {
        let t = ours.tensor(&ty.name()).unwrap();
        let mine = ours.dequantize(t).unwrap();
        let theirs: Vec<f32> = content
            .tensor(&mut f, &ty.name(), &Device::Cpu)
            .unwrap()
            .dequantize(&Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(mine.len(), theirs.len());
        let d = mine
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(d <= 1e-6, "{}: max |Δ| {d}", ty.name());
    }
}

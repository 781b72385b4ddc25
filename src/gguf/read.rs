//! Parsing the header, metadata and tensor table of a memory-mapped GGUF file.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::quant::{self, GgmlType};
use super::{GgufError, Value};

/// `GGUF` read as a little-endian `u32`.
const MAGIC: [u8; 4] = *b"GGUF";
/// Alignment of the tensor data when `general.alignment` is absent.
const DEFAULT_ALIGNMENT: u64 = 32;
/// Most dimensions a tensor may have (ggml's limit).
const MAX_DIMS: u32 = 4;
/// Deepest nesting of arrays accepted in metadata.
const MAX_ARRAY_DEPTH: u32 = 4;

/// A GGUF file: its metadata and tensor table, with the tensor data memory-mapped.
#[derive(Debug)]
pub struct Gguf {
    path: PathBuf,
    mmap: Mmap,
    /// Format version (2 or 3).
    pub version: u32,
    /// Every metadata key and its value.
    pub metadata: BTreeMap<String, Value>,
    /// Tensor descriptions, in file order.
    pub tensors: Vec<TensorInfo>,
    /// Alignment of tensor data (`general.alignment`, default 32).
    pub alignment: u64,
    /// Offset of the tensor data section from the start of the file.
    pub data_offset: u64,
}

/// One tensor's description in the tensor table.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    /// Tensor name, such as `blk.0.attn_q.weight`.
    pub name: String,
    /// Dimensions in GGUF order: `dims[0]` varies fastest (a weight `[in, out]` is `out` rows of `in`).
    pub dims: Vec<u64>,
    /// Element or block format.
    pub ggml_type: GgmlType,
    /// Offset of the data from the start of the data section.
    pub offset: u64,
}

impl TensorInfo {
    /// Number of elements (the product of the dimensions).
    pub fn n_elements(&self) -> u64 {
        self.dims.iter().product()
    }
}

impl Gguf {
    /// Opens and parses a GGUF file; tensor data stays mapped, not read.
    pub fn open(path: &Path) -> Result<Gguf, GgufError> {
        let io = |source| GgufError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        // SAFETY: the map is read-only; a file changed underneath us is the caller's concern,
        // as with any reader of memory-mapped model files.
        let mmap = unsafe { Mmap::map(&file) }.map_err(io)?;
        let mut r = Reader {
            path,
            buf: &mmap,
            pos: 0,
        };
        let magic: [u8; 4] = r.take(4, "magic")?.try_into().expect("4 bytes");
        if magic != MAGIC {
            return Err(GgufError::BadMagic {
                path: path.to_path_buf(),
                found: magic,
            });
        }
        let version = r.u32("version")?;
        if !(2..=3).contains(&version) {
            return Err(GgufError::UnsupportedVersion {
                path: path.to_path_buf(),
                version,
            });
        }
        let n_tensors = r.u64("tensor count")?;
        let n_kv = r.u64("metadata count")?;
        // Every key-value pair takes at least 12 bytes, every tensor info at least 24.
        r.check_count(n_kv, 12, "metadata count")?;
        r.check_count(n_tensors, 24, "tensor count")?;
        let mut metadata = BTreeMap::new();
        for _ in 0..n_kv {
            let key = r.string("metadata key")?;
            let ty = r.u32("metadata value type")?;
            let value = r.value(ty, 0, &key)?;
            metadata.insert(key, value);
        }
        let mut tensors = Vec::with_capacity((n_tensors as usize).min(1 << 16));
        for _ in 0..n_tensors {
            let name = r.string("tensor name")?;
            let n_dims = r.u32("tensor rank")?;
            if n_dims > MAX_DIMS {
                return Err(r.malformed(format!("tensor {name} has {n_dims} dimensions")));
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for _ in 0..n_dims {
                dims.push(r.u64("tensor dimension")?);
            }
            let ggml_type = GgmlType::from_u32(r.u32("tensor type")?);
            let offset = r.u64("tensor offset")?;
            tensors.push(TensorInfo {
                name,
                dims,
                ggml_type,
                offset,
            });
        }
        let alignment = match metadata.get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(v) => match v.as_u64() {
                Some(a) if a.is_power_of_two() && a <= 1 << 20 => a,
                _ => return Err(r.malformed(format!("general.alignment {v:?}"))),
            },
        };
        let data_offset = (r.pos as u64).div_ceil(alignment) * alignment;
        let gguf = Gguf {
            path: path.to_path_buf(),
            mmap,
            version,
            metadata,
            tensors,
            alignment,
            data_offset,
        };
        for t in &gguf.tensors {
            gguf.tensor_range(t)?;
        }
        Ok(gguf)
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The metadata value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.get(key)
    }

    /// `general.architecture` (`llama`, `qwen2`, ...).
    pub fn architecture(&self) -> Option<&str> {
        self.get("general.architecture").and_then(Value::as_str)
    }

    /// The tensor named `name`.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// The raw bytes of a tensor (blocks as stored in the file).
    pub fn tensor_bytes(&self, t: &TensorInfo) -> Result<&[u8], GgufError> {
        let (start, end) = self.tensor_range(t)?;
        Ok(&self.mmap[start as usize..end as usize])
    }

    /// The tensor's values as `f32`, in GGUF order (`dims[0]` fastest).
    pub fn dequantize(&self, t: &TensorInfo) -> Result<Vec<f32>, GgufError> {
        let bytes = self.tensor_bytes(t)?;
        quant::dequantize(t.ggml_type, bytes, t.n_elements() as usize).ok_or_else(|| {
            GgufError::UnsupportedType {
                path: self.path.clone(),
                tensor: t.name.clone(),
                ty: t.ggml_type.name(),
            }
        })
    }

    /// Byte range of a tensor's data in the file, checked against the file length.
    fn tensor_range(&self, t: &TensorInfo) -> Result<(u64, u64), GgufError> {
        let malformed = |reason: String| GgufError::Malformed {
            path: self.path.clone(),
            reason,
        };
        let n = t
            .dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| {
                malformed(format!(
                    "tensor {} dimensions {:?} overflow",
                    t.name, t.dims
                ))
            })?;
        let size = t.ggml_type.byte_size(n).ok_or_else(|| {
            malformed(format!(
                "tensor {}: {} elements do not fit {} blocks (or the type {} is unknown)",
                t.name,
                n,
                t.ggml_type.name(),
                t.ggml_type.name()
            ))
        })?;
        let start = self
            .data_offset
            .checked_add(t.offset)
            .ok_or_else(|| malformed(format!("tensor {} offset overflows", t.name)))?;
        let end = start
            .checked_add(size)
            .ok_or_else(|| malformed(format!("tensor {} size overflows", t.name)))?;
        let len = self.mmap.len() as u64;
        if end > len {
            return Err(GgufError::Truncated {
                path: self.path.clone(),
                what: format!("tensor {}", t.name),
                needed: end,
                len,
            });
        }
        Ok((start, end))
    }
}

/// A cursor over the file's bytes that turns every short read into [`GgufError::Truncated`].
struct Reader<'a> {
    path: &'a Path,
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn malformed(&self, reason: String) -> GgufError {
        GgufError::Malformed {
            path: self.path.to_path_buf(),
            reason,
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], GgufError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        match end {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(GgufError::Truncated {
                path: self.path.to_path_buf(),
                what: what.to_string(),
                needed: self.pos as u64 + n as u64,
                len: self.buf.len() as u64,
            }),
        }
    }

    /// Rejects a count that could not possibly fit in the rest of the file.
    fn check_count(&self, count: u64, min_size: u64, what: &str) -> Result<(), GgufError> {
        let remaining = (self.buf.len() - self.pos) as u64;
        if count > remaining / min_size {
            return Err(self.malformed(format!(
                "{what} {count} cannot fit in the {remaining} bytes left"
            )));
        }
        Ok(())
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], GgufError> {
        Ok(self.take(N, what)?.try_into().expect("N bytes"))
    }

    fn u32(&mut self, what: &str) -> Result<u32, GgufError> {
        self.array(what).map(u32::from_le_bytes)
    }

    fn u64(&mut self, what: &str) -> Result<u64, GgufError> {
        self.array(what).map(u64::from_le_bytes)
    }

    fn string(&mut self, what: &str) -> Result<String, GgufError> {
        let len = self.u64(what)?;
        self.check_count(len, 1, what)?;
        let bytes = self.take(len as usize, what)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| self.malformed(format!("{what} is not valid UTF-8")))
    }

    fn value(&mut self, ty: u32, depth: u32, key: &str) -> Result<Value, GgufError> {
        let what = key;
        Ok(match ty {
            0 => Value::U8(self.array::<1>(what)?[0]),
            1 => Value::I8(self.array::<1>(what)?[0] as i8),
            2 => Value::U16(u16::from_le_bytes(self.array(what)?)),
            3 => Value::I16(i16::from_le_bytes(self.array(what)?)),
            4 => Value::U32(self.u32(what)?),
            5 => Value::I32(i32::from_le_bytes(self.array(what)?)),
            6 => Value::F32(f32::from_le_bytes(self.array(what)?)),
            7 => match self.array::<1>(what)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(self.malformed(format!("{key}: boolean byte {b}"))),
            },
            8 => Value::String(self.string(what)?),
            9 => {
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(self.malformed(format!("{key}: arrays nested too deep")));
                }
                let elem = self.u32(what)?;
                let count = self.u64(what)?;
                self.check_count(count, 1, key)?;
                let mut items = Vec::with_capacity((count as usize).min(1 << 16));
                for _ in 0..count {
                    items.push(self.value(elem, depth + 1, key)?);
                }
                Value::Array(items)
            }
            10 => Value::U64(self.u64(what)?),
            11 => Value::I64(i64::from_le_bytes(self.array(what)?)),
            12 => Value::F64(f64::from_le_bytes(self.array(what)?)),
            t => return Err(self.malformed(format!("{key}: unknown value type {t}"))),
        })
    }
}

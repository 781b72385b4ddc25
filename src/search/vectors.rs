//! The vector cache: one sentence vector per distinct line, keyed by the content it was
//! computed from, in `OUT/.isg-cache/vectors.bin`.
//!
//! [`VectorCache::load`] reads the file; [`VectorCache::key`] is the SHA-256 of the embedding
//! model's name and the text, so an edited line gets a new key and an unchanged one is never
//! embedded twice. The file starts with a header (magic, format version, width) and holds
//! fixed-size entries (key, vector, checksum), appended and flushed as vectors are computed
//! ([`VectorCache::append`]): a torn tail, a bad checksum or a header of another width is
//! skipped, never reused. [`VectorCache::compact`] rewrites the file atomically with only the
//! live entries when most are dead. Writers hold the output folder's lock.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The file's name inside `.isg-cache/`.
pub const VECTORS_FILE: &str = "vectors.bin";

const MAGIC: &[u8; 8] = b"ISGVEC\0\x01";
const HEADER: usize = 16;
const KEY: usize = 16;

/// A content key: the first 16 bytes of SHA-256(model name, NUL, text).
pub type Key = [u8; KEY];

/// The vectors of an output folder, in memory.
#[derive(Debug, Clone)]
pub struct VectorCache {
    path: PathBuf,
    dims: usize,
    vectors: HashMap<Key, Vec<f32>>,
    /// Entries in the file (live, duplicate or unreadable).
    lines_in_file: usize,
    /// Bytes of the file up to its last whole entry (a torn tail is cut before appending).
    whole_len: u64,
    /// Entries skipped on load (torn, bad checksum).
    pub bad: usize,
}

fn checksum(bytes: &[u8]) -> [u8; 4] {
    let h = Sha256::digest(bytes);
    [h[0], h[1], h[2], h[3]]
}

impl VectorCache {
    /// `OUT/.isg-cache/vectors.bin`.
    pub fn path_in(out_dir: &Path) -> PathBuf {
        out_dir.join(".isg-cache").join(VECTORS_FILE)
    }

    /// The key of `text` embedded by `model`.
    pub fn key(model: &str, text: &str) -> Key {
        let mut h = Sha256::new();
        h.update(model.as_bytes());
        h.update([0u8]);
        h.update(text.as_bytes());
        let d = h.finalize();
        let mut k = [0u8; KEY];
        k.copy_from_slice(&d[..KEY]);
        k
    }

    fn entry_len(dims: usize) -> usize {
        KEY + dims * 4 + 4
    }

    /// Reads the cache of `out_dir` for vectors `dims` wide (an absent or unreadable file, or
    /// one of another width, gives an empty cache).
    pub fn load(out_dir: &Path, dims: usize) -> VectorCache {
        let path = Self::path_in(out_dir);
        let mut cache = VectorCache {
            path: path.clone(),
            dims,
            vectors: HashMap::new(),
            lines_in_file: 0,
            whole_len: 0,
            bad: 0,
        };
        let Ok(bytes) = std::fs::read(&path) else {
            return cache;
        };
        if bytes.len() < HEADER
            || &bytes[..8] != MAGIC
            || u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize != dims
        {
            cache.bad = 1;
            return cache;
        }
        let n = Self::entry_len(dims);
        cache.whole_len = (HEADER + (bytes.len() - HEADER) / n * n) as u64;
        for e in bytes[HEADER..].chunks(n) {
            cache.lines_in_file += 1;
            if e.len() != n || checksum(&e[..n - 4]) != e[n - 4..] {
                cache.bad += 1;
                continue;
            }
            let mut key = [0u8; KEY];
            key.copy_from_slice(&e[..KEY]);
            let v = e[KEY..n - 4]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect();
            cache.vectors.insert(key, v);
        }
        cache
    }

    /// The vector of `key`, if cached.
    pub fn get(&self, key: &Key) -> Option<&[f32]> {
        self.vectors.get(key).map(Vec::as_slice)
    }

    /// Vectors held.
    pub fn len(&self) -> usize {
        self.vectors.len()
    }

    /// Whether no vector is held.
    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }

    /// Adds vectors in memory and, when `write` is true, appends them to the file (creating it
    /// with its header) and flushes it. The caller holds the output folder's lock.
    pub fn append(&mut self, new: Vec<(Key, Vec<f32>)>, write: bool) -> std::io::Result<()> {
        let mut buf = Vec::new();
        for (k, v) in &new {
            if v.len() != self.dims {
                continue;
            }
            let start = buf.len();
            buf.extend_from_slice(k);
            for x in v {
                buf.extend_from_slice(&x.to_le_bytes());
            }
            let sum = checksum(&buf[start..]);
            buf.extend_from_slice(&sum);
        }
        if write && !buf.is_empty() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let fresh = std::fs::metadata(&self.path).map_or(true, |m| m.len() < HEADER as u64)
                || self.bad > 0 && self.vectors.is_empty();
            let mut f = if fresh {
                let mut f = File::create(&self.path)?;
                f.write_all(&self.header())?;
                self.lines_in_file = 0;
                self.whole_len = HEADER as u64;
                self.bad = 0;
                f
            } else {
                let f = OpenOptions::new().append(true).open(&self.path)?;
                // A torn entry left by a killed writer would shift every entry after it.
                if f.metadata()?.len() != self.whole_len {
                    f.set_len(self.whole_len)?;
                }
                f
            };
            f.write_all(&buf)?;
            f.sync_data()?;
            self.lines_in_file += new.len();
            self.whole_len += buf.len() as u64;
        }
        for (k, v) in new {
            self.vectors.insert(k, v);
        }
        Ok(())
    }

    fn header(&self) -> Vec<u8> {
        let mut h = Vec::with_capacity(HEADER);
        h.extend_from_slice(MAGIC);
        h.extend_from_slice(&(self.dims as u32).to_le_bytes());
        h.extend_from_slice(&[0u8; 4]);
        h
    }

    /// When more than half the file's entries are not in `live`, rewrites it (a new file,
    /// synced, renamed over the old one) with only those, and drops the rest from memory.
    /// Returns whether it did. The caller holds the output folder's lock.
    pub fn compact(&mut self, live: &[Key]) -> std::io::Result<bool> {
        let keep: Vec<&Key> = live
            .iter()
            .filter(|k| self.vectors.contains_key(*k))
            .collect();
        let mut unique = keep.clone();
        unique.sort();
        unique.dedup();
        if self.lines_in_file <= 2 * unique.len() {
            return Ok(false);
        }
        let mut bytes = self.header();
        for k in &unique {
            let v = &self.vectors[*k];
            let start = bytes.len();
            bytes.extend_from_slice(*k);
            for x in v {
                bytes.extend_from_slice(&x.to_le_bytes());
            }
            let sum = checksum(&bytes[start..]);
            bytes.extend_from_slice(&sum);
        }
        crate::atomic_file::write(&self.path, &bytes)?;
        let set: std::collections::HashSet<Key> = unique.iter().map(|k| **k).collect();
        self.vectors.retain(|k, _| set.contains(k));
        self.lines_in_file = set.len();
        self.whole_len = bytes.len() as u64;
        self.bad = 0;
        Ok(true)
    }
}

/// Names the encoder whose vectors a folder's cache holds: the model and its conversion.
pub fn encoder_id() -> String {
    format!(
        "{} conversion {}",
        crate::provision::EMBEDDING_MODEL.name,
        crate::convert::bert::BERT_CONVERSION_VERSION
    )
}

/// The key of a line's vector in the cache.
pub fn vector_key(text: &str) -> Key {
    VectorCache::key(&encoder_id(), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_survive_a_reload_and_a_torn_tail_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = VectorCache::load(dir.path(), 3);
        assert!(c.is_empty());
        let a = VectorCache::key("m", "a line");
        let b = VectorCache::key("m", "another line");
        assert_ne!(a, VectorCache::key("other model", "a line"));
        c.append(
            vec![(a, vec![1.0, 2.0, 3.0]), (b, vec![0.5, 0.0, -1.0])],
            true,
        )
        .unwrap();
        let path = VectorCache::path_in(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        let again = VectorCache::load(dir.path(), 3);
        assert_eq!(again.get(&a), Some(&[1.0f32, 2.0, 3.0][..]));
        assert_eq!(again.get(&b), Some(&[0.5f32, 0.0, -1.0][..]));
        // Another width is not read; a flipped byte fails its checksum; a torn entry is dropped.
        assert!(VectorCache::load(dir.path(), 4).is_empty());
        bytes[HEADER + 20] ^= 0xff;
        bytes.truncate(bytes.len() - 5);
        std::fs::write(&path, &bytes).unwrap();
        let mut broken = VectorCache::load(dir.path(), 3);
        assert!(broken.is_empty());
        assert_eq!(broken.bad, 2);
        // Appending after the torn tail cuts it first, so the new entry reads back.
        let c = VectorCache::key("m", "a third line");
        broken.append(vec![(c, vec![0.0, 1.0, 0.0])], true).unwrap();
        let fixed = VectorCache::load(dir.path(), 3);
        assert_eq!(fixed.get(&c), Some(&[0.0f32, 1.0, 0.0][..]));
        assert_eq!(fixed.len(), 1);
    }

    #[test]
    fn compaction_keeps_only_live_vectors() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = VectorCache::load(dir.path(), 2);
        let keys: Vec<Key> = (0..6)
            .map(|i| VectorCache::key("m", &format!("line {i}")))
            .collect();
        c.append(keys.iter().map(|k| (*k, vec![1.0, 0.0])).collect(), true)
            .unwrap();
        assert!(!c.compact(&keys[..4]).unwrap(), "4 of 6 live: kept as is");
        assert!(c.compact(&keys[..2]).unwrap());
        let after = VectorCache::load(dir.path(), 2);
        assert_eq!(after.len(), 2);
        assert!(after.get(&keys[0]).is_some() && after.get(&keys[5]).is_none());
    }
}

//! Deterministic sharding: `--shard K/N` keeps the files whose path hashes to shard K.
//!
//! A file's shard is `u64::from_be_bytes(sha256(path)[..8]) % N`, counted from 1 (shard `K` of
//! `N` keeps the files whose remainder is `K - 1`). The path is the one relative to the walked
//! root with `/` separators, so every machine computes the same partition, a file's chunks stay
//! in one shard, and skips are split the same way. The partition depends only on the paths,
//! never on the machine, the file contents or the order of the walk.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One shard of a partition: `index` in `1..=count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    /// Which shard, from 1.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

/// A `--shard` value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid shard {0:?}: write K/N with 1 <= K <= N, for example 2/8")]
pub struct ShardError(pub String);

impl Shard {
    /// The whole tree as one shard.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Whether the file at `path` (relative, `/` separators) belongs to this shard.
    pub fn contains(&self, path: &str) -> bool {
        shard_of(path, self.count) == self.index
    }
}

/// The shard (from 1) that `path` belongs to among `count` shards.
pub fn shard_of(path: &str, count: u32) -> u32 {
    let count = count.max(1);
    let digest = Sha256::digest(path.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(head) % u64::from(count)) as u32 + 1
}

impl FromStr for Shard {
    type Err = ShardError;
    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let bad = || ShardError(s.to_string());
        let (k, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Serialize for Shard {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Shard {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Shard, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!("2/8".parse::<Shard>(), Ok(Shard { index: 2, count: 8 }));
        assert_eq!(" 1 / 1 ".parse::<Shard>(), Ok(Shard::ALL));
        for bad in ["0/3", "4/3", "1/0", "3", "a/b", "", "1/2/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(Shard { index: 3, count: 5 }.to_string(), "3/5");
    }

    #[test]
    fn every_path_lands_in_exactly_one_shard() {
        let paths: Vec<String> = (0..500)
            .map(|i| format!("src/dir{}/file{i}.rs", i % 7))
            .collect();
        for count in [1u32, 2, 3, 8] {
            let mut sizes = vec![0usize; count as usize];
            for p in &paths {
                let owners: Vec<u32> = (1..=count)
                    .filter(|&k| Shard { index: k, count }.contains(p))
                    .collect();
                assert_eq!(owners.len(), 1, "{p} in {owners:?}");
                sizes[owners[0] as usize - 1] += 1;
            }
            // Roughly balanced: no shard gets less than half its fair share.
            let fair = paths.len() / count as usize;
            assert!(sizes.iter().all(|&s| s * 2 >= fair), "{count}: {sizes:?}");
        }
    }

    #[test]
    fn partition_is_stable() {
        // Fixed values: a change here would reshuffle every existing sharded output.
        assert_eq!(shard_of("src/lib.rs", 4), shard_of("src/lib.rs", 4));
        let got: Vec<u32> = ["src/lib.rs", "src/runtime/mod.rs", "README.md"]
            .iter()
            .map(|p| shard_of(p, 8))
            .collect();
        assert_eq!(got, STABLE_8);
    }

    /// `shard_of` of the three paths above among 8 shards, fixed when the scheme was written.
    const STABLE_8: [u32; 3] = [3, 4, 2];
}

//! The KV cache pool: one anonymous memory map per layer and per key/value, laid out as
//! `[slots, kv_heads, capacity, head_dim]` so that a slot is one contiguous block.
//!
//! A batched decode step binds the first `rows` slots as one tensor; a prefill binds one slot as a
//! batch of one. Pages are committed by the kernel only when written, and a released slot's pages
//! are given back (`MADV_DONTNEED`), so resident memory follows the sequences actually in flight,
//! not the pool's size.

use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::MmapMut;

/// Source of pool identities (see [`KvPool::id`]).
static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

/// Element type of the cache, as the model declares its `past_key_values` inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum KvDtype {
    /// 32-bit floats.
    F32,
    /// 16-bit floats.
    F16,
}

impl KvDtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            KvDtype::F32 => 4,
            KvDtype::F16 => 2,
        }
    }
}

/// Shape of the cache of one sequence position across the whole model.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct KvShape {
    /// Decoder layers.
    pub layers: usize,
    /// Key/value heads.
    pub kv_heads: usize,
    /// Size of one head.
    pub head_dim: usize,
    /// Element type.
    pub dtype: KvDtype,
}

impl KvShape {
    /// Bytes one token occupies in the cache (keys and values of every layer).
    pub fn bytes_per_token(&self) -> usize {
        self.layers * 2 * self.kv_heads * self.head_dim * self.dtype.size()
    }
}

/// Fixed-size pool of per-sequence caches.
pub struct KvPool {
    shape: KvShape,
    slots: usize,
    capacity: usize,
    /// `layers * 2` maps: key of layer 0, value of layer 0, key of layer 1, ...
    maps: Vec<MmapMut>,
    /// Unique among the pools of this process.
    id: u64,
    /// Per slot, bumped whenever the slot's contents are replaced (see [`KvPool::epoch`]).
    epochs: Vec<u64>,
}

impl KvPool {
    /// Reserves (but does not commit) `slots` caches of `capacity` positions each.
    pub fn new(shape: KvShape, slots: usize, capacity: usize) -> std::io::Result<KvPool> {
        let bytes = slots * shape.kv_heads * capacity * shape.head_dim * shape.dtype.size();
        let maps = (0..shape.layers * 2)
            .map(|_| MmapMut::map_anon(bytes.max(1)))
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(KvPool {
            shape,
            slots,
            capacity,
            maps,
            id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
            epochs: vec![0; slots],
        })
    }

    /// The cache shape.
    pub fn shape(&self) -> KvShape {
        self.shape
    }

    /// Number of slots.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Positions per slot.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// An identity no other pool of this process has, so that state kept about a pool's slots is
    /// never applied to another pool.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// A counter of `slot` that changes whenever the slot's contents are replaced: when it is
    /// released, when a prefix is copied into it, and when [`KvPool::touch`] is called (a prefill
    /// written into it). Appending positions by a decode step leaves it as it is. The growing cache
    /// strategy keeps a row staged from step to step only while its epoch stays the same.
    pub fn epoch(&self, slot: usize) -> u64 {
        self.epochs[slot]
    }

    /// Marks `slot`'s contents as replaced (see [`KvPool::epoch`]).
    pub fn touch(&mut self, slot: usize) {
        self.epochs[slot] += 1;
    }

    /// Bytes of one slot in one map.
    fn slot_bytes(&self) -> usize {
        self.shape.kv_heads * self.capacity * self.shape.head_dim * self.shape.dtype.size()
    }

    /// Pointer to `slot` in map `index` (`2 * layer` for keys, `2 * layer + 1` for values).
    ///
    /// The pointer stays valid as long as the pool lives; callers hand it to ONNX Runtime as the
    /// backing memory of a tensor of `rows` slots starting at `slot`.
    pub fn slot_ptr(&mut self, index: usize, slot: usize) -> *mut u8 {
        let off = slot * self.slot_bytes();
        // SAFETY: slot < slots is checked by callers; the offset is within the map.
        unsafe { self.maps[index].as_mut_ptr().add(off) }
    }

    /// The `capacity` positions of one head of `slot` in map `index`, as bytes.
    pub fn head(&self, index: usize, slot: usize, head: usize) -> &[u8] {
        let len = self.capacity * self.shape.head_dim * self.shape.dtype.size();
        let at = slot * self.slot_bytes() + head * len;
        &self.maps[index][at..at + len]
    }

    /// The same bytes as [`KvPool::head`], writable.
    pub fn head_mut(&mut self, index: usize, slot: usize, head: usize) -> &mut [u8] {
        let len = self.capacity * self.shape.head_dim * self.shape.dtype.size();
        let at = slot * self.slot_bytes() + head * len;
        &mut self.maps[index][at..at + len]
    }

    /// Gives the memory of a slot back to the kernel (its contents become zeros).
    pub fn release(&mut self, slot: usize) {
        self.touch(slot);
        let slot_bytes = self.slot_bytes();
        let page = 4096usize;
        for map in &mut self.maps {
            let start = slot * slot_bytes;
            let end = start + slot_bytes;
            let aligned_start = start.div_ceil(page) * page;
            let aligned_end = end / page * page;
            if aligned_end > aligned_start {
                // SAFETY: the range lies inside this anonymous private mapping; DONTNEED on it only
                // zero-fills those pages on next touch.
                unsafe {
                    libc::madvise(
                        map.as_mut_ptr().add(aligned_start).cast(),
                        aligned_end - aligned_start,
                        libc::MADV_DONTNEED,
                    );
                }
            }
        }
    }

    /// Copies the first `len` positions of `from`'s cache into `to` (used to reuse a computed
    /// prompt prefix).
    pub fn copy_prefix(&mut self, from: usize, to: usize, len: usize) {
        self.touch(to);
        let es = self.shape.dtype.size();
        let (heads, cap, dim) = (self.shape.kv_heads, self.capacity, self.shape.head_dim);
        let slot_bytes = self.slot_bytes();
        for map in &mut self.maps {
            for h in 0..heads {
                let src = from * slot_bytes + h * cap * dim * es;
                let dst = to * slot_bytes + h * cap * dim * es;
                map.copy_within(src..src + len * dim * es, dst);
            }
        }
    }
}

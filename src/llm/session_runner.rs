//! One decoder-only ONNX model in an ONNX Runtime session, driven step by step over a [`KvPool`].
//!
//! [`SessionRunner`] learns the model's conventions with [`super::discover`] (session metadata, graph,
//! folder configs) and runs two kinds of steps: a prefill piece for one sequence, and a decode
//! step for many sequences at once. Rows of one step may have different lengths: each row gets
//! its own `attention_mask` row and `position_ids`. How the cache crosses a run depends on the
//! [`KvStrategy`]: in place, each row's pool slot is bound as both past input and present output
//! (GroupQueryAttention writes the new positions into it, nothing is copied); growing, the rows'
//! caches are gathered into a staging past tensor `[rows, kv_heads, columns, head_size]` (shorter
//! rows padded and masked out), the model returns past plus new positions in a second staging
//! tensor, and the new positions are copied into each row's slot, which stays the reference copy.
//! A decode step's present tensor is kept as the next step's past (the two buffers swap roles):
//! rows that continue are not copied again, a row whose slot was replaced since (a finished
//! sequence, a new prompt) is gathered alone into its padded row, and everything is gathered
//! anew only when the batch's width changes, a row no longer fits, or padding exceeds about a
//! quarter of the longest row.

use std::ffi::CString;
use std::path::Path;
use std::time::Instant;

use ort::AsPointer;
use ort::memory::MemoryInfo;
use ort::session::Session;
use ort::session::builder::{GraphOptimizationLevel, PrepackedWeights};
use ort::value::{Shape, Tensor, TensorRefMut};
use thiserror::Error;

use super::device::Device;
use super::discover::{DecoderIo, KvStrategy, discover, graph_hints};
use super::kv::{KvDtype, KvPool};
use super::ort_status::status_result;

/// Errors of the decoder.
#[derive(Debug, Error)]
pub enum DecoderError {
    /// The requested device cannot be used.
    #[error(transparent)]
    Device(#[from] super::device::DeviceError),
    /// ONNX Runtime refused to create the session.
    #[error("ONNX Runtime could not load {path}: {message}")]
    Load {
        /// Model file.
        path: String,
        /// ONNX Runtime's message.
        message: String,
    },
    /// The model does not follow the decoder conventions isg knows.
    #[error("{path} is not a decoder isg can drive: {reason}")]
    Unsupported {
        /// Model file.
        path: String,
        /// What is missing or unexpected.
        reason: String,
    },
    /// A run failed.
    #[error("ONNX Runtime run failed: {0}")]
    Run(String),
}

fn run_err(e: impl std::fmt::Display) -> DecoderError {
    DecoderError::Run(e.to_string())
}

/// Session settings.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Intra-op threads (0: ONNX Runtime's default, one per core).
    pub threads: usize,
    /// Execution provider.
    pub device: Device,
    /// A container shared by several sessions of the same model so that weights the runtime
    /// re-packs for its kernels are packed and held once.
    pub prepacked: Option<PrepackedWeights>,
}

/// A loaded decoder model.
pub struct SessionRunner {
    pub(super) session: Session,
    io: DecoderIo,
    /// Staging tensors of the growing strategy, reused from run to run: 0 and 1 for decode steps
    /// (past and present, swapping roles), 2 and 3 for prefill pieces.
    staging: [Staging; 4],
    /// The growing strategy's last decode step, kept as the next step's past.
    resident: Option<Resident>,
    /// Rows the growing strategy copied from the pool into staging tensors so far.
    staged_rows: u64,
    /// Seconds it took to create the session.
    pub load_seconds: f64,
}

/// One row of a batched decode step.
#[derive(Debug, Clone, Copy)]
pub struct DecodeRow {
    /// Token to feed.
    pub token: u32,
    /// Positions already in this row's cache (the new token goes at this position).
    pub past: usize,
}

impl SessionRunner {
    /// Creates the session for `model` (a `.onnx` file; external data resolves beside it).
    pub fn load(model: &Path, settings: &SessionSettings) -> Result<SessionRunner, DecoderError> {
        let rt = crate::llm::runtime::loaded().ok_or_else(|| DecoderError::Load {
            path: model.display().to_string(),
            message: "ONNX Runtime is not loaded".into(),
        })?;
        let load_err = |e: &dyn std::fmt::Display| DecoderError::Load {
            path: model.display().to_string(),
            message: e.to_string(),
        };
        let start = Instant::now();
        let mut builder = Session::builder(&rt.environment).map_err(|e| load_err(&e))?;
        builder = builder
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| load_err(&e))?;
        if settings.threads > 0 {
            builder = builder
                .with_intra_threads(settings.threads)
                .map_err(|e| load_err(&e))?;
        }
        if let Some(shared) = &settings.prepacked {
            builder = builder
                .with_prepacked_weights(shared)
                .map_err(|e| load_err(&e))?;
        }
        // A diagnostic for speed work: ONNX Runtime writes each node's time to
        // `<prefix>_<date>.json` when the session ends. Inert unless the variable is set.
        if let Some(prefix) = std::env::var_os("ISG_ORT_PROFILE") {
            builder = builder.with_profiling(prefix).map_err(|e| load_err(&e))?;
        }
        builder = super::device::apply(builder, settings.device)?;
        let session = builder.commit_from_file(model).map_err(|e| load_err(&e))?;
        let mut dec = SessionRunner::from_session(session, model)?;
        dec.load_seconds = start.elapsed().as_secs_f64();
        Ok(dec)
    }

    /// Wraps a session created from `model`, discovering its conventions from the session, the
    /// graph and the folder's configs.
    pub fn from_session(session: Session, model: &Path) -> Result<SessionRunner, DecoderError> {
        let unsupported = |reason: String| DecoderError::Unsupported {
            path: model.display().to_string(),
            reason,
        };
        let hints = match crate::onnx::read_model(model) {
            Ok(proto) => graph_hints(&proto),
            Err(v) => return Err(unsupported(v.to_string())),
        };
        let io = discover(&session, model, &hints).map_err(unsupported)?;
        Ok(SessionRunner {
            session,
            io,
            staging: Default::default(),
            resident: None,
            staged_rows: 0,
            load_seconds: 0.0,
        })
    }

    /// The model's conventions.
    pub fn io(&self) -> &DecoderIo {
        &self.io
    }

    /// How many rows the growing strategy has copied from the pool into its staging tensors since
    /// the model was loaded (each is one row's whole cache, every layer); 0 in place.
    pub fn staged_rows(&self) -> u64 {
        self.staged_rows
    }

    /// Runs `ids` through the model for the sequence in `slot`, whose cache already holds `past`
    /// positions, and returns the logits of the last position.
    pub fn prefill(
        &mut self,
        pool: &mut KvPool,
        slot: usize,
        past: usize,
        ids: &[u32],
    ) -> Result<Vec<f32>, DecoderError> {
        let n = ids.len();
        let input_ids: Vec<i64> = ids.iter().map(|&t| t as i64).collect();
        let mut logits = self.run(pool, slot, &[past], n, input_ids, false)?;
        if self.io.all_logits {
            let v = self.io.vocab;
            logits.drain(..(n - 1) * v);
        }
        Ok(logits)
    }

    /// Runs one decode step over slots `0..rows.len()` and returns `rows.len() * vocab` logits.
    pub fn decode(
        &mut self,
        pool: &mut KvPool,
        rows: &[DecodeRow],
    ) -> Result<Vec<f32>, DecoderError> {
        let input_ids: Vec<i64> = rows.iter().map(|r| r.token as i64).collect();
        let pasts: Vec<usize> = rows.iter().map(|r| r.past).collect();
        self.run(pool, 0, &pasts, 1, input_ids, true)
    }

    /// Runs `seq` new tokens per row for the rows in slots `first_slot..first_slot + pasts.len()`,
    /// row `i` having `pasts[i]` positions in its cache, and returns the logits the model gives.
    /// `decode` marks a batched decode step (the growing strategy keeps its present for the next).
    fn run(
        &mut self,
        pool: &mut KvPool,
        first_slot: usize,
        pasts: &[usize],
        seq: usize,
        input_ids: Vec<i64>,
        decode: bool,
    ) -> Result<Vec<f32>, DecoderError> {
        let batch = pasts.len();
        let growing = self.io.strategy == KvStrategy::Growing;
        let plan = self.plan_run(pool, first_slot, pasts, seq, decode);
        let total = plan.past_len + seq;
        let io = &self.io;
        let inputs = plain_inputs(io, pasts, seq, total, input_ids, &plan.mask)?;
        let dims = |len: usize| {
            Shape::new([
                batch as i64,
                io.kv.kv_heads as i64,
                len as i64,
                io.kv.head_dim as i64,
            ])
        };
        let (past_len, present_len) = if growing {
            (plan.past_len, total)
        } else {
            (pool.capacity(), pool.capacity())
        };
        let per_tensor =
            |len: usize| batch * io.kv.kv_heads * len * io.kv.head_dim * io.kv.dtype.size();
        let mut past_views = Vec::with_capacity(io.kv.layers * 2);
        let mut outputs: Vec<(CString, KvView<'_>)> = Vec::with_capacity(io.kv.layers * 2 + 1);
        for layer in 0..io.kv.layers {
            for (k, kv) in ["key", "value"].iter().enumerate() {
                let index = 2 * layer + k;
                // In place, past input and present output are two tensors over the same pool
                // memory; growing, they are the two staging buffers.
                let (past_ptr, present_ptr) = if growing {
                    (
                        self.staging[plan.past_buf].tensor_ptr(index, per_tensor(past_len)),
                        self.staging[plan.present_buf].tensor_ptr(index, per_tensor(present_len)),
                    )
                } else {
                    let ptr = pool.slot_ptr(index, first_slot);
                    (ptr, ptr)
                };
                let name = |pattern: &str| {
                    CString::new(
                        pattern
                            .replace("{}", &layer.to_string())
                            .replace("{kv}", kv),
                    )
                    .expect("no NUL in names")
                };
                past_views.push((
                    name(&io.past_name),
                    kv_view(io.kv.dtype, past_ptr, dims(past_len))?,
                ));
                outputs.push((
                    name(&io.present_name),
                    kv_view(io.kv.dtype, present_ptr, dims(present_len))?,
                ));
            }
        }
        let rows = if io.all_logits { batch * seq } else { batch };
        let mut logits = vec![0f32; rows * io.vocab];
        let logits_shape = Shape::new([
            batch as i64,
            if io.all_logits { seq as i64 } else { 1 },
            io.vocab as i64,
        ]);
        // SAFETY: `logits` outlives the run and has exactly `logits_shape` elements.
        let logits_view = unsafe {
            TensorRefMut::<f32>::from_raw(
                MemoryInfo::default(),
                logits.as_mut_ptr().cast(),
                logits_shape,
            )
        }
        .map_err(run_err)?;
        outputs.push((c"logits".to_owned(), KvView::F32(logits_view)));

        let mut in_names: Vec<*const std::ffi::c_char> = Vec::new();
        let mut in_values: Vec<*const ort::sys::OrtValue> = Vec::new();
        for (n, v) in &inputs {
            in_names.push(n.as_ptr());
            in_values.push(v.ptr());
        }
        for (n, v) in &past_views {
            in_names.push(n.as_ptr());
            in_values.push(v.ptr());
        }
        let out_names: Vec<*const std::ffi::c_char> =
            outputs.iter().map(|(n, _)| n.as_ptr()).collect();
        let mut out_values: Vec<*mut ort::sys::OrtValue> =
            outputs.iter().map(|(_, v)| v.ptr().cast_mut()).collect();
        // SAFETY: every name and value pointer stays alive until Run returns; the output values are
        // pre-allocated tensors of the shapes the model produces, so ONNX Runtime writes into them
        // and neither allocates nor replaces them.
        let status = unsafe {
            (ort::api().Run)(
                self.session.ptr().cast_mut(),
                std::ptr::null(),
                in_names.as_ptr(),
                in_values.as_ptr(),
                in_names.len(),
                out_names.as_ptr(),
                out_names.len(),
                out_values.as_mut_ptr(),
            )
        };
        check_status(status)?;
        drop(outputs);
        drop(past_views);
        if growing {
            self.keep_present(pool, plan, first_slot, pasts, seq, decode);
        }
        Ok(logits)
    }

    /// Where a run's cache lives and its attention mask. In place, row `i`'s new positions go
    /// right after its own past in its slot; growing, the staged past tensor has
    /// `plan.past_len` columns and the new positions follow them.
    fn plan_run(
        &mut self,
        pool: &mut KvPool,
        first_slot: usize,
        pasts: &[usize],
        seq: usize,
        decode: bool,
    ) -> GrowingPlan {
        if self.io.strategy == KvStrategy::Growing {
            return self.stage_growing(pool, first_slot, pasts, seq, decode);
        }
        let batch = pasts.len();
        let longest = pasts.iter().copied().max().unwrap_or(0);
        let total = longest + seq;
        let mut mask = vec![0i64; batch * total];
        for (i, &past) in pasts.iter().enumerate() {
            mask[i * total..i * total + past + seq].fill(1);
        }
        GrowingPlan {
            past_buf: 0,
            present_buf: 0,
            past_len: longest,
            mask,
        }
    }

    /// After a run of the growing strategy: the present tensors scattered back into the pool's
    /// slots, and after a decode step kept staged as the next step's past.
    fn keep_present(
        &mut self,
        pool: &mut KvPool,
        plan: GrowingPlan,
        first_slot: usize,
        pasts: &[usize],
        seq: usize,
        decode: bool,
    ) {
        let batch = pasts.len();
        let total = plan.past_len + seq;
        self.scatter(
            pool,
            plan.present_buf,
            first_slot,
            pasts,
            plan.past_len,
            seq,
        );
        if decode {
            self.resident = Some(Resident {
                pool: pool.id(),
                first_slot,
                buf: plan.present_buf,
                len: total,
                mask: plan.mask,
                pasts: pasts.iter().map(|p| p + seq).collect(),
                epochs: (0..batch).map(|i| pool.epoch(first_slot + i)).collect(),
            });
        } else {
            pool.touch(first_slot);
        }
    }

    /// Stages the past of a run of the growing strategy and sizes its present: a prefill piece
    /// gathers its row into the prefill buffers; a decode step continues from the last step's
    /// present when it can (see the module docs), else gathers every row with some padding to
    /// spare so that rows joining later fit.
    fn stage_growing(
        &mut self,
        pool: &KvPool,
        first_slot: usize,
        pasts: &[usize],
        seq: usize,
        decode: bool,
    ) -> GrowingPlan {
        let kv = self.io.kv;
        let tensors = kv.layers * 2;
        let batch = pasts.len();
        let bytes = |len: usize| batch * kv.kv_heads * len * kv.head_dim * kv.dtype.size();
        let longest = pasts.iter().copied().max().unwrap_or(0);
        let fresh_mask = |len: usize| {
            let mut mask = vec![0i64; batch * (len + seq)];
            for (i, &past) in pasts.iter().enumerate() {
                let row = &mut mask[i * (len + seq)..(i + 1) * (len + seq)];
                row[..past].fill(1);
                row[len..].fill(1);
            }
            mask
        };
        let all: Vec<usize> = (0..batch).collect();
        if !decode {
            self.staging[2].reserve(tensors, bytes(longest));
            self.staging[3].reserve(tensors, bytes(longest + seq));
            self.gather(pool, 2, first_slot, pasts, longest, &all);
            return GrowingPlan {
                past_buf: 2,
                present_buf: 3,
                past_len: longest,
                mask: fresh_mask(longest),
            };
        }
        // Padding a full gather leaves for rows that join later; a single row never has any.
        let spare = if batch > 1 { (longest / 8).max(8) } else { 0 };
        let kept = self.resident.take().filter(|r| {
            r.pool == pool.id()
                && r.first_slot == first_slot
                && r.pasts.len() == batch
                && r.len >= longest
                && r.len <= longest + 2 * spare
        });
        let plan = match kept {
            Some(r) => {
                let len = r.len;
                let mut mask = fresh_mask(len);
                let mut stale = Vec::new();
                for (i, &past) in pasts.iter().enumerate() {
                    if r.epochs[i] == pool.epoch(first_slot + i) && r.pasts[i] == past {
                        let row = i * (len + seq);
                        mask[row..row + len].copy_from_slice(&r.mask[i * len..(i + 1) * len]);
                    } else {
                        stale.push(i);
                    }
                }
                self.gather(pool, r.buf, first_slot, pasts, len, &stale);
                GrowingPlan {
                    past_buf: r.buf,
                    present_buf: 1 - r.buf,
                    past_len: len,
                    mask,
                }
            }
            None => {
                let len = longest + spare;
                self.staging[0].reserve(tensors, bytes(len));
                self.gather(pool, 0, first_slot, pasts, len, &all);
                GrowingPlan {
                    past_buf: 0,
                    present_buf: 1,
                    past_len: len,
                    mask: fresh_mask(len),
                }
            }
        };
        self.staging[plan.present_buf].reserve(tensors, bytes(plan.past_len + seq));
        plan
    }

    /// Copies the cached positions of the rows in `which` into staging buffer `buf`, laid out as
    /// `[layers * 2][rows, kv_heads, len, head_size]` (the buffer is already sized for it).
    /// Columns past a row's own length are left as they are (finite values from earlier steps or
    /// zeros): the mask hides them.
    fn gather(
        &mut self,
        pool: &KvPool,
        buf: usize,
        first_slot: usize,
        pasts: &[usize],
        len: usize,
        which: &[usize],
    ) {
        let kv = self.io.kv;
        let row_bytes = kv.head_dim * kv.dtype.size();
        let tensor = pasts.len() * kv.kv_heads * len * row_bytes;
        self.staged_rows += which.len() as u64;
        let stage = &mut self.staging[buf];
        for index in 0..kv.layers * 2 {
            let dst = stage.tensor_mut(index, tensor);
            for &i in which {
                let past = pasts[i];
                for h in 0..kv.kv_heads {
                    let src = pool.head(index, first_slot + i, h);
                    let at = (i * kv.kv_heads + h) * len * row_bytes;
                    dst[at..at + past * row_bytes].copy_from_slice(&src[..past * row_bytes]);
                }
            }
        }
    }

    /// Copies the `seq` new positions of each row from staging buffer `buf` (laid out as
    /// `[layers * 2][rows, kv_heads, past_len + seq, head_size]`) into the row's slot.
    fn scatter(
        &mut self,
        pool: &mut KvPool,
        buf: usize,
        first_slot: usize,
        pasts: &[usize],
        past_len: usize,
        seq: usize,
    ) {
        let kv = self.io.kv;
        let row_bytes = kv.head_dim * kv.dtype.size();
        let total = past_len + seq;
        let tensor = pasts.len() * kv.kv_heads * total * row_bytes;
        let stage = &mut self.staging[buf];
        for index in 0..kv.layers * 2 {
            let src = stage.tensor_mut(index, tensor);
            for (i, &past) in pasts.iter().enumerate() {
                for h in 0..kv.kv_heads {
                    let at = ((i * kv.kv_heads + h) * total + past_len) * row_bytes;
                    let dst = pool.head_mut(index, first_slot + i, h);
                    dst[past * row_bytes..(past + seq) * row_bytes]
                        .copy_from_slice(&src[at..at + seq * row_bytes]);
                }
            }
        }
    }
}

/// The named inputs of a run besides the cache: `input_ids`, `attention_mask`, and
/// `position_ids` and `use_cache_branch` when the model takes them.
fn plain_inputs(
    io: &DecoderIo,
    pasts: &[usize],
    seq: usize,
    total: usize,
    input_ids: Vec<i64>,
    mask: &[i64],
) -> Result<Vec<(CString, ort::value::DynValue)>, DecoderError> {
    let batch = pasts.len();
    let positions: Vec<i64> = pasts
        .iter()
        .flat_map(|&p| (p..p + seq).map(|x| x as i64))
        .collect();
    let mut inputs: Vec<(CString, ort::value::DynValue)> = Vec::new();
    let mut add = |name: &str, v: ort::value::DynValue| {
        inputs.push((CString::new(name).expect("no NUL in names"), v));
    };
    add(
        "input_ids",
        Tensor::from_array(([batch, seq], input_ids))
            .map_err(run_err)?
            .into_dyn(),
    );
    add(
        "attention_mask",
        Tensor::from_array(([batch, total], mask.to_vec()))
            .map_err(run_err)?
            .into_dyn(),
    );
    if io.position_ids {
        add(
            "position_ids",
            Tensor::from_array(([batch, seq], positions))
                .map_err(run_err)?
                .into_dyn(),
        );
    }
    if io.use_cache_branch {
        add(
            "use_cache_branch",
            Tensor::from_array(([1usize], vec![true]))
                .map_err(run_err)?
                .into_dyn(),
        );
    }
    Ok(inputs)
}

/// How one run of the growing strategy uses the staging buffers.
struct GrowingPlan {
    /// Staging buffer holding the past tensors.
    past_buf: usize,
    /// Staging buffer receiving the present tensors.
    present_buf: usize,
    /// Columns of the past tensors.
    past_len: usize,
    /// `attention_mask`, `[rows, past_len + seq]`.
    mask: Vec<i64>,
}

/// The last decode step of the growing strategy, whose present tensors (in a staging buffer)
/// serve as the next step's past for the rows that continue.
struct Resident {
    /// [`KvPool::id`] of the pool the rows live in.
    pool: u64,
    /// Slot of row 0.
    first_slot: usize,
    /// Staging buffer holding the present tensors.
    buf: usize,
    /// Their columns.
    len: usize,
    /// Each row's mask over those columns.
    mask: Vec<i64>,
    /// Each row's positions after the step: the past a continuing row comes with next.
    pasts: Vec<usize>,
    /// Each row's slot epoch after the step.
    epochs: Vec<u64>,
}

/// A staging buffer of the growing strategy: `layers * 2` cache tensors side by side, 8-byte
/// aligned, grown as needed and reused.
#[derive(Default)]
struct Staging {
    words: Vec<u64>,
    /// Bytes of one tensor in the current layout.
    tensor: usize,
}

impl Staging {
    /// Makes room for `tensors` tensors of `bytes` each (contents of new room are zeros).
    fn reserve(&mut self, tensors: usize, bytes: usize) {
        let per = bytes.div_ceil(8) * 8;
        let words = tensors * per / 8;
        if self.words.len() < words {
            self.words.resize(words, 0);
        }
        self.tensor = per;
    }

    /// Tensor `index` as bytes.
    fn tensor_mut(&mut self, index: usize, bytes: usize) -> &mut [u8] {
        debug_assert_eq!(self.tensor, bytes.div_ceil(8) * 8);
        // SAFETY: any bytes are valid u8; the range lies within `words` (see `reserve`).
        let all = unsafe {
            std::slice::from_raw_parts_mut(
                self.words.as_mut_ptr().cast::<u8>(),
                self.words.len() * 8,
            )
        };
        &mut all[index * self.tensor..index * self.tensor + bytes]
    }

    /// Pointer to tensor `index`, handed to ONNX Runtime for one run.
    fn tensor_ptr(&mut self, index: usize, bytes: usize) -> *mut u8 {
        self.tensor_mut(index, bytes).as_mut_ptr()
    }
}

/// Turns an `OrtStatus` into a result, releasing it.
fn check_status(status: ort::sys::OrtStatusPtr) -> Result<(), DecoderError> {
    status_result(status).map_err(DecoderError::Run)
}

/// A cache tensor over pool memory, of the model's element type.
enum KvView<'a> {
    F32(TensorRefMut<'a, f32>),
    F16(TensorRefMut<'a, half::f16>),
}

impl KvView<'_> {
    fn ptr(&self) -> *const ort::sys::OrtValue {
        match self {
            KvView::F32(v) => v.ptr(),
            KvView::F16(v) => v.ptr(),
        }
    }
}

fn kv_view<'a>(dtype: KvDtype, ptr: *mut u8, shape: Shape) -> Result<KvView<'a>, DecoderError> {
    // SAFETY: `ptr` points into a pool map with room for `shape` elements of `dtype` (the caller
    // binds at most `slots - first_slot` rows), and the pool outlives the run.
    unsafe {
        Ok(match dtype {
            KvDtype::F32 => KvView::F32(
                TensorRefMut::from_raw(MemoryInfo::default(), ptr.cast(), shape)
                    .map_err(run_err)?,
            ),
            KvDtype::F16 => KvView::F16(
                TensorRefMut::from_raw(MemoryInfo::default(), ptr.cast(), shape)
                    .map_err(run_err)?,
            ),
        })
    }
}

//! One decoder-only ONNX model in an ONNX Runtime session, driven step by step over a [`KvPool`].
//!
//! [`SessionRunner`] learns the model's conventions with [`super::discover`] (session metadata, graph,
//! folder configs) and runs two kinds of steps: a prefill piece for one sequence, and a decode
//! step for many sequences at once. Rows of one step may have different lengths: each row gets
//! its own `attention_mask` row and `position_ids`. How the cache crosses a run depends on the
//! [`KvStrategy`]: in place, each row's pool slot is bound as both past input and present output
//! (GroupQueryAttention writes the new positions into it, nothing is copied); growing, the rows'
//! caches are gathered into a staging past tensor `[rows, kv_heads, longest past, head_size]`
//! (shorter rows padded and masked out), the model returns past plus new positions in a second
//! staging tensor, and the new positions are copied back into each row's slot.

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
use super::discover::{KvStrategy, discover, graph_hints};
use super::kv::{KvDtype, KvPool, KvShape};
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

/// What the decoder learned about the model's inputs and outputs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DecoderIo {
    /// Cache geometry.
    pub kv: KvShape,
    /// Vocabulary size (last dimension of `logits`).
    pub vocab: usize,
    /// `logits` holds every position (else only the last one).
    pub all_logits: bool,
    /// The model takes `position_ids`.
    pub position_ids: bool,
    /// The model takes `use_cache_branch`.
    pub use_cache_branch: bool,
    /// Name pattern of the cache inputs, with `{}` for the layer and `{kv}` for key/value.
    pub past_name: String,
    /// Name pattern of the cache outputs.
    pub present_name: String,
    /// How the cache crosses a run.
    pub strategy: KvStrategy,
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
    /// Past and present tensors of the growing strategy, reused from step to step.
    staging: [Staging; 2],
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
            staging: [Staging::default(), Staging::default()],
            load_seconds: 0.0,
        })
    }

    /// The model's conventions.
    pub fn io(&self) -> &DecoderIo {
        &self.io
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
        let mut logits = self.run(pool, slot, &[past], n, input_ids)?;
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
        self.run(pool, 0, &pasts, 1, input_ids)
    }

    /// Runs `seq` new tokens per row for the rows in slots `first_slot..first_slot + pasts.len()`,
    /// row `i` having `pasts[i]` positions in its cache, and returns the logits the model gives.
    fn run(
        &mut self,
        pool: &mut KvPool,
        first_slot: usize,
        pasts: &[usize],
        seq: usize,
        input_ids: Vec<i64>,
    ) -> Result<Vec<f32>, DecoderError> {
        let batch = pasts.len();
        let longest = pasts.iter().copied().max().unwrap_or(0);
        let growing = self.io.strategy == KvStrategy::Growing;
        // In place, row `i`'s new positions go right after its own past; growing, the past tensor
        // is `longest` long and the new positions come after it for every row.
        let total = longest + seq;
        let mut mask = vec![0i64; batch * total];
        for (i, &past) in pasts.iter().enumerate() {
            let row = &mut mask[i * total..(i + 1) * total];
            if growing {
                row[..past].fill(1);
                row[longest..].fill(1);
            } else {
                row[..past + seq].fill(1);
            }
        }
        let positions: Vec<i64> = pasts
            .iter()
            .flat_map(|&p| (p..p + seq).map(|x| x as i64))
            .collect();
        if growing {
            self.gather(pool, first_slot, pasts, longest, seq);
        }
        let io = &self.io;
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
            Tensor::from_array(([batch, total], mask))
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
        let dims = |len: usize| {
            Shape::new([
                batch as i64,
                io.kv.kv_heads as i64,
                len as i64,
                io.kv.head_dim as i64,
            ])
        };
        let (past_len, present_len) = if growing {
            (longest, total)
        } else {
            (pool.capacity(), pool.capacity())
        };
        let per_tensor =
            |len: usize| batch * io.kv.kv_heads * len * io.kv.head_dim * io.kv.dtype.size();
        let (past_stage, present_stage) = self.staging.split_at_mut(1);
        let mut past_views = Vec::with_capacity(io.kv.layers * 2);
        let mut outputs: Vec<(CString, KvView<'_>)> = Vec::with_capacity(io.kv.layers * 2 + 1);
        for layer in 0..io.kv.layers {
            for (k, kv) in ["key", "value"].iter().enumerate() {
                let index = 2 * layer + k;
                // In place, past input and present output are two tensors over the same pool
                // memory; growing, they are the two staging buffers.
                let (past_ptr, present_ptr) = if growing {
                    (
                        past_stage[0].tensor_ptr(index, per_tensor(past_len)),
                        present_stage[0].tensor_ptr(index, per_tensor(present_len)),
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
            self.scatter(pool, first_slot, pasts, longest, seq);
        }
        Ok(logits)
    }

    /// Copies each row's cached positions into the past staging buffer, laid out as
    /// `[layers * 2][rows, kv_heads, longest, head_size]`. Positions past a row's own length are
    /// left as they are (finite values from earlier steps or zeros): the mask hides them.
    fn gather(
        &mut self,
        pool: &KvPool,
        first_slot: usize,
        pasts: &[usize],
        longest: usize,
        seq: usize,
    ) {
        let kv = self.io.kv;
        let es = kv.dtype.size();
        let row_bytes = kv.head_dim * es;
        let batch = pasts.len();
        let tensor = batch * kv.kv_heads * longest * row_bytes;
        let stage = &mut self.staging[0];
        stage.reserve(kv.layers * 2, tensor);
        // The present buffer too, so that it is sized before pointers into it are taken.
        self.staging[1].reserve(
            kv.layers * 2,
            batch * kv.kv_heads * (longest + seq) * row_bytes,
        );
        let stage = &mut self.staging[0];
        for index in 0..kv.layers * 2 {
            let dst = stage.tensor_mut(index, tensor);
            for (i, &past) in pasts.iter().enumerate() {
                for h in 0..kv.kv_heads {
                    let src = pool.head(index, first_slot + i, h);
                    let at = (i * kv.kv_heads + h) * longest * row_bytes;
                    dst[at..at + past * row_bytes].copy_from_slice(&src[..past * row_bytes]);
                }
            }
        }
    }

    /// Copies the `seq` new positions of each row from the present staging buffer (laid out as
    /// `[layers * 2][rows, kv_heads, longest + seq, head_size]`) into the row's slot.
    fn scatter(
        &mut self,
        pool: &mut KvPool,
        first_slot: usize,
        pasts: &[usize],
        longest: usize,
        seq: usize,
    ) {
        let kv = self.io.kv;
        let es = kv.dtype.size();
        let row_bytes = kv.head_dim * es;
        let total = longest + seq;
        let tensor = pasts.len() * kv.kv_heads * total * row_bytes;
        let stage = &mut self.staging[1];
        for index in 0..kv.layers * 2 {
            let src = stage.tensor_mut(index, tensor);
            for (i, &past) in pasts.iter().enumerate() {
                for h in 0..kv.kv_heads {
                    let at = ((i * kv.kv_heads + h) * total + longest) * row_bytes;
                    let dst = pool.head_mut(index, first_slot + i, h);
                    dst[past * row_bytes..(past + seq) * row_bytes]
                        .copy_from_slice(&src[at..at + seq * row_bytes]);
                }
            }
        }
    }
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

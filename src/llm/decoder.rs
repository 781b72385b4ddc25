//! One decoder-only ONNX model in an ONNX Runtime session, driven step by step over a [`KvPool`].
//!
//! [`Decoder`] discovers the model's conventions from the session's own input and output metadata
//! (Hugging Face / ONNX Runtime GenAI names): the number of layers from the `past_key_values.*`
//! inputs, the KV head count, head size and element type from their shapes, whether
//! `position_ids`, `attention_mask` or `use_cache_branch` exist, and whether `logits` holds every
//! position or only the last. It runs two kinds of steps: a prefill piece for one sequence, and a
//! decode step for many sequences at once. Caches are bound as both past input and present output
//! (GroupQueryAttention writes new positions in place), so no cache is ever copied.

use std::ffi::CString;
use std::path::Path;
use std::time::Instant;

use ort::AsPointer;
use ort::memory::MemoryInfo;
use ort::session::Session;
use ort::session::builder::{GraphOptimizationLevel, PrepackedWeights};
use ort::value::{Shape, Tensor, TensorElementType, TensorRefMut, ValueType};
use thiserror::Error;

use super::device::Device;
use super::kv::{KvDtype, KvPool, KvShape};

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
pub struct Decoder {
    session: Session,
    io: DecoderIo,
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

impl Decoder {
    /// Creates the session for `model` (a `.onnx` file; external data resolves beside it).
    pub fn load(model: &Path, settings: &SessionSettings) -> Result<Decoder, DecoderError> {
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
        builder = super::device::apply(builder, settings.device)?;
        let session = builder.commit_from_file(model).map_err(|e| load_err(&e))?;
        let io = discover(&session).map_err(|reason| DecoderError::Unsupported {
            path: model.display().to_string(),
            reason,
        })?;
        Ok(Decoder {
            session,
            io,
            load_seconds: start.elapsed().as_secs_f64(),
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
        let mask = vec![1i64; past + n];
        let positions: Vec<i64> = (past..past + n).map(|p| p as i64).collect();
        let mut logits = self.run(pool, slot, 1, n, input_ids, mask, past + n, positions)?;
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
        let b = rows.len();
        let total = rows.iter().map(|r| r.past + 1).max().unwrap_or(1);
        let input_ids: Vec<i64> = rows.iter().map(|r| r.token as i64).collect();
        let mut mask = vec![0i64; b * total];
        for (i, r) in rows.iter().enumerate() {
            mask[i * total..i * total + r.past + 1].fill(1);
        }
        let positions: Vec<i64> = rows.iter().map(|r| r.past as i64).collect();
        self.run(pool, 0, b, 1, input_ids, mask, total, positions)
    }

    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        pool: &mut KvPool,
        first_slot: usize,
        batch: usize,
        seq: usize,
        input_ids: Vec<i64>,
        mask: Vec<i64>,
        total: usize,
        positions: Vec<i64>,
    ) -> Result<Vec<f32>, DecoderError> {
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
        let shape = Shape::new([
            batch as i64,
            io.kv.kv_heads as i64,
            pool.capacity() as i64,
            io.kv.head_dim as i64,
        ]);
        // Past inputs and present outputs are two tensors over the same pool memory:
        // GroupQueryAttention appends the new positions in place.
        let mut past_views = Vec::with_capacity(io.kv.layers * 2);
        let mut outputs: Vec<(CString, KvView<'_>)> = Vec::with_capacity(io.kv.layers * 2 + 1);
        for layer in 0..io.kv.layers {
            for (k, kv) in ["key", "value"].iter().enumerate() {
                let ptr = pool.slot_ptr(2 * layer + k, first_slot);
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
                    kv_view(io.kv.dtype, ptr, shape.clone())?,
                ));
                outputs.push((
                    name(&io.present_name),
                    kv_view(io.kv.dtype, ptr, shape.clone())?,
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
        Ok(logits)
    }
}

/// Turns an `OrtStatus` into a result, releasing it.
fn check_status(status: ort::sys::OrtStatusPtr) -> Result<(), DecoderError> {
    status_result(status).map_err(DecoderError::Run)
}

/// Turns an `OrtStatus` returned by the C API into `Ok` or its message, releasing it.
pub(crate) fn status_result(status: ort::sys::OrtStatusPtr) -> Result<(), String> {
    if status.0.is_null() {
        return Ok(());
    }
    // SAFETY: a non-null status from the API; its message is a C string owned by the status,
    // copied before the status is released.
    let msg = unsafe {
        let api = ort::api();
        let p = (api.GetErrorMessage)(status.0);
        let m = if p.is_null() {
            "unknown error".to_string()
        } else {
            std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
        };
        (api.ReleaseStatus)(status.0);
        m
    };
    Err(msg)
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

/// Reads the decoder conventions off the session's inputs and outputs.
fn discover(session: &Session) -> Result<DecoderIo, String> {
    let inputs = session.inputs();
    let outputs = session.outputs();
    let has_in = |n: &str| inputs.iter().any(|i| i.name() == n);
    for required in ["input_ids", "attention_mask"] {
        if !has_in(required) {
            return Err(format!("it has no `{required}` input"));
        }
    }
    let (past_name, present_name) = if has_in("past_key_values.0.key") {
        ("past_key_values.{}.{kv}", "present.{}.{kv}")
    } else if has_in("past_key_values.0.decoder.key") {
        ("past_key_values.{}.decoder.{kv}", "present.{}.decoder.{kv}")
    } else {
        return Err("it has no `past_key_values.0.key` input (a decoder with a KV cache)".into());
    };
    let layers = (0..)
        .take_while(|l| {
            has_in(
                &past_name
                    .replace("{}", &l.to_string())
                    .replace("{kv}", "key"),
            )
        })
        .count();
    let first = inputs
        .iter()
        .find(|i| i.name() == past_name.replace("{}", "0").replace("{kv}", "key"))
        .expect("checked above");
    let (dtype, shape) = match first.dtype() {
        ValueType::Tensor { ty, shape, .. } => (*ty, shape.clone()),
        other => return Err(format!("its cache input is not a tensor: {other:?}")),
    };
    let dtype = match dtype {
        TensorElementType::Float32 => KvDtype::F32,
        TensorElementType::Float16 => KvDtype::F16,
        other => {
            return Err(format!(
                "its cache element type {other:?} is not float32 or float16"
            ));
        }
    };
    if shape.len() != 4 || shape[1] <= 0 || shape[3] <= 0 {
        return Err(format!(
            "its cache input shape {shape:?} is not [batch, kv_heads, past, head_dim] with fixed heads and head size"
        ));
    }
    let logits = outputs
        .iter()
        .find(|o| o.name() == "logits")
        .ok_or("it has no `logits` output")?;
    let lshape = match logits.dtype() {
        ValueType::Tensor { shape, .. } => shape.clone(),
        _ => return Err("`logits` is not a tensor".into()),
    };
    if lshape.len() != 3 || lshape[2] <= 0 {
        return Err(format!(
            "`logits` shape {lshape:?} is not [batch, sequence, vocab]"
        ));
    }
    Ok(DecoderIo {
        kv: KvShape {
            layers,
            kv_heads: shape[1] as usize,
            head_dim: shape[3] as usize,
            dtype,
        },
        vocab: lshape[2] as usize,
        all_logits: lshape[1] != 1,
        position_ids: has_in("position_ids"),
        use_cache_branch: has_in("use_cache_branch"),
        past_name: past_name.into(),
        present_name: present_name.into(),
    })
}

/// Times one prefill of `ids` with plain ONNX Runtime calls: a fresh session, an empty past and
/// outputs allocated by ONNX Runtime (no cache pool, no engine). Returns the seconds of the run,
/// excluding the session's creation. This is the baseline `isg bench` compares the engine with.
pub fn plain_prefill_seconds(
    model: &Path,
    ids: &[u32],
    settings: &SessionSettings,
) -> Result<f64, DecoderError> {
    let mut dec = Decoder::load(model, settings)?;
    let io = dec.io.clone();
    let n = ids.len();
    let mut inputs: Vec<(String, ort::value::DynValue)> = Vec::new();
    let t = |e: ort::Error| run_err(e);
    inputs.push((
        "input_ids".into(),
        Tensor::from_array((
            [1usize, n],
            ids.iter().map(|&i| i as i64).collect::<Vec<_>>(),
        ))
        .map_err(t)?
        .into_dyn(),
    ));
    inputs.push((
        "attention_mask".into(),
        Tensor::from_array(([1usize, n], vec![1i64; n]))
            .map_err(t)?
            .into_dyn(),
    ));
    if io.position_ids {
        inputs.push((
            "position_ids".into(),
            Tensor::from_array(([1usize, n], (0..n as i64).collect::<Vec<_>>()))
                .map_err(t)?
                .into_dyn(),
        ));
    }
    if io.use_cache_branch {
        inputs.push((
            "use_cache_branch".into(),
            Tensor::from_array(([1usize], vec![false]))
                .map_err(t)?
                .into_dyn(),
        ));
    }
    let shape = [1usize, io.kv.kv_heads, 0, io.kv.head_dim];
    for layer in 0..io.kv.layers {
        for kv in ["key", "value"] {
            let name = io
                .past_name
                .replace("{}", &layer.to_string())
                .replace("{kv}", kv);
            let v = match io.kv.dtype {
                KvDtype::F32 => Tensor::from_array((shape, Vec::<f32>::new()))
                    .map_err(t)?
                    .into_dyn(),
                KvDtype::F16 => Tensor::from_array((shape, Vec::<half::f16>::new()))
                    .map_err(t)?
                    .into_dyn(),
            };
            inputs.push((name, v));
        }
    }
    let start = Instant::now();
    let out = dec.session.run(inputs).map_err(run_err)?;
    let secs = start.elapsed().as_secs_f64();
    drop(out);
    Ok(secs)
}

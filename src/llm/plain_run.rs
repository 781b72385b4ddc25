//! The baseline `isg bench` compares the engine with: one prefill run with plain ONNX Runtime
//! calls on a fresh session (no cache pool, no engine). In flows a model file and prompt ids,
//! out comes the seconds of the run.

use std::path::Path;
use std::time::Instant;

use ort::value::Tensor;

use super::device::Device;
use super::kv::KvDtype;
use super::session_runner::{DecoderError, SessionRunner, SessionSettings};

fn run_err(e: impl std::fmt::Display) -> DecoderError {
    DecoderError::Run(e.to_string())
}

/// Times one prefill of `ids` with plain ONNX Runtime calls: a fresh session, an empty past and
/// outputs allocated by ONNX Runtime (no cache pool, no engine). Returns the seconds of the run,
/// excluding the session's creation. The session has ONNX Runtime's default threads and runs
/// on `device`.
pub fn plain_prefill_seconds(
    model: &Path,
    ids: &[u32],
    device: Device,
) -> Result<f64, DecoderError> {
    let settings = SessionSettings {
        threads: 0,
        device,
        prepacked: None,
    };
    let mut dec = SessionRunner::load(model, &settings)?;
    let io = dec.io().clone();
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

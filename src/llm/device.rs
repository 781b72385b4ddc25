//! Where the model runs: `--device cpu|cuda`.
//!
//! The CPU execution provider is always there. CUDA needs two things: an `isg` built with the
//! `cuda` cargo feature, and an ONNX Runtime library that carries the CUDA execution provider
//! (the `onnxruntime-gpu` build). When either is missing, asking for CUDA is an error that says
//! which one and how to get it; `isg` never falls back to the CPU behind the user's back.

use std::ffi::{CStr, c_char};

use ort::session::builder::SessionBuilder;

use super::ort_status::status_result;
use thiserror::Error;

/// The execution provider a session runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// ONNX Runtime's CPU execution provider.
    #[default]
    Cpu,
    /// NVIDIA GPUs through ONNX Runtime's CUDA execution provider.
    Cuda,
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        })
    }
}

/// ONNX Runtime's name for the CUDA execution provider.
pub const CUDA_PROVIDER: &str = "CUDAExecutionProvider";

/// Whether this binary was built with the `cuda` feature.
pub const BUILT_WITH_CUDA: bool = cfg!(feature = "cuda");

/// Why a device cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DeviceError {
    /// `--device cuda` on a binary built without the `cuda` feature.
    #[error(
        "--device cuda: this isg was built without CUDA support; rebuild it with `cargo build --release --features cuda` (or run with --device cpu)"
    )]
    NotBuilt,
    /// The loaded ONNX Runtime library has no CUDA execution provider.
    #[error(
        "--device cuda: the ONNX Runtime library {library} has no CUDA execution provider (it offers {available}); install the GPU build (`pip install onnxruntime-gpu`) and point --ort-lib or ORT_DYLIB_PATH at its libonnxruntime.so (or run with --device cpu)"
    )]
    NotInLibrary {
        /// The library that was loaded.
        library: String,
        /// The providers it does offer, comma-separated.
        available: String,
    },
    /// ONNX Runtime has the provider but could not start it (no GPU, driver or CUDA libraries).
    #[error(
        "--device cuda: ONNX Runtime could not start the CUDA execution provider: {0} (check `nvidia-smi` and that the CUDA 12 and cuDNN 9 libraries are on LD_LIBRARY_PATH)"
    )]
    Start(String),
    /// Asking ONNX Runtime for its providers failed.
    #[error("could not list ONNX Runtime's execution providers: {0}")]
    Query(String),
}

/// Decides whether `device` can be used, from what the build and the library offer. Pure, so
/// both builds' answers can be checked anywhere.
pub fn check(
    device: Device,
    built_with_cuda: bool,
    library: &str,
    available: &[String],
) -> Result<(), DeviceError> {
    match device {
        Device::Cpu => Ok(()),
        Device::Cuda if !built_with_cuda => Err(DeviceError::NotBuilt),
        Device::Cuda if !available.iter().any(|p| p == CUDA_PROVIDER) => {
            Err(DeviceError::NotInLibrary {
                library: library.to_string(),
                available: if available.is_empty() {
                    "none".into()
                } else {
                    available.join(", ")
                },
            })
        }
        Device::Cuda => Ok(()),
    }
}

/// The execution providers the loaded ONNX Runtime library was built with.
pub fn available_providers() -> Result<Vec<String>, DeviceError> {
    let api = ort::api();
    let (get, release) = (api.GetAvailableProviders, api.ReleaseAvailableProviders);
    let mut list: *mut *mut c_char = std::ptr::null_mut();
    let mut n: i32 = 0;
    // SAFETY: ONNX Runtime fills `list` with `n` NUL-terminated strings that stay valid until
    // ReleaseAvailableProviders, which is called below on the same pointer and count.
    unsafe {
        status_result(get(&mut list, &mut n)).map_err(DeviceError::Query)?;
        let mut out = Vec::with_capacity(n.max(0) as usize);
        for i in 0..n.max(0) as usize {
            let p = *list.add(i);
            if !p.is_null() {
                out.push(CStr::from_ptr(p).to_string_lossy().into_owned());
            }
        }
        let _ = status_result(release(list, n));
        Ok(out)
    }
}

/// Checks `device` against this build and the loaded library, then registers its execution
/// provider on `builder` so that a failure to start it is an error, not a silent CPU run.
pub fn apply(builder: SessionBuilder, device: Device) -> Result<SessionBuilder, DeviceError> {
    if device == Device::Cpu {
        return Ok(builder);
    }
    ensure(device)?;
    register_cuda(builder)
}

/// Checks `device` against this build and the loaded ONNX Runtime library, so a run that cannot
/// use it stops before any model is prepared.
pub fn ensure(device: Device) -> Result<(), DeviceError> {
    if device == Device::Cpu {
        return Ok(());
    }
    let library = crate::llm::runtime::loaded()
        .map(|rt| rt.library.display().to_string())
        .unwrap_or_else(|| "(not loaded)".into());
    let available = available_providers()?;
    check(device, BUILT_WITH_CUDA, &library, &available)
}

#[cfg(feature = "cuda")]
fn register_cuda(builder: SessionBuilder) -> Result<SessionBuilder, DeviceError> {
    builder
        .with_execution_providers([ort::ep::CUDA::default().build().error_on_failure()])
        .map_err(|e| DeviceError::Start(e.to_string()))
}

#[cfg(not(feature = "cuda"))]
fn register_cuda(_builder: SessionBuilder) -> Result<SessionBuilder, DeviceError> {
    Err(DeviceError::NotBuilt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cpu_is_always_usable() {
        assert_eq!(check(Device::Cpu, false, "lib", &[]), Ok(()));
        assert_eq!(check(Device::Cpu, true, "lib", &[]), Ok(()));
    }

    #[test]
    fn cuda_needs_the_feature_first() {
        let gpu_lib = names(&["CUDAExecutionProvider", "CPUExecutionProvider"]);
        assert_eq!(
            check(Device::Cuda, false, "lib", &gpu_lib),
            Err(DeviceError::NotBuilt)
        );
        let msg = DeviceError::NotBuilt.to_string();
        assert!(msg.contains("--features cuda"), "{msg}");
    }

    #[test]
    fn cuda_needs_the_provider_in_the_library() {
        let cpu_lib = names(&["CPUExecutionProvider"]);
        let err = check(Device::Cuda, true, "/x/libonnxruntime.so", &cpu_lib).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/x/libonnxruntime.so"), "{msg}");
        assert!(msg.contains("offers CPUExecutionProvider"), "{msg}");
        assert!(msg.contains("onnxruntime-gpu"), "{msg}");
        let gpu_lib = names(&["CUDAExecutionProvider", "CPUExecutionProvider"]);
        assert_eq!(check(Device::Cuda, true, "lib", &gpu_lib), Ok(()));
    }
}

//! ONNX Runtime's C API reports failures as `OrtStatus` pointers: [`status_result`] turns one
//! into `Ok` or its message and releases it. Used by the calls `ort` does not wrap (I/O binding
//! of pool memory, the list of execution providers).

/// Turns an `OrtStatus` returned by the C API into `Ok` or its message, releasing it.
pub(super) fn status_result(status: ort::sys::OrtStatusPtr) -> Result<(), String> {
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

//! Finding and loading the ONNX Runtime shared library at run time.
//!
//! The library is searched in a fixed order ([`candidates`]): an explicit path (`--ort-lib`),
//! `ORT_DYLIB_PATH`, isg's cache directory, the executable's directory, an installed
//! `onnxruntime` Python package, and the system library path. [`ensure`] loads the first one that
//! exists and creates the process-wide ONNX Runtime environment that every session uses; it never
//! downloads anything (fetching the library is the job of `isg setup`, in the `provision` module).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use thiserror::Error;

/// File name prefix of the ONNX Runtime library on this platform.
const LIB_STEM: &str = "libonnxruntime.so";

/// The command that installs ONNX Runtime into the cache.
pub const FIX_COMMAND: &str = "isg setup";

/// What was loaded: where from and which version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuntimeInfo {
    /// Path of the shared library that was loaded.
    pub library: PathBuf,
    /// Which search step found it (`--ort-lib`, `ORT_DYLIB_PATH`, `cache`, ...).
    pub found_by: String,
    /// ONNX Runtime version, e.g. `1.32.0`.
    pub version: String,
    /// The process-wide environment sessions are created in.
    #[serde(skip)]
    pub environment: ort::environment::Environment,
}

/// One place that was searched and what was found there.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Tried {
    /// Search step name.
    pub step: String,
    /// Path or pattern looked at.
    pub place: String,
    /// Why it was not used.
    pub outcome: String,
}

/// Why ONNX Runtime could not be loaded.
#[derive(Debug, Error)]
pub enum RuntimeError {
    /// No library anywhere.
    #[error("ONNX Runtime library not found; looked in: {}; fix: run `{FIX_COMMAND}` (downloads the onnxruntime wheel with pip into the cache) or set ORT_DYLIB_PATH to libonnxruntime.so", render_tried(.tried))]
    NotFound {
        /// Every place that was searched.
        tried: Vec<Tried>,
    },
    /// A library was found but did not load.
    #[error("ONNX Runtime library {} did not load: {message}; fix: point ORT_DYLIB_PATH at a libonnxruntime.so of version 1.31 or newer, or run `{FIX_COMMAND}`", .path.display())]
    Load {
        /// The library.
        path: PathBuf,
        /// The loader's message.
        message: String,
    },
}

/// The places searched, as one line.
pub fn render_tried(tried: &[Tried]) -> String {
    tried
        .iter()
        .map(|t| format!("{} {} ({})", t.step, t.place, t.outcome))
        .collect::<Vec<_>>()
        .join("; ")
}

static LOADED: OnceLock<RuntimeInfo> = OnceLock::new();
static LOADING: Mutex<()> = Mutex::new(());

/// The loaded runtime, if [`ensure`] has succeeded in this process.
pub fn loaded() -> Option<&'static RuntimeInfo> {
    LOADED.get()
}

/// Loads ONNX Runtime once per process and returns what was loaded. `explicit` is `--ort-lib`.
pub fn ensure(explicit: Option<&Path>) -> Result<&'static RuntimeInfo, RuntimeError> {
    if let Some(info) = LOADED.get() {
        return Ok(info);
    }
    let _guard = LOADING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(info) = LOADED.get() {
        return Ok(info);
    }
    let found = locate(explicit)?;
    let info = load(&found.0, &found.1)?;
    Ok(LOADED.get_or_init(|| info))
}

fn load(path: &Path, found_by: &str) -> Result<RuntimeInfo, RuntimeError> {
    let builder = ort::init_from(path).map_err(|e| RuntimeError::Load {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let environment = builder
        .with_name("isg")
        .with_telemetry(false)
        .build()
        .map_err(|e| RuntimeError::Load {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(RuntimeInfo {
        library: path.to_path_buf(),
        found_by: found_by.to_string(),
        version: library_version(path)
            .or_else(|| version_from_build_info(ort::info()))
            .unwrap_or_else(|| "unknown".into()),
        environment,
    })
}

/// Asks the library itself (`OrtGetApiBase()->GetVersionString()`) for its version.
fn library_version(path: &Path) -> Option<String> {
    use std::ffi::{CStr, CString, c_char};
    #[repr(C)]
    struct ApiBase {
        get_api: unsafe extern "C" fn(u32) -> *const std::ffi::c_void,
        get_version_string: unsafe extern "C" fn() -> *const c_char,
    }
    let c_path = CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: the library was already loaded by ort from the same path, so dlopen only bumps its
    // reference count; OrtGetApiBase has this signature in every ONNX Runtime release.
    unsafe {
        let handle = libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD);
        if handle.is_null() {
            return None;
        }
        let sym = libc::dlsym(handle, c"OrtGetApiBase".as_ptr());
        if sym.is_null() {
            return None;
        }
        let get_base: unsafe extern "C" fn() -> *const ApiBase = std::mem::transmute(sym);
        let base = get_base();
        if base.is_null() {
            return None;
        }
        let v = ((*base).get_version_string)();
        (!v.is_null()).then(|| CStr::from_ptr(v).to_string_lossy().into_owned())
    }
}

/// Extracts `1.32.0` from ONNX Runtime's build string (`git-branch=rel-1.32.0, ...`).
fn version_from_build_info(info: &str) -> Option<String> {
    let start = info.find("rel-")? + 4;
    let rest = &info[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    (end > 0).then(|| rest[..end].to_string())
}

/// Searches every place in order and returns the first library that exists, with its step name.
pub fn locate(explicit: Option<&Path>) -> Result<(PathBuf, String), RuntimeError> {
    let mut tried = Vec::new();
    for (step, place) in candidates(explicit) {
        match place {
            Place::File(p) => {
                if p.is_file() {
                    return Ok((p, step));
                }
                tried.push(Tried {
                    step,
                    place: p.display().to_string(),
                    outcome: "no such file".into(),
                });
            }
            Place::Dir(d) => match find_in_dir(&d) {
                Some(p) => return Ok((p, step)),
                None => tried.push(Tried {
                    step,
                    place: d.join(format!("{LIB_STEM}*")).display().to_string(),
                    outcome: "not there".into(),
                }),
            },
            Place::Missing(what) => tried.push(Tried {
                step,
                place: what,
                outcome: "not set".into(),
            }),
        }
    }
    Err(RuntimeError::NotFound { tried })
}

/// A place to look: a specific file, a directory to scan, or a step that did not apply.
enum Place {
    File(PathBuf),
    Dir(PathBuf),
    Missing(String),
}

/// The search order, as (step name, place) pairs.
fn candidates(explicit: Option<&Path>) -> Vec<(String, Place)> {
    let mut out = Vec::new();
    match explicit {
        Some(p) => out.push(("--ort-lib".into(), Place::File(p.to_path_buf()))),
        None => out.push(("--ort-lib".into(), Place::Missing("(flag)".into()))),
    }
    match std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()) {
        Some(p) => out.push(("ORT_DYLIB_PATH".into(), Place::File(PathBuf::from(p)))),
        None => out.push((
            "ORT_DYLIB_PATH".into(),
            Place::Missing("(environment)".into()),
        )),
    }
    out.push((
        "cache".into(),
        Place::Dir(crate::home::runtime_dir(&crate::home::cache_dir())),
    ));
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        out.push(("executable dir".into(), Place::Dir(dir)));
    }
    match python_package_dir() {
        Some(d) => out.push(("python onnxruntime".into(), Place::Dir(d))),
        None => out.push((
            "python onnxruntime".into(),
            Place::Missing("(python3 -c 'import onnxruntime')".into()),
        )),
    }
    for dir in system_lib_dirs() {
        out.push(("system".into(), Place::Dir(dir)));
    }
    out
}

/// Picks `libonnxruntime.so`, or the highest-versioned `libonnxruntime.so.X.Y.Z`, in a directory.
pub fn find_in_dir(dir: &Path) -> Option<PathBuf> {
    let mut best: Option<PathBuf> = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == LIB_STEM || name.starts_with(&format!("{LIB_STEM}.")) {
            let p = entry.path();
            if p.is_file() && best.as_ref().is_none_or(|b| p.file_name() > b.file_name()) {
                best = Some(p);
            }
        }
    }
    best
}

/// `.../site-packages/onnxruntime/capi` of an installed Python package, if any.
fn python_package_dir() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import importlib.util,os;s=importlib.util.find_spec('onnxruntime');print(os.path.join(os.path.dirname(s.origin),'capi') if s and s.origin else '')",
        ])
        .output()
        .ok()?;
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!s.is_empty()).then(|| PathBuf::from(s))
}

/// Directories of the system library path: LD_LIBRARY_PATH, then the usual ones.
fn system_lib_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var("LD_LIBRARY_PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect();
    for d in [
        "/usr/local/lib",
        "/usr/lib",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib64",
    ] {
        dirs.push(PathBuf::from(d));
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_read_from_build_info() {
        assert_eq!(
            version_from_build_info("ORT Build Info: git-branch=rel-1.32.0, git-commit-id=abc"),
            Some("1.32.0".into())
        );
        assert_eq!(version_from_build_info("no version here"), None);
    }

    #[test]
    fn missing_library_lists_every_place() {
        let err = locate(Some(Path::new("/nonexistent/libonnxruntime.so"))).err();
        // Another library may exist on this machine; only check the explicit step when not found.
        if let Some(RuntimeError::NotFound { tried }) = err {
            assert_eq!(tried[0].step, "--ort-lib");
            assert!(tried.iter().any(|t| t.step == "cache"));
        }
    }
}

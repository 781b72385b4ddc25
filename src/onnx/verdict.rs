//! What can be wrong with a model, one line each: [`Verdict`] names the file, the cause and the
//! fix; [`crate::onnx::InspectError`] carries every verdict found (and the report, when the
//! graph could be read) to callers that refuse to go on.

use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

/// One problem that stops ONNX Runtime (or isg) from using a model.
///
/// Every variant renders as one line naming the file, the cause and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// The path given does not exist.
    #[error("{}: no such file or folder: pass a .onnx file or a model folder", .path.display())]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// A file or folder could not be read.
    #[error("{}: cannot read: {cause}: check the path and its permissions", .path.display())]
    Unreadable {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's message.
        cause: String,
    },
    /// A folder without any `.onnx` file where models are kept.
    #[error("{}: no .onnx model in this folder (looked for *.onnx and onnx/*.onnx): download the model's .onnx file into it, or convert a GGUF with `isg convert`", .folder.display())]
    NoModel {
        /// The folder.
        folder: PathBuf,
    },
    /// Several `.onnx` candidates and nothing to choose between them.
    #[error("{}: several models and no choice: {}: pick one with --variant NAME (e.g. --variant {})", .folder.display(), .candidates.join(", "), .candidates.first().map(String::as_str).unwrap_or("model"))]
    AmbiguousModel {
        /// The folder.
        folder: PathBuf,
        /// Candidate names usable with `--variant` (paths relative to the folder, no `.onnx`).
        candidates: Vec<String>,
    },
    /// `--variant` matched no candidate.
    #[error("{}: no model named {variant:?}; candidates: {}: pass one of them to --variant", .folder.display(), if .candidates.is_empty() { "none".to_string() } else { .candidates.join(", ") })]
    UnknownVariant {
        /// The folder.
        folder: PathBuf,
        /// What was asked for.
        variant: String,
        /// Candidate names usable with `--variant`.
        candidates: Vec<String>,
    },
    /// `--variant` was given with a `.onnx` file instead of a folder.
    #[error("{}: --variant {variant:?} only applies to a model folder: pass the folder, or drop --variant", .path.display())]
    VariantWithFile {
        /// The `.onnx` file given.
        path: PathBuf,
        /// The variant asked for.
        variant: String,
    },
    /// `genai_config.json` names a decoder file that is not there.
    #[error("{}: model.decoder.filename is {filename:?} but {} does not exist: download it, or fix genai_config.json", .config.display(), .looked_at.display())]
    GenaiFileMissing {
        /// The `genai_config.json`.
        config: PathBuf,
        /// The file name it gives.
        filename: String,
        /// Where the file was looked for.
        looked_at: PathBuf,
    },
    /// The `.onnx` file is a Git LFS pointer, not the model.
    #[error("{}: is a Git LFS pointer ({size} bytes), not the model: run `git lfs pull` in the repository or download the file itself", .path.display())]
    LfsPointer {
        /// The pointer file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// The `.onnx` file does not decode as an ONNX model.
    #[error("{}: not a readable ONNX model ({cause}): the file is corrupt or truncated; download or export it again", .path.display())]
    CorruptModel {
        /// The `.onnx` file.
        path: PathBuf,
        /// What the decoder said.
        cause: String,
    },
    /// An external data file that does not exist.
    #[error("{}: external data file {location:?} is missing (looked for {}; {tensors} initializers need it): download {} next to {}", .model.display(), .looked_at.display(), file_name(.looked_at), file_name(.model))]
    MissingDataFile {
        /// The `.onnx` file.
        model: PathBuf,
        /// The location as written in the model.
        location: String,
        /// Where it was looked for.
        looked_at: PathBuf,
        /// How many tensors reference it.
        tensors: usize,
    },
    /// An external data file shorter than the tensors stored in it require.
    #[error("{}: initializer {tensor:?} needs bytes up to {} but the file has {}: incomplete download? download {} again", .data_file.display(), thousands(*.needs), thousands(*.has), file_name(.data_file))]
    ShortDataFile {
        /// The data file.
        data_file: PathBuf,
        /// The first tensor (in offset order) that does not fit.
        tensor: String,
        /// End offset that tensor needs.
        needs: u64,
        /// The file's size.
        has: u64,
    },
    /// A location ONNX Runtime refuses: absolute, or climbing out of the model's folder.
    #[error("{}: external data location {location:?} {reason}; ONNX Runtime 1.24+ rejects it: put the data file in the model's folder and save the model again with a plain relative location", .model.display())]
    UnsafeLocation {
        /// The `.onnx` file.
        model: PathBuf,
        /// The location as written.
        location: String,
        /// "is an absolute path" or "contains `..`".
        reason: String,
    },
    /// An external data file that is a symbolic link to a file outside the model's folder.
    #[error("{}: external data file is a symbolic link to {}, outside the model's folder {}; ONNX Runtime 1.24+ rejects external data that resolves outside the model's folder: replace the link with the file it points to (cp --remove-destination {} {})", .data_file.display(), .target.display(), .allowed.display(), .target.display(), .data_file.display())]
    SymlinkedDataFile {
        /// The data file (the link).
        data_file: PathBuf,
        /// Where the link resolves.
        target: PathBuf,
        /// The folder ONNX Runtime allows: the model file's real folder.
        allowed: PathBuf,
    },
    /// An external tensor without a `location` entry.
    #[error("{}: initializer {tensor:?} is marked EXTERNAL but has no location: export the model again", .model.display())]
    NoLocation {
        /// The `.onnx` file.
        model: PathBuf,
        /// The tensor.
        tensor: String,
    },
    /// An external tensor whose `length` entry disagrees with its shape and type.
    #[error("{}: initializer {tensor:?} has external length {} but its shape and type need {} bytes; ONNX Runtime rejects the size mismatch: export the model again", .model.display(), thousands(*.length), thousands(*.expected))]
    LengthMismatch {
        /// The `.onnx` file.
        model: PathBuf,
        /// The tensor.
        tensor: String,
        /// The `length` entry.
        length: u64,
        /// Bytes its dims and element type need.
        expected: u64,
    },
    /// A model folder without `tokenizer.json`.
    #[error("{}: tokenizer.json is missing: download it next to the model's config.json", .folder.display())]
    MissingTokenizer {
        /// The folder.
        folder: PathBuf,
    },
    /// A model folder without `config.json` or `genai_config.json`.
    #[error("{}: neither config.json nor genai_config.json is present: download the model's config.json", .folder.display())]
    MissingConfig {
        /// The folder.
        folder: PathBuf,
    },
    /// A JSON file of the folder that does not parse.
    #[error("{}: not valid JSON ({cause}): download it again", .path.display())]
    BadJson {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        cause: String,
    },
    /// The number of `past_key_values.{i}.key` inputs differs from the configured layer count.
    #[error("{}: the graph has {found} past_key_values.*.key inputs but {} says {key} = {configured}: the config belongs to another model; download the matching one", .model.display(), .config.display())]
    LayerCountMismatch {
        /// The `.onnx` file.
        model: PathBuf,
        /// Past-key inputs in the graph.
        found: usize,
        /// The config file.
        config: PathBuf,
        /// The key read (`num_hidden_layers`, `model.decoder.num_hidden_layers`).
        key: String,
        /// Its value.
        configured: u64,
    },
}

/// Formats `n` with comma thousands separators: `1403123712` → `1,403,123,712`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(531_000_000), "531,000,000");
        assert_eq!(thousands(1_403_123_712), "1,403,123,712");
    }

    #[test]
    fn short_data_file_reads_as_one_line() {
        let v = Verdict::ShortDataFile {
            data_file: "m/model.onnx_data".into(),
            tensor: "w".into(),
            needs: 1_403_123_712,
            has: 531_000_000,
        };
        assert_eq!(
            v.to_string(),
            "m/model.onnx_data: initializer \"w\" needs bytes up to 1,403,123,712 but the file has \
             531,000,000: incomplete download? download model.onnx_data again"
        );
    }
}

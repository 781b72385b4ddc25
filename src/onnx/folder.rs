//! Model folders: picking the `.onnx` file out of a hub layout ([`locate_model`]) and checking
//! the files around it (`tokenizer.json`, `config.json`, `genai_config.json`, layer count).
//!
//! Layouts understood: `model.onnx` at the top (isg's own and most exporters), `onnx/model*.onnx`
//! (onnx-community repositories, one file per precision), and ONNX Runtime GenAI folders, whose
//! `genai_config.json` names the decoder under `model.decoder.filename`.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::report::FolderReport;
use super::verdict::Verdict;

/// Where a model's `.onnx` file is and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelLocation {
    /// The `.onnx` file.
    pub onnx: PathBuf,
    /// The folder holding its tokenizer and configs (the folder given, or the file's folder, or
    /// the parent of an `onnx/` folder).
    pub root: PathBuf,
    /// Whether a folder (rather than a file) was given.
    pub from_folder: bool,
    /// Every `.onnx` candidate of the folder as a `--variant` name (empty when a file was given).
    pub candidates: Vec<String>,
    /// Why this file: `file given`, `only candidate`, `--variant`, `genai_config.json`.
    pub chosen_by: String,
}

/// Finds the `.onnx` file of `target`, a `.onnx` file or a model folder.
///
/// In a folder, `variant` picks a candidate by its path relative to the folder without `.onnx`
/// (`model_q4`, `onnx/model_fp16`) or by its file stem; without it, the decoder named by
/// `genai_config.json` wins, else the only candidate; several candidates are an error listing
/// them.
pub fn locate_model(target: &Path, variant: Option<&str>) -> Result<ModelLocation, Verdict> {
    let meta = std::fs::metadata(target).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Verdict::NotFound {
            path: target.to_path_buf(),
        },
        _ => Verdict::Unreadable {
            path: target.to_path_buf(),
            cause: e.to_string(),
        },
    })?;
    if !meta.is_dir() {
        if let Some(v) = variant {
            return Err(Verdict::VariantWithFile {
                path: target.to_path_buf(),
                variant: v.to_string(),
            });
        }
        return Ok(ModelLocation {
            onnx: target.to_path_buf(),
            root: root_of_file(target),
            from_folder: false,
            candidates: Vec::new(),
            chosen_by: "file given".into(),
        });
    }
    let folder = target;
    let candidates = candidates(folder)?;
    let located = |name: &str, chosen_by: &str| ModelLocation {
        onnx: folder.join(format!("{name}.onnx")),
        root: folder.to_path_buf(),
        from_folder: true,
        candidates: candidates.clone(),
        chosen_by: chosen_by.into(),
    };
    if let Some(v) = variant {
        let want = v.strip_suffix(".onnx").unwrap_or(v).trim_end_matches('/');
        let exact: Vec<&String> = candidates.iter().filter(|c| *c == want).collect();
        let by_stem: Vec<&String> = candidates
            .iter()
            .filter(|c| c.rsplit('/').next() == Some(want))
            .collect();
        let pick = match (exact.as_slice(), by_stem.as_slice()) {
            ([one], _) | ([], [one]) => *one,
            ([], []) => {
                return Err(Verdict::UnknownVariant {
                    folder: folder.to_path_buf(),
                    variant: v.to_string(),
                    candidates,
                });
            }
            (_, several) => {
                return Err(Verdict::AmbiguousModel {
                    folder: folder.to_path_buf(),
                    candidates: several.iter().map(|s| s.to_string()).collect(),
                });
            }
        };
        return Ok(located(pick, "--variant"));
    }
    let genai = folder.join("genai_config.json");
    if let Some(name) = read_json(&genai)
        .ok()
        .flatten()
        .and_then(|j| json_str(&j, &["model", "decoder", "filename"]))
    {
        let onnx = folder.join(&name);
        if !onnx.is_file() {
            return Err(Verdict::GenaiFileMissing {
                config: genai,
                filename: name,
                looked_at: onnx,
            });
        }
        return Ok(ModelLocation {
            onnx,
            root: folder.to_path_buf(),
            from_folder: true,
            candidates,
            chosen_by: "genai_config.json".into(),
        });
    }
    match candidates.as_slice() {
        [] => Err(Verdict::NoModel {
            folder: folder.to_path_buf(),
        }),
        [one] => Ok(located(&one.clone(), "only candidate")),
        _ => Err(Verdict::AmbiguousModel {
            folder: folder.to_path_buf(),
            candidates,
        }),
    }
}

/// `.onnx` files at the top of `folder` and in `folder/onnx`, as `--variant` names, sorted.
fn candidates(folder: &Path) -> Result<Vec<String>, Verdict> {
    let mut out = Vec::new();
    for (sub, prefix) in [(folder.to_path_buf(), ""), (folder.join("onnx"), "onnx/")] {
        let entries = match std::fs::read_dir(&sub) {
            Ok(e) => e,
            Err(_) if !prefix.is_empty() => continue,
            Err(e) => {
                return Err(Verdict::Unreadable {
                    path: sub,
                    cause: e.to_string(),
                });
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // `metadata` follows links: hub caches link every file into the snapshot folder.
            let is_file = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file());
            if let (Some(stem), true) = (name.strip_suffix(".onnx"), is_file) {
                out.push(format!("{prefix}{stem}"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The folder whose configs apply to a `.onnx` file: its own, or the parent of an `onnx/` folder.
fn root_of_file(file: &Path) -> PathBuf {
    let dir = super::external::model_dir(file);
    if dir.file_name().is_some_and(|n| n == "onnx")
        && let Some(parent) = dir.parent().filter(|p| has_model_files(p))
    {
        return parent.to_path_buf();
    }
    dir
}

fn has_model_files(dir: &Path) -> bool {
    ["tokenizer.json", "config.json", "genai_config.json"]
        .iter()
        .any(|f| dir.join(f).is_file())
}

/// Checks the files around the model in `loc.root`: tokenizer and configs present and valid,
/// and as many `past_key_values.{i}.key` inputs as configured layers. For a `.onnx` file given
/// alone, only folders that hold at least one of those files are checked.
pub fn check_folder(
    loc: &ModelLocation,
    input_names: &[&str],
) -> (Option<FolderReport>, Vec<Verdict>) {
    let root = &loc.root;
    let mut verdicts = Vec::new();
    if !loc.from_folder && !has_model_files(root) {
        return (None, verdicts);
    }
    let mut report = FolderReport {
        folder: root.clone(),
        candidates: loc.candidates.clone(),
        chosen_by: loc.chosen_by.clone(),
        ..FolderReport::default()
    };
    let tokenizer = root.join("tokenizer.json");
    match File::open(&tokenizer) {
        Ok(f) => {
            // Validates the syntax without building the (large) tree.
            match serde_json::from_reader::<_, serde::de::IgnoredAny>(BufReader::new(f)) {
                Ok(_) => report.tokenizer_json = true,
                Err(e) => verdicts.push(bad_json(&tokenizer, e)),
            }
        }
        Err(_) => verdicts.push(Verdict::MissingTokenizer {
            folder: root.clone(),
        }),
    }
    let config_path = root.join("config.json");
    let genai_path = root.join("genai_config.json");
    let config = load_config(&config_path, &mut verdicts);
    let genai = load_config(&genai_path, &mut verdicts);
    report.config_json = config.is_some();
    report.genai_config_json = genai.is_some();
    if !config_path.exists() && !genai_path.exists() {
        verdicts.push(Verdict::MissingConfig {
            folder: root.clone(),
        });
    }

    let template = genai
        .as_ref()
        .and_then(|g| json_str(g, &["model", "decoder", "inputs", "past_key_names"]))
        .unwrap_or_else(|| "past_key_values.%d.key".into());
    let found = count_past_keys(input_names, &template);
    report.past_key_inputs = found;
    let sources = [
        (&config_path, &config, &["num_hidden_layers"][..]),
        (
            &config_path,
            &config,
            &["text_config", "num_hidden_layers"][..],
        ),
        (&config_path, &config, &["n_layer"][..]),
        (
            &genai_path,
            &genai,
            &["model", "decoder", "num_hidden_layers"][..],
        ),
    ];
    let mut seen: Vec<&PathBuf> = Vec::new();
    for (path, json, key) in sources {
        let Some(n) = json.as_ref().and_then(|j| json_u64(j, key)) else {
            continue;
        };
        // One layer count per file: the first key found.
        if seen.contains(&path) {
            continue;
        }
        seen.push(path);
        report.configured_layers.get_or_insert(n);
        // A graph without past inputs is a no-cache export: nothing to compare.
        if found > 0 && found as u64 != n {
            verdicts.push(Verdict::LayerCountMismatch {
                model: loc.onnx.clone(),
                found,
                config: path.clone(),
                key: key.join("."),
                configured: n,
            });
        }
    }
    (Some(report), verdicts)
}

/// Counts inputs named like `template` (`past_key_values.%d.key`) with distinct layer numbers.
fn count_past_keys(names: &[&str], template: &str) -> usize {
    let (prefix, suffix) = template.split_once("%d").unwrap_or((template, ""));
    let mut layers: Vec<u64> = names
        .iter()
        .filter_map(|n| n.strip_prefix(prefix)?.strip_suffix(suffix)?.parse().ok())
        .collect();
    layers.sort_unstable();
    layers.dedup();
    layers.len()
}

fn load_config(path: &Path, verdicts: &mut Vec<Verdict>) -> Option<Value> {
    match read_json(path) {
        Ok(v) => v,
        Err(v) => {
            verdicts.push(v);
            None
        }
    }
}

/// Parses a JSON file: `Ok(None)` when it does not exist.
fn read_json(path: &Path) -> Result<Option<Value>, Verdict> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Verdict::Unreadable {
                path: path.to_path_buf(),
                cause: e.to_string(),
            });
        }
    };
    serde_json::from_reader(BufReader::new(f))
        .map(Some)
        .map_err(|e| bad_json(path, e))
}

fn bad_json(path: &Path, e: serde_json::Error) -> Verdict {
    Verdict::BadJson {
        path: path.to_path_buf(),
        cause: e.to_string(),
    }
}

fn json_at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |v, k| v.get(k))
}

fn json_str(v: &Value, keys: &[&str]) -> Option<String> {
    json_at(v, keys)?.as_str().map(str::to_string)
}

fn json_u64(v: &Value, keys: &[&str]) -> Option<u64> {
    json_at(v, keys)?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_keys_are_counted_by_layer() {
        let names = [
            "input_ids",
            "past_key_values.0.key",
            "past_key_values.0.value",
            "past_key_values.1.key",
            "past_key_values.10.key",
            "past_key_values.x.key",
        ];
        assert_eq!(count_past_keys(&names, "past_key_values.%d.key"), 3);
        assert_eq!(count_past_keys(&["past.3.k"], "past.%d.k"), 1);
    }
}

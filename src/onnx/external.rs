//! External data accounting: every file the model's tensors point to, where ONNX Runtime will
//! look for it (relative to the model file's folder), how many bytes the tensors need and how
//! many are there. Files are only `stat`ed, never opened.

use std::path::{Path, PathBuf};

use super::graph::ExternalRef;
use super::report::ExternalFile;
use super::verdict::Verdict;

/// ONNX Runtime's marker for tensors whose data is already in memory (not a file).
const ORT_MEM_ADDR: &str = "*/_ORT_MEM_ADDR_/*";

/// Groups the external references by file, checks each file and returns the files with the
/// verdicts found. `model` is the `.onnx` file the references come from.
pub fn check(model: &Path, refs: &[ExternalRef]) -> (Vec<ExternalFile>, Vec<Verdict>) {
    let mut verdicts = Vec::new();
    let mut groups: Vec<(String, Vec<&ExternalRef>)> = Vec::new();
    let mut no_location = None;
    for r in refs {
        if let Some(m) = &r.malformed {
            verdicts.push(Verdict::CorruptModel {
                path: model.to_path_buf(),
                cause: format!(
                    "initializer {:?} has external data {m}, not a number",
                    r.tensor
                ),
            });
        }
        let Some(loc) = &r.location else {
            no_location.get_or_insert_with(|| r.tensor.clone());
            continue;
        };
        match groups.iter_mut().find(|(l, _)| l == loc) {
            Some((_, v)) => v.push(r),
            None => groups.push((loc.clone(), vec![r])),
        }
    }
    if let Some(tensor) = no_location {
        verdicts.push(Verdict::NoLocation {
            model: model.to_path_buf(),
            tensor,
        });
    }
    let dir = model_dir(model);
    let files = groups
        .into_iter()
        .map(|(location, tensors)| check_file(model, &dir, location, tensors, &mut verdicts))
        .collect();
    (files, verdicts)
}

/// The folder ONNX Runtime resolves locations against: the model file's parent.
pub fn model_dir(model: &Path) -> PathBuf {
    match model.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn check_file(
    model: &Path,
    dir: &Path,
    location: String,
    mut tensors: Vec<&ExternalRef>,
    verdicts: &mut Vec<Verdict>,
) -> ExternalFile {
    let bytes_required = tensors.iter().map(|r| r.end()).max().unwrap_or(0);
    let mut file = ExternalFile {
        resolved: dir.join(&location),
        location,
        tensors: tensors.len(),
        bytes_required,
        bytes_present: None,
        status: "ok".into(),
    };
    if file.location == ORT_MEM_ADDR {
        file.status = "in memory".into();
        return file;
    }
    if let Some(m) = tensors
        .iter()
        .find(|r| matches!((r.length, r.expected), (Some(l), Some(e)) if l != e))
    {
        verdicts.push(Verdict::LengthMismatch {
            model: model.to_path_buf(),
            tensor: m.tensor.clone(),
            length: m.length.unwrap_or(0),
            expected: m.expected.unwrap_or(0),
        });
    }
    if let Some(reason) = unsafe_reason(&file.location) {
        verdicts.push(Verdict::UnsafeLocation {
            model: model.to_path_buf(),
            location: file.location.clone(),
            reason: reason.into(),
        });
        file.status = "unsafe location".into();
    }
    match std::fs::symlink_metadata(&file.resolved) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            verdicts.push(Verdict::MissingDataFile {
                model: model.to_path_buf(),
                location: file.location.clone(),
                looked_at: file.resolved.clone(),
                tensors: file.tensors,
            });
            file.status = "missing".into();
            return file;
        }
        Err(e) => {
            verdicts.push(unreadable(&file.resolved, e.to_string()));
            file.status = "unreadable".into();
            return file;
        }
    };
    // A link (the file itself or a folder on its path) may lead outside the model's folder.
    let escaped = (file.status == "ok").then(|| escapes(model, &file.resolved));
    if let Some(Some((target, allowed))) = escaped {
        verdicts.push(Verdict::SymlinkedDataFile {
            data_file: file.resolved.clone(),
            target,
            allowed,
        });
        file.status = "symlink outside folder".into();
    }
    let meta = match std::fs::metadata(&file.resolved) {
        Ok(m) if m.is_file() => m,
        Ok(_) => {
            verdicts.push(unreadable(&file.resolved, "not a regular file".into()));
            file.status = "unreadable".into();
            return file;
        }
        Err(_) => {
            // A dangling symlink: report it as missing, where it was looked for.
            verdicts.push(Verdict::MissingDataFile {
                model: model.to_path_buf(),
                location: file.location.clone(),
                looked_at: file.resolved.clone(),
                tensors: file.tensors,
            });
            file.status = "missing".into();
            return file;
        }
    };
    let has = meta.len();
    file.bytes_present = Some(has);
    if has < bytes_required {
        tensors.sort_by_key(|r| (r.offset, r.end()));
        let first = tensors
            .iter()
            .find(|r| r.end() > has)
            .expect("some tensor ends past the file");
        verdicts.push(Verdict::ShortDataFile {
            data_file: file.resolved.clone(),
            tensor: first.tensor.clone(),
            needs: first.end(),
            has,
        });
        if file.status == "ok" {
            file.status = "short".into();
        }
    }
    file
}

/// Why ONNX Runtime 1.24+ refuses a location on sight, if it does: an absolute path, or `..`
/// components that climb out of the model's folder.
fn unsafe_reason(location: &str) -> Option<&'static str> {
    if Path::new(location).is_absolute() || location.starts_with(['/', '\\']) {
        return Some("is an absolute path");
    }
    let mut depth: i64 = 0;
    for part in location.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        if depth < 0 {
            return Some("climbs out of the model's folder with `..`");
        }
    }
    None
}

/// When `data` (a symbolic link) resolves outside the real folder of `model`, as ONNX Runtime
/// 1.24+ checks: the link's final target and that folder.
fn escapes(model: &Path, data: &Path) -> Option<(PathBuf, PathBuf)> {
    let allowed = std::fs::canonicalize(model).ok()?.parent()?.to_path_buf();
    let target = std::fs::canonicalize(data).ok()?;
    (!target.starts_with(&allowed)).then_some((target, allowed))
}

fn unreadable(path: &Path, cause: String) -> Verdict {
    Verdict::Unreadable {
        path: path.to_path_buf(),
        cause,
    }
}

//! ONNX models without ONNX Runtime: the protobuf types ([`proto`]), a reader that never touches
//! tensor data, external-data accounting, model-folder resolution, and graph building for the
//! converter.
//!
//! The principal type is [`ModelReport`]: a path (a `.onnx` file or a model folder) flows into
//! [`inspect`], which picks the `.onnx` file ([`locate_model`]), memory-maps and decodes its
//! protobuf, walks the graph, `stat`s every external data file and checks the folder's tokenizer
//! and configs; out comes the report, whose `verdicts` list every [`Verdict`] (one line each:
//! file, cause, fix). [`preflight`] is the gate the model loader runs before ONNX Runtime sees a
//! file: the report when nothing is wrong, else an [`InspectError`] holding the verdicts.

mod error;
mod external;
mod folder;
mod graph;
mod read;
mod render;
mod report;
mod verdict;

use std::path::{Path, PathBuf};

pub use error::InspectError;
pub use folder::{ModelLocation, locate_model};
pub use graph::{DEFAULT_DOMAIN, elem_type_name, tensor_bytes};
pub use read::{DecodeFailure, decode_model, read_model};
pub use report::{
    ExternalFile, FolderReport, InitializerSummary, ModelReport, OpCount, Opset, ValueReport,
};
pub use verdict::{Verdict, thousands};

pub mod build;

/// Protobuf types generated at build time from the ONNX schema (`onnx.proto`, IR version 10).
#[allow(clippy::all, missing_docs, rustdoc::all)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
}

/// Describes the model at `target` (a `.onnx` file or a model folder) and runs every check,
/// without loading tensor data.
///
/// `variant` picks one `.onnx` of a folder with several (see [`locate_model`]). The report is
/// returned whenever the graph could be read, with any problems in [`ModelReport::verdicts`];
/// an error means there was no model to describe (no file, no choice, corrupt protobuf).
pub fn inspect(target: &Path, variant: Option<&str>) -> Result<ModelReport, InspectError> {
    let loc = locate_model(target, variant)?;
    inspect_location(&loc)
}

/// Checks that the model at `model_path` (a `.onnx` file or a model folder with one model) will
/// load, before ONNX Runtime is asked to: the same checks as `isg inspect`.
///
/// Returns the report when nothing is wrong; otherwise an [`InspectError`] whose verdicts name
/// each broken file and its fix (missing or short external data, unsafe locations, symlinked
/// data, corrupt protobuf, missing tokenizer or config, layer count mismatch). Reads only the
/// protobuf and file sizes: fast and small even for models with gigabytes of weights.
pub fn preflight(model_path: &Path) -> Result<ModelReport, InspectError> {
    let report = inspect(model_path, None)?;
    if report.verdicts.is_empty() {
        Ok(report)
    } else {
        Err(InspectError {
            verdicts: report.verdicts.clone(),
            report: Some(Box::new(report)),
        })
    }
}

/// The `.onnx` file of `target` (a file, or a folder resolved as [`locate_model`] does).
pub fn locate_model_file(target: &Path, variant: Option<&str>) -> Result<PathBuf, InspectError> {
    Ok(locate_model(target, variant)?.onnx)
}

/// [`inspect`] for a model already located.
pub fn inspect_location(loc: &ModelLocation) -> Result<ModelReport, InspectError> {
    let model = read::read_model(&loc.onnx)?;
    let facts = graph::facts(&model);
    let mut report = ModelReport {
        model_path: loc.onnx.clone(),
        model_bytes: std::fs::metadata(&loc.onnx).map(|m| m.len()).unwrap_or(0),
        producer_name: model.producer_name.clone(),
        producer_version: model.producer_version.clone(),
        ir_version: model.ir_version,
        opsets: facts.opsets,
        inputs: facts.inputs,
        outputs: facts.outputs,
        ops: facts.ops,
        node_count: facts.node_count,
        initializers: facts.initializers,
        ..ModelReport::default()
    };
    if !facts.unimported_domains.is_empty() {
        report.verdicts.push(Verdict::CorruptModel {
            path: loc.onnx.clone(),
            cause: format!(
                "nodes use domain {} but the model imports no opset for it",
                facts.unimported_domains.join(", ")
            ),
        });
    }
    let (files, verdicts) = external::check(&loc.onnx, &facts.external);
    report.external_files = files;
    report.verdicts.extend(verdicts);
    let names: Vec<&str> = report.inputs.iter().map(|i| i.name.as_str()).collect();
    let (folder, verdicts) = folder::check_folder(loc, &names);
    report.folder = folder;
    report.verdicts.extend(verdicts);
    Ok(report)
}

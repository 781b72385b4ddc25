//! `isg doctor`: what isg found on this machine, and whether anything is missing.

use std::process::ExitCode;

use serde_json::json;

use super::Global;
use isg::convert::width::{CpuFeatures, choose_bits, read_record};
use isg::llm::runtime;
use isg::provision::{catalog, setup};

/// Flags of `isg doctor`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `isg doctor`: exit 0 when ONNX Runtime loads and the default model exists, 1 otherwise.
pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let cache = isg::provision::cache_dir();
    let rt = runtime::ensure(global.ort_lib.as_deref());
    let default =
        catalog::find(catalog::DEFAULT_MODEL).expect("the default model is in the catalog");
    let model_dir = setup::model_dir(&cache, default);
    let model_ok = setup::installed_bits(&cache, default).is_some();
    let width = model_ok.then(|| read_record(&model_dir)).flatten();
    let cpu = CpuFeatures::detect();
    let auto = choose_bits(&cpu);
    let mut problems = Vec::new();
    if let Err(e) = &rt {
        problems.push(e.to_string());
    }
    let providers = match &rt {
        Ok(_) => isg::llm::device::available_providers().unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    if rt.is_ok()
        && let Err(e) = isg::llm::device::ensure(global.device)
    {
        problems.push(e.to_string());
    }
    if !model_ok {
        problems.push(format!(
            "default model {} not set up at {}; fix: run `{}`",
            default.name,
            model_dir.display(),
            default.setup_command()
        ));
    }
    if args.json {
        let v = json!({
            "ort_library": rt.as_ref().ok().map(|i| i.library.display().to_string()),
            "ort_found_by": rt.as_ref().ok().map(|i| i.found_by.clone()),
            "ort_version": rt.as_ref().ok().map(|i| i.version.clone()),
            "execution_providers": providers,
            "cuda_build": isg::llm::device::BUILT_WITH_CUDA,
            "device": global.device,
            "cache_dir": cache.display().to_string(),
            "default_model": model_ok.then(|| model_dir.display().to_string()),
            "default_model_name": default.name,
            "weights_bits": width.as_ref().map(|w| w.bits.number()),
            "weights_why": width.as_ref().map(|w| w.reason.clone()),
            "cpu": cpu.model_name,
            "cpu_features": cpu.summary(),
            "auto_bits": auto.bits.number(),
            "auto_why": auto.reason,
            "problems": problems,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        match &rt {
            Ok(i) => println!(
                "ONNX Runtime   {} (version {}, found by {})",
                i.library.display(),
                i.version,
                i.found_by
            ),
            Err(_) => println!("ONNX Runtime   missing"),
        }
        println!(
            "providers      {} (this build: cpu{})",
            if providers.is_empty() {
                "unknown".to_string()
            } else {
                providers.join(", ")
            },
            if isg::llm::device::BUILT_WITH_CUDA {
                ", cuda"
            } else {
                ""
            }
        );
        println!("cache dir      {}", cache.display());
        println!(
            "default model  {} {}",
            default.name,
            if model_ok {
                model_dir.display().to_string()
            } else {
                "(not set up)".into()
            }
        );
        if let Some(w) = &width {
            println!("weights        {} ({})", w.bits.describe(), w.reason);
        }
        println!(
            "cpu            {} ({}); --bits auto picks by timing each width at setup (by these features alone: {}-bit: {})",
            cpu.model_name.as_deref().unwrap_or("unknown"),
            cpu.summary(),
            auto.bits.number(),
            auto.reason
        );
        for p in &problems {
            println!("problem: {p}");
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

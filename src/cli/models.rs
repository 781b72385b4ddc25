//! `isg models`: the catalog, with sizes, measured figures and which models are set up here.

use std::process::ExitCode;

use serde_json::json;

use super::Global;
use isg::provision::catalog::{CATALOG, CatalogModel, DEFAULT_MODEL};
use isg::provision::{fetch, setup};

/// Flags of `isg models`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print one JSON array instead of text.
    #[arg(long)]
    json: bool,
}

/// What this machine has of one catalog model.
struct Local {
    bits: Option<u32>,
    disk_bytes: u64,
}

fn local(cache: &std::path::Path, m: &CatalogModel) -> Local {
    Local {
        bits: setup::installed_bits(cache, m).map(|b| b.number()),
        disk_bytes: setup::disk_bytes(&setup::model_dir(cache, m))
            + setup::disk_bytes(&fetch::model_downloads(cache, m)),
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

/// Runs `isg models`.
pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let cache = isg::provision::cache_dir();
    if args.json {
        let list: Vec<_> = CATALOG
            .iter()
            .map(|m| {
                let l = local(&cache, m);
                json!({
                    "name": m.name,
                    "default": m.name == DEFAULT_MODEL,
                    "title": m.title,
                    "family": m.family,
                    "parameters": m.parameters,
                    "packages": m.parts.iter().map(|p| m.requirement(p)).collect::<Vec<_>>(),
                    "gguf_bytes": m.gguf_size,
                    "gguf_sha256": m.gguf_sha256,
                    "download_bytes": m.download_bytes,
                    "disk_bytes": l.disk_bytes,
                    "set_up": l.bits.is_some(),
                    "bits": l.bits,
                    "folder": l.bits.map(|_| setup::model_dir(&cache, m).display().to_string()),
                    "quality": m.quality.map(|q| json!({
                        "chrf": q.chrf, "rouge_l": q.rouge_l, "minilm": q.minilm, "set": q.set,
                    })),
                    "speed": m.speed.iter().map(|s| json!({
                        "bits": s.bits, "requests_per_min": s.requests_per_min,
                        "peak_rss_gb": s.peak_rss_gb, "cpu": s.cpu,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<21}{:<8}{:<7}{:>10}{:>10}  {:<14}quality / speed (measured)",
        "model", "family", "params", "download", "on disk", "set up"
    );
    for m in CATALOG {
        let l = local(&cache, m);
        let quality = match m.quality {
            Some(q) => format!("chrF {} ROUGE-L {} MiniLM {}", q.chrf, q.rouge_l, q.minilm),
            None => "quality unmeasured".into(),
        };
        let speed = if m.speed.is_empty() {
            "speed unmeasured".into()
        } else {
            m.speed
                .iter()
                .map(|s| {
                    format!(
                        "{}-bit {} req/min {} GB",
                        s.bits, s.requests_per_min, s.peak_rss_gb
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "{:<21}{:<8}{:<7}{:>10}{:>10}  {:<14}{quality}; {speed}",
            format!(
                "{}{}",
                m.name,
                if m.name == DEFAULT_MODEL { " *" } else { "" }
            ),
            m.family,
            m.parameters,
            mb(m.download_bytes),
            if l.disk_bytes > 0 {
                mb(l.disk_bytes)
            } else {
                "-".into()
            },
            match l.bits {
                Some(b) => format!("yes ({b}-bit)"),
                None => "no".into(),
            },
        );
    }
    println!(
        "* default. Quality: {}. Speed: `isg bench --parallel 20 --prompt-tokens 450 --new-tokens 20 --sessions 2` on {}.",
        CATALOG[0].quality.map(|q| q.set).unwrap_or("-"),
        CATALOG[0].speed.first().map(|s| s.cpu).unwrap_or("-"),
    );
    println!("Set one up with `isg setup --model NAME`; use it with `--model NAME`.");
    Ok(ExitCode::SUCCESS)
}

//! `isg models`: the catalog, with sizes, measured figures and which models are set up here.

use std::process::ExitCode;

use serde_json::json;

use super::Global;
use isg::provision::catalog::{CATALOG, CatalogModel, DEFAULT_MODEL};
use isg::provision::measured::{Measurement, latest};
use isg::provision::{fetch, setup};
use isg::rollup::ROLLUP_PROMPT_VERSION;
use isg::run::PROMPT_VERSION;

/// Flags of `isg models`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print one JSON array instead of text.
    #[arg(long)]
    json: bool,
}

/// What this machine has of one catalog model.
struct Local {
    bits: Option<isg::convert::Bits>,
    disk_bytes: u64,
}

fn local(cache: &std::path::Path, m: &CatalogModel) -> Local {
    Local {
        bits: setup::installed_bits(cache, m),
        disk_bytes: setup::disk_bytes(&setup::model_dir(cache, m))
            + setup::disk_bytes(&fetch::model_downloads(cache, m)),
    }
}

/// Whether a measurement was made with the prompts this isg uses.
fn current(m: &Measurement) -> bool {
    m.prompt_version == PROMPT_VERSION && m.rollup_version == ROLLUP_PROMPT_VERSION
}

/// The figures column: current figures, or why there are none.
fn figures(m: Option<&Measurement>) -> String {
    match m {
        None => "not measured (scripts/measure-models.sh)".into(),
        Some(m) if !current(m) => format!(
            "stale: measured with prompt version {} and roll-up version {} (this isg: {PROMPT_VERSION} and {ROLLUP_PROMPT_VERSION}); rerun scripts/measure-models.sh",
            m.prompt_version, m.rollup_version
        ),
        Some(m) => format!(
            "chrF {:.1} ROUGE-L {:.1} MiniLM {:.3}, fallback {:.1}%{}; {} weights {:.1} req/min at {} streams, {} session{}, peak {:.2} GB ({}, {} {})",
            m.chrf,
            m.rouge_l,
            m.minilm,
            100.0 * m.chunk_fallback,
            if m.second_look {
                " (--second-look)"
            } else {
                ""
            },
            m.bits,
            m.requests_per_min,
            m.parallel,
            m.sessions,
            if m.sessions == 1 { "" } else { "s" },
            m.peak_rss_gb,
            m.date,
            m.cpu,
            m.cpu_flags
        ),
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
                    "bits": l.bits.map(|b| b.name()),
                    "folder": l.bits.map(|_| setup::model_dir(&cache, m).display().to_string()),
                    "measured": latest(m.name).map(|x| {
                        let mut v = serde_json::to_value(&x).unwrap_or_default();
                        v["current"] = json!(current(&x));
                        v
                    }),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<21}{:<8}{:<7}{:>10}{:>10}  {:<14}measured (eval-dev quality; isg bench speed)",
        "model", "family", "params", "download", "on disk", "set up"
    );
    for m in CATALOG {
        let l = local(&cache, m);
        let measured = figures(latest(m.name).as_ref());
        println!(
            "{:<21}{:<8}{:<7}{:>10}{:>10}  {:<14}{measured}",
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
                Some(b) => format!("yes (bits {})", b.name()),
                None => "no".into(),
            },
        );
    }
    println!(
        "* default. Quality: `isg eval` on ../shared/eval-dev (59 tokio files, each file's first line against its authors' first sentence). Speed: `isg bench --parallel 20 --prompt-tokens 450 --new-tokens 20 --sessions 2`. Figures hold for the CPU named."
    );
    println!(
        "Bits: 4 and 8 = 4- and 8-bit blocks (MatMulNBits), i8 = 8-bit rows (MatMulIntegerToFloat), 16 = f16, 32 = f32 (see isg-weights.txt in the model's folder)."
    );
    println!("Set one up with `isg setup --model NAME`; use it with `--model NAME`.");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(prompt: &str) -> Measurement {
        Measurement {
            model: "qwen2.5-coder-0.5b".into(),
            prompt_version: prompt.into(),
            rollup_version: ROLLUP_PROMPT_VERSION.into(),
            bits: "i8".into(),
            date: "2026-12-03".into(),
            cpu: "AMD EPYC".into(),
            cpu_flags: "avx2 avx512_vnni".into(),
            second_look: false,
            set: "eval-dev".into(),
            chrf: 25.5,
            rouge_l: 26.6,
            minilm: 0.52,
            chunk_fallback: 0.0,
            dir_fallback: 0.0,
            eval_seconds: 60.0,
            parallel: 20,
            sessions: 2,
            requests_per_min: 20.0,
            prefill_tok_s: 150.0,
            decode_tok_s: 50.0,
            peak_rss_gb: 1.9,
        }
    }

    #[test]
    fn figures_of_another_prompt_version_are_shown_as_stale() {
        let now = figures(Some(&measured(PROMPT_VERSION)));
        assert!(
            now.starts_with("chrF 25.5 ROUGE-L 26.6 MiniLM 0.520"),
            "{now}"
        );
        assert!(
            now.contains("2026-12-03, AMD EPYC avx2 avx512_vnni"),
            "{now}"
        );
        let old = figures(Some(&measured("0")));
        assert!(
            old.starts_with("stale: measured with prompt version 0"),
            "{old}"
        );
        assert!(!old.contains("chrF"), "{old}");
        assert!(figures(None).starts_with("not measured"));
    }
}

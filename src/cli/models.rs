//! `isg models`: the catalog, with sizes, measured figures and which models are set up here.

use std::process::ExitCode;

use serde_json::json;

use super::Global;
use isg::provision::catalog::{CATALOG, CatalogModel, DEFAULT_MODEL};
use isg::provision::measured::{Measurement, latest, tiers};
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
            m.requests_per_min.unwrap_or(f64::NAN),
            m.parallel,
            m.sessions,
            if m.sessions == 1 { "" } else { "s" },
            m.peak_rss_gb.unwrap_or(f64::NAN),
            m.date,
            m.cpu,
            m.cpu_flags
        ),
    }
}

/// The line of a slower tier (several answers per prompt, one kept), beside the model's plain
/// run when that was measured too.
fn tier_figures(t: &Measurement, plain: Option<&Measurement>) -> String {
    if !current(t) {
        return format!(
            "stale: measured with prompt version {} and roll-up version {}; rerun scripts/measure-models.sh",
            t.prompt_version, t.rollup_version
        );
    }
    let time = match plain.filter(|p| current(p)) {
        Some(p) => format!(
            "{:.0} s ({:.1}x the plain run's {:.0} s)",
            t.eval_seconds,
            t.eval_seconds / p.eval_seconds,
            p.eval_seconds
        ),
        None => format!("{:.0} s", t.eval_seconds),
    };
    let rss = t
        .eval_peak_rss_gb
        .map(|g| format!(", peak {g:.2} GB"))
        .unwrap_or_default();
    format!(
        "chrF {:.1} ROUGE-L {:.1} MiniLM {:.3}, fallback {:.1}%; eval-dev in {time}{rss}, {} session{} ({}, {} {})",
        t.chrf,
        t.rouge_l,
        t.minilm,
        100.0 * t.chunk_fallback,
        t.sessions,
        if t.sessions == 1 { "" } else { "s" },
        t.date,
        t.cpu,
        t.cpu_flags
    )
}

/// A measurement as JSON, with whether it is current.
fn as_json(m: &Measurement) -> serde_json::Value {
    let mut v = serde_json::to_value(m).unwrap_or_default();
    v["current"] = json!(current(m));
    v
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
                    "measured": latest(m.name).as_ref().map(as_json),
                    "tiers": tiers(m.name).iter().map(as_json).collect::<Vec<_>>(),
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
        let plain = latest(m.name);
        let measured = figures(plain.as_ref());
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
        for t in tiers(m.name) {
            println!(
                "{:<58}{}",
                format!("  with --candidates {}", t.candidates),
                tier_figures(&t, plain.as_ref())
            );
        }
    }
    println!(
        "* default. Quality: `isg eval` on ../shared/eval-dev (59 tokio files, each file's first line against its authors' first sentence). Speed: `isg bench --parallel 20 --prompt-tokens 450 --new-tokens 20` with the sessions shown. `--candidates N` rows: N answers per prompt, one kept; their speed is eval-dev's time. Figures hold for the CPU named."
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
            candidates: 1,
            set: "eval-dev".into(),
            chrf: 25.5,
            rouge_l: 26.6,
            minilm: 0.52,
            chunk_fallback: 0.0,
            dir_fallback: 0.0,
            eval_seconds: 60.0,
            eval_peak_rss_gb: None,
            parallel: 20,
            sessions: 2,
            requests_per_min: Some(20.0),
            prefill_tok_s: Some(150.0),
            decode_tok_s: Some(50.0),
            peak_rss_gb: Some(1.9),
        }
    }

    #[test]
    fn a_tier_shows_its_quality_and_its_time_against_the_plain_run() {
        let plain = measured(PROMPT_VERSION);
        let tier = Measurement {
            candidates: 8,
            chrf: 28.8,
            eval_seconds: 138.0,
            eval_peak_rss_gb: Some(1.79),
            requests_per_min: None,
            ..measured(PROMPT_VERSION)
        };
        let line = tier_figures(&tier, Some(&plain));
        assert!(line.starts_with("chrF 28.8 ROUGE-L 26.6"), "{line}");
        assert!(
            line.contains("eval-dev in 138 s (2.3x the plain run's 60 s), peak 1.79 GB"),
            "{line}"
        );
        let alone = tier_figures(&tier, Some(&measured("0")));
        assert!(alone.contains("eval-dev in 138 s, peak"), "{alone}");
        assert!(tier_figures(&measured("0"), None).starts_with("stale"));
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

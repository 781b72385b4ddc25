//! The human-readable form of a [`ModelReport`]: one aligned `label  value` line per fact, runs
//! of per-layer inputs (`past_key_values.{0..29}.key`) folded into one line.

use std::fmt::{self, Write as _};

use super::graph::DEFAULT_DOMAIN;
use super::report::{ModelReport, ValueReport};
use super::verdict::thousands;

const LABEL: usize = 13;
const WIDTH: usize = 100;

impl fmt::Display for ModelReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        line(
            &mut out,
            "model",
            &format!(
                "{} ({} bytes)",
                self.model_path.display(),
                thousands(self.model_bytes)
            ),
        );
        if let Some(folder) = &self.folder {
            let mut v = format!("{} (picked: {}", folder.folder.display(), folder.chosen_by);
            if folder.candidates.len() > 1 {
                let _ = write!(v, "; candidates: {}", folder.candidates.join(", "));
            }
            v.push(')');
            line(&mut out, "folder", &v);
        }
        let producer = format!("{} {}", self.producer_name, self.producer_version);
        line(&mut out, "producer", producer.trim());
        line(&mut out, "ir version", &self.ir_version.to_string());
        let opsets: Vec<String> = self
            .opsets
            .iter()
            .map(|o| format!("{} {}", o.domain, o.version))
            .collect();
        line(&mut out, "opsets", &opsets.join(", "));
        values(&mut out, "inputs", &self.inputs);
        values(&mut out, "outputs", &self.outputs);
        let ops: Vec<String> = self
            .ops
            .iter()
            .map(|o| {
                if o.domain == DEFAULT_DOMAIN {
                    format!("{} {}", o.op_type, o.count)
                } else {
                    format!("{}:{} {}", o.domain, o.op_type, o.count)
                }
            })
            .collect();
        wrapped(
            &mut out,
            "ops",
            &format!("{} nodes:", thousands(self.node_count as u64)),
            &ops,
        );
        let i = &self.initializers;
        let mut init = format!(
            "{} ({} bytes inline, {} bytes external in {} tensors",
            thousands(i.count as u64),
            thousands(i.inline_bytes),
            thousands(i.external_bytes),
            thousands(i.external_count as u64)
        );
        if i.in_subgraphs > 0 {
            let _ = write!(init, "; {} in subgraphs", i.in_subgraphs);
        }
        if i.constants > 0 {
            let _ = write!(init, "; {} Constant nodes", i.constants);
        }
        init.push(')');
        line(&mut out, "initializers", &init);
        for (n, x) in self.external_files.iter().enumerate() {
            let present = x
                .bytes_present
                .map(thousands)
                .unwrap_or_else(|| "no file".into());
            line(
                &mut out,
                if n == 0 { "data files" } else { "" },
                &format!(
                    "{} -> {}: {} tensors, needs {} bytes, has {}: {}",
                    x.location,
                    x.resolved.display(),
                    x.tensors,
                    thousands(x.bytes_required),
                    present,
                    x.status
                ),
            );
        }
        if let Some(folder) = &self.folder {
            let yes = |b: bool| if b { "ok" } else { "missing or invalid" };
            line(
                &mut out,
                "files",
                &format!(
                    "tokenizer.json {}, config.json {}, genai_config.json {}",
                    yes(folder.tokenizer_json),
                    yes(folder.config_json),
                    yes(folder.genai_config_json)
                ),
            );
            let layers = match folder.configured_layers {
                Some(n) => format!(
                    "{n} configured, {} past_key_values.*.key inputs",
                    folder.past_key_inputs
                ),
                None => format!(
                    "not configured, {} past_key_values.*.key inputs",
                    folder.past_key_inputs
                ),
            };
            line(&mut out, "layers", &layers);
        }
        f.write_str(&out)
    }
}

fn line(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(out, "{label:<LABEL$}{value}");
}

/// Words joined with ", " after `head`, wrapped under the value column.
fn wrapped(out: &mut String, label: &str, head: &str, words: &[String]) {
    let mut current = head.to_string();
    let mut first = true;
    for (n, w) in words.iter().enumerate() {
        let sep = if n == 0 { " " } else { ", " };
        if current.len() + sep.len() + w.len() > WIDTH - LABEL && !current.is_empty() {
            current.push(',');
            line(out, if first { label } else { "" }, &current);
            first = false;
            current = w.clone();
        } else {
            current.push_str(sep);
            current.push_str(w);
        }
    }
    line(out, if first { label } else { "" }, current.trim_start());
}

/// Inputs or outputs, one per line, with runs that differ only in a layer number folded.
fn values(out: &mut String, label: &str, vals: &[ValueReport]) {
    struct Group {
        pattern: String,
        ty: String,
        layers: Vec<u64>,
        name: String,
    }
    let mut groups: Vec<Group> = Vec::new();
    for v in vals {
        let ty = match &v.shape {
            Some(s) => format!("{}[{}]", v.elem_type, s.join(", ")),
            None => v.elem_type.clone(),
        };
        let (pattern, layer) = split_number(&v.name);
        match groups
            .iter_mut()
            .find(|g| layer.is_some() && g.pattern == pattern && g.ty == ty)
        {
            Some(g) => g.layers.extend(layer),
            None => groups.push(Group {
                pattern,
                ty,
                layers: layer.into_iter().collect(),
                name: v.name.clone(),
            }),
        }
    }
    if groups.is_empty() {
        line(out, label, "(none)");
    }
    let width = groups
        .iter()
        .map(|g| display_name(g.pattern.as_str(), &g.layers, &g.name).len())
        .max()
        .unwrap_or(0);
    for (n, g) in groups.iter().enumerate() {
        let name = display_name(&g.pattern, &g.layers, &g.name);
        let count = if g.layers.len() > 1 {
            format!("  ({} values)", g.layers.len())
        } else {
            String::new()
        };
        line(
            out,
            if n == 0 { label } else { "" },
            &format!("{name:<width$}  {}{count}", g.ty),
        );
    }
}

fn display_name(pattern: &str, layers: &[u64], name: &str) -> String {
    match (layers.iter().min(), layers.iter().max()) {
        (Some(lo), Some(hi)) if layers.len() > 1 => {
            pattern.replacen('#', &format!("{{{lo}..{hi}}}"), 1)
        }
        _ => name.to_string(),
    }
}

/// `past_key_values.12.key` → (`past_key_values.#.key`, Some(12)): the first dot-separated
/// number in a name.
fn split_number(name: &str) -> (String, Option<u64>) {
    let parts: Vec<&str> = name.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        if let Ok(n) = p.parse::<u64>() {
            let mut q = parts.clone();
            q[i] = "#";
            return (q.join("."), Some(n));
        }
    }
    (name.to_string(), None)
}

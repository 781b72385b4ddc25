//! `--bits auto` by measurement: the candidate weight widths ([`CANDIDATES`]: 4-bit and 8-bit
//! `MatMulNBits` blocks, 8-bit rows through `MatMulIntegerToFloat`) are timed on this CPU, on the
//! model's own first-layer MLP (gate, up, SiLU, down: its real shapes and tensors, encoded and
//! multiplied exactly as the converted graph does, [`DecoderGraph::build_mlp`]), and the fastest
//! is kept.
//!
//! Each candidate's graph runs at two batch sizes: [`PREFILL_ROWS`] rows (a prefill piece) and
//! [`DECODE_ROWS`] rows (one decode step of 20 streams), interleaved round by round for about
//! [`CalibrationSettings::budget`], and the fastest run of each is kept (other processes only
//! ever slow a run down). The candidates are ranked by [`Timing::cost`]: the time those
//! projections would take for a chunk of the summarizer's work, [`PREFILL_TOKENS`] prompt tokens
//! prefilled and [`DECODE_TOKENS`] generated.
//!
//! Running a graph is the runtime's business: the caller passes a function that loads one and
//! returns a [`ProjectionRunner`] (`crate::llm::GraphTimer`). [`auto_choice`] is what setup and
//! `isg convert --bits auto` call: measured when it can be, else the CPU-feature rule of
//! [`super::width::choose_bits`] with the reason why not (set [`SKIP_ENV`] to skip measuring).

use std::path::Path;
use std::time::{Duration, Instant};

use prost::Message;

use super::decoder_graph::{DecoderGraph, GraphOptions};
use super::width::{ChoiceSource, CpuFeatures, WidthChoice, choose_bits};
pub use super::width::{DECODE_TOKENS, PREFILL_TOKENS, Timing};
use super::{Bits, ConvertError, KvCacheType, LogitsMode, model_spec, weight_format};
use crate::gguf::Gguf;
use crate::onnx::build::{Dim, GraphBuilder};
use crate::onnx::proto::tensor_proto::DataType;

/// The widths timed, in the order they are tried (and preferred on a tie).
pub const CANDIDATES: [Bits; 3] = [Bits::I8, Bits::B4, Bits::B8];

/// Rows of the prefill-sized run.
pub const PREFILL_ROWS: usize = 256;

/// Rows of the decode-sized run.
pub const DECODE_ROWS: usize = 20;

/// Set to anything but `0` or an empty value to skip measuring: `--bits auto` then follows the
/// CPU-feature rule (tests that only need some width set it).
pub const SKIP_ENV: &str = "ISG_SKIP_WIDTH_CALIBRATION";

/// Runs one loaded calibration graph.
pub trait ProjectionRunner {
    /// Seconds of one run on `rows` rows of activations.
    fn seconds(&mut self, rows: usize) -> Result<f64, String>;
}

/// How long and on how many threads to measure.
#[derive(Debug, Clone)]
pub struct CalibrationSettings {
    /// Time to spend in timed rounds, after one warm-up run of each graph; at least
    /// [`CalibrationSettings::min_rounds`] rounds run whatever it says.
    pub budget: Duration,
    /// Fewest timed rounds.
    pub min_rounds: usize,
    /// Intra-op threads of each graph's session.
    pub threads: usize,
}

impl Default for CalibrationSettings {
    /// 1.5 s, at least 3 rounds, on the threads one of the engine's 2 default sessions gets.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        CalibrationSettings {
            budget: Duration::from_millis(1500),
            min_rounds: 3,
            threads: (cores / 2).max(1),
        }
    }
}

/// The choice the timings make: the valid timing of least [`Timing::cost`] (the earlier one in
/// the list on a tie), with a reason that gives every cost; `None` when no timing is valid.
pub fn decide(timings: &[Timing]) -> Option<WidthChoice> {
    let best =
        timings
            .iter()
            .filter(|t| t.is_valid())
            .fold(None::<&Timing>, |best, t| match best {
                Some(b) if b.cost() <= t.cost() => Some(b),
                _ => Some(t),
            })?;
    let costs: Vec<String> = timings
        .iter()
        .filter(|t| t.is_valid())
        .map(|t| format!("{} {:.2}", t.bits.name(), t.cost()))
        .collect();
    Some(WidthChoice {
        bits: best.bits,
        reason: format!(
            "measured fastest on this CPU: {:.2} ms per chunk of {} prefilled and {} generated tokens through layer 0's MLP ({})",
            best.cost(),
            PREFILL_TOKENS,
            DECODE_TOKENS,
            costs.join(", ")
        ),
        source: ChoiceSource::Measured,
        timings: timings.to_vec(),
    })
}

/// Why a calibration could not be done.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// The GGUF could not be read or its MLP could not be encoded.
    #[error(transparent)]
    Convert(#[from] ConvertError),
    /// A graph could not be loaded or run.
    #[error("timing the `--bits {bits}` graph: {message}")]
    Run {
        /// The width being timed.
        bits: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// Writes the graph of layer 0's MLP at `bits` (input `x` `[1, rows, hidden]`, output `y`) as
/// `dir/mlp-<bits>.onnx`; returns its path and the hidden size.
pub fn write_mlp_graph(
    gguf: &Gguf,
    bits: Bits,
    dir: &Path,
) -> Result<(std::path::PathBuf, usize), ConvertError> {
    let spec = model_spec(gguf)?;
    let stem = format!("mlp-{}", bits.name());
    let data = dir.join(format!("{stem}.onnx_data"));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ConvertError::Io { path, source }
    };
    let mut g = GraphBuilder::new(&data, &format!("{stem}.onnx_data")).map_err(io(&data))?;
    let h = spec.hidden as i64;
    // `[1, rows, hidden]`: the decoder's activations are `[batch, sequence, hidden]` (Q4_1
    // corrections reshape them so).
    let dims = [Dim::Fixed(1), Dim::sym("rows"), Dim::Fixed(h)];
    g.input("x", DataType::Float, &dims);
    g.output("y", DataType::Float, &dims);
    let opts = GraphOptions {
        format: weight_format(bits),
        float16: bits == Bits::B16,
        logits: LogitsMode::Last,
        kv: KvCacheType::F32,
    };
    let y = DecoderGraph::new(gguf, &spec, opts, &mut g).build_mlp(0, "x")?;
    g.node_named("Identity", "", &[&y], &["y"], &[]);
    let model = g
        .finish("calibration", &[("", 21), ("com.microsoft", 1)])
        .map_err(io(&data))?;
    let path = dir.join(format!("{stem}.onnx"));
    std::fs::write(&path, model.encode_to_vec()).map_err(io(&path))?;
    Ok((path, spec.hidden))
}

/// Times every [`CANDIDATES`] width on `gguf`'s first-layer MLP, its graphs written into `dir`;
/// `open(graph, input, width, threads)` loads one for running. Returns one [`Timing`] per
/// candidate, in [`CANDIDATES`] order.
pub fn calibrate<R: ProjectionRunner>(
    gguf: &Path,
    dir: &Path,
    settings: &CalibrationSettings,
    mut open: impl FnMut(&Path, &str, usize, usize) -> Result<R, String>,
) -> Result<Vec<Timing>, CalibrateError> {
    let gguf = Gguf::open(gguf).map_err(ConvertError::from)?;
    let mut runners = Vec::new();
    for bits in CANDIDATES {
        let run_err = |message: String| CalibrateError::Run {
            bits: bits.name(),
            message,
        };
        let (path, hidden) = write_mlp_graph(&gguf, bits, dir)?;
        let mut runner = open(&path, "x", hidden, settings.threads).map_err(run_err)?;
        // Warm-up: the first runs pay for first-touch allocations.
        for rows in [DECODE_ROWS, PREFILL_ROWS] {
            runner.seconds(rows).map_err(run_err)?;
        }
        runners.push((bits, runner));
    }
    let mut best = vec![(f64::INFINITY, f64::INFINITY); runners.len()];
    let start = Instant::now();
    let mut rounds = 0;
    while rounds < settings.min_rounds || start.elapsed() < settings.budget {
        for ((bits, runner), best) in runners.iter_mut().zip(best.iter_mut()) {
            let run_err = |message: String| CalibrateError::Run {
                bits: bits.name(),
                message,
            };
            best.0 = best.0.min(runner.seconds(PREFILL_ROWS).map_err(run_err)?);
            best.1 = best.1.min(runner.seconds(DECODE_ROWS).map_err(run_err)?);
        }
        rounds += 1;
    }
    Ok(runners
        .iter()
        .zip(best)
        .map(|((bits, _), (p, d))| Timing {
            bits: *bits,
            prefill_rows: PREFILL_ROWS,
            prefill_ms: p * 1e3,
            decode_rows: DECODE_ROWS,
            decode_ms: d * 1e3,
        })
        .collect())
}

/// Whether [`SKIP_ENV`] asks to skip measuring.
pub fn skip_requested() -> bool {
    std::env::var(SKIP_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// What `--bits auto` gives for `gguf` on this CPU: the width [`calibrate`] measured fastest;
/// when measuring is skipped ([`SKIP_ENV`]) or fails, the CPU-feature rule, whose reason then
/// says so. `open` loads a graph for running, as for [`calibrate`].
pub fn auto_choice<R: ProjectionRunner>(
    gguf: &Path,
    settings: &CalibrationSettings,
    open: impl FnMut(&Path, &str, usize, usize) -> Result<R, String>,
) -> WidthChoice {
    let fallback = |why: String| {
        let rule = choose_bits(&CpuFeatures::detect());
        WidthChoice {
            reason: format!("{why}; by the CPU's features: {}", rule.reason),
            ..rule
        }
    };
    if skip_requested() {
        return fallback(format!("not measured ({SKIP_ENV} is set)"));
    }
    let dir = match tempfile::Builder::new()
        .prefix("isg-width-calibration.")
        .tempdir()
    {
        Ok(d) => d,
        Err(e) => return fallback(format!("not measured (no scratch folder: {e})")),
    };
    match calibrate(gguf, dir.path(), settings, open) {
        Ok(timings) => decide(&timings)
            .unwrap_or_else(|| fallback("not measured (no valid timing)".to_string())),
        Err(e) => fallback(format!("not measured ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(bits: Bits, prefill_ms: f64, decode_ms: f64) -> Timing {
        Timing {
            bits,
            prefill_rows: PREFILL_ROWS,
            prefill_ms,
            decode_rows: DECODE_ROWS,
            decode_ms,
        }
    }

    #[test]
    fn the_cheapest_valid_timing_wins_and_the_reason_gives_every_cost() {
        // i8 prefills fastest, 4-bit decodes fastest: prefill weighs more per chunk.
        let t = [
            timing(Bits::I8, 10.0, 2.0),
            timing(Bits::B4, 40.0, 1.0),
            timing(Bits::B8, 25.0, 1.5),
        ];
        let c = decide(&t).unwrap();
        assert_eq!(c.bits, Bits::I8);
        assert_eq!(c.source, ChoiceSource::Measured);
        assert_eq!(c.timings, t.to_vec());
        assert!(c.reason.starts_with("measured fastest"), "{}", c.reason);
        for name in ["i8 ", "4 ", "8 "] {
            assert!(c.reason.contains(name), "{}", c.reason);
        }
        // Where 4-bit is faster at both sizes (a CPU without AVX2, say), 4-bit wins.
        let t = [
            timing(Bits::I8, 60.0, 3.0),
            timing(Bits::B4, 30.0, 1.0),
            timing(Bits::B8, 45.0, 2.0),
        ];
        assert_eq!(decide(&t).unwrap().bits, Bits::B4);
        // Decode-heavy: a width far faster at decode but a little slower at prefill wins.
        let t = [timing(Bits::I8, 10.0, 20.0), timing(Bits::B4, 11.0, 1.0)];
        assert_eq!(decide(&t).unwrap().bits, Bits::B4);
    }

    #[test]
    fn ties_go_to_the_earlier_candidate_and_invalid_timings_never_win() {
        let t = [timing(Bits::I8, 10.0, 1.0), timing(Bits::B4, 10.0, 1.0)];
        assert_eq!(decide(&t).unwrap().bits, Bits::I8);
        let t = [
            timing(Bits::I8, 0.0, 1.0),
            timing(Bits::B4, f64::NAN, 1.0),
            timing(Bits::B8, 50.0, 5.0),
        ];
        assert_eq!(decide(&t).unwrap().bits, Bits::B8);
        assert!(decide(&[timing(Bits::I8, -1.0, 1.0)]).is_none());
        assert!(decide(&[]).is_none());
    }

    #[test]
    fn cost_counts_prefill_and_decode_tokens_per_row() {
        let t = timing(Bits::I8, PREFILL_ROWS as f64, DECODE_ROWS as f64);
        assert!((t.cost() - (PREFILL_TOKENS + DECODE_TOKENS)).abs() < 1e-9);
    }

    #[test]
    fn timing_lines_round_trip_and_other_lines_are_none() {
        let t = timing(Bits::B8, 12.3456, 0.5);
        assert_eq!(Timing::from_line(&t.to_line()), Some(t));
        assert!(
            Timing::from_line("timing 5 prefill_rows 1 prefill_ms 1 decode_rows 1 decode_ms 1")
                .is_none()
        );
        assert!(
            Timing::from_line("timing i8 prefill_rows 1 prefill_ms x decode_rows 1 decode_ms 1")
                .is_none()
        );
        assert!(Timing::from_line("timing i8 decode_rows 1").is_none());
        assert!(Timing::from_line("bits i8").is_none());
    }

    struct Fake(f64);
    impl ProjectionRunner for Fake {
        fn seconds(&mut self, rows: usize) -> Result<f64, String> {
            Ok(self.0 * rows as f64)
        }
    }

    #[test]
    fn a_failing_calibration_falls_back_to_the_cpu_rule_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.gguf");
        let c = auto_choice(&missing, &CalibrationSettings::default(), |_, _, _, _| {
            Ok(Fake(1.0))
        });
        let rule = choose_bits(&CpuFeatures::detect());
        assert_eq!(c.bits, rule.bits);
        assert_eq!(c.source, ChoiceSource::CpuFeatures);
        assert!(c.reason.starts_with("not measured"), "{}", c.reason);
        assert!(c.timings.is_empty());
    }
}

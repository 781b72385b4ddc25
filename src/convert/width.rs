//! The record of a model folder's weight width (`isg-weights.txt`: the width, why, how it was
//! chosen and, when it was measured, what each width timed), and the rule that picks a width
//! from the CPU's features alone ([`choose_bits`]), which `--bits auto` follows when it does not
//! measure ([`super::calibrate`] is what measures).
//!
//! The rule: AMX or AVX-512 VNNI → 8-bit rows (`i8`), otherwise (AVX2 only,
//! or anything else) → 4-bit blocks. Measured with `isg bench --parallel 20 --prompt-tokens 450
//! --new-tokens 20 --sessions 2` on Qwen2.5-Coder-0.5B: on a 2-core AMD EPYC with AVX-512 VNNI,
//! 8-bit blocks gave 20.6 requests/min against 19.4 for 4-bit, and 8-bit rows ran 1.5 to 2.4
//! times as many requests per minute as 8-bit blocks, interleaved on the same (busy) machine;
//! a single linear layer (896 → 4,864, 20 and 512 rows, one thread) ran 2.1 to 2.7 times as fast
//! through `MatMulIntegerToFloat` as through 8-bit `MatMulNBits`. On a 2-core AMD EPYC with AVX2 and no
//! AVX-512, 4-bit blocks gave 19.4 against 12.9 for 8-bit blocks (1.5× faster); 8-bit rows have
//! not been measured on such a CPU, so the rule keeps 4-bit blocks there.

use std::path::Path;

use super::Bits;

/// Prompt tokens prefilled per chunk in [`Timing::cost`] (all of tokio with the default model:
/// about 280 per chunk beside the shared head, whose cache is computed once).
pub const PREFILL_TOKENS: f64 = 280.0;

/// Tokens generated per chunk in [`Timing::cost`] (a one-sentence answer).
pub const DECODE_TOKENS: f64 = 20.0;

/// One width's fastest runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// The width.
    pub bits: Bits,
    /// Rows of the prefill-sized run.
    pub prefill_rows: usize,
    /// Its fastest run, in milliseconds.
    pub prefill_ms: f64,
    /// Rows of the decode-sized run.
    pub decode_rows: usize,
    /// Its fastest run, in milliseconds.
    pub decode_ms: f64,
}

impl Timing {
    /// Milliseconds these projections would take for one chunk: [`PREFILL_TOKENS`] rows at the
    /// prefill run's rate plus [`DECODE_TOKENS`] rows at the decode run's rate.
    pub fn cost(&self) -> f64 {
        let per_row = |ms: f64, rows: usize| ms / rows.max(1) as f64;
        PREFILL_TOKENS * per_row(self.prefill_ms, self.prefill_rows)
            + DECODE_TOKENS * per_row(self.decode_ms, self.decode_rows)
    }

    /// Whether both times are real (finite and positive).
    pub fn is_valid(&self) -> bool {
        [self.prefill_ms, self.decode_ms]
            .iter()
            .all(|t| t.is_finite() && *t > 0.0)
            && self.prefill_rows > 0
            && self.decode_rows > 0
    }

    /// The line kept in `isg-weights.txt`:
    /// `timing i8 prefill_rows 256 prefill_ms 12.345 decode_rows 20 decode_ms 1.234`.
    pub fn to_line(&self) -> String {
        format!(
            "timing {} prefill_rows {} prefill_ms {:.4} decode_rows {} decode_ms {:.4}",
            self.bits.name(),
            self.prefill_rows,
            self.prefill_ms,
            self.decode_rows,
            self.decode_ms
        )
    }

    /// Reads a [`Timing::to_line`] line; `None` for anything else.
    pub fn from_line(line: &str) -> Option<Timing> {
        let mut words = line.strip_prefix("timing ")?.split_whitespace();
        let bits = Bits::from_name(words.next()?)?;
        let mut field = |key: &str| -> Option<&str> {
            (words.next()? == key).then_some(())?;
            words.next()
        };
        let prefill_rows = field("prefill_rows")?.parse().ok()?;
        let prefill_ms = field("prefill_ms")?.parse().ok()?;
        let decode_rows = field("decode_rows")?.parse().ok()?;
        let decode_ms = field("decode_ms")?.parse().ok()?;
        Some(Timing {
            bits,
            prefill_rows,
            prefill_ms,
            decode_rows,
            decode_ms,
        })
    }
}

/// The CPU features the rule reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuFeatures {
    /// `model name` of /proc/cpuinfo, when known.
    pub model_name: Option<String>,
    /// AVX2.
    pub avx2: bool,
    /// AVX-512 VNNI (`avx512_vnni`).
    pub avx512_vnni: bool,
    /// AMX int8 (`amx_int8`).
    pub amx_int8: bool,
}

impl CpuFeatures {
    /// This machine's features as its kernels will see them: the flags from CPUID (what ONNX
    /// Runtime dispatches on, and what a CPUID mask such as `scripts/as-avx2.sh` changes), the
    /// name from /proc/cpuinfo. Off x86_64, both come from /proc/cpuinfo.
    pub fn detect() -> CpuFeatures {
        let from_file = std::fs::read_to_string("/proc/cpuinfo")
            .map(|text| CpuFeatures::from_cpuinfo(&text))
            .unwrap_or_default();
        #[cfg(target_arch = "x86_64")]
        {
            CpuFeatures {
                model_name: from_file.model_name,
                avx2: std::arch::is_x86_feature_detected!("avx2"),
                avx512_vnni: std::arch::is_x86_feature_detected!("avx512vnni"),
                // The kernel lists amx_int8 only when it enables the tile state; CPUID says
                // whether this process is shown it.
                amx_int8: from_file.amx_int8 && cpuid_amx_int8(),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        from_file
    }

    /// Reads the first processor's `model name` and `flags` of /proc/cpuinfo text.
    pub fn from_cpuinfo(text: &str) -> CpuFeatures {
        let field = |key: &str| {
            text.lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim() == key)
                .map(|(_, v)| v.trim().to_string())
        };
        let flags = field("flags").unwrap_or_default();
        let has = |f: &str| flags.split_whitespace().any(|x| x == f);
        CpuFeatures {
            model_name: field("model name"),
            avx2: has("avx2"),
            avx512_vnni: has("avx512_vnni"),
            amx_int8: has("amx_int8"),
        }
    }

    /// The features the rule looks at, as a short list (`avx2 avx512_vnni`), or `none`.
    pub fn summary(&self) -> String {
        let names: Vec<&str> = [
            (self.avx2, "avx2"),
            (self.avx512_vnni, "avx512_vnni"),
            (self.amx_int8, "amx_int8"),
        ]
        .into_iter()
        .filter_map(|(on, n)| on.then_some(n))
        .collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(" ")
        }
    }
}

/// Whether CPUID leaf 7 reports AMX-INT8 (EDX bit 25).
#[cfg(target_arch = "x86_64")]
fn cpuid_amx_int8() -> bool {
    // Leaf 0 says whether leaf 7 exists.
    let max_leaf = std::arch::x86_64::__cpuid(0).eax;
    max_leaf >= 7 && std::arch::x86_64::__cpuid_count(7, 0).edx & (1 << 25) != 0
}

/// How a width was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChoiceSource {
    /// Named with `--bits`.
    Asked,
    /// Timed on this CPU ([`super::calibrate`]).
    Measured,
    /// From the CPU's features ([`choose_bits`]), without timing.
    CpuFeatures,
    /// Not said: a record written before this was recorded.
    Unrecorded,
}

impl ChoiceSource {
    /// The word in [`RECORD_FILE`]: `asked`, `measured`, `cpu-features`, `unrecorded`.
    pub fn name(self) -> &'static str {
        match self {
            ChoiceSource::Asked => "asked",
            ChoiceSource::Measured => "measured",
            ChoiceSource::CpuFeatures => "cpu-features",
            ChoiceSource::Unrecorded => "unrecorded",
        }
    }

    /// From a [`ChoiceSource::name`].
    pub fn from_name(name: &str) -> Option<ChoiceSource> {
        [
            ChoiceSource::Asked,
            ChoiceSource::Measured,
            ChoiceSource::CpuFeatures,
            ChoiceSource::Unrecorded,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// A weight width, why it was chosen, and the timings it was chosen by (if any).
#[derive(Debug, Clone, PartialEq)]
pub struct WidthChoice {
    /// The width.
    pub bits: Bits,
    /// Why, in one line.
    pub reason: String,
    /// How.
    pub source: ChoiceSource,
    /// What each width measured, when [`ChoiceSource::Measured`].
    pub timings: Vec<Timing>,
}

impl WidthChoice {
    /// The width named with `--bits`.
    pub fn asked(bits: Bits) -> WidthChoice {
        WidthChoice {
            bits,
            reason: format!("asked for with --bits {}", bits.name()),
            source: ChoiceSource::Asked,
            timings: Vec::new(),
        }
    }
}

/// The rule: AMX or AVX-512 VNNI → 8-bit rows with `MatMulIntegerToFloat`, else 4-bit blocks.
pub fn choose_bits(cpu: &CpuFeatures) -> WidthChoice {
    let (bits, reason) = if cpu.amx_int8 {
        (
            Bits::I8,
            "the CPU has AMX: 8-bit rows go through MatMulIntegerToFloat's int8 kernels",
        )
    } else if cpu.avx512_vnni {
        (
            Bits::I8,
            "the CPU has AVX-512 VNNI: 8-bit rows with MatMulIntegerToFloat measured faster than 8-bit and 4-bit blocks",
        )
    } else if cpu.avx2 {
        (
            Bits::I8,
            "the CPU has AVX2 but no AVX-512 VNNI or AMX: 8-bit rows measured fastest with ONNX Runtime's AVX2 kernels (layer 0's MLP: 56 ms per chunk against 87 for 4-bit and 140 for 8-bit blocks)",
        )
    } else {
        (Bits::B4, "no AVX2 found: 4-bit, the smaller weights")
    };
    WidthChoice {
        bits,
        reason: reason.into(),
        source: ChoiceSource::CpuFeatures,
        timings: Vec::new(),
    }
}

/// File in a model folder that records the weight width and why.
pub const RECORD_FILE: &str = "isg-weights.txt";

/// Writes `bits N`, `why ...`, `by SOURCE` and one `timing ...` line per timed width into the
/// folder's [`RECORD_FILE`].
pub fn write_record(dir: &Path, choice: &WidthChoice) -> std::io::Result<()> {
    let mut text = format!(
        "bits {}\nwhy {}\nby {}\n",
        choice.bits.name(),
        choice.reason,
        choice.source.name()
    );
    for t in &choice.timings {
        text.push_str(&t.to_line());
        text.push('\n');
    }
    std::fs::write(dir.join(RECORD_FILE), text)
}

/// Reads a folder's [`RECORD_FILE`], if it has a well-formed one. A record without a `by` line
/// (written before it was kept) reads as [`ChoiceSource::Unrecorded`]; lines it does not know
/// are passed over.
pub fn read_record(dir: &Path) -> Option<WidthChoice> {
    let text = std::fs::read_to_string(dir.join(RECORD_FILE)).ok()?;
    let mut bits = None;
    let mut reason = String::new();
    let mut source = ChoiceSource::Unrecorded;
    let mut timings = Vec::new();
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("bits ") {
            bits = Bits::from_name(n.trim());
        } else if let Some(r) = line.strip_prefix("why ") {
            reason = r.to_string();
        } else if let Some(b) = line.strip_prefix("by ") {
            source = ChoiceSource::from_name(b.trim())?;
        } else if let Some(t) = Timing::from_line(line) {
            timings.push(t);
        }
    }
    Some(WidthChoice {
        bits: bits?,
        reason,
        source,
        timings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(avx2: bool, vnni: bool, amx: bool) -> CpuFeatures {
        CpuFeatures {
            model_name: None,
            avx2,
            avx512_vnni: vnni,
            amx_int8: amx,
        }
    }

    #[test]
    fn vnni_or_amx_gets_8_bit_and_avx2_alone_4_bit() {
        assert_eq!(choose_bits(&cpu(true, true, false)).bits, Bits::I8);
        assert_eq!(choose_bits(&cpu(true, true, true)).bits, Bits::I8);
        assert_eq!(choose_bits(&cpu(true, false, true)).bits, Bits::I8);
        assert_eq!(choose_bits(&cpu(true, false, false)).bits, Bits::I8);
        assert_eq!(choose_bits(&cpu(false, false, false)).bits, Bits::B4);
        assert!(
            choose_bits(&cpu(true, false, false))
                .reason
                .contains("AVX2")
        );
        assert!(choose_bits(&cpu(true, true, false)).reason.contains("VNNI"));
    }

    #[test]
    fn cpuinfo_flags_are_read_from_the_first_processor() {
        let text = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f avx512_vnni\n\n\
                    processor\t: 1\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f avx512_vnni\n";
        let f = CpuFeatures::from_cpuinfo(text);
        assert_eq!(f.model_name.as_deref(), Some("AMD EPYC"));
        assert!(f.avx2 && f.avx512_vnni && !f.amx_int8);
        assert_eq!(f.summary(), "avx2 avx512_vnni");
        // `avx512_vnni` must be a whole flag, not a prefix of another one.
        let f = CpuFeatures::from_cpuinfo("model name : X\nflags : avx2 avx512_vnnix amx_int8\n");
        assert!(f.avx2 && !f.avx512_vnni && f.amx_int8);
        assert_eq!(CpuFeatures::from_cpuinfo("").summary(), "none");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn detected_flags_are_what_cpuid_shows_this_process() {
        let f = CpuFeatures::detect();
        assert_eq!(f.avx2, std::arch::is_x86_feature_detected!("avx2"));
        assert_eq!(
            f.avx512_vnni,
            std::arch::is_x86_feature_detected!("avx512vnni")
        );
        // AMX needs both the CPU (CPUID) and the kernel (/proc/cpuinfo) to say so.
        let listed = std::fs::read_to_string("/proc/cpuinfo")
            .map(|t| CpuFeatures::from_cpuinfo(&t).amx_int8)
            .unwrap_or(false);
        assert_eq!(f.amx_int8, listed && cpuid_amx_int8());
    }

    #[test]
    fn the_record_round_trips_and_bad_records_are_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_record(dir.path()).is_none());
        let choice = choose_bits(&cpu(true, false, false));
        write_record(dir.path(), &choice).unwrap();
        assert_eq!(read_record(dir.path()), Some(choice));
        std::fs::write(dir.path().join(RECORD_FILE), "bits 5\n").unwrap();
        assert!(read_record(dir.path()).is_none());
        std::fs::write(dir.path().join(RECORD_FILE), "bits 4\nby guessed\n").unwrap();
        assert!(read_record(dir.path()).is_none());
    }

    #[test]
    fn a_measured_record_round_trips_with_its_timings() {
        let dir = tempfile::tempdir().unwrap();
        let timings: Vec<Timing> = [(Bits::I8, 9.5, 1.25), (Bits::B4, 30.0, 2.0)]
            .into_iter()
            .map(|(bits, prefill_ms, decode_ms)| Timing {
                bits,
                prefill_rows: 256,
                prefill_ms,
                decode_rows: 20,
                decode_ms,
            })
            .collect();
        let choice = super::super::calibrate::decide(&timings).unwrap();
        write_record(dir.path(), &choice).unwrap();
        let back = read_record(dir.path()).unwrap();
        assert_eq!(back, choice);
        assert_eq!(back.source, ChoiceSource::Measured);
        assert_eq!(back.timings.len(), 2);
        let asked = WidthChoice::asked(Bits::B8);
        write_record(dir.path(), &asked).unwrap();
        assert_eq!(read_record(dir.path()), Some(asked));
    }

    #[test]
    fn a_record_from_before_sources_were_kept_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(RECORD_FILE),
            "bits i8\nwhy the CPU has AVX-512 VNNI: 8-bit rows\n",
        )
        .unwrap();
        let r = read_record(dir.path()).unwrap();
        assert_eq!(r.bits, Bits::I8);
        assert_eq!(r.source, ChoiceSource::Unrecorded);
        assert!(r.timings.is_empty());
        assert!(r.reason.contains("VNNI"));
    }
}

//! Memory figures of this process, from `/proc/self/status` on Linux: resident memory now
//! (`VmRSS`) and its peak (`VmHWM`), in bytes. Where that file does not exist the figures are
//! `None`. The engine sizes its cache budget with them, and runs, benchmarks and `isg inspect
//! --load` report them.

/// Resident memory of this process now (`VmRSS`), in bytes.
pub fn resident_bytes() -> Option<u64> {
    status_bytes("VmRSS:")
}

/// Peak resident memory of this process (`VmHWM`), in bytes.
pub fn peak_resident_bytes() -> Option<u64> {
    status_bytes("VmHWM:")
}

/// Resets the peak to the current resident memory (writes `5` to `/proc/self/clear_refs`);
/// does nothing where that file does not exist.
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The `field` line of `/proc/self/status` (`VmRSS:   1234 kB`), in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

//! Resident memory of this process (Linux `/proc/self/status`), in KiB.

/// `VmRSS` (current resident set), KiB; 0 when unavailable.
pub fn current_kib() -> u64 {
    field("VmRSS:")
}

/// `VmHWM` (peak resident set since start or the last [`reset_peak`]), KiB; 0 when unavailable.
pub fn peak_kib() -> u64 {
    field("VmHWM:")
}

/// Resets `VmHWM` to the current RSS (writes `5` to `/proc/self/clear_refs`). Returns false when
/// the kernel refuses.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn field(name: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

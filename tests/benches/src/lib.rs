//! Benchmarks live in `benches/`; see the README for how to run them. This library holds what
//! they share: the median of a scenario's rounds and the process's peak RSS.

use std::time::Duration;

/// The median of `samples` (the upper one of an even count); zero when there are none.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// The median of counts (the upper one of an even count); zero when there are none.
pub fn median_count(mut samples: Vec<u64>) -> u64 {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// The process's peak resident set size so far (`VmHWM` in `/proc/self/status`), in MiB; NaN
/// where there is no `/proc`.
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

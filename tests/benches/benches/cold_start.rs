//! Cold start and size of each function's **release** binary, as Lambda would start it: for
//! `customer-sync`, `daily-export` and `ticket-import`, [`STARTS`] times each, the time from the
//! process's spawn to its first `GET /2018-06-01/runtime/invocation/next` on the Lambda Runtime
//! API stand-in (`cwsync_lambda_harness::time_to_first_poll`: the stand-in takes the time when
//! the request arrives). That span is the whole init: the process loading, telemetry,
//! configuration, the AWS SDK's config and clients (no network call), then the runtime's first
//! poll. Prints the median, minimum and maximum per function against the target (< 10 ms
//! median) and the binary's size against ≤ 10 MB.
//!
//! The binaries are not built by the bench (the release profile's LTO build takes minutes): build
//! them first, then run the bench:
//!
//! ```text
//! cargo build --release -p cwsync-customer-sync -p cwsync-daily-export -p cwsync-ticket-import
//! cargo bench -p cwsync-benches --bench cold_start
//! ```
//!
//! They are looked for in `$CWSYNC_RELEASE_DIR`, else `$CARGO_TARGET_DIR/release`, else the
//! workspace's `target/release`. `COLD_START_RUNS` changes the number of starts; see
//! [`environment`] for the CA certificates (`COLD_START_SYSTEM_CERTS`).
#![allow(clippy::panic, clippy::print_stdout)]

use std::time::Duration;

use cwsync_benches::{CA_BUNDLE, lambda_certificates, median, release_dir};

/// Starts per function.
const STARTS: usize = 20;
/// The functions' binaries (the `[[bin]]` names) and the function names they run as.
const FUNCTIONS: [&str; 3] = ["customer-sync", "daily-export", "ticket-import"];
/// Target: median start under this.
const START_TARGET: Duration = Duration::from_millis(10);
/// Target: a binary no larger than this (10 MB).
const SIZE_TARGET: u64 = 10_000_000;
/// A bound on one start, not a race: a healthy binary polls within milliseconds.
const WAIT: Duration = Duration::from_secs(30);

/// What Lambda gives every function at init besides the `AWS_LAMBDA_*` variables (the harness
/// sets those): the configuration the stack sets (`cwsync_lambda_harness::FUNCTION_ENV`) and the
/// execution role's credentials. Nothing listens at the queue addresses: init makes no AWS call.
///
/// The CA certificates: at init the AWS SDK builds its HTTPS connector, which loads the system's
/// CA certificates (`rustls-native-certs`). Lambda's image (Amazon Linux 2023) holds them as one
/// bundle file; this Debian machine also holds each as a file of its own in `/etc/ssl/certs`,
/// which is read too (about 140 more files: 3–5 ms here). So the bench points `SSL_CERT_FILE` at
/// the bundle and `SSL_CERT_DIR` at an empty folder, as on Lambda; `COLD_START_SYSTEM_CERTS=1`
/// keeps the machine's own setting.
fn environment(empty_dir: &str) -> Vec<(&'static str, String)> {
    let mut env: Vec<(&'static str, String)> = cwsync_lambda_harness::FUNCTION_ENV
        .iter()
        .map(|(k, v)| (*k, (*v).to_owned()))
        .collect();
    env.extend([
        ("AWS_ACCESS_KEY_ID", "AKIDCOLDSTART".to_owned()),
        (
            "AWS_SECRET_ACCESS_KEY",
            "cold-start-not-a-secret".to_owned(),
        ),
        ("AWS_SESSION_TOKEN", "cold-start-token".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("METRICS_NAMESPACE", "cwsync".to_owned()),
    ]);
    if std::env::var_os("COLD_START_SYSTEM_CERTS").is_none() {
        env.extend(lambda_certificates(empty_dir));
    }
    env
}

#[tokio::main]
async fn main() {
    let starts: usize = std::env::var("COLD_START_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(STARTS);
    let dir = release_dir();
    let empty = std::env::temp_dir().join(format!("cwsync-cold-start-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap_or_else(|e| panic!("{}: {e}", empty.display()));
    let env = environment(&empty.to_string_lossy());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    println!(
        "cold start: spawn -> first GET /2018-06-01/runtime/invocation/next, {starts} starts per \
         function; release binaries in {}",
        dir.display()
    );
    println!(
        "CA certificates: {}",
        if std::env::var_os("COLD_START_SYSTEM_CERTS").is_none() {
            format!("{CA_BUNDLE} only, as on Lambda (COLD_START_SYSTEM_CERTS=1: the machine's)")
        } else {
            "the machine's own setting".to_owned()
        }
    );
    println!(
        "{:<14} {:>9} {:>9} {:>9} {:>12}  targets: median < {} ms, size <= {:.1} MB",
        "function",
        "median",
        "min",
        "max",
        "size",
        START_TARGET.as_millis(),
        SIZE_TARGET as f64 / 1e6,
    );
    for function in FUNCTIONS {
        let binary = dir.join(function);
        let size = std::fs::metadata(&binary)
            .map(|m| m.len())
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e}; build the release binaries first: cargo build --release -p \
                 cwsync-customer-sync -p cwsync-daily-export -p cwsync-ticket-import",
                    binary.display()
                )
            });
        let path = binary.to_string_lossy().into_owned();
        let mut times = Vec::with_capacity(starts);
        for _ in 0..starts {
            let time = cwsync_lambda_harness::time_to_first_poll(&path, function, &env, WAIT)
                .await
                .unwrap_or_else(|e| panic!("{function}: {e}"));
            times.push(time);
        }
        let min = times.iter().min().copied().unwrap_or_default();
        let max = times.iter().max().copied().unwrap_or_default();
        let median = median(times);
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
        println!(
            "{function:<14} {:>9} {:>9} {:>9} {:>9.2} MB  start {}, size {}",
            ms(median),
            ms(min),
            ms(max),
            size as f64 / 1e6,
            if median < START_TARGET {
                "met"
            } else {
                "MISSED"
            },
            if size <= SIZE_TARGET { "met" } else { "MISSED" },
        );
    }
    let _ = std::fs::remove_dir(&empty);
}

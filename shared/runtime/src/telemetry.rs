//! Logging set-up: JSON lines inside Lambda (CloudWatch Logs Insights can query them), compact
//! human-readable lines elsewhere. The level comes from `RUST_LOG`, else Lambda's
//! `AWS_LAMBDA_LOG_LEVEL` (set by the function's logging configuration), else `info`.
//!
//! Every line written inside [`invocation_span`] and [`job_span`] carries their fields (the JSON
//! lines list all enclosing spans under `spans`): the request id, the function, the tenant, the
//! run id and the record. Spans and events must never carry a key, token or secret — only ids.

use tracing::Span;
use tracing::field::Empty;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global `tracing` subscriber once (logs on stderr); later calls are no-ops.
pub fn init() {
    let json = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    // `try_init` fails only when a subscriber is already installed, which is fine to ignore.
    let _ = if json {
        json_subscriber(filter(), std::io::stderr).try_init()
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .compact()
            .finish()
            .try_init()
    };
}

/// Installs compact human-readable logs on stderr for a local command, at `default_level` unless
/// `RUST_LOG` says otherwise; later calls are no-ops.
pub fn init_local(default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .compact()
        .finish()
        .try_init();
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .ok()
            .map(|level| lambda_level(&level))
            .unwrap_or("info");
        EnvFilter::new(level)
    })
}

// Lambda's levels are TRACE, DEBUG, INFO, WARN, ERROR, FATAL; tracing has no FATAL.
fn lambda_level(level: &str) -> &'static str {
    match level.trim().to_ascii_uppercase().as_str() {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "WARN" => "warn",
        "ERROR" | "FATAL" => "error",
        _ => "info",
    }
}

/// The JSON subscriber used in Lambda, writing to `writer`: one object per line with the level,
/// the message and fields, the current span and the list of all enclosing spans with their
/// fields. No timestamp: CloudWatch stamps every line itself.
pub fn json_subscriber<W>(filter: EnvFilter, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_target(false)
        .without_time()
        .finish()
}

/// The span of one Lambda invocation: enter it (or `.instrument` the handler with it) so every
/// line of the invocation names the request.
pub fn invocation_span(request_id: &str, function: &str) -> Span {
    tracing::info_span!("invocation", request_id, function)
}

/// The span of one job (or one record of it): tenant, run id and, when known, the record.
/// A record found later can be added with `span.record("record", id)`.
pub fn job_span(tenant: &str, run_id: &str, record: Option<&str>) -> Span {
    let span = tracing::info_span!("job", tenant, run_id, record = Empty);
    if let Some(record) = record {
        span.record("record", record);
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Captured {
        type Writer = Captured;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn every_line_in_a_job_names_the_request_the_tenant_and_the_run() {
        let captured = Captured::default();
        let subscriber = json_subscriber(EnvFilter::new("info"), captured.clone());
        tracing::subscriber::with_default(subscriber, || {
            let _invocation = invocation_span("req-42", "daily-export").entered();
            let _job = job_span("acme", "run-7", Some("account-19")).entered();
            tracing::info!(created = 3, "exported an account");
            tracing::warn!("a second line");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        for line in &lines {
            let spans = &line["spans"];
            assert_eq!(spans[0]["request_id"], "req-42", "{line}");
            assert_eq!(spans[0]["function"], "daily-export", "{line}");
            assert_eq!(spans[1]["tenant"], "acme", "{line}");
            assert_eq!(spans[1]["run_id"], "run-7", "{line}");
            assert_eq!(spans[1]["record"], "account-19", "{line}");
        }
        assert_eq!(lines[0]["fields"]["message"], "exported an account");
        assert_eq!(lines[0]["fields"]["created"], 3);
    }

    #[test]
    fn lambda_log_levels_map_to_tracing_levels() {
        assert_eq!(lambda_level("DEBUG"), "debug");
        assert_eq!(lambda_level("fatal"), "error");
        assert_eq!(lambda_level("nonsense"), "info");
    }
}

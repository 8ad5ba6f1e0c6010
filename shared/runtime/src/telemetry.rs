//! Logging set-up: JSON lines inside Lambda (CloudWatch Logs Insights can query them), compact
//! human-readable lines elsewhere. The level comes from `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

/// Installs the global `tracing` subscriber once; later calls are no-ops.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `try_init` fails only when a subscriber is already installed, which is fine to ignore.
    let _ = if in_lambda {
        builder
            .json()
            .with_current_span(true)
            .with_target(false)
            .without_time()
            .try_init()
    } else {
        builder.compact().try_init()
    };
}

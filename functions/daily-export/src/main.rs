//! Lambda entry point of `daily-export`: telemetry, configuration (it fails fast, naming a missing or
//! malformed variable), dependencies once per cold start (no network call), then the handler
//! under `lambda_runtime`, with the invocation span and a metrics flush around each event.

use std::sync::Arc;

use cwsync_daily_export::{DailyExport, FUNCTION};
use cwsync_runtime::{Config, Deps, Queue, telemetry};
use cwsync_sync::tenant::ConnectOptions;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    // The export queue is required: daily-export fans per-account jobs out to it; so is the
    // customer queue: the schedule starts each tenant's day with its customer sync.
    let config = Config::from_env()
        .and_then(|config| config.requiring(&[Queue::Export, Queue::Customer]))
        .inspect_err(|error| tracing::error!(%error, "{FUNCTION} cannot start"))?;
    let deps = Deps::from_environment(FUNCTION, config).await;
    let service = Arc::new(DailyExport::new(
        Arc::new(deps.clone()),
        ConnectOptions::default(),
    ));
    cwsync_runtime::serve(deps, move |_deps, event| {
        let service = Arc::clone(&service);
        async move { service.handle_lambda(event).await }
    })
    .await
}

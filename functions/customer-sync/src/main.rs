//! Lambda entry point of `customer-sync`: telemetry, configuration (it fails fast, naming a missing or
//! malformed variable), dependencies once per cold start (no network call), then the handler
//! under `lambda_runtime`, with the invocation span and a metrics flush around each event.

use std::sync::Arc;

use cwsync_customer_sync::{ConnectOptions, CustomerSync, FUNCTION};
use cwsync_runtime::{Config, Deps, Queue, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    // The customer queue is required: customer-sync sends its per-account jobs to it.
    let config = Config::from_env()
        .and_then(|config| config.requiring(&[Queue::Customer]))
        .inspect_err(|error| tracing::error!(%error, "{FUNCTION} cannot start"))?;
    let deps = Deps::from_environment(FUNCTION, config).await;
    let service = Arc::new(CustomerSync::new(
        Arc::new(deps.clone()),
        ConnectOptions::default(),
    ));
    cwsync_runtime::serve(deps, move |_deps, event| {
        let service = Arc::clone(&service);
        async move { service.handle_lambda(event).await }
    })
    .await
}

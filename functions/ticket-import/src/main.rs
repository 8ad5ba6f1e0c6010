//! Lambda entry point of `ticket-import`: telemetry, configuration (it fails fast, naming a missing or
//! malformed variable), dependencies once per cold start (no network call), then the handler
//! under `lambda_runtime`, with the invocation span and a metrics flush around each event.

use std::sync::Arc;

use cwsync_runtime::{Config, Deps, Queue, telemetry};
use cwsync_sync::tenant::ConnectOptions;
use cwsync_ticket_import::{FUNCTION, TicketImport};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    // The ticket queue is required: ticket-import sends one job per finished ticket to it.
    let config = Config::from_env()
        .and_then(|config| config.requiring(&[Queue::Ticket]))
        .inspect_err(|error| tracing::error!(%error, "{FUNCTION} cannot start"))?;
    let deps = Deps::from_environment(FUNCTION, config).await;
    let service = TicketImport::with_realtime(Arc::new(deps.clone()), ConnectOptions::default())
        .inspect_err(|error| tracing::error!(%error, "{FUNCTION} cannot start"))?;
    let service = Arc::new(service);
    cwsync_runtime::serve(deps, move |_deps, event| {
        let service = Arc::clone(&service);
        async move { service.handle_lambda(event).await }
    })
    .await
}

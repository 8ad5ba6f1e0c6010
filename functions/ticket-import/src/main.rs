//! Lambda entry point of `ticket-import`: telemetry, configuration (it fails fast, naming a missing or
//! malformed variable), dependencies once per cold start (no network call), then the handler
//! under `lambda_runtime`, with the invocation span and a metrics flush around each event.

use cwsync_runtime::{Config, Deps, Queue, telemetry};
use cwsync_ticket_import::{FUNCTION, handle_lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    // The ticket queue is required: ticket-import sends one job per finished ticket to it.
    let config = Config::from_env()
        .and_then(|config| config.requiring(&[Queue::Ticket]))
        .inspect_err(|error| tracing::error!(%error, "{FUNCTION} cannot start"))?;
    let deps = Deps::from_environment(FUNCTION, config).await;
    cwsync_runtime::serve(deps, |_deps, event| handle_lambda(event)).await
}

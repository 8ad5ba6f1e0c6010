//! `ticket-import`: finished ConnectWise tickets, time and products -> billing service calls.
//!
//! The handler is a plain async function over typed events so it can be called from tests and the
//! local runner without Lambda. This scope is the health event; the job itself comes later.
//! ConnectWise callbacks (real time) are received, verified and handed over as ticket changes by
//! [`callback`], and registered by [`callbacks_admin`]; [`callback_routes`] routes both.

pub mod callback;
pub mod callback_keys;
pub mod callback_routes;
pub mod callbacks_admin;

use cwsync_runtime::{HealthReport, dispatch};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};

/// The function's name, as deployed and as reported.
pub const FUNCTION: &str = "ticket-import";

/// What a console test event, a schedule or a queue can ask of this function.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Event {
    /// Answer that the function is deployed and starts.
    Health,
}

/// What the function answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// The answer to [`Event::Health`].
    Health(HealthReport),
}

/// Handles one typed event.
pub async fn handle(event: Event) -> Response {
    match event {
        Event::Health => Response::Health(HealthReport::ok(FUNCTION, env!("CARGO_PKG_VERSION"))),
    }
}

/// The Lambda entry: parses the raw payload (a malformed one is refused with its reason) and handles it.
pub async fn handle_lambda(event: LambdaEvent<serde_json::Value>) -> Result<Response, Diagnostic> {
    dispatch(FUNCTION, event.payload, handle).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_health_event_reports_the_function_as_ok() {
        let Response::Health(report) = handle(Event::Health).await;
        assert_eq!(report.function, FUNCTION);
        assert_eq!(report.status, "ok");
    }

    #[tokio::test]
    async fn a_malformed_event_is_refused_with_its_reason() {
        let lambda_event =
            LambdaEvent::new(serde_json::json!({"act": "health"}), Default::default());
        let diagnostic = handle_lambda(lambda_event).await.unwrap_err();
        assert_eq!(diagnostic.error_type, "InvalidEvent");
        assert!(
            diagnostic.error_message.contains("action"),
            "{}",
            diagnostic.error_message
        );
    }
}
